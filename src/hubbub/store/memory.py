"""MemoryStore: the whole store in dictionaries, for tests and ``--db :memory:``.

It is also the reference the SQLite store is tested against, so it favours plain code over speed: history
queries bisect a per-conversation list sorted by ``(time, seq)``; search scans the conversation. It keeps
everything until the process ends.
"""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable

from .base import (
    SEQ_MAX,
    Account,
    Bound,
    ByTime,
    KLineRecord,
    RoomRecord,
    StoreClosed,
    StoredMessage,
    UnknownMsgid,
    search_phrases,
    text_tokens,
    with_seq,
)

__all__ = ["MemoryStore"]

_Key = tuple[float, int]


class _Conversation:
    __slots__ = ("by_msgid", "keys", "messages")

    def __init__(self) -> None:
        #: (time, seq) of each message, sorted; ``messages`` in the same order.
        self.keys: list[_Key] = []
        self.messages: list[StoredMessage] = []
        #: msgid -> message (the last one appended wins).
        self.by_msgid: dict[str, StoredMessage] = {}

    def add(self, msg: StoredMessage) -> None:
        key = (msg.time, msg.seq)
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
            self.messages.append(msg)
        else:  # a clock that went back
            i = bisect_left(self.keys, key)
            insort(self.keys, key)
            self.messages.insert(i, msg)
        self.by_msgid[msg.msgid] = msg


