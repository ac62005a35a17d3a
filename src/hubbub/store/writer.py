"""The writer thread of a SqliteStore: it owns the writing connection, takes every write queued so far and
commits it in one transaction (group commit), then schedules the callbacks those writes release on the event
loop with ``loop.call_soon_threadsafe``. A batch that fails is retried write by write, each in a savepoint, so
one bad row costs only itself.

Threads. ``submit``, ``wait``, ``when_done`` and ``stop`` are called from the loop thread; ``done`` (the
number of writes committed or dropped so far) may be read there without the lock: it only grows.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from .base import StoreClosed

__all__ = ["Messages", "Op", "Row", "Statement", "Writer", "run_callbacks"]

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

#: Rows per INSERT statement, at most (a power of two). Many rows per statement rather than ``executemany``
#: is faster, and above all the writer then needs the GIL once per statement, not once per row: while the
#: loop thread is busy, each wait for the GIL can last the whole switch interval (5 ms).
_CHUNK = 1024

#: A message row: seq, conversation, time, msgid, target, sender, account, kind, text, parties.
Row = tuple[int, int, float, str, str, str, str | None, str, str, str]


@dataclass(slots=True)
class Messages:
    """Appended messages, with the conversations and parties they introduce."""

    conversations: list[tuple[int, str]]
    parties: list[tuple[str, int]]
    rows: list[Row]

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

    def extend(self, other: Messages) -> None:
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
class Statement:
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


Op = Messages | Statement


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


def run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("store: error in a when_durable callback")


class Writer:
    """The thread that commits the writes ``submit`` queues, on ``conn`` (used by that thread alone)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.chunk = _CHUNK
        while self.chunk > 1 and self.chunk * 10 > conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER):
            self.chunk //= 2
        #: Set by ``SqliteStore.start``: where the ``when_done`` callbacks run.
        self.loop: asyncio.AbstractEventLoop | None = None
        #: The last exception that made the writer drop writes, if any (they are logged too).
        self.error: BaseException | None = None
        #: Writes committed (or dropped) so far, each op counting its ``tickets``.
        self.done = 0
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._drained = threading.Condition(self._lock)
        self._queue: list[Op] = []
        self._waiters: deque[tuple[int, Callable[[], None]]] = deque()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hubbub-store-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Op) -> None:
        with self._lock:
            if self._stopping:
                raise StoreClosed("the store is closed")
            self._queue.append(op)
            self._work.notify()

    def wait(self, target: int, timeout: float) -> bool:
        """Wait until ``target`` writes are done; False if that took longer than ``timeout``."""
        with self._lock:
            return self._drained.wait_for(lambda: self.done >= target, timeout)

    def when_done(self, target: int, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the loop once ``target`` writes are done (at once if they are)."""
        loop = self.loop
        assert loop is not None
        with self._lock:  # the writer schedules callbacks under the lock too: their order is kept
            if self.done >= target:
                loop.call_soon(run_callbacks, [callback])
            else:
                self._waiters.append((target, callback))

    def stop(self, timeout: float) -> bool:
        """Commit what is queued and end the thread; False if it is still running after ``timeout``."""
        with self._lock:
            self._stopping = True
            self._work.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """After ``stop``: checkpoint the WAL into the database and close the connection."""
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.execute("PRAGMA optimize")
        finally:
            self.conn.close()

    def _run(self) -> None:
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
                self.done += tickets
                ready: list[Callable[[], None]] = []
                while self._waiters and self._waiters[0][0] <= self.done:
                    ready.append(self._waiters.popleft()[1])
                if ready and self.loop is not None:
                    try:
                        self.loop.call_soon_threadsafe(run_callbacks, ready)
                    except RuntimeError:  # the loop is closed
                        log.warning("store: event loop closed, %d durable callbacks dropped", len(ready))
                self._drained.notify_all()

    def _commit(self, ops: list[Op]) -> None:
        """Commit ``ops`` in one transaction; if that fails, commit them one by one, dropping the failures."""
        conn = self.conn
        merged: list[Op] = []
        for op in ops:  # consecutive appends have consecutive seqs: one op for all
            if isinstance(op, Messages) and merged and isinstance(merged[-1], Messages):
                merged[-1].extend(op)
            else:
                merged.append(op)
        try:
            conn.execute("BEGIN")
            for op in merged:
                op.apply(conn, self.chunk)
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
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("store: rollback failed")
