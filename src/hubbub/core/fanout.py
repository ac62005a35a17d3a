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

__all__ = [
    "SMALL_ROOM",
    "Batch",
    "Fanout",
    "Group",
    "Queued",
    "add_member",
    "enqueue",
    "flatten",
    "neighbours",
    "regroup",
    "remove_member",
]

#: Rooms of at most this many members get their lines sent directly, without shared batches.
SMALL_ROOM = 4


class Batch:
    __slots__ = ("closed", "ends", "excluded", "items", "joined", "late", "transforms", "waiting")

    def __init__(self, first: bytes) -> None:
        self.items = [first]
        #: mailbox -> indexes of the items that mailbox must not get (its own messages)
        self.excluded: dict[Any, list[int]] | None = None
        self.closed = False
        self.joined: bytes | None = None
        #: The batch's bytes through each transform asked for (see transformed); None until one is.
        self.transforms: dict[Callable[[bytes], bytes], bytes] | None = None
        #: Members that joined the room while this batch was open, not yet given it (see add_member);
        #: mailbox -> the index of the first item for a member given it late, and of the first item not for a
        #: member that left (see remove_member).
        self.waiting: list[User] | None = None
        self.late: dict[Any, int] | None = None
        self.ends: dict[Any, int] | None = None

    def exclude(self, mailbox: object, index: int) -> None:
        if self.excluded is None:
            self.excluded = {}
        self.excluded.setdefault(mailbox, []).append(index)

    def bytes_for(self, mailbox: object) -> bytes:
        """The batch's bytes as ``mailbox`` must get them. Materialising closes the batch (a later item would
        miss this mailbox), unless ``mailbox`` has left the room: nothing later is for it."""
        excluded = self.excluded
        late = self.late
        ends = self.ends
        if excluded is None and late is None and ends is None:
            self.closed = True
            return self._joined()
        items = self.items
        end = ends.get(mailbox, -1) if ends is not None else -1
        if end < 0:
            self.closed = True
            end = len(items)
        skip = excluded.get(mailbox) if excluded is not None else None
        start = late.get(mailbox, 0) if late is not None else 0
        if skip is None:
            if not start and end == len(items) and self.closed:
                return self._joined()
            return b"".join(items[start:end])
        # Slices between the items left out (a few), copied at C speed: a batch may hold thousands of items.
        parts: list[bytes] = []
        at = start
        for index in sorted(skip):
            if index >= end:
                break
            if index >= at:
                parts += items[at:index]
                at = index + 1
        parts += items[at:end]
        return b"".join(parts)

    def _joined(self) -> bytes:
        """All the items in one piece, joined once (the batch is closed: no item will be added)."""
        joined = self.joined
        if joined is None:
            joined = self.joined = self.items[0] if len(self.items) == 1 else b"".join(self.items)
        return joined

    def own(self, mailbox: object) -> bool:
        """Whether ``mailbox`` gets a part of the batch of its own (its lines left out, came or left late)."""
        return (
            (self.excluded is not None and mailbox in self.excluded)
            or (self.late is not None and mailbox in self.late)
            or (self.ends is not None and mailbox in self.ends)
        )

    def transformed(self, mailbox: object, transform: Callable[[bytes], bytes]) -> bytes:
        """``transform`` of the batch's bytes for ``mailbox``, done once for every mailbox that gets the whole
        batch (a connection's framing of its output, such as WebSocket's, shared like the bytes)."""
        if self.own(mailbox):
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
        for i, group in enumerate(groups):
            data = group.client.render(event)
            if data is None:
                continue
            batch = batches[i]
            if batch is not None and not batch.closed:
                batch.items.append(data)
                if batch.waiting is not None:
                    self._admit(batch, exclude)
                if i == excluded_group and (batch.waiting is None or exclude not in batch.waiting):
                    assert exclude is not None
                    batch.exclude(exclude.mailbox, len(batch.items) - 1)
            else:
                batch = batches[i] = Batch(data)
                for out in group.outs:
                    if out:
                        last = out[-1]
                        if type(last) is Batch:
                            last.closed = True
                    out.append(batch)
                if i == excluded_group:
                    # The one whose event it is gets nothing of it: it waits for the batch's next item, so
                    # that what is sent to it now (its echo, a join's replies) does not close the batch.
                    assert exclude is not None
                    own = exclude.out
                    if own and own[-1] is batch:
                        own.pop()
                    batch.waiting = [exclude]
                self.on_output(group.mailboxes)
            if i == excluded_group:
                self._event = event
                self._rendered = {variant: data}

    def _admit(self, batch: Batch, exclude: User | None) -> None:
        """Give the batch's newest item, and what follows, to the members that joined while it was open:
        each gets the batch queued now, from that item on. One whose own line this item is keeps waiting."""
        index = len(batch.items) - 1
        late = batch.late
        if late is None:
            late = batch.late = {}
        still: list[User] | None = None
        woken: list[Mailbox] = []
        for user in batch.waiting or ():
            if user is exclude:
                still = [user]
                continue
            late[user.mailbox] = index
            enqueue(user.out, batch)
            woken.append(user.mailbox)
        batch.waiting = still
        if woken:
            self.on_output(woken)

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
    def one(event: Event, user: User, exclude: User | None = None) -> None:
        """Render ``event`` for ``user`` alone (what it reads may differ from its variant's shared render: a
        Kick to the kicked) and queue it; nothing if ``user`` is ``exclude``."""
        if user is exclude:
            return
        data = user.client.render(event)
        if data is not None:
            user.send(data)

    def around(self, event: Event, user: User) -> None:
        """Queue ``event`` for everyone who shares a room with ``user``, once each, through the rooms' shared
        batches: its biggest room's members as a room line, the few others (members of its other rooms
        only) one by one. A quit in a room of thousands then costs no pass over the members, however many
        quit in one turn."""
        rooms = user.rooms
        if not rooms:
            return
        if len(rooms) == 1:
            for room in rooms.values():
                self.room(event, room, user)
            return
        biggest = max(rooms.values(), key=len)
        shared = biggest.members
        others: dict[User, None] = {}
        for room in rooms.values():
            if room is not biggest:
                for member in room.members:
                    if member not in shared and member is not user:
                        others[member] = None
        self.room(event, biggest, user)
        if others:
            self.users(event, others)

    @staticmethod
    def variant_changed(user: User) -> None:
        """``user``'s client now renders differently (IRC capabilities changed): regroup its rooms."""
        for room in user.rooms.values():
            room.groups = None


