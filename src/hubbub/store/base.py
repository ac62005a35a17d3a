"""The storage interface: records, history bounds, errors, and the ``Store`` protocol.

Every ``Store`` method is called from one thread, the event loop's. Appends are cheap and never block; history
reads are synchronous and see everything appended before them.

History order. Messages of a conversation are ordered by ``(time, seq)``: by time, and by append order among
equal times. Every query returns messages oldest first. Bounds follow IRCv3 ``draft/chathistory``:

- a bound is a message (:class:`ByMsgid`) or an instant (:class:`ByTime`), and it is exclusive: a msgid bound
  leaves out that message, a time bound leaves out every message at exactly that time;
- a msgid that is not in the conversation raises :class:`UnknownMsgid` (the caller answers as it sees fit:
  an empty batch or ``FAIL CHATHISTORY MESSAGE_ERROR``);
- ``latest`` without a bound gives the most recent ``limit`` messages; with a bound, the most recent ``limit``
  messages after it;
- ``around`` is the one query that includes its anchor: up to ``limit // 2`` messages before it, then the
  anchor message (msgid) or the messages at and after the instant (time), filling up from either side when
  the other has too few (as the irctest conformance suite expects);
- ``between`` works in either direction and, when limited, keeps the messages nearest to ``start``;
- a ``limit`` below 1 gives no messages.

``search`` is the exception to the order: most recently appended first, as a search result list reads.
"""

from __future__ import annotations

import asyncio
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Protocol

__all__ = [
    "MAX_SEARCH_WORDS",
    "Account",
    "Bound",
    "ByMsgid",
    "ByTime",
    "KLineRecord",
    "MaskEntry",
    "RoomRecord",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreTimeout",
    "StoredMessage",
    "UnknownMsgid",
    "search_phrases",
    "text_tokens",
    "with_seq",
]

#: Bigger than any seq: with a time ``t``, ``(t, SEQ_MAX)`` sorts after every message at ``t``.
SEQ_MAX = 2**63 - 1

#: Words of a search query past this many are ignored.
MAX_SEARCH_WORDS = 16


class StoreError(Exception):
    """A storage failure."""


class UnknownMsgid(StoreError, LookupError):
    """A history bound names a msgid that is not in that conversation."""


class StoreClosed(StoreError):
    """The store was used after ``close()``."""


class StoreTimeout(StoreError, TimeoutError):
    """A read waited too long for the writer to commit pending rows."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a conversation's history.

    ``conversation`` is the caller's opaque key (a room's folded name; for private messages a canonical key
    for the pair). ``target`` is the name it was sent to, ``sender`` the full ``nick!user@host``, ``kind``
    "PRIVMSG", "NOTICE" or "ACTION". ``parties`` holds, for a private conversation only, the folded nicks or
    accounts of both sides (no spaces). ``seq`` is assigned by ``Store.append`` (pass 0).
    """

    seq: int
    msgid: str
    time: float
    conversation: str
    target: str
    sender: str
    account: str | None
    kind: str
    text: str
    parties: tuple[str, ...] = ()


_new = object.__new__
# The slots' own setters: a copy made with them costs under half what the frozen dataclass's __init__ does.
_SETTERS = [getattr(StoredMessage, f.name).__set__ for f in fields(StoredMessage)]
(_set_seq, _set_msgid, _set_time, _set_conversation, _set_target, _set_sender, _set_account, _set_kind,
 _set_text, _set_parties) = _SETTERS  # fmt: skip


def with_seq(msg: StoredMessage, seq: int) -> StoredMessage:
    """A copy of ``msg`` with ``seq``: ``dataclasses.replace(msg, seq=seq)``, over twice as fast (``append``
    makes one per message)."""
    copy: StoredMessage = _new(StoredMessage)
    _set_seq(copy, seq)
    _set_msgid(copy, msg.msgid)
    _set_time(copy, msg.time)
    _set_conversation(copy, msg.conversation)
    _set_target(copy, msg.target)
    _set_sender(copy, msg.sender)
    _set_account(copy, msg.account)
    _set_kind(copy, msg.kind)
    _set_text(copy, msg.text)
    _set_parties(copy, msg.parties)
    return copy


@dataclass(frozen=True, slots=True)
class ByMsgid:
    """A history bound at a message."""

    msgid: str


@dataclass(frozen=True, slots=True)
class ByTime:
    """A history bound at an instant (seconds since the epoch)."""

    time: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.time):
            raise ValueError(f"not a finite time: {self.time!r}")


Bound = ByMsgid | ByTime

