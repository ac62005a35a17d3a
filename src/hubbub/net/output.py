"""When output is written: once per loop turn, and never before the store has committed what it carries.

The :class:`OutputScheduler` is the one owner of this state machine:

- the *dirty list*: connections with output queued this turn (:meth:`Connection.send` appends the connection
  the first time in a turn), and the *groups* the hub's fan-out appended to directly (:meth:`wake`, one call
  per group);
- the *flush*: one ``call_soon`` callback per turn (:meth:`schedule_flush`) that flushes every dirty
  connection and group;
- the *durability barriers*: when the store has writes in flight at flush time, the flushed bytes are held by
  each connection with the number of a new store barrier (:meth:`hold_tag`); the connections holding output
  are in :attr:`held`, and when the store reaches a barrier (barriers are reached in the order they were asked
  for) each of them writes what waited for it (:meth:`Flushable.release`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..core.fanout import Queued

__all__ = ["Durable", "Flushable", "OutputScheduler"]


class Flushable(Protocol):
    """A connection, as the scheduler sees it."""

    #: Output queued this loop turn.
    out: list[Queued]

    def flush(self, tag: int = 0) -> None:
        """Write what is queued, or hold it until the store reaches barrier ``tag`` (0: none)."""
        ...

    def release(self, reached: int) -> None:
        """The store reached barrier ``reached``: write the held output that waited for it."""
        ...


class Durable(Protocol):
    """The store, as the scheduler sees it."""

    def pending(self) -> bool:
        """Whether writes are in flight (not yet committed)."""
        ...

    def when_durable(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the loop once everything written so far is committed."""
        ...


class Soon(Protocol):
    def call_soon(self, callback: Callable[[], Any], /) -> Any: ...


class OutputScheduler:
    """The per-turn flush of every connection with output, and the store barriers output waits for."""

    __slots__ = (
        "barriers_asked",
        "barriers_reached",
        "dirty",
        "dirty_groups",
        "flush_scheduled",
        "held",
        "loop",
        "store",
    )

    def __init__(self, loop: Soon, store: Durable) -> None:
        self.loop = loop
        self.store = store
        #: Connections with output queued this loop turn, flushed together at the end of the turn.
        self.dirty: list[Flushable] = []
        #: Groups of connections the hub's fan-out appended to directly this turn (by identity).
        self.dirty_groups: dict[int, list[Flushable]] = {}
        self.flush_scheduled = False
        #: Store barriers asked for and reached (see hold_tag), and the connections holding output.
        self.barriers_asked = 0
        self.barriers_reached = 0
        self.held: set[Flushable] = set()

    # -- once per loop turn ----------------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        self.flush_scheduled = True
        self.loop.call_soon(self.flush)

    def wake(self, group: list[Flushable]) -> None:
        """The hub appended output for every connection of ``group``: write it at the end of this turn."""
        self.dirty_groups[id(group)] = group
        if not self.flush_scheduled:
            self.schedule_flush()

    def flush(self) -> None:
        """Flush every connection with output (the dirty ones first, in the order they became dirty)."""
        self.flush_scheduled = False
        tag = self.hold_tag()
        dirty, self.dirty = self.dirty, []
        for conn in dirty:
            conn.flush(tag)
        if self.dirty_groups:
            groups, self.dirty_groups = self.dirty_groups, {}
            for group in groups.values():
                # A copy: a write may close its connection, which leaves its rooms and so changes the list.
                for conn in group.copy():
                    if conn.out:
                        conn.flush(tag)

    # -- durability: nothing is written before the messages it carries are committed -------------------------

    def hold_tag(self) -> int:
        """0 if the store has committed everything; else the number of a new store barrier that output
        flushed now must wait for (see Connection.flush)."""
        if not self.store.pending():
            return 0
        self.barriers_asked += 1
        self.store.when_durable(self.barrier_reached)
        return self.barriers_asked

    def barrier_reached(self) -> None:
        # Barriers are reached in the order they were asked for.
        self.barriers_reached += 1
        reached = self.barriers_reached
        for conn in list(self.held):
            conn.release(reached)
