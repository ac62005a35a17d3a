"""Tests for hubbub.store: MemoryStore and SqliteStore against the same expectations, and against each other.

History expectations follow the IRCv3 ``draft/chathistory`` spec and the cases of the irctest conformance
suite (``irctest/server_tests/chathistory.py``). Every wait is bounded by ``TIMEOUT``; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time as _time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import uncovered_env
from hubbub.store import (
    Account,
    ByMsgid,
    ByTime,
    KLineRecord,
    MemoryStore,
    RoomRecord,
    Store,
    StoreClosed,
    StoredMessage,
    UnknownMsgid,
    open_store,
    search_phrases,
)
from hubbub.store.base import with_seq
from hubbub.store.schema import MIGRATIONS
from hubbub.store.sqlite import SqliteStore

TIMEOUT = float(os.environ.get("HUBBUB_TEST_TIMEOUT", "10"))
KINDS = ("memory", "sqlite")


class Harness:
    """A store of one kind on a fresh event loop that runs only while a test waits on it."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.store = self.open()

    def open(self) -> Store:
        store: Store = MemoryStore() if self.kind == "memory" else SqliteStore(self.path)
        store.start(self.loop)
        return store

    def durable(self, tag: str = "") -> asyncio.Future[str]:
        """A future that ``when_durable`` completes (with ``tag``)."""
        future: asyncio.Future[str] = self.loop.create_future()
        self.store.when_durable(lambda: future.set_result(tag))
        return future

    def wait(self, *futures: asyncio.Future[str]) -> None:
        """Run the loop until ``futures`` are done (bounded)."""
        self.loop.run_until_complete(asyncio.wait_for(asyncio.gather(*futures), TIMEOUT))

    def close(self) -> None:
        self.store.close()
        self.loop.run_until_complete(asyncio.sleep(0))  # run what the writer scheduled last
        self.loop.close()


@pytest.fixture(params=KINDS)
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(request.param, tmp_path / "db.sqlite3")
    yield harness
    harness.close()


def message(
    conversation: str,
    msgid: str,
    time: float,
    text: str = "hello",
    *,
    parties: tuple[str, ...] = (),
    sender: str = "alice!a@host",
    account: str | None = None,
    kind: str = "PRIVMSG",
) -> StoredMessage:
    target = conversation if conversation.startswith("#") else "bob"
    return StoredMessage(0, msgid, time, conversation, target, sender, account, kind, text, parties)


def fill(
    store: Store, count: int = 10, conversation: str = "#room", base: float = 1000.0
) -> list[StoredMessage]:
    """``count`` messages m0, m1, ... one second apart, as in irctest's chathistory test."""
    return [
        store.append(message(conversation, f"m{i}", base + i, f"this is message {i}")) for i in range(count)
    ]


def ids(messages: list[StoredMessage]) -> list[str]:
    return [m.msgid for m in messages]


M = [f"m{i}" for i in range(10)]

# --------------------------------------------------------------------------------------------------------
# Appending


def test_append_assigns_increasing_seqs_and_keeps_every_field(h: Harness) -> None:
    sent = [
        message("#a", "x1", 5.0, "one", account="alice"),
        message("#b", "x2", 4.0, "two", kind="NOTICE"),
        message("alice bob", "x3", 6.0, "three", parties=("alice", "bob"), kind="ACTION"),
    ]
    stored = [h.store.append(msg) for msg in sent]
    assert [m.seq for m in stored] == [1, 2, 3]
    assert stored == [dataclasses.replace(msg, seq=i + 1) for i, msg in enumerate(sent)]
    assert h.store.latest("#a", 5) == stored[:1]
    assert h.store.latest("#b", 5) == stored[1:2]
    assert h.store.latest("alice bob", 5) == stored[2:]


def test_with_seq_is_a_faithful_copy() -> None:
    msg = message("#a", "x", 1.5, "text", parties=("a", "b"), account="acc")
    copy = with_seq(msg, 42)
    assert copy == dataclasses.replace(msg, seq=42) and copy is not msg
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.seq = 1  # type: ignore[misc]


def test_appends_are_visible_to_reads_at_once(h: Harness) -> None:
    # The loop never runs here: the SQLite store must hand its buffer over and wait for the commit.
    for i in range(3):
        h.store.append(message("#now", f"n{i}", 1.0 + i))
        assert ids(h.store.latest("#now", 10)) == [f"n{j}" for j in range(i + 1)]


