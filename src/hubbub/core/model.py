"""The chat domain's objects: users, rooms, and the interface a connected client offers the core."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .events import Event

__all__ = ["Client", "Room", "User"]


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
        "client",
        "host",
        "id",
        "key",
        "nick",
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
        send: Callable[[bytes], None],
        *,
        username: str,
        host: str,
        realname: str,
    ) -> None:
        self.id = uid
        self.nick = nick
        self.key = key
        self.client = client
        #: Queue bytes for this user's connection (never blocks).
        self.send = send
        self.username = username
        self.host = host
        self.realname = realname
        self.rooms: dict[str, Room] = {}
        self.signon = time.time()

    @property
    def hostmask(self) -> str:
        return f"{self.nick}!{self.username}@{self.host}"

    def __repr__(self) -> str:
        return f"<User #{self.id} {self.nick}>"


class Room:
    """A room (an IRC channel): its members, in the order they joined, and its topic."""

    __slots__ = ("created", "key", "members", "name", "topic", "topic_by", "topic_time")

    def __init__(self, name: str, key: str) -> None:
        self.name = name
        self.key = key
        self.members: dict[User, None] = {}
        self.topic = ""
        self.topic_by = ""
        self.topic_time = 0.0
        self.created = time.time()

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"<Room {self.name} ({len(self.members)})>"
