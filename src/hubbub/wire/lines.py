"""Line framing for byte streams, with a hard size limit.

A :class:`LineBuffer` turns the arbitrary chunks a socket delivers into complete lines. It accepts LF and
CRLF endings (a lone trailing CR is dropped), keeps at most ``limit`` bytes of an unfinished line, and never
grows past that: a line longer than the limit is reported once, as a :class:`LineTooLong` item in the output,
and the rest of it is discarded up to the next LF. Empty lines are dropped.

The buffer is sans-I/O: it knows nothing of sockets or event loops, so any split of a byte stream into chunks
yields the same lines (a property the tests check with hypothesis). It does not read a clock either: the
session's periodic tick asks :meth:`LineBuffer.incomplete_for` how long the line it holds has been unfinished,
so that a line drip-fed a byte at a time can be bounded in time as well as in size.
"""

from __future__ import annotations

__all__ = ["LineBuffer", "LineTooLong"]


class LineTooLong(ValueError):
    """A line exceeded the buffer's limit; its bytes were discarded."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"line longer than {limit} bytes")
        self.limit = limit


class LineBuffer:
    """Split a byte stream into lines of at most ``limit`` bytes (not counting the line ending)."""

    __slots__ = ("_completed", "_discarding", "_error", "_limit", "_pending", "_seen", "_since")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self._limit = limit
        self._pending = b""
        self._discarding = False
        self._error = LineTooLong(limit)
        #: Lines completed so far (over-long ones too), and what incomplete_for last saw.
        self._completed = 0
        self._seen = 0
        self._since: float | None = None

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held in the buffer."""
        return len(self._pending)

    def incomplete_for(self, now: float) -> float:
        """Seconds the unfinished line (held, or being discarded as over-long) has been unfinished, as seen by
        the calls of this method: 0 at the first call that sees it, and for as long as no line is unfinished.
        A line completed in between starts the count again."""
        if not self._pending and not self._discarding:
            self._since = None
            return 0.0
        if self._since is None or self._seen != self._completed:
            self._since = now
            self._seen = self._completed
        return now - self._since

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        """Add ``data`` and return the lines it completes, in order.

        Each item is a line without its ending, or a :class:`LineTooLong` where an over-long line was.
        """
        if self._pending:
            data = self._pending + data
            self._pending = b""
        parts = data.split(b"\n")
        tail = parts.pop()
        limit = self._limit
        out: list[bytes | LineTooLong] = []
        self._completed += len(parts)
        if self._discarding and parts:
            # The first part finishes the line being discarded.
            del parts[0]
            self._discarding = False
        for line in parts:
            if line[-1:] == b"\r":
                line = line[:-1]
            if len(line) > limit:
                out.append(self._error)
            elif line:
                out.append(line)
        if self._discarding:
            return out
        # A CR may end the tail while its LF is still in flight: allow for it in the limit.
        if len(tail) > limit + (tail[-1:] == b"\r"):
            out.append(self._error)
            self._discarding = True
            self._completed += 1
        else:
            self._pending = tail
        return out
