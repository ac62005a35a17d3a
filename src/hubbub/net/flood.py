"""Flood control: a budget of lines and bytes per client, which slows a client before it disconnects it.

Each client that is not exempt has two token buckets (kept as the time each would be full again, as in the
generic cell rate algorithm): ``lines`` lines per second with a burst of ``burst`` lines, and ``bytes`` bytes
per second with a burst of ``byte_burst`` bytes. Input within the budget goes straight to the session. Input
over it is *held* and passed on as the buckets refill (the network layer stops reading from the client
meanwhile), so a burst is delayed, not dropped, as ergo's "fakelag" does. A client whose held input would take
more than ``kill`` seconds of budget to pass on is behind by that much: it is disconnected ("Excess Flood").

A person pasting into a plain-text session is not a flooding client: such a connection (``paste``) may hold
``FloodLimits.paste`` lines more before its lag counts, which adds their time at the line rate to its limit
(``Flood.limit``). Its session is told once per burst that it is slowed, and warned before it is
disconnected: ``noticed`` and ``warned`` are cleared when a burst finds the client back within its budget
(half of its line burst at least).

Nothing here knows a socket or a loop: times are passed in, so the tests use their own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["BYTE_BURST_FACTOR", "MIN_WAIT", "Bucket", "Flood", "FloodLimits"]

#: A client may send this many seconds' worth of its byte budget in a burst.
BYTE_BURST_FACTOR = 8
#: The shortest wait before held input is looked at again (no busy timers).
MIN_WAIT = 0.005
#: Held input is passed on in pieces of at least this many bytes (a long line need not wait for every byte).
BYTE_QUANTUM = 512
#: Rounding slack for token counts computed from floating-point times.
EPSILON = 1e-9

#: Rooms a listing (LIST, /rooms) may go through for the price of one line of the flood budget.
SCAN_PER_LINE = 500


@dataclass(frozen=True, slots=True)
class FloodLimits:
    #: Lines per second, and lines in a burst.
    lines: float = 4.0
    burst: int = 20
    #: Bytes per second, and bytes in a burst.
    bytes: float = 4096.0
    byte_burst: float = BYTE_BURST_FACTOR * 4096.0
    #: Seconds a client's input may be behind its budget before it is disconnected.
    kill: float = 20.0
    #: Rows of history a query returns that cost one line.
    history_rows: int = 100
    #: Lines a plain-text client's held input may hold (a paste) before its lag counts towards ``kill``.
    paste: int = 200

    @classmethod
    def from_config(cls, config: Config) -> FloodLimits | None:
        """The configured limits, or None when flood control is off."""
        if not config.flood_control:
            return None
        return cls(
            lines=float(config.flood_lines),
            burst=config.flood_burst,
            bytes=float(config.flood_bytes),
            byte_burst=float(BYTE_BURST_FACTOR * config.flood_bytes),
            kill=config.flood_kill,
            history_rows=config.flood_history_rows,
            paste=config.flood_paste,
        )


class Timer(Protocol):
    def cancel(self) -> None: ...


class Bucket:
    """A token bucket of ``capacity`` tokens refilled at ``rate`` per second, kept as ``full_at``: the time it
    is full again (in the past: it is full)."""

    __slots__ = ("full_at", "rate", "window")

    def __init__(self, rate: float, capacity: float) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("a bucket needs a positive rate and capacity")
        self.rate = rate
        #: Seconds to refill from empty.
        self.window = capacity / rate
        self.full_at = 0.0

    def room(self, now: float) -> float:
        """Tokens available at ``now``."""
        return (self.window - max(self.full_at - now, 0.0)) * self.rate

    def behind(self, amount: float, now: float) -> float:
        """Seconds past the budget that taking ``amount`` tokens at ``now`` would put the bucket (0 or less:
        they fit); also how long to wait until they fit."""
        return max(self.full_at, now) + amount / self.rate - self.window - now

    def take(self, amount: float, now: float) -> None:
        self.full_at = max(self.full_at, now) + amount / self.rate


class Flood:
    """One client's input budget, and the input over it waiting to be passed on (``held``)."""

    __slots__ = (
        "allowance",
        "bytes",
        "eof",
        "held",
        "history_rows",
        "kill",
        "lines",
        "noticed",
        "paste",
        "paused",
        "timer",
        "warned",
    )

    def __init__(self, limits: FloodLimits, *, paste: bool = False) -> None:
        self.lines = Bucket(limits.lines, limits.burst)
        self.bytes = Bucket(limits.bytes, limits.byte_burst)
        self.kill = limits.kill
        self.history_rows = limits.history_rows
        #: Lines a paste may hold beyond the burst before the lag counts (see allow_paste).
        self.paste = limits.paste
        #: Seconds of lag tolerated before ``kill`` starts to count: a paste's lines at the line rate, for a
        #: connection where a person types; 0 otherwise.
        self.allowance = 0.0
        self.allow_paste(paste)
        #: The session was told its input is held, and warned it is too far behind, during this burst.
        self.noticed = False
        self.warned = False
        #: Input read but not yet passed on, oldest first.
        self.held = b""
        #: The peer's EOF came while input was held: pass it on after the input.
        self.eof = False
        #: Whether the network layer stopped reading from this client (set and cleared by the network layer).
        self.paused = False
        #: The network layer's timer for the next release (None: none is due).
        self.timer: Timer | None = None

    def allow_paste(self, on: bool) -> None:
        """Whether a person types on this connection (the session's ``pastes``): its pastes are tolerated."""
        self.allowance = self.paste / self.lines.rate if on else 0.0

    @property
    def limit(self) -> float:
        """The lag past which the client is disconnected: ``kill``, plus the paste allowance."""
        return self.kill + self.allowance

    def queued(self, now: float) -> int:
        """Held lines that wait for the budget (beyond what it lets through at ``now``)."""
        return max(self.held.count(b"\n") - int(self.lines.room(now) + EPSILON), 0)

    def take(self, data: bytes, now: float) -> bool:
        """Charge ``data`` and return True if it fits the budget and nothing is held; else charge nothing and
        return False (the caller then holds it)."""
        if self.held:
            return False
        lines = data.count(b"\n")
        size = len(data)
        if self.lines.behind(lines, now) <= 0.0 and self.bytes.behind(size, now) <= 0.0:
            self.lines.take(lines, now)
            self.bytes.take(size, now)
            return True
        return False

    def charge_history(self, rows: int, now: float) -> None:
        """Charge the ``rows`` a history query returned, one line per ``history_rows``, as if the client
        had sent those lines: its next input waits for them as for a flood (past ``kill``: disconnected)."""
        if rows > 0:
            self.lines.take(rows / self.history_rows, now)

    def charge_scan(self, items: int, now: float) -> None:
        """Charge a listing that went through ``items`` rooms (LIST, /rooms), one line per
        :data:`SCAN_PER_LINE`: a loop of listings on a server with many rooms is slowed like a flood."""
        if items > 0:
            self.lines.take(items / SCAN_PER_LINE, now)

    def refund(self) -> None:
        """Forget what was charged (not what is held): the connection changed protocols, and what the previous
        one read (an HTTP request's head, bounded on its own) is not charged to the next one's budget."""
        self.lines.full_at = self.bytes.full_at = 0.0

    def hold(self, data: bytes, now: float) -> float:
        """Add ``data`` to the held input; return :meth:`lag` (over :attr:`limit`: disconnect the client)."""
        if not self.held and 2 * self.lines.room(now) >= self.lines.window * self.lines.rate:
            # A new burst: the client was back within its budget (half of a burst at least), not draining
            # the rest of a paste longer than one read; it is told again.
            self.noticed = self.warned = False
        self.held += data
        return self.lag(now)

    def lag(self, now: float) -> float:
        """Seconds the client is behind its budget: how long its held input takes to pass, beyond a burst."""
        held = self.held
        if not held:
            return 0.0
        return max(self.lines.behind(held.count(b"\n"), now), self.bytes.behind(len(held), now))

    def release(self, now: float) -> tuple[bytes, float]:
        """Take from the held input what the budget allows at ``now``: (the bytes to pass on, the seconds to
        wait before calling again; 0 when nothing is held any more)."""
        held = self.held
        if not held:
            return b"", 0.0
        lines = int(self.lines.room(now) + EPSILON)
        # Up to (not including) the first newline that does not fit: the start of a line costs no line token.
        cut = -1
        for _ in range(lines + 1):
            cut = held.find(b"\n", cut + 1)
            if cut < 0:
                cut = len(held)
                break
        cut = min(cut, int(self.bytes.room(now) + EPSILON))
        out = held[:cut]
        rest = self.held = held[cut:]
        if out:
            self.lines.take(out.count(b"\n"), now)
            self.bytes.take(cut, now)
        if not rest:
            return out, 0.0
        bucket = self.bytes
        wait = bucket.behind(min(len(rest), BYTE_QUANTUM, bucket.window * bucket.rate), now)
        if rest[:1] == b"\n":
            wait = max(wait, self.lines.behind(1, now))
        return out, max(wait, MIN_WAIT)
