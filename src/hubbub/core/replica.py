"""The core's two doors to the other nodes of a cluster: :class:`Cluster` (out) and :class:`Replica` (in).

The hub tells ``hub.cluster`` what its own users did. What the other nodes' users did comes in through
``hub.replica`` alone: every method here applies a change another node has already checked, so none checks a
rule (the names say so: ``apply_*``, ``add_user``, ...). The cluster (hubbub.cluster) never writes the hub's
fields, a room's members or a user's modes itself. State owned: none of its own; it changes the hub's
(membership, topics, room modes) and the directory's (users filed, counters) through their own primitives,
and tells the local users concerned as the checked twins (``join``, ``part``, ``kick``, ...) do.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from ..store import RoomRecord
from .events import AccountChange, Event, Invite, Message, ModeChange, Topic, Wallops
from .model import ListEntry, Room, User
from .names import casefold

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["Cluster", "Replica"]


class Cluster(Protocol):
    """What the hub tells the other nodes of a cluster about its own users' actions (hubbub.cluster). The
    hub calls it only for users connected here (``user.node == ""``); the cluster node applies the other
    nodes' actions through ``hub.replica`` (see core.replica)."""

    def connected(self, user: User) -> None: ...

    def publish(self, event: Event) -> None:
        """An event caused by a local user (a message, a join, a nick change...) that other nodes see."""
        ...

    def user_modes(self, user: User) -> None: ...


class Replica:
    """Other nodes' changes, applied without checks (``hub.replica``)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- users -------------------------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """File a new user of another node under ``user.key`` (counted in ``max_users``)."""
        self.hub.directory.add(user)

    def rekey_user(self, user: User, key: str) -> None:
        """File ``user`` under ``key`` (a nickname's key, or a key of its own while it waits for one)."""
        self.hub.directory.rekey(user, key)

    def came_online(self, user: User) -> None:
        """Tell those watching ``user``'s nickname (MONITOR) that it is online."""
        self.hub.monitor.announce(user, user.nick, casefold(user.nick), online=True)

    def remove_user(self, user: User, reason: str) -> None:
        """``user`` quit: it leaves its rooms, its neighbours are told, and it is filed no more."""
        self.hub.quit(user, reason)

    def apply_nick(self, user: User, new: str) -> None:
        """``user`` (already filed under its new key) is now called ``new``: neighbours and watchers told."""
        if new != user.nick:
            self.hub._rename(user, new)

    def apply_user_modes(self, user: User, modes: Iterable[str], oper: str) -> None:
        self.hub.directory.set_modes(user, modes, oper)

    def apply_account(self, user: User, account: str) -> None:
        if user.account != account:
            user.account = account
            self.hub._tell_neighbours(AccountChange(user, time.time(), account))

    def apply_away(self, user: User, message: str) -> None:
        self.hub.set_away(user, message)

    def apply_realname(self, user: User, realname: str) -> None:
        self.hub.set_realname(user, realname)

    def apply_profile(self, user: User, username: str, host: str, realname: str, ip: str = "") -> None:
        """What a snapshot says of ``user`` (``ip``: its real address, "": ``host``), told to nobody."""
        user.username, user.host, user.realname, user.ip = username, host, realname, ip or host

    # -- rooms -------------------------------------------------------------------------------------------

    def apply_join(self, user: User, room_name: str, status: str) -> Room:
        """``user`` joined the room ``room_name`` (created if there is none) with ``status``; the room's
        members are told. Nothing happens if it is there already."""
        hub = self.hub
        key = casefold(room_name)
        room = hub.rooms.get(key)
        if room is None:
            room = hub.rooms[key] = Room(room_name, key)
        if user not in room.members:
            hub._enter(user, room, status)
        return room

    def apply_status(self, user: User, room: Room, status: str) -> None:
        """``user``'s status in ``room`` (of which it is a member) is ``status``, told to nobody."""
        if user in room.members:
            room.members[user] = status

    def apply_part(self, user: User, room: Room, reason: str) -> None:
        if user in room.members:
            self.hub._part(user, room, reason)

    def apply_kick(self, actor: User, room: Room, target: User, reason: str) -> None:
        if target in room.members:
            self.hub._expel(actor, room, target, reason)

    def apply_invite(self, actor: User, target: User, room_name: str) -> None:
        """``actor`` invited the local user ``target`` to ``room_name``: ``target`` is told."""
        target.invites.add(casefold(room_name))
        data = target.client.render(Invite(actor, time.time(), room_name, target))
        if data:
            target.send(data)

    def apply_topic(self, room: Room, topic: str, by: str, when: float, actor: User | None = None) -> None:
        """``room``'s topic is ``topic``; the members are told if ``actor`` set it now."""
        room.topic, room.topic_by, room.topic_time = topic, by, when
        if actor is not None:
            self.hub.fanout.room(Topic(actor, when, room, topic), room, actor)

    def apply_room_modes(
        self,
        room: Room,
        *,
        flags: Iterable[str],
        password: str,
        limit: int,
        lists: dict[str, list[ListEntry]],
        founder: str,
    ) -> None:
        """``room``'s modes and lists, told to nobody (see announce_room_modes)."""
        room.flags = set(flags)
        room.password = password
        room.limit = limit
        room.lists = lists
        room.founder = founder

    def announce_room_modes(
        self,
        actor: User,
        room: Room,
        changes: tuple[tuple[str, str | None], ...],
        statuses: list[tuple[User, str]],
    ) -> None:
        """``actor`` changed ``room``'s modes (already applied) and its members' statuses: members told."""
        for member, status in statuses:
            self.apply_status(member, room, status)
        self.hub.fanout.room(ModeChange(actor, time.time(), room, changes), room, actor)

    def restore_room(self, record: RoomRecord) -> None:
        """A room was registered (or its record changed) on another node."""
        room = self.hub.rooms.get(record.key)
        if room is None:
            self.hub.registered.restore(record)
        else:
            room.founder = record.founder

    def drop_room(self, key: str) -> None:
        """The room ``key`` was unregistered on another node: an empty one goes."""
        room = self.hub.rooms.get(key)
        if room is not None:
            self.hub.registered.forget(room)

    # -- messages ----------------------------------------------------------------------------------------

    def apply_room_message(self, event: Message, room: Room) -> None:
        """A message of another node's user to ``room``: its local members (or operators) get it."""
        hub = self.hub
        if event.status:
            ops = [m for m, s in room.members.items() if "o" in s and not m.node]
            hub.messages_out += len(ops)
            hub.fanout.users(event, ops)
        else:
            hub.messages_out += len(room.members) - room.remote
            hub.fanout.room(event, room, event.user)

    def apply_private(self, event: Message, target: User) -> None:
        data = target.client.render(event)
        if data:
            self.hub.messages_out += 1
            target.send(data)

    def apply_wallops(self, user: User, text: str) -> None:
        hub = self.hub
        event = Wallops(user, time.time(), text)
        hub.fanout.users(event, [u for u in hub.users.values() if "w" in u.modes and not u.node])