#: An entry of a room's ban, exception or invite-exception list: (mask, set by, set at).
MaskEntry = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account. ``settings`` is a copy: change it with ``Store.set_account_setting``.
    ``last_login``: when it was last logged in to (its creation, if never since; see
    ``Store.touch_account``); bookkeeping, left out of comparisons (0 given: its creation)."""

    name: str
    password_hash: str
    created: float
    settings: Mapping[str, str] = field(default_factory=dict)
    last_login: float = field(default=0.0, compare=False)


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A registered room's persistent state, keyed by its folded name.

    ``modes`` holds the flag modes ("nt", ...); ``join_key`` is the ``+k`` key and ``limit`` the ``+l`` member
    limit (``None``: not set).
    """

    key: str
    name: str
    founder: str
    created: float
    topic: str = ""
    topic_by: str = ""
    topic_time: float = 0.0
    modes: str = ""
    join_key: str | None = None
    limit: int | None = None
    bans: tuple[MaskEntry, ...] = ()
    excepts: tuple[MaskEntry, ...] = ()
    invites: tuple[MaskEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class KLineRecord:
    """A server ban (K-line): users whose ``nick!user@host`` matches ``mask`` cannot connect.

    ``mask`` is the store's key, compared as given (the hub canonicalises it); ``expires`` is the time it
    lapses (seconds since the epoch), ``None`` for a permanent one. The store keeps expired K-lines until they
    are removed: ignoring and pruning them is the hub's.
    """

    mask: str
    reason: str
    set_by: str
    set_at: float
    expires: float | None = None


class Store(Protocol):
    """Message history, accounts and registered rooms. See the module docstring for history semantics."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the store to the event loop that runs ``when_durable`` callbacks."""
        ...

    def append(self, msg: StoredMessage) -> StoredMessage:
        """Record ``msg`` (its ``seq`` is ignored); return it with its assigned ``seq``. Never blocks."""
        ...

    def when_durable(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the loop once everything written before this call is committed."""
        ...

    def pending(self) -> bool:
        """Whether some writes are not committed yet."""
        ...

    def latest(self, conversation: str, limit: int, after: Bound | None = None) -> list[StoredMessage]: ...

    def before(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]: ...

    def after(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]: ...

    def around(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]: ...

    def between(self, conversation: str, start: Bound, end: Bound, limit: int) -> list[StoredMessage]: ...

    def targets(
        self, conversations: Iterable[str], party: str | None, start: float, end: float, limit: int
    ) -> list[tuple[str, float]]:
        """Conversations with messages strictly between ``start`` and ``end`` (either order), with the time of
        their latest such message, oldest first; when limited, those nearest ``start`` are kept. Candidates
        are ``conversations`` plus the private conversations whose parties include ``party``."""
        ...

    def search(self, conversation: str, query: str, limit: int) -> list[StoredMessage]:
        """Messages of ``conversation`` holding every word of ``query`` (see :func:`search_phrases`), most
        recently appended first."""
        ...

    def create_account(self, key: str, name: str, password_hash: str, created: float) -> bool:
        """Register an account under the folded name ``key``; False if ``key`` is taken."""
        ...

    def get_account(self, key: str) -> Account | None: ...

    def set_account_setting(self, key: str, setting: str, value: str | None) -> None:
        """Set (or with ``None`` remove) a setting of an existing account; nothing if there is no account."""
        ...

    def set_password(self, key: str, password_hash: str) -> None:
        """Replace an existing account's password hash; nothing if there is no account."""
        ...

    def put_account(self, key: str, account: Account) -> None:
        """Insert or replace the account ``key`` with exactly ``account``: its settings replace the old ones
        (a replica applying another node's change)."""
        ...

    def all_accounts(self) -> dict[str, Account]:
        """Every account (a copy), by key."""
        ...

    def touch_account(self, key: str, when: float) -> None:
        """Record that the account ``key`` was logged in to at ``when``; nothing if there is no account."""
        ...

    def idle_accounts(self, before: float) -> list[str]:
        """The keys of the accounts last logged in to before ``before``."""
        ...

    def delete_account(self, key: str) -> bool:
        """Remove the account ``key`` and its settings; whether there was one."""
        ...

    def forget_party(self, party: str) -> int:
        """Remove every private conversation ``party`` takes part in (its messages, for both sides); return
        how many."""
        ...

    def save_room(self, record: RoomRecord) -> None:
        """Insert or replace a registered room."""
        ...

    def drop_room(self, key: str) -> None: ...

    def load_rooms(self) -> list[RoomRecord]:
        """Every registered room, ordered by key."""
        ...

    def add_kline(self, mask: str, reason: str, set_by: str, set_at: float, expires: float | None) -> None:
        """Insert or replace the K-line on ``mask``."""
        ...

    def remove_kline(self, mask: str) -> bool:
        """Remove the K-line on ``mask``; whether there was one."""
        ...

    def load_klines(self) -> list[KLineRecord]:
        """Every K-line (expired ones too), ordered by mask."""
        ...

    def has_msgid(self, msgid: str) -> bool:
        """Whether a message with this msgid is stored (in any conversation), committed or not."""
        ...

    def get_meta(self, name: str) -> str | None:
        """The store's own value ``name`` (a position in a shared stream, ...), or ``None``."""
        ...

    def set_meta(self, name: str, value: str) -> None:
        """Set the value ``name``, committed in order with the writes before it."""
        ...

    def close(self) -> None:
        """Commit everything pending and release resources. Idempotent."""
        ...


# ----------------------------------------------------------------------------------------------------------
# Search words. The SQLite store indexes text with FTS5's ``unicode61 remove_diacritics 2`` tokenizer: a token
# is a run of letters and digits, compared without case and diacritics. These functions approximate it in
# Python (exactly for ASCII text), so that both stores agree and user input never reaches FTS5 as syntax.

_TOKEN_RE = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).lower()


def text_tokens(text: str) -> list[str]:
    """The words of ``text``: runs of letters and digits, lower case, without diacritics."""
    return _TOKEN_RE.findall(_fold(text))


def search_phrases(query: str) -> list[tuple[str, ...]]:
    """Split a user's search query into phrases, one per space-separated word, each a tuple of tokens.

    A message matches when every phrase occurs in it (the tokens of a phrase adjacent and in order: ``don't``
    is the phrase ``don t``). Words without letters or digits (``*``, ``-``, ``"``) are dropped, and so are
    words past the first :data:`MAX_SEARCH_WORDS`. An empty result matches nothing.
    """
    phrases: list[tuple[str, ...]] = []
    for word in query.split()[:MAX_SEARCH_WORDS]:
        tokens = tuple(text_tokens(word))
        if tokens:
            phrases.append(tokens)
    return phrases