class Group:
    """The members of a room that share a client variant: a client to render for them all, and each member's
    output list and mailbox, kept in step with the membership (see add_member and remove_member)."""

    __slots__ = ("client", "mailboxes", "outs", "position", "users")

    def __init__(self, client: Client) -> None:
        self.client = client
        self.users: list[User] = []
        self.outs: list[list[Queued]] = []
        self.mailboxes: list[Mailbox] = []
        #: member -> its index in the three lists
        self.position: dict[User, int] = {}

    def add(self, user: User) -> None:
        self.position[user] = len(self.users)
        self.users.append(user)
        self.outs.append(user.out)
        self.mailboxes.append(user.mailbox)

    def remove(self, user: User) -> None:
        """Take ``user`` out in O(1): the last member takes its place (order within a group is no order of
        output: each member's own queue keeps that)."""
        index = self.position.pop(user)
        users = self.users
        last = len(users) - 1
        if index != last:
            moved = users[index] = users[last]
            self.outs[index] = self.outs[last]
            self.mailboxes[index] = self.mailboxes[last]
            self.position[moved] = index
        users.pop()
        self.outs.pop()
        self.mailboxes.pop()
        if self.client is user.client and users:
            self.client = users[0].client


def regroup(room: Room) -> list[Group]:
    """Group the members of ``room`` by client variant (see Room.groups)."""
    groups: dict[Hashable, Group] = {}
    for member in room.members:
        client = member.client
        group = groups.get(client.variant)
        if group is None:
            group = groups[client.variant] = Group(client)
        group.add(member)
    room.group_of = {variant: i for i, variant in enumerate(groups)}
    room.groups = list(groups.values())
    room.batches = [None] * len(groups)
    return room.groups


def add_member(room: Room, user: User) -> None:
    """``user`` has joined ``room``: add it to its variant's group, in O(1) (a join in a room of thousands
    must not cost a pass over the members). The group's open batch stays open: lines fanned out after the
    join go to the newcomer too, as that batch from its next item on (see Fanout._admit), so that the joins
    of one loop turn share one batch, as lines do."""
    groups = room.groups
    if groups is None:
        return  # grouped on the next fan-out
    variant = user.client.variant
    index = room.group_of.get(variant)
    if index is None:
        room.group_of[variant] = len(groups)
        group = Group(user.client)
        groups.append(group)
        room.batches.append(None)
    else:
        group = groups[index]
        batch = room.batches[index]
        if batch is not None and not batch.closed:
            if batch.ends is not None and user.mailbox in batch.ends:
                batch.closed = True  # left and back in one turn: its queue holds this batch already (rare)
            else:
                if batch.waiting is None:
                    batch.waiting = []
                batch.waiting.append(user)
    group.add(user)


def remove_member(room: Room, user: User) -> None:
    """``user`` has left ``room``: take it out of its group in O(1). Its queue may hold the group's open
    batch: it gets none of the batch's later items."""
    groups = room.groups
    if groups is None:
        return
    index = room.group_of.get(user.client.variant)
    if index is None or user not in groups[index].position:
        room.groups = None  # not where it was grouped: group again on the next fan-out
        return
    group = groups[index]
    group.remove(user)
    batch = room.batches[index]
    if batch is not None and not batch.closed:
        if batch.waiting is not None and user in batch.waiting:
            batch.waiting.remove(user)  # never given it
        else:  # what the room says after this is not for it
            if batch.ends is None:
                batch.ends = {}
            batch.ends[user.mailbox] = len(batch.items)
    if not group.users:
        room.groups = None  # an empty group would still be rendered for: group again (rare)


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