class MemoryStore:
    """A :class:`~hubbub.store.base.Store` in memory. Writes are durable at once: ``when_durable`` calls back
    immediately and synchronously."""

    def __init__(self) -> None:
        self._seq = 0
        self._conversations: dict[str, _Conversation] = {}
        #: party -> keys of the private conversations it takes part in
        self._party_conversations: dict[str, set[str]] = {}
        self._tokens: dict[int, list[str]] = {}
        #: key -> (name, password hash, created, settings, last login)
        self._accounts: dict[str, tuple[str, str, float, dict[str, str], float]] = {}
        self._rooms: dict[str, RoomRecord] = {}
        self._klines: dict[str, KLineRecord] = {}
        self._msgids: set[str] = set()
        self._meta: dict[str, str] = {}
        self._closed = False

    # -- writing -------------------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to do: the memory store needs no loop."""

    def append(self, msg: StoredMessage) -> StoredMessage:
        self._check_open()
        if not math.isfinite(msg.time):
            raise ValueError(f"not a finite time: {msg.time!r}")
        if msg.parties and (not all(msg.parties) or any(" " in party for party in msg.parties)):
            raise ValueError("parties must be non-empty and without spaces")
        self._seq += 1
        stored = with_seq(msg, self._seq)
        conversation = self._conversations.get(msg.conversation)
        if conversation is None:
            conversation = self._conversations[msg.conversation] = _Conversation()
        conversation.add(stored)
        self._msgids.add(msg.msgid)
        for party in msg.parties:
            self._party_conversations.setdefault(party, set()).add(msg.conversation)
        return stored

    def when_durable(self, callback: Callable[[], None]) -> None:
        callback()

    def pending(self) -> bool:
        return False

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("the store is closed")

    # -- history -------------------------------------------------------------------------------------------

    def _get(self, conversation: str) -> _Conversation:
        self._check_open()
        return self._conversations.get(conversation) or _Conversation()

    @staticmethod
    def _cuts(conv: _Conversation, bound: Bound) -> tuple[_Key, _Key]:
        """(below, above): messages before ``bound`` have keys < below, messages after it keys > above."""
        if isinstance(bound, ByTime):
            return (bound.time, 0), (bound.time, SEQ_MAX)
        msg = conv.by_msgid.get(bound.msgid)
        if msg is None:
            raise UnknownMsgid(bound.msgid)
        return (msg.time, msg.seq), (msg.time, msg.seq)

    def latest(self, conversation: str, limit: int, after: Bound | None = None) -> list[StoredMessage]:
        conv = self._get(conversation)
        start = 0
        if after is not None:
            start = bisect_right(conv.keys, self._cuts(conv, after)[1])
        if limit < 1:
            return []
        return conv.messages[max(start, len(conv.messages) - limit) :]

    def before(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        conv = self._get(conversation)
        end = bisect_left(conv.keys, self._cuts(conv, bound)[0])
        if limit < 1:
            return []
        return conv.messages[max(0, end - limit) : end]

    def after(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        conv = self._get(conversation)
        start = bisect_right(conv.keys, self._cuts(conv, bound)[1])
        if limit < 1:
            return []
        return conv.messages[start : start + limit]

    def around(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        conv = self._get(conversation)
        split = bisect_left(conv.keys, self._cuts(conv, bound)[0])
        if limit < 1:
            return []
        n_before = min(split, limit // 2)
        n_after = min(len(conv.messages) - split, limit - n_before)
        n_before = min(split, limit - n_after)
        return conv.messages[split - n_before : split + n_after]

    def between(self, conversation: str, start: Bound, end: Bound, limit: int) -> list[StoredMessage]:
        conv = self._get(conversation)
        start_below, start_above = self._cuts(conv, start)
        end_below, end_above = self._cuts(conv, end)
        if limit < 1:
            return []
        if start_above < end_below:  # forwards: keep the oldest
            i = bisect_right(conv.keys, start_above)
            j = bisect_left(conv.keys, end_below)
            return conv.messages[i : min(j, i + limit)]
        i = bisect_right(conv.keys, end_above)  # backwards (or empty): keep the newest
        j = bisect_left(conv.keys, start_below)
        return conv.messages[max(i, j - limit) : j] if i < j else []

    def targets(
        self, conversations: Iterable[str], party: str | None, start: float, end: float, limit: int
    ) -> list[tuple[str, float]]:
        self._check_open()
        keys = set(conversations)
        if party is not None:
            keys.update(self._party_conversations.get(party, ()))
        low, high = min(start, end), max(start, end)
        found: list[tuple[float, str]] = []
        for key in keys:
            conv = self._conversations.get(key)
            if conv is None:
                continue
            j = bisect_left(conv.keys, (high, 0))
            if j and conv.keys[j - 1][0] > low:
                found.append((conv.keys[j - 1][0], key))
        found.sort()
        if limit < 1:
            return []
        kept = found[:limit] if start <= end else found[-limit:]
        return [(key, time) for time, key in kept]

    def search(self, conversation: str, query: str, limit: int) -> list[StoredMessage]:
        conv = self._get(conversation)
        phrases = search_phrases(query)
        if not phrases or limit < 1:
            return []
        found: list[StoredMessage] = []
        for msg in sorted(conv.messages, key=lambda m: m.seq, reverse=True):
            tokens = self._tokens.get(msg.seq)
            if tokens is None:
                tokens = self._tokens[msg.seq] = text_tokens(msg.text)
            if all(_contains(tokens, phrase) for phrase in phrases):
                found.append(msg)
                if len(found) == limit:
                    break
        return found

    # -- accounts and rooms --------------------------------------------------------------------------------

    def create_account(self, key: str, name: str, password_hash: str, created: float) -> bool:
        self._check_open()
        if key in self._accounts:
            return False
        self._accounts[key] = (name, password_hash, created, {}, created)
        return True

    def get_account(self, key: str) -> Account | None:
        self._check_open()
        record = self._accounts.get(key)
        if record is None:
            return None
        name, password_hash, created, settings, last_login = record
        return Account(name, password_hash, created, dict(settings), last_login)

    def set_account_setting(self, key: str, setting: str, value: str | None) -> None:
        self._check_open()
        record = self._accounts.get(key)
        if record is None:
            return
        if value is None:
            record[3].pop(setting, None)
        else:
            record[3][setting] = value

    def set_password(self, key: str, password_hash: str) -> None:
        self._check_open()
        record = self._accounts.get(key)
        if record is not None:
            self._accounts[key] = (record[0], password_hash, record[2], record[3], record[4])

    def put_account(self, key: str, account: Account) -> None:
        self._check_open()
        self._accounts[key] = (
            account.name,
            account.password_hash,
            account.created,
            dict(account.settings),
            account.last_login or account.created,
        )

    def all_accounts(self) -> dict[str, Account]:
        self._check_open()
        return {
            key: Account(name, password_hash, created, dict(settings), last_login)
            for key, (name, password_hash, created, settings, last_login) in self._accounts.items()
        }

    def touch_account(self, key: str, when: float) -> None:
        self._check_open()
        record = self._accounts.get(key)
        if record is not None:
            self._accounts[key] = (*record[:4], when)

    def idle_accounts(self, before: float) -> list[str]:
        self._check_open()
        return [key for key, record in self._accounts.items() if record[4] < before]

    def delete_account(self, key: str) -> bool:
        self._check_open()
        return self._accounts.pop(key, None) is not None

    def forget_party(self, party: str) -> int:
        self._check_open()
        keys = self._party_conversations.pop(party, set())
        for key in keys:
            conversation = self._conversations.pop(key, None)
            if conversation is not None:
                for msg in conversation.messages:
                    self._msgids.discard(msg.msgid)
                    self._tokens.pop(msg.seq, None)
        for known in self._party_conversations.values():
            known -= keys
        return len(keys)

    def save_room(self, record: RoomRecord) -> None:
        self._check_open()
        self._rooms[record.key] = record

    def drop_room(self, key: str) -> None:
        self._check_open()
        self._rooms.pop(key, None)

    def load_rooms(self) -> list[RoomRecord]:
        self._check_open()
        return [self._rooms[key] for key in sorted(self._rooms)]

    # -- K-lines -------------------------------------------------------------------------------------------

    def add_kline(self, mask: str, reason: str, set_by: str, set_at: float, expires: float | None) -> None:
        self._check_open()
        self._klines[mask] = KLineRecord(mask, reason, set_by, set_at, expires)

    def remove_kline(self, mask: str) -> bool:
        self._check_open()
        return self._klines.pop(mask, None) is not None

    def load_klines(self) -> list[KLineRecord]:
        self._check_open()
        return [self._klines[mask] for mask in sorted(self._klines)]

    # -- replication ---------------------------------------------------------------------------------------

    def has_msgid(self, msgid: str) -> bool:
        self._check_open()
        return msgid in self._msgids

    def get_meta(self, name: str) -> str | None:
        self._check_open()
        return self._meta.get(name)

    def set_meta(self, name: str, value: str) -> None:
        self._check_open()
        self._meta[name] = value


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether ``phrase`` occurs in ``tokens`` as a run of adjacent tokens."""
    first, n = phrase[0], len(phrase)
    return any(tokens[i] == first and tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1))
