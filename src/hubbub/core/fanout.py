"""Fan-out: every connection's ordered output queue, and the batches a room's lines share in it.

Everything that puts output in a queue goes through :func:`enqueue` (the network layer's ``send``, the test
doubles' ``send``) or appends a batch the way fan-out does; the one ordering rule lives here.

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

from typing import Any

__all__ = ["Batch", "Queued", "enqueue", "flatten"]


class Batch:
    __slots__ = ("closed", "excluded", "items", "joined")

    def __init__(self, first: bytes) -> None:
        self.items = [first]
        #: mailbox -> indexes of the items that mailbox must not get (its own messages)
        self.excluded: dict[Any, list[int]] | None = None
        self.closed = False
        self.joined: bytes | None = None

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
