"""Fan-out: every connection's ordered output queue, the batches a room's lines share in it, and the
:class:`Fanout` that renders an event once per client variant and queues the bytes for its recipients.

State owned here: the ``on_output`` hook, each room's fan-out cache (``Room.groups``, ``group_of``,
``batches``: nobody else writes them but to reset ``groups`` to ``None``) and the bytes the last fan-out
rendered per variant (for the sender's echo, see :meth:`Fanout.rendered`). Everything that puts output in a
queue goes through :func:`enqueue` (the network layer's ``send``, the test doubles' ``send``) or appends a
batch the way fan-out does; the one ordering rule lives here.

Batches: a room's fanned-out lines of one loop turn, shared by every member's output queue.

Fanning a message out to N members costs one append per member when each member's queue gets its own
reference to the bytes. A batch makes it one append per member per *turn*: the first message of a turn for a
room (and client variant) appends a new :class:`Batch` to every member's queue, and the following messages of
that turn are appended to the batch alone. When the queues are written, the batch is joined once and the same
bytes go to every member.

Order is kept: a batch is *closed* as soon as anything else is queued behind it in any member's queue (a
reply, a private message, another room's batch), so later messages start a new batch placed after that
item. A member that sent some of the batch's messages (and must not get them back) gets its own join
without them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events import Event
    from .model import Client, Mailbox, Room, User

__all__ = ["SMALL_ROOM", "Batch", "Fanout", "Queued", "enqueue", "flatten", "neighbours", "regroup"]

#: Rooms of at most this many members get their lines sent directly, without shared batches.
SMALL_ROOM = 4


class Batch:
    __slots__ = ("closed", "excluded", "items", "joined", "transforms")

    def __init__(self, first: bytes) -> None:
        self.items = [first]
        #: mailbox -> indexes of the items that mailbox must not get (its own messages)
        self.excluded: dict[Any, list[int]] | None = None
        self.closed = False
        self.joined: bytes | None = None
        #: The batch's bytes through each transform asked for (see transformed); None until one is.
        self.transforms: dict[Callable[[bytes], bytes], bytes] | None = None

    def exclude(self, mailbox: object, index: int) -> None:
        if self.excluded is None:
            self.excluded = {}
        self.excluded.setdefault(mailbox, []).append(index)

    def bytes_for(self, mailbox: object) -> bytes:
        """The batch's bytes as ``mailbox`` must get them. Materialising closes the batch."""
        self.closed = True
        excluded = self.excluded
        if excluded is not None:
            skip = excluded.get(mailbox)
            if skip is not None:
                drop = set(skip)
                return b"".join(item for i, item in enumerate(self.items) if i not in drop)
        joined = self.joined
        if joined is None:
            joined = self.joined = self.items[0] if len(self.items) == 1 else b"".join(self.items)
        return joined

    def transformed(self, mailbox: object, transform: Callable[[bytes], bytes]) -> bytes:
        """``transform`` of the batch's bytes for ``mailbox``, done once for every mailbox that gets the whole
        batch (a connection's framing of its output, such as WebSocket's, shared like the bytes)."""
        excluded = self.excluded
        if excluded is not None and mailbox in excluded:
            return transform(self.bytes_for(mailbox))
        transforms = self.transforms
        if transforms is None:
            transforms = self.transforms = {}
        data = transforms.get(transform)
        if data is None:
            data = transforms[transform] = transform(self.bytes_for(mailbox))
        return data


Queued = bytes | Batch
"""An item of a connection's output queue."""


def flatten(out: list[Queued], mailbox: object) -> bytes:
    """Join an output queue of bytes and batches into the bytes to write to ``mailbox``."""
    if len(out) == 1:
        item = out[0]
        return item if isinstance(item, bytes) else item.bytes_for(mailbox)
    return b"".join([item if isinstance(item, bytes) else item.bytes_for(mailbox) for item in out])


def enqueue(out: list[Queued], item: Queued) -> None:
    """Queue ``item`` behind what ``out`` holds. A batch still open at the tail is closed first: the lines
    fan-out would add to it later this turn must not overtake ``item``."""
    if out:
        last = out[-1]
        if type(last) is Batch:
            last.closed = True
    out.append(item)


def _ignore(mailboxes: list[Mailbox]) -> None:
    pass


class Fanout:
    """Render an event once per client variant and queue the bytes for its recipients (``hub.fanout``)."""

    __slots__ = ("_event", "_rendered", "on_output", "small_room")

    def __init__(self) -> None:
        #: Called with the mailboxes that fan-out appended to directly, so that the network layer writes them
        #: out at the end of this loop turn. The default does nothing (in-memory tests read ``out`` lists).
        self.on_output: Callable[[list[Mailbox]], None] = _ignore
        #: Rooms of at most this many members skip batches (see room).
        self.small_room = SMALL_ROOM
        # The last event fanned out and its bytes per variant (see rendered).
        self._event: Event | None = None
        self._rendered: dict[Hashable, bytes | None] = {}

    def rendered(self, event: Event, variant: Hashable) -> bytes | None:
        """The bytes the last fan-out rendered for ``event`` and ``variant``; ``None`` if it rendered none
        (another event since, or no recipient of that variant). The sender's echo reuses them."""
        if self._event is event:
            return self._rendered.get(variant)
        return None

    def room(self, event: Event, room: Room, exclude: User | None) -> None:
        """Queue ``event`` for every member of ``room`` but ``exclude``: one render per client variant, the
        bytes added to the group's open batch for this turn (or a new batch queued for every member of the
        group), and one wake call per new batch. A small room skips batching: there is little to share, and
        a direct send costs less than a batch."""
        members = room.members
        if len(members) <= self.small_room:
            self.users(event, members, exclude)
            return
        groups = room.groups
        if groups is None:
            groups = regroup(room)
        excluded_group = -1
        if exclude is not None and exclude in members:
            variant = exclude.client.variant
            excluded_group = room.group_of[variant]
        batches = room.batches
        for i, (client, outs, mailboxes) in enumerate(groups):
            data = client.render(event)
            if data is None:
                continue
            batch = batches[i]
            if batch is not None and not batch.closed:
                batch.items.append(data)
            else:
                batch = batches[i] = Batch(data)
                for out in outs:
                    enqueue(out, batch)
                self.on_output(mailboxes)
            if i == excluded_group:
                assert exclude is not None
                batch.exclude(exclude.mailbox, len(batch.items) - 1)
                self._event = event
                self._rendered = {variant: data}

    def users(self, event: Event, users: Iterable[User], exclude: User | None = None) -> None:
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
        self._event = event
        self._rendered = rendered

    @staticmethod
    def variant_changed(user: User) -> None:
        """``user``'s client now renders differently (IRC capabilities changed): regroup its rooms."""
        for room in user.rooms.values():
            room.groups = None


def regroup(room: Room) -> list[tuple[Client, list[list[Queued]], list[Mailbox]]]:
    """Group the members of ``room`` by client variant (see Room.groups)."""
    groups: dict[Hashable, tuple[Client, list[list[Queued]], list[Mailbox]]] = {}
    for member in room.members:
        client = member.client
        group = groups.get(client.variant)
        if group is None:
            group = groups[client.variant] = (client, [], [])
        group[1].append(member.out)
        group[2].append(member.mailbox)
    room.group_of = {variant: i for i, variant in enumerate(groups)}
    room.groups = list(groups.values())
    room.batches = [None] * len(groups)
    return room.groups


def neighbours(user: User) -> Iterator[User]:
    """Every user sharing a room with ``user`` (but ``user``), once each."""
    rooms = user.rooms
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
