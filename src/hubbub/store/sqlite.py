"""SqliteStore: history, accounts, rooms and K-lines in one SQLite file (``sqlite3``), with FTS5 search.

Threads. All public methods run on the event loop's thread. One writer thread owns the writing connection:
it takes every write queued so far and commits it in one transaction (group commit), then schedules the
``when_durable`` callbacks those writes release with ``loop.call_soon_threadsafe``. ``append`` only assigns a
seq and buffers a row; the buffer goes to the writer once per loop turn (``loop.call_soon``), or at once when
it grows large or before any other write. Reads use a second connection, on the loop thread: they first hand
over the buffer and wait (bounded by ``read_timeout``) until the writer has committed everything queued, so
they see every message appended before them.

Durability. WAL journal with ``synchronous=NORMAL``: a commit appends the transaction to the WAL file and
returns without fsync; the WAL is fsynced at checkpoints. A committed transaction is in the operating
system's page cache, so it survives the process being killed (SIGKILL, a crash); only an OS crash or a power
loss can lose the last transactions, never the database's consistency. That is the guarantee
``when_durable`` gives, at a small fraction of the cost of an fsync per commit.

The loop is given to ``start(loop)``. Before it, appends go to the writer one by one and ``when_durable``
raises ``RuntimeError``: enough for tools and tests that only append and read.

Schema. ``PRAGMA user_version`` is the schema version; ``schema.MIGRATIONS`` holds the steps, each applied in
its own transaction at open. Conversation keys are interned as integers (``conversations``); the full-text
index is contentless (``rowid`` = ``seq``) with two columns: the text, and one token ``c<id>`` naming the
conversation, so a search is one FTS5 query.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import os
import sqlite3
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from .base import (
    SEQ_MAX,
    Account,
    Bound,
    ByTime,
    KLineRecord,
    MaskEntry,
    RoomRecord,
    StoreClosed,
    StoredMessage,
    StoreTimeout,
    UnknownMsgid,
    search_phrases,
    with_seq,
)
from .schema import connect, migrate

__all__ = ["SqliteStore"]

log = logging.getLogger("hubbub.store")

_INSERT_CONVERSATION = "INSERT OR IGNORE INTO conversations (id, key) VALUES (?, ?)"
_INSERT_PARTY = "INSERT OR IGNORE INTO parties (party, conversation) VALUES (?, ?)"
_INSERT_MESSAGES = (
    "INSERT INTO messages (seq, conversation, time, msgid, target, sender, account, kind, text, parties)"
    " VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_MESSAGE = _INSERT_MESSAGES + _ROW
# The rows of one batch have consecutive seqs: index them with one statement, without Python in the loop.
_INDEX_MESSAGES = (
    "INSERT INTO messages_fts (rowid, conversation, text)"
    " SELECT seq, 'c' || conversation, text FROM messages WHERE seq BETWEEN ? AND ?"
)
_COLUMNS = "seq, msgid, time, target, sender, account, kind, text, parties"
_NEWEST_FIRST = " ORDER BY time DESC, seq DESC LIMIT ?"
_OLDEST_FIRST = " ORDER BY time, seq LIMIT ?"

#: Hand the append buffer to the writer without waiting for the end of the loop turn past this many rows.
_BUFFER_MAX = 4096
#: Msgids of uncommitted messages ``has_msgid`` remembers, at most; past this it waits for the writer.
_RECENT_MAX = 8192
#: Rows per INSERT statement, at most (a power of two). Many rows per statement rather than ``executemany``
#: is faster, and above all the writer then needs the GIL once per statement, not once per row: while the
#: loop thread is busy, each wait for the GIL can last the whole switch interval (5 ms).
_CHUNK = 1024

_Row = tuple[int, int, float, str, str, str, str | None, str, str, str]
_Key = tuple[float, int]


@dataclass(slots=True)
class _Messages:
    """Appended messages, with the conversations and parties they introduce."""

    conversations: list[tuple[int, str]]
    parties: list[tuple[str, int]]
    rows: list[_Row]

    @property
    def tickets(self) -> int:
        return len(self.rows)

    def apply(self, conn: sqlite3.Connection, chunk: int) -> None:
        if self.conversations:
            conn.executemany(_INSERT_CONVERSATION, self.conversations)
        if self.parties:
            conn.executemany(_INSERT_PARTY, self.parties)
        rows = self.rows
        i = 0
        while i < len(rows):  # chunks of ``chunk`` rows, then half as many, ...: a few cached statements
            size = chunk
            while size > len(rows) - i:
                size //= 2
            conn.execute(_insert_rows(size), list(chain.from_iterable(rows[i : i + size])))
            i += size
        conn.execute(_INDEX_MESSAGES, (rows[0][0], rows[-1][0]))

    def extend(self, other: _Messages) -> None:
        self.conversations += other.conversations
        self.parties += other.parties
        self.rows += other.rows

    def apply_each(self, conn: sqlite3.Connection) -> None:
        for conversation in self.conversations:
            _guarded(conn, _INSERT_CONVERSATION, conversation)
        for party in self.parties:
            _guarded(conn, _INSERT_PARTY, party)
        for row in self.rows:
            _guarded(conn, _INSERT_MESSAGE, row, (_INDEX_MESSAGES, (row[0], row[0])))


@dataclass(slots=True)
class _Statement:
    """One write of another kind (accounts, rooms), with the statements that stand or fall with it."""

    sql: str
    params: tuple[Any, ...]
    more: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    tickets = 1

    def apply(self, conn: sqlite3.Connection, chunk: int) -> None:
        conn.execute(self.sql, self.params)
        for sql, params in self.more:
            conn.execute(sql, params)

    def apply_each(self, conn: sqlite3.Connection) -> None:
        _guarded(conn, self.sql, self.params, *self.more)


_Op = _Messages | _Statement


@cache
def _insert_rows(count: int) -> str:
    return _INSERT_MESSAGES + ", ".join([_ROW] * count)


def _guarded(
    conn: sqlite3.Connection,
    sql: str,
    params: tuple[Any, ...],
    *then: tuple[str, tuple[Any, ...]],
) -> None:
    """Run ``sql`` (and ``then``) in a savepoint; on failure log it and undo only this."""
    conn.execute("SAVEPOINT one")
    try:
        conn.execute(sql, params)
        for more in then:
            conn.execute(*more)
    except Exception:
        log.exception("store: dropping a write that failed: %.200s %.200r", sql, params)
        conn.execute("ROLLBACK TO one")
    conn.execute("RELEASE one")


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("store: error in a when_durable callback")


def _masks(entries: Iterable[MaskEntry]) -> str:
    return json.dumps([[mask, by, at] for mask, by, at in entries])


def _unmasks(text: str) -> tuple[MaskEntry, ...]:
    return tuple((str(mask), str(by), float(at)) for mask, by, at in json.loads(text))


#: The interpreter's switch interval while a SQLite store is in use (see SqliteStore.start).
SWITCH_INTERVAL = 0.0005


class SqliteStore:
    """A :class:`~hubbub.store.base.Store` in a SQLite file (see the module docstring)."""

    def __init__(
        self, path: str | os.PathLike[str], *, read_timeout: float = 10.0, close_timeout: float = 60.0
    ) -> None:
        self.path = os.fspath(path)
        self.read_timeout = read_timeout
        self.close_timeout = close_timeout
        #: The last exception that made the writer drop writes, if any (they are logged too).
        self.error: BaseException | None = None
        self._wconn = connect(self.path)
        try:
            migrate(self._wconn)
            self._rconn = connect(self.path)
        except BaseException:
            self._wconn.close()
            raise
        self._rconn.execute("PRAGMA query_only = ON")
        self._chunk = _CHUNK
        while self._chunk > 1 and self._chunk * 10 > self._wconn.getlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
        ):
            self._chunk //= 2
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: Every account, read once: account lookups (nickname protection on every connect and rename) never
        #: wait for the writer or touch the disk. This process is the only writer of its file.
        self._accounts: dict[str, Account] = {}
        settings: dict[str, dict[str, str]] = {}
        for key, setting, value in self._rconn.execute("SELECT key, setting, value FROM account_settings"):
            settings.setdefault(key, {})[setting] = value
        for key, name, digest, created in self._rconn.execute(
            "SELECT key, name, password_hash, created FROM accounts"
        ):
            self._accounts[key] = Account(name, digest, created, settings.get(key, {}))
        #: Every K-line, read once, like the accounts: adding and removing one answers without waiting.
        self._klines: dict[str, KLineRecord] = {
            row[0]: KLineRecord(*row)
            for row in self._rconn.execute("SELECT mask, reason, set_by, set_at, expires FROM klines")
        }
        #: The ``meta`` table, read once: ``get_meta`` never waits.
        self._meta: dict[str, str] = dict(self._rconn.execute("SELECT name, value FROM meta").fetchall())

        # Loop-side state.
        read = self._rconn.execute
        self._next_seq: int = (read("SELECT MAX(seq) FROM messages").fetchone()[0] or 0) + 1
        self._conversation_ids: dict[str, int] = dict(read("SELECT key, id FROM conversations").fetchall())
        self._conversation_keys = {number: key for key, number in self._conversation_ids.items()}
        # Never reuse an id, even one whose conversations row was lost while its messages were kept.
        used: int = read("SELECT MAX(conversation) FROM messages").fetchone()[0] or 0
        self._next_conversation = max(used, *self._conversation_keys, 0) + 1
        self._party_conversations: dict[str, set[int]] = {}
        for party, number in read("SELECT party, conversation FROM parties"):
            self._party_conversations.setdefault(party, set()).add(number)
        self._buffer: list[_Row] = []
        self._buffer_conversations: list[tuple[int, str]] = []
        self._buffer_parties: list[tuple[str, int]] = []
        self._flush_scheduled = False
        #: Writes issued so far (one per message or statement), compared with ``_done``.
        self._queued = 0
        #: (write number, msgid) of messages appended but perhaps not committed, oldest first; ``_recent``
        #: maps each such msgid to its last write number. Writes up to ``_untracked`` were left out of them.
        self._recent_order: deque[tuple[int, str]] = deque()
        self._recent: dict[str, int] = {}
        self._untracked = 0

        # Shared with the writer thread, under ``_lock``.
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._drained = threading.Condition(self._lock)
        self._queue: list[_Op] = []
        self._done = 0
        self._waiters: deque[tuple[int, Callable[[], None]]] = deque()
        self._stopping = False
        self._writer = threading.Thread(target=self._write_loop, name="hubbub-store-writer", daemon=True)
        self._writer.start()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the loop: appends are then batched per loop turn and ``when_durable`` works.

        The writer thread needs the GIL a few times per commit (the statements, the callbacks); while the
        loop thread is busy it gets it only when the interpreter's switch interval expires (5 ms by
        default), and every output held for a commit waits that long. A shorter interval costs nothing while
        the writer is idle (nobody asks for the GIL) and bounds that wait."""
        self._loop = loop
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))

    # -- writing (loop thread) -----------------------------------------------------------------------------

    def append(self, msg: StoredMessage) -> StoredMessage:
        if self._closed:
            raise StoreClosed("the store is closed")
        if not math.isfinite(msg.time):
            raise ValueError(f"not a finite time: {msg.time!r}")
        parties = ""
        if msg.parties:
            parties = " ".join(msg.parties)
            if len(parties.split(" ")) != len(msg.parties) or not all(msg.parties):
                raise ValueError("parties must be non-empty and without spaces")
        seq = self._next_seq
        self._next_seq = seq + 1
        conversation = self._conversation_ids.get(msg.conversation)
        if conversation is None:
            conversation = self._new_conversation(msg.conversation)
        if parties:
            for party in msg.parties:
                known = self._party_conversations.setdefault(party, set())
                if conversation not in known:
                    known.add(conversation)
                    self._buffer_parties.append((party, conversation))
        buffer = self._buffer
        buffer.append(
            (
                seq,
                conversation,
                msg.time,
                msg.msgid,
                msg.target,
                msg.sender,
                msg.account,
                msg.kind,
                msg.text,
                parties,
            )
        )
        self._queued += 1
        self._recent_order.append((self._queued, msg.msgid))
        self._recent[msg.msgid] = self._queued
        if len(self._recent_order) > _RECENT_MAX:
            self._forget_committed()
        if self._loop is None or len(buffer) >= _BUFFER_MAX:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        return with_seq(msg, seq)

    def _new_conversation(self, key: str) -> int:
        number = self._next_conversation
        self._next_conversation += 1
        self._conversation_ids[key] = number
        self._conversation_keys[number] = key
        self._buffer_conversations.append((number, key))
        return number

    def _flush(self) -> None:
        """Hand the append buffer to the writer."""
        self._flush_scheduled = False
        if not self._buffer:
            return
        op = _Messages(self._buffer_conversations, self._buffer_parties, self._buffer)
        self._buffer, self._buffer_conversations, self._buffer_parties = [], [], []
        self._submit(op)

    def _submit(self, op: _Op) -> None:
        with self._lock:
            if self._stopping:
                raise StoreClosed("the store is closed")
            self._queue.append(op)
            self._work.notify()

    def _write(self, sql: str, params: tuple[Any, ...], *more: tuple[str, tuple[Any, ...]]) -> None:
        """Queue one statement (and ``more`` in the same savepoint) after everything appended so far."""
        if self._closed:
            raise StoreClosed("the store is closed")
        self._flush()
        self._queued += 1
        self._submit(_Statement(sql, params, more))

    def _forget_committed(self) -> None:
        """Drop the committed messages from ``_recent``; if too many remain, drop them all (untracked)."""
        order, recent, done = self._recent_order, self._recent, self._done
        while order and order[0][0] <= done:
            number, msgid = order.popleft()
            if recent.get(msgid) == number:
                del recent[msgid]
        if len(order) > _RECENT_MAX:
            order.clear()
            recent.clear()
            self._untracked = self._queued

    def when_durable(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("SqliteStore.when_durable needs start(loop) first")
        if self._closed:
            raise StoreClosed("the store is closed")
        target = self._queued
        with self._lock:  # the writer schedules callbacks under the lock too: their order is kept
            if self._done >= target:
                loop.call_soon(_run_callbacks, [callback])
            else:
                self._waiters.append((target, callback))

    def pending(self) -> bool:
        return self._done < self._queued

    def close(self) -> None:
        """Commit everything pending, stop the writer, checkpoint the WAL into the database and close."""
        if self._closed:
            return
        try:
            self._flush()
        finally:
            self._closed = True
            with self._lock:
                self._stopping = True
                self._work.notify()
            self._writer.join(self.close_timeout)
            self._rconn.close()
        if self._writer.is_alive():
            log.error(
                "store: the writer did not finish within %s s; pending writes may be lost", self.close_timeout
            )
            return
        try:
            self._wconn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._wconn.execute("PRAGMA optimize")
        finally:
            self._wconn.close()

    # -- the writer thread ---------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._work.wait()
                ops, self._queue = self._queue, []
            if not ops:
                return
            tickets = sum(op.tickets for op in ops)
            self._commit(ops)
            with self._lock:
                self._done += tickets
                ready: list[Callable[[], None]] = []
                while self._waiters and self._waiters[0][0] <= self._done:
                    ready.append(self._waiters.popleft()[1])
                if ready and self._loop is not None:
                    try:
                        self._loop.call_soon_threadsafe(_run_callbacks, ready)
                    except RuntimeError:  # the loop is closed
                        log.warning("store: event loop closed, %d durable callbacks dropped", len(ready))
                self._drained.notify_all()

    def _commit(self, ops: list[_Op]) -> None:
        """Commit ``ops`` in one transaction; if that fails, commit them one by one, dropping the failures."""
        conn = self._wconn
        merged: list[_Op] = []
        for op in ops:  # consecutive appends have consecutive seqs: one op for all
            if isinstance(op, _Messages) and merged and isinstance(merged[-1], _Messages):
                merged[-1].extend(op)
            else:
                merged.append(op)
        try:
            conn.execute("BEGIN")
            for op in merged:
                op.apply(conn, self._chunk)
            conn.execute("COMMIT")
            return
        except Exception:
            log.warning("store: a batch of writes failed, retrying them one by one", exc_info=True)
            self._rollback()
        try:
            conn.execute("BEGIN")
            for op in merged:
                op.apply_each(conn)
            conn.execute("COMMIT")
        except Exception as exc:
            self.error = exc
            log.exception("store: %d writes lost", sum(op.tickets for op in merged))
            self._rollback()

    def _rollback(self) -> None:
        try:
            if self._wconn.in_transaction:
                self._wconn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("store: rollback failed")

    # -- reading (loop thread) -----------------------------------------------------------------------------

    def _sync(self) -> None:
        """Wait until everything written so far is committed, so the read connection sees it."""
        if self._closed:
            raise StoreClosed("the store is closed")
        if self._buffer:
            self._flush()
        target = self._queued
        if self._done >= target:
            return
        with self._lock:
            if not self._drained.wait_for(lambda: self._done >= target, self.read_timeout):
                raise StoreTimeout(f"the store writer is {target - self._done} writes behind")

    def _select(self, key: str, sql: str, params: tuple[Any, ...], newest_first: bool) -> list[StoredMessage]:
        rows = self._rconn.execute(sql, params).fetchall()
        if newest_first:
            rows.reverse()
        return [
            StoredMessage(
                seq,
                msgid,
                time,
                key,
                target,
                sender,
                account,
                kind,
                text,
                tuple(parties.split(" ")) if parties else (),
            )
            for seq, msgid, time, target, sender, account, kind, text, parties in rows
        ]

    def _cuts(self, conversation: int | None, bound: Bound) -> tuple[_Key, _Key]:
        """(below, above): messages before ``bound`` have keys < below, messages after it keys > above."""
        if isinstance(bound, ByTime):
            return (bound.time, 0), (bound.time, SEQ_MAX)
        row = None
        if conversation is not None:
            row = self._rconn.execute(
                "SELECT time, seq FROM messages WHERE msgid = ? AND conversation = ?"
                " ORDER BY seq DESC LIMIT 1",
                (bound.msgid, conversation),
            ).fetchone()
        if row is None:
            raise UnknownMsgid(bound.msgid)
        return (row[0], row[1]), (row[0], row[1])

    def _open(self, key: str) -> int | None:
        self._sync()
        return self._conversation_ids.get(key)

    def latest(self, conversation: str, limit: int, after: Bound | None = None) -> list[StoredMessage]:
        number = self._open(conversation)
        above = self._cuts(number, after)[1] if after is not None else None
        if number is None or limit < 1:
            return []
        base = f"SELECT {_COLUMNS} FROM messages WHERE conversation = ?"
        if above is None:
            return self._select(conversation, base + _NEWEST_FIRST, (number, limit), True)
        sql = base + " AND (time, seq) > (?, ?)" + _NEWEST_FIRST
        return self._select(conversation, sql, (number, *above, limit), True)

    def before(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        number = self._open(conversation)
        below = self._cuts(number, bound)[0]
        if number is None or limit < 1:
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM messages WHERE conversation = ? AND (time, seq) < (?, ?)" + _NEWEST_FIRST
        )
        return self._select(conversation, sql, (number, *below, limit), True)

    def after(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        number = self._open(conversation)
        above = self._cuts(number, bound)[1]
        if number is None or limit < 1:
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM messages WHERE conversation = ? AND (time, seq) > (?, ?)" + _OLDEST_FIRST
        )
        return self._select(conversation, sql, (number, *above, limit), False)

    def around(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        number = self._open(conversation)
        split = self._cuts(number, bound)[0]
        if number is None or limit < 1:
            return []
        base = f"SELECT {_COLUMNS} FROM messages WHERE conversation = ? AND (time, seq)"
        older = self._select(conversation, base + " < (?, ?)" + _NEWEST_FIRST, (number, *split, limit), True)
        newer = self._select(
            conversation, base + " >= (?, ?)" + _OLDEST_FIRST, (number, *split, limit), False
        )
        n_before = min(len(older), limit // 2)
        n_after = min(len(newer), limit - n_before)
        n_before = min(len(older), limit - n_after)
        return older[len(older) - n_before :] + newer[:n_after]

    def between(self, conversation: str, start: Bound, end: Bound, limit: int) -> list[StoredMessage]:
        number = self._open(conversation)
        start_below, start_above = self._cuts(number, start)
        end_below, end_above = self._cuts(number, end)
        if number is None or limit < 1:
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM messages"
            " WHERE conversation = ? AND (time, seq) > (?, ?) AND (time, seq) < (?, ?)"
        )
        if start_above < end_below:  # forwards: keep the oldest
            return self._select(
                conversation, sql + _OLDEST_FIRST, (number, *start_above, *end_below, limit), False
            )
        return self._select(
            conversation, sql + _NEWEST_FIRST, (number, *end_above, *start_below, limit), True
        )

    def targets(
        self, conversations: Iterable[str], party: str | None, start: float, end: float, limit: int
    ) -> list[tuple[str, float]]:
        self._sync()
        ids = self._conversation_ids
        numbers = {ids[key] for key in conversations if key in ids}
        if party is not None:
            numbers.update(self._party_conversations.get(party, ()))
        low, high = min(start, end), max(start, end)
        found: list[tuple[float, str]] = []
        query = (
            "SELECT time FROM messages WHERE conversation = ? AND time > ? AND time < ?"
            " ORDER BY time DESC LIMIT 1"
        )
        for number in numbers:
            row = self._rconn.execute(query, (number, low, high)).fetchone()
            if row is not None:
                found.append((row[0], self._conversation_keys[number]))
        found.sort()
        if limit < 1:
            return []
        kept = found[:limit] if start <= end else found[-limit:]
        return [(key, time) for time, key in kept]

    def search(self, conversation: str, query: str, limit: int) -> list[StoredMessage]:
        number = self._open(conversation)
        phrases = search_phrases(query)
        if number is None or not phrases or limit < 1:
            return []
        # Tokens are runs of letters and digits: quoted, they can never be FTS5 syntax.
        match = (
            f"conversation : c{number} AND text : (" + " AND ".join(f'"{" ".join(p)}"' for p in phrases) + ")"
        )
        sql = (
            "SELECT m.seq, m.msgid, m.time, m.target, m.sender, m.account, m.kind, m.text, m.parties"
            " FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid"
            " WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC LIMIT ?"
        )
        try:
            return self._select(conversation, sql, (match, limit), False)
        except sqlite3.OperationalError:  # never expected: a safety net so user input cannot raise
            log.exception("store: search failed for %r", match)
            return []

    # -- accounts and rooms --------------------------------------------------------------------------------

    def create_account(self, key: str, name: str, password_hash: str, created: float) -> bool:
        if self._closed:
            raise StoreClosed("the store is closed")
        if key in self._accounts:
            return False
        self._accounts[key] = Account(name, password_hash, created, {})
        self._write(
            "INSERT OR IGNORE INTO accounts (key, name, password_hash, created) VALUES (?, ?, ?, ?)",
            (key, name, password_hash, created),
        )
        return True

    def get_account(self, key: str) -> Account | None:
        if self._closed:
            raise StoreClosed("the store is closed")
        account = self._accounts.get(key)
        if account is None:
            return None
        return dataclasses.replace(account, settings=dict(account.settings))

    def set_account_setting(self, key: str, setting: str, value: str | None) -> None:
        account = self._accounts.get(key)
        if account is not None:
            settings = dict(account.settings)
            if value is None:
                settings.pop(setting, None)
            else:
                settings[setting] = value
            self._accounts[key] = dataclasses.replace(account, settings=settings)
        if value is None:
            self._write("DELETE FROM account_settings WHERE key = ? AND setting = ?", (key, setting))
        else:
            self._write(
                "INSERT INTO account_settings (key, setting, value)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE key = ?)"
                " ON CONFLICT (key, setting) DO UPDATE SET value = excluded.value",
                (key, setting, value, key),
            )

    def set_password(self, key: str, password_hash: str) -> None:
        account = self._accounts.get(key)
        if account is not None:
            self._accounts[key] = dataclasses.replace(account, password_hash=password_hash)
        self._write("UPDATE accounts SET password_hash = ? WHERE key = ?", (password_hash, key))

    def put_account(self, key: str, account: Account) -> None:
        settings = dict(account.settings)
        self._write(
            "INSERT OR REPLACE INTO accounts (key, name, password_hash, created) VALUES (?, ?, ?, ?)",
            (key, account.name, account.password_hash, account.created),
            ("DELETE FROM account_settings WHERE key = ?", (key,)),
            *[
                ("INSERT INTO account_settings (key, setting, value) VALUES (?, ?, ?)", (key, setting, value))
                for setting, value in settings.items()
            ],
        )
        self._accounts[key] = Account(account.name, account.password_hash, account.created, settings)

    def all_accounts(self) -> dict[str, Account]:
        if self._closed:
            raise StoreClosed("the store is closed")
        return {
            key: dataclasses.replace(account, settings=dict(account.settings))
            for key, account in self._accounts.items()
        }

    def save_room(self, record: RoomRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO rooms (key, name, founder, created, topic, topic_by, topic_time, modes,"
            " join_key, user_limit, bans, excepts, invites) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.key,
                record.name,
                record.founder,
                record.created,
                record.topic,
                record.topic_by,
                record.topic_time,
                record.modes,
                record.join_key,
                record.limit,
                _masks(record.bans),
                _masks(record.excepts),
                _masks(record.invites),
            ),
        )

    def drop_room(self, key: str) -> None:
        self._write("DELETE FROM rooms WHERE key = ?", (key,))

    def load_rooms(self) -> list[RoomRecord]:
        self._sync()
        rows = self._rconn.execute(
            "SELECT key, name, founder, created, topic, topic_by, topic_time, modes, join_key, user_limit,"
            " bans, excepts, invites FROM rooms ORDER BY key"
        ).fetchall()
        return [RoomRecord(*row[:10], *map(_unmasks, row[10:])) for row in rows]

    # -- K-lines -------------------------------------------------------------------------------------------

    def add_kline(self, mask: str, reason: str, set_by: str, set_at: float, expires: float | None) -> None:
        self._write(
            "INSERT OR REPLACE INTO klines (mask, reason, set_by, set_at, expires) VALUES (?, ?, ?, ?, ?)",
            (mask, reason, set_by, set_at, expires),
        )
        self._klines[mask] = KLineRecord(mask, reason, set_by, set_at, expires)

    def remove_kline(self, mask: str) -> bool:
        self._write("DELETE FROM klines WHERE mask = ?", (mask,))
        return self._klines.pop(mask, None) is not None

    def load_klines(self) -> list[KLineRecord]:
        if self._closed:
            raise StoreClosed("the store is closed")
        return [self._klines[mask] for mask in sorted(self._klines)]

    # -- replication ---------------------------------------------------------------------------------------

    def has_msgid(self, msgid: str) -> bool:
        """Uncommitted messages are looked up in ``_recent``, committed ones in the database: no waiting,
        unless more messages are pending than ``_recent`` holds."""
        if self._closed:
            raise StoreClosed("the store is closed")
        if self._done < self._untracked:
            self._sync()
        self._forget_committed()
        if msgid in self._recent:
            return True
        row = self._rconn.execute("SELECT 1 FROM messages WHERE msgid = ? LIMIT 1", (msgid,)).fetchone()
        return row is not None

    def get_meta(self, name: str) -> str | None:
        if self._closed:
            raise StoreClosed("the store is closed")
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))
        self._meta[name] = value
