"""Fuzz target: the line buffer (``hubbub.wire.lines.LineBuffer``).

The input picks a limit and a split of a byte stream into chunks. Whatever the split, the buffer must give the
lines a reference model finds in the whole stream: complete lines without their LF (and one CR before it),
empty ones dropped, and one ``LineTooLong`` for each line over the limit; it never holds more than the limit
(plus one CR) of an unfinished line, and after an over-long line it resynchronises at the next LF.
"""

from __future__ import annotations

import sys

from _fuzzutil import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from hubbub.wire.lines import LineBuffer, LineTooLong

Item = bytes | None  # None: a LineTooLong


def reference(stream: bytes, limit: int) -> tuple[list[Item], int | None]:
    """The items a stream gives, and what stays pending (``None``: an over-long tail being discarded)."""
    *complete, tail = stream.split(b"\n")
    items: list[Item] = []
    for line in complete:
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > limit:
            items.append(None)
        elif line:
            items.append(line)
    if len(tail) > limit + tail.endswith(b"\r"):
        return [*items, None], None
    return items, len(tail)


def TestOneInput(data: bytes) -> None:
    if len(data) < 2:
        return
    limit = 1 + data[0] % 64
    cuts = data[1]
    stream = data[2:]
    buffer = LineBuffer(limit)
    got: list[Item] = []
    i = 0
    step = 1 + cuts % 13
    while i < len(stream):
        chunk = stream[i : i + step]
        i += step
        step = 1 + (step * 7 + chunk[0]) % 29
        for item in buffer.feed(chunk):
            if isinstance(item, LineTooLong):
                assert item.limit == limit
                got.append(None)
            else:
                assert item and b"\n" not in item and len(item) <= limit, item
                got.append(item)
        assert buffer.pending <= limit + 1, (buffer.pending, limit)
    expected, pending = reference(stream, limit)
    assert got == expected, (got, expected)
    if pending is not None:
        assert buffer.pending == pending, (buffer.pending, pending)
    # Feeding the same stream in one piece gives the same items.
    whole = LineBuffer(limit).feed(stream)
    assert [None if isinstance(item, LineTooLong) else item for item in whole] == expected


if __name__ == "__main__":
    fuzz(TestOneInput)
    sys.exit(0)
