"""The history queries of a SqliteStore, on its read connection (the loop thread's).

Every query first calls ``sync`` (the store hands its append buffer to the writer and waits until everything
queued is committed), so it sees every message appended before it. Conversation keys are interned as
integers; the maps between them (and each party's private conversations) are kept here, in memory, and
filled in by the store as it appends.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from .base import SEQ_MAX, Bound, ByTime, StoredMessage, UnknownMsgid, search_phrases

__all__ = ["Queries"]

log = logging.getLogger("hubbub.store")

_COLUMNS = "seq, msgid, time, target, sender, account, kind, text, parties"
_NEWEST_FIRST = " ORDER BY time DESC, seq DESC LIMIT ?"
_OLDEST_FIRST = " ORDER BY time, seq LIMIT ?"

Key = tuple[float, int]


class Queries:
    """The history reads of the Store interface, answered from ``conn`` after ``sync()``."""

    def __init__(self, conn: sqlite3.Connection, sync: Callable[[], None]) -> None:
        self._conn = conn
        self._sync = sync
        #: Conversation key -> id, and back; the store adds to both as it appends.
        self.conversation_ids: dict[str, int] = dict(
            conn.execute("SELECT key, id FROM conversations").fetchall()
        )
        self.conversation_keys = {number: key for key, number in self.conversation_ids.items()}
        #: Party -> the ids of the private conversations it takes part in.
        self.party_conversations: dict[str, set[int]] = {}
        for party, number in conn.execute("SELECT party, conversation FROM parties"):
            self.party_conversations.setdefault(party, set()).add(number)

    def _open(self, key: str) -> int | None:
        self._sync()
        return self.conversation_ids.get(key)

    def _select(self, key: str, sql: str, params: tuple[Any, ...], newest_first: bool) -> list[StoredMessage]:
        rows = self._conn.execute(sql, params).fetchall()
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

    def _cuts(self, conversation: int | None, bound: Bound) -> tuple[Key, Key]:
        """(below, above): messages before ``bound`` have keys < below, messages after it keys > above."""
        if isinstance(bound, ByTime):
            return (bound.time, 0), (bound.time, SEQ_MAX)
        row = None
        if conversation is not None:
            row = self._conn.execute(
                "SELECT time, seq FROM messages WHERE msgid = ? AND conversation = ?"
                " ORDER BY seq DESC LIMIT 1",
                (bound.msgid, conversation),
            ).fetchone()
        if row is None:
            raise UnknownMsgid(bound.msgid)
        return (row[0], row[1]), (row[0], row[1])

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
        ids = self.conversation_ids
        numbers = {ids[key] for key in conversations if key in ids}
        if party is not None:
            numbers.update(self.party_conversations.get(party, ()))
        low, high = min(start, end), max(start, end)
        found: list[tuple[float, str]] = []
        query = (
            "SELECT time FROM messages WHERE conversation = ? AND time > ? AND time < ?"
            " ORDER BY time DESC LIMIT 1"
        )
        for number in numbers:
            row = self._conn.execute(query, (number, low, high)).fetchone()
            if row is not None:
                found.append((row[0], self.conversation_keys[number]))
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
