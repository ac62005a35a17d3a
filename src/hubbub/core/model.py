"""The chat domain's objects: users, rooms, and the interface a connected client offers the core."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .fanout import Batch, Group, Queued

if TYPE_CHECKING:
    from .events import Event

__all__ = ["Client", "ListEntry", "Mailbox", "Room", "User"]


class Mailbox(Protocol):
    """Where a user's output goes: ``out`` is the connection's ordered queue of pending bytes for this loop
    turn. ``send`` queues one item and arranges for it to be written; fan-out appends to ``out`` directly for
    many mailboxes at once and then hands them to the hub's ``on_output`` hook in one call."""

    out: list[Queued]

    def send(self, data: bytes) -> None: ...


class Client(Protocol):
    """What the core needs from a connected client (a protocol session).

    ``variant`` identifies how the client renders events: clients with equal variants render any event to the
    same bytes, so a fanned-out event is rendered once per variant and the bytes are shared.
    """

    @property
    def variant(self) -> Hashable: ...

    def render(self, event: Event) -> bytes | None:
        """The bytes this client's protocol sends for ``event`` (``None``: nothing)."""
        ...

    def disconnect(self, reason: str) -> None:
        """Close this client's connection on the server's initiative (kill, shutdown)."""
        ...


class User:
    """A connected, named user. Identity is the object itself; ``key`` is the case-folded nickname."""

    __slots__ = (
        "__weakref__",
        "account",
        "away",
        "client",
        "host",
        "id",
        "invites",
        "ip",
        "key",
        "last_active",
        "mailbox",
        "modes",
        "nick",
        "node",
        "oper",
        "out",
        "realname",
        "rooms",
        "send",
        "signon",
        "username",
    )

    def __init__(
        self,
        uid: int,
        nick: str,
        key: str,
        client: Client,
        mailbox: Mailbox,
        *,
        username: str,
        host: str,
        realname: str,
        ip: str = "",
    ) -> None:
        self.id = uid
        self.nick = nick
        self.key = key
        self.client = client
        self.mailbox = mailbox
        #: Queue bytes for this user's connection (never blocks).
        self.send: Callable[[bytes], None] = mailbox.send
        #: The connection's pending output list (fan-out appends to it directly).
        self.out: list[Queued] = mailbox.out
        self.username = username
        #: The host others see: the address, or its cloak (see core.cloaks).
        self.host = host
        #: The address the user connects from (a trusted proxy's word for it): K-lines, bans and operators.
        self.ip = ip or host
        self.realname = realname
        self.rooms: dict[str, Room] = {}
        self.signon = self.last_active = time.time()
        #: User modes: "i" (invisible), "w" (wallops), "o" (operator).
        self.modes: set[str] = set()
        #: Away message ("" when present).
        self.away = ""
        #: Operator name ("" when not an operator).
        self.oper = ""
        #: Account name ("" when not logged in).
        self.account = ""
        #: Keys of the rooms this user has been invited to.
        self.invites: set[str] = set()
        #: The cluster node this user is connected to: "" for this one (see hubbub.cluster).
        self.node = ""

    @property
    def hostmask(self) -> str:
        return f"{self.nick}!{self.username}@{self.host}"

    @property
    def real_hostmask(self) -> str:
        """``nick!user@address``: the hostmask with the real address, for those allowed to see it."""
        return f"{self.nick}!{self.username}@{self.ip}"

    @property
    def hostmasks(self) -> tuple[str, ...]:
        """Every hostmask this user answers to (bans and K-lines match any of them, as in ergo)."""
        if self.ip == self.host:
            return (f"{self.nick}!{self.username}@{self.host}",)
        return (f"{self.nick}!{self.username}@{self.host}", f"{self.nick}!{self.username}@{self.ip}")

    def __repr__(self) -> str:
        return f"<User #{self.id} {self.nick}>"


class ListEntry(NamedTuple):
    """An entry of a room's ban (b), exception (e) or invite-exception (I) list."""

    mask: str
    set_by: str
    set_at: float


class Room:
    """A room (an IRC channel): members with their status, topic, and modes."""

    __slots__ = (
        "batches",
        "created",
        "flags",
        "founder",
        "group_of",
        "groups",
        "key",
        "limit",
        "lists",
        "members",
        "name",
        "password",
        "remote",
        "topic",
        "topic_by",
        "topic_time",
    )

    def __init__(self, name: str, key: str) -> None:
        self.name = name
        self.key = key
        #: Members in the order they joined, each with its status modes ("o" operator, "v" voice).
        self.members: dict[User, str] = {}
        self.topic = ""
        self.topic_by = ""
        self.topic_time = 0.0
        self.created = time.time()
        #: Flags: n (no external messages), t (topic by ops), m (moderated), i (invite only), s (secret).
        self.flags: set[str] = {"n", "t"}
        #: The account that registered the room ("" if it is not registered): it outlives its members and
        #: restarts, and its founder is its operator on joining.
        self.founder = ""
        #: The room key (+k), "" for none.
        self.password = ""
        #: The member limit (+l), 0 for none.
        self.limit = 0
        #: Mask lists: "b" bans, "e" ban exceptions, "I" invite exceptions.
        self.lists: dict[str, list[ListEntry]] = {"b": [], "e": [], "I": []}
        #: Fan-out cache: the members grouped by client variant (core.fanout.Group), kept in step with joins
        #: and departures; ``None`` after a change of variant, and rebuilt on the next fan-out.
        self.groups: list[Group] | None = None
        #: variant -> index in ``groups``
        self.group_of: dict[Hashable, int] = {}
        #: The open batch of each group for this loop turn (see core.fanout).
        self.batches: list[Batch | None] = []
        #: Members connected to other nodes of a cluster (the hub keeps the count).
        self.remote = 0

    def __len__(self) -> int:
        return len(self.members)

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def can_speak(self, user: User) -> bool:
        return bool(self.members.get(user))

    def __repr__(self) -> str:
        return f"<Room {self.name} ({len(self.members)})>"
