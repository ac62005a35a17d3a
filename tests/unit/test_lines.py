from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.wire.lines import LineBuffer, LineTooLong


def feed_all(buf: LineBuffer, chunks: list[bytes]) -> list[bytes | str]:
    out: list[bytes | str] = []
    for chunk in chunks:
        out += ["TOO LONG" if isinstance(item, LineTooLong) else item for item in buf.feed(chunk)]
    return out


def reference(stream: bytes, limit: int) -> list[bytes | str]:
    """What a LineBuffer must yield for ``stream``: complete lines, CR stripped, empty ones dropped, and an
    unfinished last line reported as soon as it is known to be too long."""
    *lines, tail = stream.split(b"\n")
    out: list[bytes | str] = []
    for line in lines:
        line = line.removesuffix(b"\r")
        if len(line) > limit:
            out.append("TOO LONG")
        elif line:
            out.append(line)
    if len(tail.removesuffix(b"\r")) > limit:
        out.append("TOO LONG")
    return out


def test_lf_and_crlf() -> None:
    assert LineBuffer(100).feed(b"a\nb\r\nc") == [b"a", b"b"]


def test_a_line_split_across_reads() -> None:
    buf = LineBuffer(100)
    assert buf.feed(b"hel") == []
    assert buf.pending == 3
    assert buf.feed(b"lo\r") == []
    assert buf.feed(b"\nworld\n") == [b"hello", b"world"]
    assert buf.pending == 0


def test_empty_lines_are_dropped() -> None:
    assert LineBuffer(10).feed(b"\n\r\n\nx\n") == [b"x"]


def test_exactly_the_limit_passes_and_one_more_fails() -> None:
    buf = LineBuffer(5)
    items = buf.feed(b"12345\r\n123456\nok\n")
    assert items[0] == b"12345"
    assert isinstance(items[1], LineTooLong)
    assert items[1].limit == 5
    assert items[2] == b"ok"


def test_an_unterminated_overlong_line_is_reported_once_and_discarded() -> None:
    buf = LineBuffer(4)
    first = buf.feed(b"abcdefgh")
    assert len(first) == 1 and isinstance(first[0], LineTooLong)
    assert buf.pending == 0
    assert buf.feed(b"x" * 10_000) == []
    assert buf.pending == 0
    assert buf.feed(b"still\nnext\n") == [b"next"]


def test_a_cr_at_the_limit_waits_for_its_lf() -> None:
    buf = LineBuffer(3)
    assert buf.feed(b"abc\r") == []
    assert buf.feed(b"\n") == [b"abc"]


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"xyz" * 3, b"\xff", b""]), max_size=60),
    st.lists(st.integers(min_value=0, max_value=200), max_size=20),
    st.integers(min_value=1, max_value=12),
)
def test_any_split_of_any_stream_yields_the_same_lines(
    pieces: list[bytes], cuts: list[int], limit: int
) -> None:
    stream = b"".join(pieces)
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert feed_all(LineBuffer(limit), chunks) == reference(stream, limit)
    assert feed_all(LineBuffer(limit), [stream]) == reference(stream, limit)


@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_the_buffer_never_holds_more_than_the_limit(data: bytes, limit: int) -> None:
    buf = LineBuffer(limit)
    for i in range(0, len(data), 7):
        buf.feed(data[i : i + 7])
        assert buf.pending <= limit + 1


def test_incomplete_for_counts_from_the_first_look_at_an_unfinished_line() -> None:
    buf = LineBuffer(8)
    assert buf.incomplete_for(100.0) == 0.0  # nothing held: idle is not incomplete
    assert buf.feed(b"he") == []
    assert buf.incomplete_for(101.0) == 0.0
    buf.feed(b"l")  # more bytes of the same line (drip-feeding) do not start the count again
    assert buf.incomplete_for(104.0) == 3.0
    assert buf.feed(b"lo\nwo") == [b"hello"]  # a line completed: the next one counts from now
    assert buf.incomplete_for(105.0) == 0.0
    assert buf.incomplete_for(107.5) == 2.5
    buf.feed(b"rld\n")
    assert buf.incomplete_for(108.0) == 0.0
    # a line being discarded as over-long is unfinished too, until its LF
    (too_long,) = buf.feed(b"x" * 20)
    assert isinstance(too_long, LineTooLong) and buf.pending == 0
    assert buf.incomplete_for(110.0) == 0.0
    assert buf.incomplete_for(120.0) == 10.0
    assert buf.feed(b"xx\n") == []
    assert buf.incomplete_for(121.0) == 0.0
