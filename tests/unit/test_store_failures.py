"""The SQLite store when things go wrong: a migration that fails, a writer held up by another process's lock,
writes SQLite cannot store, callbacks that raise, an event loop closed under it, and a closed store."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hubbub.store import Account, MemoryStore, RoomRecord, Store, StoreClosed, StoredMessage, StoreTimeout
from hubbub.store.schema import MIGRATIONS
from hubbub.store.sqlite import SqliteStore

TIMEOUT = float(os.environ.get("HUBBUB_TEST_TIMEOUT", "10"))


def message(conversation: str, msgid: str, time: float, parties: tuple[str, ...] = ()) -> StoredMessage:
    target = conversation if conversation.startswith("#") else "bob"
    return StoredMessage(0, msgid, time, conversation, target, "alice!a@host", None, "PRIVMSG", "hi", parties)


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another connection holds the database's write lock: the store's writer waits (its busy timeout is
    10 s) until the block ends, while readers go on (WAL)."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


# -- migrations ----------------------------------------------------------------------------------------------


def test_a_failing_migration_changes_nothing_and_the_file_opens_once_it_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0] + MIGRATIONS[1])
        conn.execute("PRAGMA user_version = 2")
        conn.execute("INSERT INTO accounts VALUES ('alice', 'Alice', 'hash', 1.0)")
        conn.execute("CREATE TABLE meta (stray TEXT)")  # in the way of step 3
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="meta already exists"):
        SqliteStore(path)
    with sqlite3.connect(path, timeout=0) as conn:  # not left locked, still at version 2, data kept
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert conn.execute("SELECT key FROM accounts").fetchall() == [("alice",)]
        conn.execute("DROP TABLE meta")
    conn.close()
    store = SqliteStore(path)
    try:
        assert store.get_account("alice") == Account("Alice", "hash", 1.0, {})
        store.set_meta("stream", "1-0")
        assert store.get_meta("stream") == "1-0"
    finally:
        store.close()


# -- a writer held up ----------------------------------------------------------------------------------------


def test_a_read_waits_for_the_writer_no_longer_than_the_read_timeout(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path, read_timeout=0.2)
    try:
        with write_locked(path):
            store.append(message("#r", "m1", 1.0))
            with pytest.raises(StoreTimeout, match="1 writes behind"):
                store.latest("#r", 10)
            assert store.pending()
        assert [m.msgid for m in store.latest("#r", 10)] == ["m1"]  # the writer went on
        assert not store.pending()
        assert store.error is None
    finally:
        store.close()


def test_close_gives_up_on_a_writer_that_does_not_finish(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path, close_timeout=0.2)
    with write_locked(path):
        store.append(message("#r", "m1", 1.0))
        store.close()  # returns although the writer is stuck
        assert "the writer did not finish within 0.2 s" in caplog.text
        with pytest.raises(StoreClosed):
            store.append(message("#r", "m2", 2.0))


def test_callbacks_released_after_the_loop_closed_are_dropped_and_the_writer_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "db.sqlite3"
    loop = asyncio.new_event_loop()
    store = SqliteStore(path)
    store.start(loop)
    called: list[str] = []
    try:
        with write_locked(path):
            store.append(message("#r", "m1", 1.0))
            store.set_meta("stream", "1-0")  # hands the append over too: the writer waits for the lock
            store.when_durable(lambda: called.append("durable"))
            loop.close()
        assert [m.msgid for m in store.latest("#r", 10)] == ["m1"]
        assert "event loop closed, 1 durable callbacks dropped" in caplog.text
        assert called == []
    finally:
        store.close()
    again = SqliteStore(path)
    try:
        assert [m.msgid for m in again.latest("#r", 10)] == ["m1"]
        assert again.get_meta("stream") == "1-0"
    finally:
        again.close()


# -- writes that fail ----------------------------------------------------------------------------------------


def test_a_write_sqlite_cannot_store_is_dropped_alone_from_its_batch(
    tmp_path: Path, loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    store.start(loop)
    try:
        with write_locked(path):
            store.set_meta("first", "1")  # the writer takes this alone and waits for the lock
            store.append(message("#r", "m1", 1.0))
            store.append(message("alice bob", "p1", 2.0, parties=("alice", "bob")))
            store.save_room(RoomRecord("#bad", "#bad \udc80", "alice", 1.0))  # not UTF-8 encodable
            store.save_room(RoomRecord("#good", "#good", "alice", 1.0))
            store.create_account("carol", "Carol", "hash", 3.0)
        # the batch after the lock: appends, the bad room and the good writes, retried one by one
        assert [room.key for room in store.load_rooms()] == ["#good"]
        assert [m.msgid for m in store.latest("#r", 10)] == ["m1"]
        assert [m.parties for m in store.latest("alice bob", 10)] == [("alice", "bob")]
        assert store.targets([], "bob", 0.0, 10.0, 10) == [("alice bob", 2.0)]
        assert store.error is None  # writes were dropped, none lost with their batch
        assert "a batch of writes failed, retrying them one by one" in caplog.text
        assert "dropping a write that failed: INSERT OR REPLACE INTO rooms" in caplog.text
    finally:
        store.close()
    again = SqliteStore(path)
    try:
        assert [room.key for room in again.load_rooms()] == ["#good"]
        assert again.get_account("carol") == Account("Carol", "hash", 3.0, {})
        assert [m.msgid for m in again.latest("alice bob", 10)] == ["p1"]
    finally:
        again.close()


def test_a_failing_durable_callback_is_logged_and_the_others_still_run(
    tmp_path: Path, loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.start(loop)
    called: list[str] = []

    def fail() -> None:
        raise RuntimeError("boom")

    try:
        store.append(message("#r", "m1", 1.0))
        store.when_durable(fail)
        store.when_durable(lambda: called.append("after"))
        done: asyncio.Future[None] = loop.create_future()
        store.when_durable(lambda: done.set_result(None))
        loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
        assert called == ["after"]
        assert "error in a when_durable callback" in caplog.text
    finally:
        store.close()


def test_when_durable_needs_the_loop(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(RuntimeError, match="needs start"):
            store.when_durable(lambda: None)
    finally:
        store.close()


# -- a closed store ------------------------------------------------------------------------------------------

CALLS: dict[str, Callable[[Store], Any]] = {
    "append": lambda s: s.append(message("#r", "m9", 9.0)),
    "latest": lambda s: s.latest("#r", 1),
    "targets": lambda s: s.targets(["#r"], None, 0.0, 10.0, 1),
    "search": lambda s: s.search("#r", "hi", 1),
    "create_account": lambda s: s.create_account("bob", "Bob", "hash", 1.0),
    "get_account": lambda s: s.get_account("alice"),
    "all_accounts": lambda s: s.all_accounts(),
    "set_password": lambda s: s.set_password("alice", "new"),
    "save_room": lambda s: s.save_room(RoomRecord("#r", "#r", "alice", 1.0)),
    "load_rooms": lambda s: s.load_rooms(),
    "add_kline": lambda s: s.add_kline("*@x", "r", "op", 1.0, None),
    "load_klines": lambda s: s.load_klines(),
    "has_msgid": lambda s: s.has_msgid("m1"),
    "get_meta": lambda s: s.get_meta("stream"),
    "set_meta": lambda s: s.set_meta("stream", "2-0"),
}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_closed_store_refuses_everything_and_closing_again_is_harmless(kind: str, tmp_path: Path) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "db.sqlite3")
    store.append(message("#r", "m1", 1.0))
    store.create_account("alice", "Alice", "hash", 1.0)
    store.close()
    store.close()
    for name, call in CALLS.items():
        with pytest.raises(StoreClosed):
            call(store)
            pytest.fail(f"{name} answered on a closed store")
