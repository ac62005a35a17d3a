"""The hub: the one authority over users and rooms.

Protocols call the hub (``say``, ``join``, ``change_nick``, ...); the hub checks the rules, raises
:class:`~hubbub.core.errors.ChatError` when a request breaks one, and fans the resulting event out to every
client concerned. Fan-out renders the event once per client variant and hands the same bytes to each
recipient's send queue, which never blocks. The hub knows no protocol and no socket.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass

from .errors import ChatError, Reason
from .events import Event, Join, Message, MessageKind, NickChange, Part, Quit
from .model import Client, Room, User
from .names import NICK_CHARS_HELP, ROOM_PREFIX, casefold, is_valid_nick, is_valid_room

__all__ = ["Hub", "HubLimits"]


@dataclass(frozen=True, slots=True)
class HubLimits:
    nick_max: int = 32
    room_max: int = 64
    guest_prefix: str = "guest-"


class Hub:
    def __init__(self, limits: HubLimits | None = None) -> None:
        self.limits = limits or HubLimits()
        self.users: dict[str, User] = {}
        self.rooms: dict[str, Room] = {}
        self._uids = itertools.count(1)
        self._guests = itertools.count(1)
        # msgids: a random per-process prefix and a counter, unique without coordination.
        self._msgid_prefix = os.urandom(6).hex()
        self._msgids = itertools.count(1)
        self.messages = 0

    # -- users -------------------------------------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.users.get(casefold(nick))

    def guest_nick(self) -> str:
        prefix = self.limits.guest_prefix
        while True:
            nick = f"{prefix}{next(self._guests)}"
            if casefold(nick) not in self.users:
                return nick

    def check_nick(self, nick: str, *, current: User | None = None) -> str:
        """Validate ``nick`` and return its key; raise ChatError if it is invalid or taken by someone else."""
        if not is_valid_nick(nick, self.limits.nick_max):
            raise ChatError(
                Reason.BAD_NICK,
                nick,
                f"Invalid nickname {nick!r}: use 1-{self.limits.nick_max} {NICK_CHARS_HELP}",
            )
        key = casefold(nick)
        holder = self.users.get(key)
        if holder is not None and holder is not current:
            raise ChatError(Reason.NICK_IN_USE, nick, f"Nickname {nick} is already in use")
        return key

    def connect(
        self,
        client: Client,
        send: Callable[[bytes], None],
        *,
        nick: str | None = None,
        username: str = "",
        host: str,
        realname: str = "",
    ) -> User:
        """Register a new user for ``client``; with no ``nick`` a guest nickname is chosen."""
        if nick is None:
            nick = self.guest_nick()
        key = self.check_nick(nick)
        user = User(
            next(self._uids),
            nick,
            key,
            client,
            send,
            username=username or nick,
            host=host,
            realname=realname or nick,
        )
        self.users[key] = user
        return user

    def change_nick(self, user: User, new: str) -> NickChange | None:
        """Rename ``user`` and tell everyone who shares a room; the returned event is for the user's own
        protocol to confirm (``None``: the nickname did not change)."""
        key = self.check_nick(new, current=user)
        old = user.nick
        if new == old:
            return None
        del self.users[user.key]
        user.nick, user.key = new, key
        self.users[key] = user
        event = NickChange(user, time.time(), old, new)
        self._fanout(event, self._neighbours(user, include_self=False))
        return event

    def quit(self, user: User, reason: str) -> None:
        """Remove ``user`` (its connection has ended or is ending) and tell everyone who shared a room."""
        if self.users.get(user.key) is not user:
            return
        del self.users[user.key]
        event = Quit(user, time.time(), reason)
        recipients = list(self._neighbours(user, include_self=False))
        for room in list(user.rooms.values()):
            self._leave(user, room)
        self._fanout(event, recipients)

    def _neighbours(self, user: User, *, include_self: bool) -> Iterator[User]:
        """Every user sharing a room with ``user``, once each."""
        rooms = user.rooms
        if include_self:
            yield user
        if len(rooms) == 1:
            for room in rooms.values():
                for member in room.members:
                    if member is not user:
                        yield member
            return
        seen = {user}
        for room in rooms.values():
            for member in room.members:
                if member not in seen:
                    seen.add(member)
                    yield member

    # -- rooms -------------------------------------------------------------------------------------------

    def find_room(self, name: str) -> Room | None:
        return self.rooms.get(casefold(name))

    def normalize_room(self, name: str) -> str:
        if not name.startswith(ROOM_PREFIX):
            name = ROOM_PREFIX + name
        if not is_valid_room(name, self.limits.room_max):
            raise ChatError(
                Reason.BAD_ROOM,
                name,
                f"Invalid room name {name!r}: # and up to {self.limits.room_max - 1} characters,"
                " no spaces, commas or colons",
            )
        return name

    def join(self, user: User, name: str) -> Join:
        """Add ``user`` to the room ``name`` (creating it) and tell the other members.

        The returned event is for the user's own protocol to confirm."""
        name = self.normalize_room(name)
        key = casefold(name)
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name, key)
        elif user in room.members:
            raise ChatError(Reason.ALREADY_IN_ROOM, room.name, f"You are already in {room.name}")
        room.members[user] = None
        user.rooms[key] = room
        event = Join(user, time.time(), room)
        self._fanout(event, room.members, exclude=user)
        return event

    def part(self, user: User, room: Room, reason: str = "") -> Part:
        """Remove ``user`` from ``room`` and tell the other members; the event is returned as for join."""
        if user not in room.members:
            raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
        event = Part(user, time.time(), room, reason)
        self._fanout(event, room.members, exclude=user)
        self._leave(user, room)
        return event

    def _leave(self, user: User, room: Room) -> None:
        del room.members[user]
        del user.rooms[room.key]
        if not room.members:
            del self.rooms[room.key]

    def room_list(self) -> list[Room]:
        return sorted(self.rooms.values(), key=lambda r: r.key)

    # -- messages ----------------------------------------------------------------------------------------

    def new_msgid(self) -> str:
        return f"{self._msgid_prefix}{next(self._msgids):x}"

    def say(self, user: User, room: Room, text: str, kind: MessageKind = MessageKind.SAY) -> Message:
        """Send ``text`` from ``user`` to every other member of ``room``."""
        if user not in room.members:
            raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
        event = Message(user, time.time(), room, text, kind, self.new_msgid(), user.nick)
        self.messages += 1
        self._fanout(event, room.members, exclude=user)
        return event

    def private(self, user: User, nick: str, text: str, kind: MessageKind = MessageKind.SAY) -> Message:
        """Send ``text`` from ``user`` to the user named ``nick``."""
        target = self.find_user(nick)
        if target is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick, f"No such nickname: {nick}")
        event = Message(user, time.time(), target, text, kind, self.new_msgid(), user.nick)
        self.messages += 1
        data = target.client.render(event)
        if data:
            target.send(data)
        return event

    # -- fan-out -----------------------------------------------------------------------------------------

    @staticmethod
    def _fanout(event: Event, users: Iterable[User], exclude: User | None = None) -> None:
        """Render ``event`` once per client variant and queue the bytes for every user but ``exclude``."""
        rendered: dict[Hashable, bytes | None] = {}
        for user in users:
            if user is exclude:
                continue
            client = user.client
            variant = client.variant
            try:
                data = rendered[variant]
            except KeyError:
                data = rendered[variant] = client.render(event)
            if data is not None:
                user.send(data)
