"""SqliteStore: history, accounts, rooms and K-lines in one SQLite file (``sqlite3``), with FTS5 search.

Threads. All public methods run on the event loop's thread. One writer thread (``writer.py``) owns the
writing connection: it takes every write queued so far and commits it in one transaction (group commit), then
schedules the ``when_durable`` callbacks those writes release with ``loop.call_soon_threadsafe``. ``append``
only assigns a seq and buffers a row; the buffer goes to the writer once per loop turn (``loop.call_soon``),
or at once when it grows large or before any other write. Reads use a second connection, on the loop thread:
they first hand over the buffer and wait (bounded by ``read_timeout``) until the writer has committed
everything queued, so they see every message appended before them (the history queries are in
``queries.py``). Accounts, K-lines and the ``meta`` pairs are read once at open and kept in memory: looking
one up never waits.

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
import sys
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from .base import (
    Account,
    Bound,
    KLineRecord,
    MaskEntry,
    RoomRecord,
    StoreClosed,
    StoredMessage,
    StoreTimeout,
    with_seq,
)
from .queries import Queries
from .schema import connect, migrate
from .writer import Messages, Op, Row, Statement, Writer

__all__ = ["SqliteStore"]

log = logging.getLogger("hubbub.store")

#: Hand the append buffer to the writer without waiting for the end of the loop turn past this many rows.
_BUFFER_MAX = 4096
#: Msgids of uncommitted messages ``has_msgid`` remembers, at most; past this it waits for the writer.
_RECENT_MAX = 8192


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
        self._wconn = connect(self.path)
        try:
            #: Whether this open created the database (it had no schema yet): a new install.
            self.created: bool = self._wconn.execute("PRAGMA user_version").fetchone()[0] == 0
            migrate(self._wconn)
            self._rconn = connect(self.path)
        except BaseException:
            self._wconn.close()
            raise
        self._rconn.execute("PRAGMA query_only = ON")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: Every account, read once: account lookups (nickname protection on every connect and rename) never
        #: wait for the writer or touch the disk. This process is the only writer of its file.
        self._accounts: dict[str, Account] = {}
        settings: dict[str, dict[str, str]] = {}
        for key, setting, value in self._rconn.execute("SELECT key, setting, value FROM account_settings"):
            settings.setdefault(key, {})[setting] = value
        for key, name, digest, created, last_login in self._rconn.execute(
            "SELECT key, name, password_hash, created, last_login FROM accounts"
        ):
            seen = created if last_login is None else last_login
            self._accounts[key] = Account(name, digest, created, settings.get(key, {}), seen)
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
        self._queries = Queries(self._rconn, self._sync)
        # The same maps as the queries', filled in by ``append``.
        self._conversation_ids = self._queries.conversation_ids
        self._conversation_keys = self._queries.conversation_keys
        self._party_conversations = self._queries.party_conversations
        # Never reuse an id, even one whose conversations row was lost while its messages were kept.
        used: int = read("SELECT MAX(conversation) FROM messages").fetchone()[0] or 0
        self._next_conversation = max(used, *self._conversation_keys, 0) + 1
        self._buffer: list[Row] = []
        self._buffer_conversations: list[tuple[int, str]] = []
        self._buffer_parties: list[tuple[str, int]] = []
        self._flush_scheduled = False
        #: Writes issued so far (one per message or statement), compared with the writer's ``done``.
        self._queued = 0
        #: (write number, msgid) of messages appended but perhaps not committed, oldest first; ``_recent``
        #: maps each such msgid to its last write number. Writes up to ``_untracked`` were left out of them.
        self._recent_order: deque[tuple[int, str]] = deque()
        self._recent: dict[str, int] = {}
        self._untracked = 0

        self._writer = Writer(self._wconn)

    @property
    def error(self) -> BaseException | None:
        """The last exception that made the writer drop writes, if any (they are logged too)."""
        return self._writer.error

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the loop: appends are then batched per loop turn and ``when_durable`` works.

        The writer thread needs the GIL a few times per commit (the statements, the callbacks); while the
        loop thread is busy it gets it only when the interpreter's switch interval expires (5 ms by
        default), and every output held for a commit waits that long. A shorter interval costs nothing while
        the writer is idle (nobody asks for the GIL) and bounds that wait."""
        self._loop = self._writer.loop = loop
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
        op = Messages(self._buffer_conversations, self._buffer_parties, self._buffer)
        self._buffer, self._buffer_conversations, self._buffer_parties = [], [], []
        self._submit(op)

    def _submit(self, op: Op) -> None:
        self._writer.submit(op)

    def _write(self, sql: str, params: tuple[Any, ...], *more: tuple[str, tuple[Any, ...]]) -> None:
        """Queue one statement (and ``more`` in the same savepoint) after everything appended so far."""
        if self._closed:
            raise StoreClosed("the store is closed")
        self._flush()
        self._queued += 1
        self._submit(Statement(sql, params, more))

    def _forget_committed(self) -> None:
        """Drop the committed messages from ``_recent``; if too many remain, drop them all (untracked)."""
        order, recent, done = self._recent_order, self._recent, self._writer.done
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
        self._writer.when_done(self._queued, callback)

    def pending(self) -> bool:
        return self._writer.done < self._queued

    def close(self) -> None:
        """Commit everything pending, stop the writer, checkpoint the WAL into the database and close."""
        if self._closed:
            return
        try:
            self._flush()
        finally:
            self._closed = True
            finished = self._writer.stop(self.close_timeout)
            self._rconn.close()
        if not finished:
            log.error(
                "store: the writer did not finish within %s s; pending writes may be lost", self.close_timeout
            )
            return
        self._writer.close()

    # -- reading (loop thread) -----------------------------------------------------------------------------

    def _sync(self) -> None:
        """Wait until everything written so far is committed, so the read connection sees it."""
        if self._closed:
            raise StoreClosed("the store is closed")
        if self._buffer:
            self._flush()
        target = self._queued
        if self._writer.done >= target:
            return
        if not self._writer.wait(target, self.read_timeout):
            raise StoreTimeout(f"the store writer is {target - self._writer.done} writes behind")

    def latest(self, conversation: str, limit: int, after: Bound | None = None) -> list[StoredMessage]:
        return self._queries.latest(conversation, limit, after)

    def before(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self._queries.before(conversation, bound, limit)

    def after(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self._queries.after(conversation, bound, limit)

    def around(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self._queries.around(conversation, bound, limit)

    def between(self, conversation: str, start: Bound, end: Bound, limit: int) -> list[StoredMessage]:
        return self._queries.between(conversation, start, end, limit)

    def targets(
        self, conversations: Iterable[str], party: str | None, start: float, end: float, limit: int
    ) -> list[tuple[str, float]]:
        return self._queries.targets(conversations, party, start, end, limit)

    def search(self, conversation: str, query: str, limit: int) -> list[StoredMessage]:
        return self._queries.search(conversation, query, limit)

    # -- accounts and rooms --------------------------------------------------------------------------------

    def create_account(self, key: str, name: str, password_hash: str, created: float) -> bool:
        if self._closed:
            raise StoreClosed("the store is closed")
        if key in self._accounts:
            return False
        self._accounts[key] = Account(name, password_hash, created, {}, created)
        self._write(
            "INSERT OR IGNORE INTO accounts (key, name, password_hash, created, last_login)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, name, password_hash, created, created),
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
        seen = account.last_login or account.created
        self._write(
            "INSERT OR REPLACE INTO accounts (key, name, password_hash, created, last_login)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, account.name, account.password_hash, account.created, seen),
            ("DELETE FROM account_settings WHERE key = ?", (key,)),
            *[
                ("INSERT INTO account_settings (key, setting, value) VALUES (?, ?, ?)", (key, setting, value))
                for setting, value in settings.items()
            ],
        )
        self._accounts[key] = Account(account.name, account.password_hash, account.created, settings, seen)

    def all_accounts(self) -> dict[str, Account]:
        if self._closed:
            raise StoreClosed("the store is closed")
        return {
            key: dataclasses.replace(account, settings=dict(account.settings))
            for key, account in self._accounts.items()
        }

    def touch_account(self, key: str, when: float) -> None:
        account = self._accounts.get(key)
        if account is None:
            return
        self._accounts[key] = dataclasses.replace(account, last_login=when)
        self._write("UPDATE accounts SET last_login = ? WHERE key = ?", (when, key))

    def idle_accounts(self, before: float) -> list[str]:
        if self._closed:
            raise StoreClosed("the store is closed")
        return [key for key, account in self._accounts.items() if account.last_login < before]

    def delete_account(self, key: str) -> bool:
        found = self._accounts.pop(key, None) is not None
        self._write(
            "DELETE FROM accounts WHERE key = ?",
            (key,),
            ("DELETE FROM account_settings WHERE key = ?", (key,)),
        )
        return found

    def forget_party(self, party: str) -> int:
        if self._closed:
            raise StoreClosed("the store is closed")
        numbers = self._party_conversations.pop(party, set())
        if not numbers:
            return 0
        for number in numbers:
            key = self._conversation_keys.pop(number, None)
            if key is not None:
                self._conversation_ids.pop(key, None)
        for known in self._party_conversations.values():
            known -= numbers
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for number in sorted(numbers):
            statements += [
                # A contentless full-text index forgets a row when given the values it indexed.
                (
                    "INSERT INTO messages_fts (messages_fts, rowid, conversation, text)"
                    " SELECT 'delete', seq, 'c' || conversation, text FROM messages WHERE conversation = ?",
                    (number,),
                ),
                ("DELETE FROM messages WHERE conversation = ?", (number,)),
                ("DELETE FROM parties WHERE conversation = ?", (number,)),
                ("DELETE FROM conversations WHERE id = ?", (number,)),
            ]
        self._write(*statements[0], *statements[1:])
        return len(numbers)

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
        if self._writer.done < self._untracked:
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
