"""Registered rooms: kept in the store with their topic, modes and lists, across restarts and when empty.

State owned here: a room's ``founder``, and the store's room records (saved after every change of a
registered room's topic or modes, restored when the hub starts and when another node registers one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..store import RoomRecord
from .errors import ChatError, Reason
from .model import ListEntry, Room, User
from .names import casefold
from .rooms import require_op

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["RegisteredRooms"]


class RegisteredRooms:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def register(self, user: User, room: Room) -> None:
        """A logged-in operator of ``room`` registers it: it keeps its topic, modes and lists across restarts
        and when empty, and ``user``'s account becomes its founder."""
        if not user.account:
            raise ChatError(Reason.NOT_LOGGED_IN, room.name, "Log in to an account to register a room")
        require_op(user, room)
        if room.founder:
            raise ChatError(Reason.ROOM_REGISTERED, room.name, f"{room.name} is already registered")
        room.founder = user.account
        self.save(room)

    def unregister(self, user: User, room: Room) -> None:
        if not room.founder:
            raise ChatError(Reason.ROOM_NOT_REGISTERED, room.name, f"{room.name} is not registered")
        if casefold(user.account) != casefold(room.founder) and not user.oper:
            raise ChatError(Reason.NOT_FOUNDER, room.name, f"Only the founder of {room.name} can do that")
        self.hub.store.drop_room(room.key)
        self.forget(room)

    def forget(self, room: Room) -> None:
        """``room`` is no longer registered (its record is gone): an empty room goes with it."""
        room.founder = ""
        rooms = self.hub.rooms
        if not room.members and rooms.get(room.key) is room:
            del rooms[room.key]

    def save(self, room: Room) -> None:
        if not room.founder:
            return
        lists = {mode: tuple(tuple(entry) for entry in entries) for mode, entries in room.lists.items()}
        self.hub.store.save_room(
            RoomRecord(
                key=room.key,
                name=room.name,
                founder=room.founder,
                created=room.created,
                topic=room.topic,
                topic_by=room.topic_by,
                topic_time=room.topic_time,
                modes="".join(sorted(room.flags)),
                join_key=room.password or None,
                limit=room.limit or None,
                bans=lists["b"],  # type: ignore[arg-type]
                excepts=lists["e"],  # type: ignore[arg-type]
                invites=lists["I"],  # type: ignore[arg-type]
            )
        )

    def restore(self, record: RoomRecord) -> Room:
        """Bring back the registered room of ``record`` (at start, or registered on another node)."""
        room = Room(record.name, record.key)
        room.founder = record.founder
        room.created = record.created
        room.topic, room.topic_by, room.topic_time = record.topic, record.topic_by, record.topic_time
        room.flags = set(record.modes)
        room.password = record.join_key or ""
        room.limit = record.limit or 0
        for mode, entries in (("b", record.bans), ("e", record.excepts), ("I", record.invites)):
            room.lists[mode] = [ListEntry(*entry) for entry in entries]
        self.hub.rooms[record.key] = room
        return room