def test_invalid_messages_and_bounds_are_refused(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.store.append(message("#a", "x", float("nan")))
    with pytest.raises(ValueError):
        ByTime(float("inf"))
    for parties in (("a b", "c"), ("", "c")):
        with pytest.raises(ValueError):
            h.store.append(message("p", "x", 1.0, parties=parties))
    assert h.store.append(message("#a", "ok", 1.0)).seq == 1  # refusals take no seq


# --------------------------------------------------------------------------------------------------------
# History queries (cases from irctest)


def test_latest(h: Harness) -> None:
    sent = fill(h.store)
    assert h.store.latest("#room", 20) == sent
    assert ids(h.store.latest("#room", 5)) == M[-5:]
    assert ids(h.store.latest("#room", 1)) == M[-1:]
    assert h.store.latest("#room", 0) == []
    assert h.store.latest("#nowhere", 5) == []


def test_latest_after_a_bound_gives_the_most_recent_after_it(h: Harness) -> None:
    fill(h.store)
    assert ids(h.store.latest("#room", 20, ByMsgid("m4"))) == M[5:]
    assert ids(h.store.latest("#room", 20, ByTime(1004.0))) == M[5:]
    assert ids(h.store.latest("#room", 2, ByMsgid("m4"))) == M[8:]
    assert ids(h.store.latest("#room", 20, ByMsgid("m9"))) == []


def test_before(h: Harness) -> None:
    fill(h.store)
    assert ids(h.store.before("#room", ByMsgid("m6"), 20)) == M[:6]
    assert ids(h.store.before("#room", ByTime(1006.0), 20)) == M[:6]
    assert ids(h.store.before("#room", ByTime(1006.0), 2)) == M[4:6]
    assert ids(h.store.before("#room", ByTime(1005.5), 2)) == M[4:6]
    assert h.store.before("#room", ByMsgid("m0"), 20) == []


def test_after(h: Harness) -> None:
    fill(h.store)
    assert ids(h.store.after("#room", ByMsgid("m3"), 20)) == M[4:]
    assert ids(h.store.after("#room", ByTime(1003.0), 20)) == M[4:]
    assert ids(h.store.after("#room", ByTime(1003.0), 3)) == M[4:7]
    assert ids(h.store.after("#room", ByTime(1002.5), 3)) == M[3:6]
    assert h.store.after("#room", ByMsgid("m9"), 20) == []


def test_between_works_both_ways_and_keeps_the_messages_nearest_the_start(h: Harness) -> None:
    fill(h.store)
    for first, last in ((ByMsgid("m0"), ByMsgid("m9")), (ByTime(1000.0), ByTime(1009.0))):
        assert ids(h.store.between("#room", first, last, 20)) == M[1:-1]
        assert ids(h.store.between("#room", last, first, 20)) == M[1:-1]
        assert ids(h.store.between("#room", first, last, 3)) == M[1:4]
        assert ids(h.store.between("#room", last, first, 3)) == M[-4:-1]
    assert ids(h.store.between("#room", ByMsgid("m2"), ByTime(1005.0), 20)) == M[3:5]  # mixed kinds
    assert h.store.between("#room", ByMsgid("m4"), ByMsgid("m4"), 20) == []
    assert h.store.between("#room", ByMsgid("m4"), ByMsgid("m5"), 20) == []
    assert h.store.between("#room", ByTime(1004.0), ByTime(1004.0), 20) == []


def test_around_includes_the_anchor(h: Harness) -> None:
    fill(h.store)
    assert ids(h.store.around("#room", ByMsgid("m7"), 1)) == ["m7"]
    assert ids(h.store.around("#room", ByMsgid("m7"), 3)) == M[6:9]
    assert ids(h.store.around("#room", ByMsgid("m7"), 4)) == M[5:9]
    assert "m7" in ids(h.store.around("#room", ByTime(1007.0), 3))
    assert ids(h.store.around("#room", ByTime(1006.5), 2)) == M[6:8]


def test_around_fills_from_the_other_side_near_the_ends(h: Harness) -> None:
    fill(h.store)
    assert ids(h.store.around("#room", ByMsgid("m0"), 4)) == M[0:4]
    assert ids(h.store.around("#room", ByMsgid("m9"), 4)) == M[6:10]
    assert ids(h.store.around("#room", ByMsgid("m1"), 5)) == M[0:5]
    assert ids(h.store.around("#room", ByTime(2000.0), 3)) == M[7:10]
    assert ids(h.store.around("#room", ByMsgid("m5"), 100)) == M


def test_time_bounds_exclude_every_message_at_that_time(h: Harness) -> None:
    for i, time in enumerate((1.0, 2.0, 2.0, 2.0, 3.0)):
        h.store.append(message("#tie", f"t{i}", time))
    assert ids(h.store.before("#tie", ByTime(2.0), 10)) == ["t0"]
    assert ids(h.store.after("#tie", ByTime(2.0), 10)) == ["t4"]
    assert ids(h.store.between("#tie", ByTime(1.0), ByTime(3.0), 10)) == ["t1", "t2", "t3"]
    # msgid bounds split equal times by order of arrival
    assert ids(h.store.before("#tie", ByMsgid("t2"), 10)) == ["t0", "t1"]
    assert ids(h.store.after("#tie", ByMsgid("t2"), 10)) == ["t3", "t4"]
    assert ids(h.store.around("#tie", ByTime(2.0), 2)) == ["t0", "t1"]


def test_a_clock_going_back_still_gives_chronological_order(h: Harness) -> None:
    for msgid, time in (("a", 10.0), ("b", 30.0), ("c", 20.0), ("d", 40.0)):
        h.store.append(message("#clock", msgid, time))
    assert ids(h.store.latest("#clock", 10)) == ["a", "c", "b", "d"]
    assert ids(h.store.after("#clock", ByMsgid("c"), 10)) == ["b", "d"]
    assert ids(h.store.before("#clock", ByTime(25.0), 10)) == ["a", "c"]


def test_unknown_msgids_raise(h: Harness) -> None:
    fill(h.store)
    fill(h.store, 2, "#other", base=5000.0)
    bad = [ByMsgid("nope"), ByMsgid("")]
    for bound in bad:
        with pytest.raises(UnknownMsgid):
            h.store.latest("#room", 5, bound)
        with pytest.raises(UnknownMsgid):
            h.store.before("#room", bound, 5)
        with pytest.raises(UnknownMsgid):
            h.store.after("#room", bound, 5)
        with pytest.raises(UnknownMsgid):
            h.store.around("#room", bound, 5)
        with pytest.raises(UnknownMsgid):
            h.store.between("#room", bound, ByMsgid("m1"), 5)
        with pytest.raises(UnknownMsgid):
            h.store.between("#room", ByMsgid("m1"), bound, 5)
    with pytest.raises(UnknownMsgid):  # a msgid of another conversation is unknown in this one
        h.store.before("#other", ByMsgid("m5"), 5)
    with pytest.raises(UnknownMsgid):
        h.store.before("#nowhere", ByMsgid("m5"), 5)
    assert h.store.before("#nowhere", ByTime(10.0), 5) == []


def test_a_repeated_msgid_refers_to_the_last_one(h: Harness) -> None:
    for i in range(4):
        h.store.append(message("#dup", "same" if i in (1, 2) else f"d{i}", float(i)))
    assert ids(h.store.after("#dup", ByMsgid("same"), 10)) == ["d3"]


# --------------------------------------------------------------------------------------------------------
# Private conversations and TARGETS


def test_private_conversations_and_targets(h: Harness) -> None:
    h.store.append(message("#lobby", "r1", 10.0))
    h.store.append(message("#dev", "r2", 20.0))
    h.store.append(message("#dev", "r3", 25.0))
    h.store.append(message("alice\0bob", "p1", 15.0, parties=("alice", "bob")))
    h.store.append(message("alice\0carol", "p2", 30.0, parties=("alice", "carol")))
    h.store.append(message("bob\0carol", "p3", 35.0, parties=("bob", "carol")))
    got = h.store.targets(["#lobby", "#dev", "#empty"], "alice", 0.0, 100.0, 10)
    assert got == [("#lobby", 10.0), ("alice\0bob", 15.0), ("#dev", 25.0), ("alice\0carol", 30.0)]
    assert h.store.targets([], "carol", 0.0, 100.0, 10) == [("alice\0carol", 30.0), ("bob\0carol", 35.0)]
    assert h.store.targets(["#dev"], None, 0.0, 100.0, 10) == [("#dev", 25.0)]
    assert h.store.targets([], "nobody", 0.0, 100.0, 10) == []
    assert ids(h.store.latest("alice\0bob", 10)) == ["p1"]
    assert h.store.latest("alice\0bob", 1)[0].parties == ("alice", "bob")


def test_targets_window_is_exclusive_and_limit_keeps_the_side_of_start(h: Harness) -> None:
    for i, room in enumerate(("#a", "#b", "#c", "#d")):
        h.store.append(message(room, f"x{i}", 10.0 * (i + 1)))  # #a 10, #b 20, #c 30, #d 40
        h.store.append(message(room, f"y{i}", 10.0 * (i + 1) + 100))  # and later, out of the window
    rooms = ["#a", "#b", "#c", "#d"]
    assert h.store.targets(rooms, None, 10.0, 40.0, 10) == [("#b", 20.0), ("#c", 30.0)]
    assert h.store.targets(rooms, None, 0.0, 50.0, 2) == [("#a", 10.0), ("#b", 20.0)]
    assert h.store.targets(rooms, None, 50.0, 0.0, 2) == [("#c", 30.0), ("#d", 40.0)]
    assert h.store.targets(rooms, None, 0.0, 200.0, 1) == [("#a", 110.0)]
    assert h.store.targets(rooms, None, 0.0, 50.0, 0) == []


# --------------------------------------------------------------------------------------------------------
# Search


def test_search_matches_every_word_without_case_or_diacritics(h: Harness) -> None:
    texts = ["Hello World", "hello there", "the WORLD says hello", "Café au lait", "I don't know", "naïve"]
    for i, text in enumerate(texts):
        h.store.append(message("#s", f"s{i}", float(i), text))
    h.store.append(message("#elsewhere", "e0", 1.0, "hello world"))
    assert ids(h.store.search("#s", "hello world", 10)) == ["s2", "s0"]  # newest first
    assert ids(h.store.search("#s", "HELLO", 2)) == ["s2", "s1"]
    assert ids(h.store.search("#s", "cafe", 10)) == ["s3"]
    assert ids(h.store.search("#s", "CAFÉ", 10)) == ["s3"]
    assert ids(h.store.search("#s", "naive", 10)) == ["s5"]
    assert ids(h.store.search("#s", "don't", 10)) == ["s4"]
    assert ids(h.store.search("#s", "worl", 10)) == []  # whole words only
    assert h.store.search("#s", "hello", 0) == []
    assert h.store.search("#nowhere", "hello", 10) == []


HOSTILE = [
    '"',
    '""',
    "*",
    "hello*",
    "NEAR(",
    "NEAR(hello world, 2)",
    "-",
    "-hello",
    "AND OR",
    "hello AND",
    "OR hello",
    "NOT",
    "(",
    ")",
    "^hello",
    "text:hello",
    "{text}: hello",
    "hello + world",
    "'; DROP TABLE messages; --",
    "\x00",
    "🎉",
    "日本語",
    "Ω≈ç√",
    "\u200b",
    " ",
    "",
    "a" * 5000,
    " ".join(["w"] * 500),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_search_never_raises_on_hostile_input(h: Harness, query: str) -> None:
    for i, text in enumerate(["hello world", "hello (world)", "AND OR NOT", "日本語 テキスト", "🎉 party"]):
        h.store.append(message("#h", f"h{i}", float(i), text))
    result = h.store.search("#h", query, 10)
    assert isinstance(result, list)
    assert h.store.latest("#h", 10)  # the store still works


def test_search_handles_operators_as_words(h: Harness) -> None:
    for i, text in enumerate(["hello world", "hello (world)", "AND OR NOT", "日本語 テキスト", "🎉 party"]):
        h.store.append(message("#h", f"h{i}", float(i), text))
    assert ids(h.store.search("#h", "NEAR(hello world, 2)", 10)) == []  # "near" is a word like the others
    assert ids(h.store.search("#h", "hello*", 10)) == ["h1", "h0"]
    assert ids(h.store.search("#h", '"hello" -world', 10)) == ["h1", "h0"]
    assert ids(h.store.search("#h", "and or", 10)) == ["h2"]
    assert ids(h.store.search("#h", "日本語", 10)) == ["h3"]
    assert ids(h.store.search("#h", "🎉", 10)) == []  # no word in it


def test_search_phrases() -> None:
    assert search_phrases("Hello, WORLD!") == [("hello",), ("world",)]
    assert search_phrases("don't * - \"") == [("don", "t")]
    assert search_phrases("Café") == [("cafe",)]
    assert search_phrases("") == []
    assert len(search_phrases(" ".join(["w"] * 100))) == 16


# --------------------------------------------------------------------------------------------------------
# Accounts and registered rooms


def test_accounts(h: Harness) -> None:
    assert h.store.get_account("alice") is None
    assert h.store.create_account("alice", "Alice", "hash1", 100.0)
    assert not h.store.create_account("alice", "ALICE", "hash2", 200.0)  # the caller folds: same key
    assert h.store.get_account("alice") == Account("Alice", "hash1", 100.0, {})
    assert h.store.get_account("Alice") is None  # keys are compared as given
    h.store.set_account_setting("alice", "lang", "fr")
    h.store.set_account_setting("alice", "tz", "UTC")
    h.store.set_account_setting("alice", "lang", "de")
    h.store.set_password("alice", "hash3")
    assert h.store.get_account("alice") == Account("Alice", "hash3", 100.0, {"lang": "de", "tz": "UTC"})
    h.store.set_account_setting("alice", "tz", None)
    h.store.set_account_setting("alice", "missing", None)
    account = h.store.get_account("alice")
    assert account is not None and account.settings == {"lang": "de"}
    # writes to an account that does not exist do nothing
    h.store.set_account_setting("bob", "lang", "fr")
    h.store.set_password("bob", "x")
    assert h.store.get_account("bob") is None
    assert h.store.create_account("bob", "Bob", "hb", 300.0)
    assert h.store.get_account("bob") == Account("Bob", "hb", 300.0, {})


def test_put_account_inserts_or_replaces_exactly(h: Harness) -> None:
    assert h.store.all_accounts() == {}
    h.store.create_account("alice", "Alice", "hash1", 100.0)
    h.store.set_account_setting("alice", "lang", "fr")
    h.store.set_account_setting("alice", "tz", "UTC")
    settings = {"lang": "de", "email": "a@example.org"}
    h.store.put_account("alice", Account("ALICE", "hash2", 150.0, settings))  # replaces, tz removed
    h.store.put_account("bob", Account("Bob", "hb", 200.0))  # inserts
    settings["lang"] = "changed by the caller"
    assert h.store.get_account("alice") == Account(
        "ALICE", "hash2", 150.0, {"lang": "de", "email": "a@example.org"}
    )
    everyone = h.store.all_accounts()
    assert everyone == {
        "alice": Account("ALICE", "hash2", 150.0, {"lang": "de", "email": "a@example.org"}),
        "bob": Account("Bob", "hb", 200.0, {}),
    }
    everyone["bob"].settings["lang"] = "xx"  # type: ignore[index]  # copies: the store is unchanged
    everyone.pop("alice")
    assert h.store.all_accounts()["bob"].settings == {}
    assert len(h.store.all_accounts()) == 2
    h.store.set_account_setting("bob", "lang", "it")  # a put account is an account like the others
    assert not h.store.create_account("bob", "Bob", "x", 1.0)
    assert h.store.get_account("bob") == Account("Bob", "hb", 200.0, {"lang": "it"})
    h.wait(h.durable())
    if h.kind == "sqlite":
        with sqlite3.connect(h.path) as conn:
            assert conn.execute("SELECT * FROM accounts ORDER BY key").fetchall() == [
                ("alice", "ALICE", "hash2", 150.0, 150.0),  # last login: never given, the creation
                ("bob", "Bob", "hb", 200.0, 200.0),
            ]
            assert conn.execute("SELECT * FROM account_settings ORDER BY key, setting").fetchall() == [
                ("alice", "email", "a@example.org"),
                ("alice", "lang", "de"),
                ("bob", "lang", "it"),
            ]
        conn.close()


def test_registered_rooms_round_trip(h: Harness) -> None:
    full = RoomRecord(
        key="#dev",
        name="#Dev",
        founder="alice",
        created=1.5,
        topic="Welcome — ünïcode",
        topic_by="alice!a@h",
        topic_time=2.25,
        modes="nt",
        join_key="s3cret",
        limit=50,
        bans=(("*!*@bad", "alice", 3.0), ("x!*@*", "bob", 4.5)),
        excepts=(("*!*@good", "alice", 5.0),),
        invites=(("friend!*@*", "alice", 6.0),),
    )
    bare = RoomRecord(key="#a", name="#A", founder="bob", created=7.0)
    h.store.save_room(full)
    h.store.save_room(bare)
    assert h.store.load_rooms() == [bare, full]
    changed = dataclasses.replace(full, topic="new", join_key=None, limit=None, bans=())
    h.store.save_room(changed)
    h.store.drop_room("#a")
    h.store.drop_room("#never")
    assert h.store.load_rooms() == [changed]


def test_klines(h: Harness) -> None:
    assert h.store.load_klines() == []
    h.store.add_kline("*@203.0.113.*", "spam", "oper", 10.0, 610.0)
    h.store.add_kline("bad!*@*", "flood | oper note", "oper", 11.0, None)
    assert h.store.load_klines() == [
        KLineRecord("*@203.0.113.*", "spam", "oper", 10.0, 610.0),
        KLineRecord("bad!*@*", "flood | oper note", "oper", 11.0, None),
    ]
    h.store.add_kline("*@203.0.113.*", "more spam", "other", 20.0, None)  # replaces
    assert not h.store.remove_kline("BAD!*@*")  # masks are compared as given
    assert h.store.remove_kline("bad!*@*")
    assert not h.store.remove_kline("bad!*@*")
    assert h.store.load_klines() == [KLineRecord("*@203.0.113.*", "more spam", "other", 20.0, None)]
    h.wait(h.durable())
    if h.kind == "sqlite":
        with sqlite3.connect(h.path) as conn:
            assert conn.execute("SELECT mask, reason, expires FROM klines").fetchall() == [
                ("*@203.0.113.*", "more spam", None)
            ]


# --------------------------------------------------------------------------------------------------------
# Replication: msgids and the store's own values


def test_has_msgid(h: Harness) -> None:
    assert not h.store.has_msgid("m0")
    fill(h.store, 3)
    h.store.append(message("a\0b", "p1", 5.0, parties=("a", "b")))
    # at once, before the loop ran (the SQLite store has not committed them yet)
    assert all(h.store.has_msgid(msgid) for msgid in ("m0", "m1", "m2", "p1"))
    assert not h.store.has_msgid("m3") and not h.store.has_msgid("") and not h.store.has_msgid("M0")
    h.wait(h.durable())
    assert all(h.store.has_msgid(msgid) for msgid in ("m0", "m1", "m2", "p1"))
    assert not h.store.has_msgid("m3")


def test_meta(h: Harness) -> None:
    assert h.store.get_meta("stream") is None
    h.store.set_meta("stream", "1700000000000-0")
    h.store.set_meta("other", "")
    assert h.store.get_meta("stream") == "1700000000000-0"
    h.store.set_meta("stream", "1700000000001-5")
    assert h.store.get_meta("stream") == "1700000000001-5"
    assert h.store.get_meta("other") == ""
    assert h.store.get_meta("STREAM") is None


# --------------------------------------------------------------------------------------------------------
# Durability


def test_when_durable_calls_back_in_order_once_committed(h: Harness) -> None:
    order: list[str] = []
    futures = []
    for step in range(3):
        fill(h.store, 5, f"#d{step}")
        future = h.durable(f"messages {step}")
        future.add_done_callback(lambda f: order.append(f.result()))
        futures.append(future)
    h.store.create_account("acct", "Acct", "h", 1.0)
    futures.append(h.durable("account"))
    futures[-1].add_done_callback(lambda f: order.append(f.result()))
    h.wait(*futures)
    assert order == ["messages 0", "messages 1", "messages 2", "account"]
    assert not h.store.pending()
    if h.kind == "sqlite":  # committed: another connection sees every row
        with sqlite3.connect(h.path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (15,)
            assert conn.execute("SELECT COUNT(*) FROM accounts").fetchone() == (1,)


def test_when_durable_with_nothing_pending(h: Harness) -> None:
    h.wait(h.durable("idle"))
    fill(h.store, 3)
    h.wait(h.durable("after"))
    h.wait(h.durable("again"))


def test_pending(h: Harness) -> None:
    assert not h.store.pending()
    fill(h.store, 3)
    assert h.store.pending() == (h.kind == "sqlite")
    h.wait(h.durable())
    assert not h.store.pending()


def test_a_closed_store_refuses_work(h: Harness) -> None:
    fill(h.store, 2)
    h.store.close()
    h.store.close()  # idempotent
    with pytest.raises(StoreClosed):
        h.store.append(message("#room", "late", 1.0))
    with pytest.raises(StoreClosed):
        h.store.latest("#room", 5)


# --------------------------------------------------------------------------------------------------------
# SQLite only: files, reopening, migrations, a killed process. (A MemoryStore has nothing to reopen.)


def test_open_store(tmp_path: Path) -> None:
    assert isinstance(open_store(":memory:"), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    store = open_store(str(tmp_path / "deep" / "er" / "hub.db"))
    try:
        assert isinstance(store, SqliteStore)
        assert (tmp_path / "deep" / "er" / "hub.db").exists()
    finally:
        store.close()


def test_sqlite_is_imported_only_when_used() -> None:
    code = (
        "import sys, hubbub.store as s; s.open_store(':memory:');"
        "assert 'sqlite3' not in sys.modules and 'hubbub.store.sqlite' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=TIMEOUT, env=uncovered_env())


def test_reopening_keeps_everything_and_seq_continues(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    sent = fill(store, 10)
    private = store.append(message("a\0b", "p", 5.0, "secret words", parties=("a", "b")))
    store.create_account("alice", "Alice", "hash", 1.0)
    store.set_account_setting("alice", "lang", "fr")
    room = RoomRecord("#dev", "#Dev", "alice", 2.0, bans=(("*!*@x", "alice", 3.0),))
    store.save_room(room)
    store.close()

    again = SqliteStore(path)
    try:
        assert again.latest("#room", 20) == sent
        assert again.latest("a\0b", 5) == [private]
        assert again.targets([], "a", 0.0, 10.0, 5) == [("a\0b", 5.0)]
        assert ids(again.search("#room", "message 3", 5)) == ["m3"]
        assert again.get_account("alice") == Account("Alice", "hash", 1.0, {"lang": "fr"})
        assert again.load_rooms() == [room]
        following = again.append(message("#room", "next", 2000.0))
        assert following.seq == private.seq + 1
        assert ids(again.latest("#room", 2)) == ["m9", "next"]
    finally:
        again.close()


def test_close_commits_what_is_pending(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    loop = asyncio.new_event_loop()
    store = SqliteStore(path)
    store.start(loop)  # the loop never runs: appends stay in the buffer until close()
    sent = fill(store, 500)
    assert store.pending()
    store.close()
    loop.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0  # checkpointed
    again = SqliteStore(path)
    try:
        assert again.latest("#room", 1000) == sent
    finally:
        again.close()


def test_migrations_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        expected = {
            "messages",
            "messages_fts",
            "conversations",
            "parties",
            "accounts",
            "rooms",
            "klines",
            "meta",
        }
        assert expected <= tables
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")  # a newer hubbub wrote this file
    with pytest.raises(RuntimeError, match="newer"):
        SqliteStore(path)


def test_klines_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    store.add_kline("*@198.51.100.*", "ünïcode reason", "op", 1.5, 99.5)
    store.add_kline("gone@*", "x", "op", 2.0, None)
    store.add_kline("perm@*", "forever", "op", 3.0, None)
    assert store.remove_kline("gone@*")
    store.close()
    again = SqliteStore(path)
    try:
        assert again.load_klines() == [
            KLineRecord("*@198.51.100.*", "ünïcode reason", "op", 1.5, 99.5),
            KLineRecord("perm@*", "forever", "op", 3.0, None),
        ]
    finally:
        again.close()


def test_a_version_1_database_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:  # the schema as the first hubbub with a store wrote it
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO accounts VALUES ('alice', 'Alice', 'hash', 1.0)")
    conn.close()
    store = SqliteStore(path)
    try:
        assert store.get_account("alice") == Account("Alice", "hash", 1.0, {})
        assert store.load_klines() == []
        store.add_kline("*@x", "r", "op", 1.0, None)
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("SELECT mask FROM klines").fetchall() == [("*@x",)]
    conn.close()


def test_a_version_2_database_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:  # the schema before the meta table
        conn.executescript(MIGRATIONS[0] + MIGRATIONS[1])
        conn.execute("PRAGMA user_version = 2")
        conn.execute("INSERT INTO accounts VALUES ('alice', 'Alice', 'hash', 1.0)")
        conn.execute("INSERT INTO account_settings VALUES ('alice', 'lang', 'fr')")
        conn.execute("INSERT INTO klines VALUES ('*@x', 'r', 'op', 1.0, NULL)")
    conn.close()
    store = SqliteStore(path)
    try:
        assert store.all_accounts() == {"alice": Account("Alice", "hash", 1.0, {"lang": "fr"})}
        assert store.load_klines() == [KLineRecord("*@x", "r", "op", 1.0, None)]
        assert store.get_meta("stream") is None
        store.set_meta("stream", "42-0")
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),) == (4,)
        assert conn.execute("SELECT name, value FROM meta").fetchall() == [("stream", "42-0")]
    conn.close()


def test_a_version_3_database_migrates_keeps_its_data_and_its_accounts_count_as_logged_in_now(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.db"
    store = SqliteStore(path)  # what a version 3 store holds, written by the store itself
    store.create_account("alice", "Alice", "hash", 1.0)
    store.set_account_setting("alice", "lang", "fr")
    store.create_account("bob", "Bob", "hb", 2.0)
    fill(store, 3)
    store.append(message("a:alice a:bob", "p1", 5.0, "a private word", parties=("a:alice", "a:bob")))
    store.save_room(RoomRecord("#room", "#Room", "alice", 3.0, topic="kept"))
    store.add_kline("*@x", "r", "op", 1.0, None)
    store.set_meta("stream", "42-0")
    store.close()
    with sqlite3.connect(path) as conn:  # back to the schema before last_login, as version 3 had it
        conn.execute("ALTER TABLE accounts DROP COLUMN last_login")
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    before = _time.time()
    again = SqliteStore(path)
    after = _time.time()
    try:
        assert again.all_accounts() == {
            "alice": Account("Alice", "hash", 1.0, {"lang": "fr"}),
            "bob": Account("Bob", "hb", 2.0, {}),
        }
        for account in again.all_accounts().values():  # logged in to at the upgrade: none expires of it
            assert before - 1 <= account.last_login <= after + 1
        assert again.idle_accounts(before - 1) == []
        assert ids(again.latest("#room", 10)) == ["m0", "m1", "m2"]
        assert ids(again.latest("a:alice a:bob", 10)) == ["p1"]
        assert ids(again.search("a:alice a:bob", "private", 10)) == ["p1"]
        assert again.targets([], "a:bob", 0.0, 10.0, 10) == [("a:alice a:bob", 5.0)]
        assert [record.topic for record in again.load_rooms()] == ["kept"]
        assert again.load_klines() == [KLineRecord("*@x", "r", "op", 1.0, None)]
        assert again.get_meta("stream") == "42-0"
    finally:
        again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),) == (4,)
    conn.close()


def test_a_version_3_schema_built_from_its_migrations_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    with sqlite3.connect(path) as conn:  # the schema exactly as the first three migrations made it
        conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + MIGRATIONS[2])
        conn.execute("PRAGMA user_version = 3")
        conn.execute("INSERT INTO accounts VALUES ('alice', 'Alice', 'hash', 1.0)")
    conn.close()
    store = SqliteStore(path)
    try:
        account = store.get_account("alice")
        assert account == Account("Alice", "hash", 1.0, {})
        assert account is not None and account.last_login > 1.0
    finally:
        store.close()


def test_logins_are_recorded_and_idle_accounts_found(h: Harness) -> None:
    h.store.create_account("alice", "Alice", "ha", 100.0)
    h.store.create_account("bob", "Bob", "hb", 200.0)
    assert h.store.get_account("alice").last_login == 100.0  # type: ignore[union-attr]
    assert sorted(h.store.idle_accounts(150.0)) == ["alice"]
    h.store.touch_account("alice", 300.0)
    h.store.touch_account("nobody", 300.0)  # nothing
    assert h.store.get_account("alice").last_login == 300.0  # type: ignore[union-attr]
    assert h.store.get_account("nobody") is None
    assert h.store.idle_accounts(250.0) == ["bob"]
    h.store.set_account_setting("bob", "lang", "fr")
    assert h.store.delete_account("bob")
    assert not h.store.delete_account("bob")
    assert h.store.get_account("bob") is None
    assert h.store.idle_accounts(1000.0) == ["alice"]
    assert h.store.create_account("bob", "BOB", "new", 400.0)  # the name is free again, without settings
    assert h.store.get_account("bob") == Account("BOB", "new", 400.0, {})
    if h.kind == "sqlite":
        h.store.close()
        h.store = h.open()
        assert h.store.get_account("alice").last_login == 300.0  # type: ignore[union-attr]
        assert h.store.get_account("bob") == Account("BOB", "new", 400.0, {})


def test_forget_party_removes_its_private_conversations_for_both_sides(h: Harness) -> None:
    ab, bc = "a:alice a:bob", "a:bob a:carol"
    h.store.append(message(ab, "p1", 1.0, "secret one", parties=("a:alice", "a:bob")))
    h.store.append(message(bc, "p2", 2.0, "secret two", parties=("a:bob", "a:carol")))
    h.store.append(message("#room", "r1", 3.0, "secret in a room"))
    h.store.append(message("a:alice a:carol", "p3", 4.0, "secret three", parties=("a:alice", "a:carol")))
    assert h.store.forget_party("a:bob") == 2
    assert h.store.forget_party("a:bob") == 0
    for store_now in (h.store, None):
        if store_now is None:
            if h.kind == "memory":
                break
            h.store.close()
            h.store = h.open()
        assert h.store.latest(ab, 10) == [] and h.store.latest(bc, 10) == []
        assert h.store.search(ab, "secret", 10) == []
        assert h.store.targets([], "a:bob", 0.0, 10.0, 10) == []
        assert h.store.targets([], "a:carol", 0.0, 10.0, 10) == [("a:alice a:carol", 4.0)]
        assert ids(h.store.latest("#room", 10)) == ["r1"]
        assert ids(h.store.search("a:alice a:carol", "secret", 10)) == ["p3"]
    # A new conversation under the same key starts empty.
    h.store.append(message(ab, "p4", 5.0, "a new secret", parties=("a:alice", "a:bob")))
    assert ids(h.store.latest(ab, 10)) == ["p4"]
    assert ids(h.store.search(ab, "secret", 10)) == ["p4"]


def test_replicated_accounts_meta_and_msgids_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(path)
    store.create_account("alice", "Alice", "hash", 1.0)
    store.set_account_setting("alice", "tz", "UTC")
    store.put_account("alice", Account("Alice", "hash2", 1.0, {"lang": "fr"}))
    store.put_account("bob", Account("Bob", "hb", 2.0, {"tz": "CET"}))
    fill(store, 3)
    store.set_meta("stream", "7-0")
    store.set_meta("stream", "9-1")
    store.close()
    again = SqliteStore(path)
    try:
        assert again.all_accounts() == {
            "alice": Account("Alice", "hash2", 1.0, {"lang": "fr"}),
            "bob": Account("Bob", "hb", 2.0, {"tz": "CET"}),
        }
        assert again.get_meta("stream") == "9-1"
        assert again.has_msgid("m2") and not again.has_msgid("m3")
    finally:
        again.close()


def test_set_meta_is_committed_after_the_messages_before_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    loop = asyncio.new_event_loop()
    store = SqliteStore(path)
    store.start(loop)
    try:
        fill(store, 50)  # buffered: the loop has not run
        store.set_meta("stream", "50-0")
        with sqlite3.connect(path) as conn:  # whenever the value is committed, so are the messages
            for _ in range(1000):
                row = conn.execute("SELECT value FROM meta").fetchone()
                count = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                assert row is None or count == 50
                if row is not None:
                    break
        conn.close()
        done: asyncio.Future[None] = loop.create_future()
        store.when_durable(lambda: done.set_result(None))
        loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT name, value FROM meta").fetchall() == [("stream", "50-0")]
            assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (50,)
        conn.close()
    finally:
        store.close()
        loop.close()


def test_has_msgid_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.start(loop)
    try:
        fill(store, 5)  # buffered: the loop never runs, so nothing reaches the writer unless a read syncs
        assert store.has_msgid("m4") and not store.has_msgid("nope")
        assert store.pending()  # it did not hand the buffer over and wait
        assert store.latest("#room", 1)[0].msgid == "m4"  # a read does
        assert not store.pending()
        assert store.has_msgid("m0") and not store.has_msgid("nope")
    finally:
        store.close()
        loop.close()


def test_has_msgid_past_its_memory_of_pending_msgids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hubbub.store.sqlite._RECENT_MAX", 4)
    loop = asyncio.new_event_loop()
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.start(loop)
    try:
        fill(store, 7)  # more pending than it remembers: it forgets them and then waits for the writer
        store.append(message("#room", "m1", 2000.0))  # a repeated msgid
        assert all(store.has_msgid(f"m{i}") for i in range(7)) and not store.has_msgid("m7")
        assert not store.pending()
        fill(store, 3, "#next")
        assert all(store.has_msgid(f"m{i}") for i in range(7)) and not store.has_msgid("m7")
        assert store.pending()  # tracked again: no waiting
    finally:
        store.close()
        loop.close()


def test_a_row_sqlite_cannot_store_is_dropped_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    try:
        store.append(message("#r", "good1", 1.0))
        store.append(message("#r", "bad", 2.0, "lone surrogate \udc80"))
        store.append(message("#r", "good2", 3.0))
        assert ids(store.latest("#r", 10)) == ["good1", "good2"]
    finally:
        store.close()


CHILD = r"""
import asyncio, sys
from hubbub.store import StoredMessage
from hubbub.store.sqlite import SqliteStore

def msg(msgid, time, text):
    return StoredMessage(0, msgid, time, "#kill", "#Kill", "k!u@h", None, "PRIVMSG", text)

async def main():
    loop = asyncio.get_running_loop()
    store = SqliteStore(sys.argv[1])
    store.start(loop)
    for i in range(int(sys.argv[2])):
        store.append(msg(f"d{i}", 1000.0 + i, f"durable message {i}"))
        if i % 100 == 99:
            await asyncio.sleep(0)
    durable = loop.create_future()
    store.when_durable(lambda: durable.set_result(None))
    await durable
    print("durable", flush=True)
    i = 0
    while True:  # keep writing until killed
        store.append(msg(f"x{i}", 100000.0 + i, f"maybe message {i}"))
        i += 1
        if i % 100 == 0:
            await asyncio.sleep(0)

asyncio.run(main())
"""


def test_durable_rows_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    count = 3000
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        line = proc.stdout.readline() if ready else b""
        crashed = proc.stderr.read() if proc.poll() is not None else b""
        assert line == b"durable\n", (line, crashed)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-write: the child appends until it dies
        proc.wait(TIMEOUT)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    store = SqliteStore(path)
    try:
        durable = store.before("#kill", ByTime(100000.0), count + 1)
        assert ids(durable) == [f"d{i}" for i in range(count)]
        assert [m.text for m in durable[:2]] == ["durable message 0", "durable message 1"]
        assert ids(store.search("#kill", "durable 2999", 5)) == ["d2999"]
        assert store.append(message("#kill", "after", 1e6)).seq > count
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    finally:
        store.close()


# --------------------------------------------------------------------------------------------------------
# Property: for any appends and queries, SqliteStore answers exactly as MemoryStore does.

CONVERSATIONS = ("#a", "#b", "a\0b")
TIMES = (1.0, 2.0, 2.0, 3.0, 4.5, 7.0)
WORDS = ("hello", "World", "chat", "don't", "café", "AND", "NEAR(", "*", '"', "-")

bounds = st.one_of(
    st.builds(ByTime, st.sampled_from((*TIMES, 0.5, 2.5, 9.0))),
    st.builds(ByMsgid, st.integers(0, 8).map(lambda k: f"m{k}")),
)
limits = st.integers(0, 5)
conversations = st.sampled_from(CONVERSATIONS)
busy_conversations = st.sampled_from(("#a", "#a", "#b", "a\0b"))  # enough messages in one to page through
appends = st.tuples(
    st.just("append"),
    busy_conversations,
    st.sampled_from(TIMES),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.integers(0, 7),  # msgids repeat now and then
)
queries = st.one_of(
    st.tuples(st.just("latest"), conversations, limits, st.none() | bounds),
    st.tuples(st.just("has_msgid"), st.integers(0, 8).map(lambda k: f"m{k}")),
    st.tuples(st.sampled_from(("before", "after", "around")), conversations, bounds, limits),
    st.tuples(st.just("between"), conversations, bounds, bounds, limits),
    st.tuples(
        st.just("targets"),
        st.lists(conversations, max_size=3),
        st.sampled_from((None, "a", "b", "c")),
        st.sampled_from((*TIMES, 0.0, 10.0)),
        st.sampled_from((*TIMES, 0.0, 10.0)),
        limits,
    ),
    st.tuples(
        st.just("search"), conversations, st.lists(st.sampled_from(WORDS), max_size=2).map(" ".join), limits
    ),
)


def _ask(store: Store, op: tuple[Any, ...]) -> Any:
    name, *args = op
    try:
        if name == "latest":
            conversation, limit, bound = args
            return store.latest(conversation, limit, bound)
        method: Callable[..., Any] = getattr(store, name)
        return method(*args)
    except UnknownMsgid:
        return UnknownMsgid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(appends, min_size=2, max_size=40), st.lists(queries, min_size=4, max_size=25), st.integers(0, 40)
)
def test_sqlite_answers_like_memory(
    writes: list[tuple[Any, ...]], reads: list[tuple[Any, ...]], split: int
) -> None:
    ops = writes[:split] + reads[: len(reads) // 2] + writes[split:] + reads[len(reads) // 2 :]
    memory = MemoryStore()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStore(Path(tmp) / "db.sqlite3")
        try:
            for op in ops:
                if op[0] == "append":
                    _, conversation, time, text, k = op
                    parties = ("a", "b") if conversation == "a\0b" else ()
                    msg = message(conversation, f"m{k}", time, text, parties=parties)
                    assert memory.append(msg) == sqlite.append(msg)
                else:
                    assert _ask(sqlite, op) == _ask(memory, op), op
        finally:
            sqlite.close()
