"""Line framing for byte streams, with a hard size limit.

A :class:`LineBuffer` turns the arbitrary chunks a socket delivers into complete lines. It accepts LF and
CRLF endings (a lone trailing CR is dropped), keeps at most ``limit`` bytes of an unfinished line, and never
grows past that: a line longer than the limit is reported once, as a :class:`LineTooLong` item in the output,
and the rest of it is discarded up to the next LF. Empty lines are dropped.

The buffer is sans-I/O: it knows nothing of sockets or event loops, so any split of a byte stream into chunks
yields the same lines (a property the tests check with hypothesis).
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

    __slots__ = ("_discarding", "_error", "_limit", "_pending")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self._limit = limit
        self._pending = b""
        self._discarding = False
        self._error = LineTooLong(limit)

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held in the buffer."""
        return len(self._pending)

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
        else:
            self._pending = tail
        return out
