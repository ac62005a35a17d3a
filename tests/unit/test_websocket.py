"""Unit tests of IRC over WebSocket: the Origin rule, the framing of output, the shared framing of batches.

The protocol itself is tested end to end (tests/e2e/test_websocket.py) and fuzzed (fuzz/fuzz_websocket.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from hubbub.config import ConfigError
from hubbub.core.fanout import Batch
from hubbub.net.flood import Flood, FloodLimits
from hubbub.protocols.websocket import frame_lines, origin_allowed
from hubbub.settings import load


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "chat.example:8008", (), True),  # not a browser
        ("http://chat.example:8008", "chat.example:8008", (), True),  # the server's own page
        ("http://CHAT.example:8008", "chat.example:8008", (), True),
        ("https://chat.example", "chat.example:443", (), True),
        ("https://chat.example:443", "chat.example", (), True),
        ("http://chat.example", "chat.example:80", (), True),
        ("http://chat.example:8009", "chat.example:8008", (), False),  # another port is another origin
        ("https://evil.example", "chat.example:8008", (), False),
        ("https://evil.example", "chat.example:8008", ("https://evil.example",), True),
        ("https://evil.example", "chat.example:8008", ("*",), True),
        ("null", "chat.example:8008", (), False),
        ("null", None, ("null",), True),
        ("http://chat.example:8008", None, (), False),
        ("javascript://chat.example:8008", "chat.example:8008", (), False),
        ("http://[::1", "[::1]:8008", (), False),
    ],
)
def test_origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


def parse_frames(data: bytes) -> list[Frame]:
    frames = []
    view = data

    def read_exact(n: int) -> Any:
        nonlocal view
        chunk, view = view[:n], view[n:]
        return chunk
        yield

    while view:
        parser = Frame.parse(read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


def test_frame_lines_sends_one_message_per_line_without_line_endings() -> None:
    data = b":a PRIVMSG #x :one\r\n:a PRIVMSG #x :tw\ro\r\n\r\n:a PRIVMSG #x :caf\xe9\n"
    text = parse_frames(frame_lines(data, Opcode.TEXT))
    assert [(f.opcode, f.fin, bytes(f.data)) for f in text] == [
        (Opcode.TEXT, True, b":a PRIVMSG #x :one"),
        (Opcode.TEXT, True, b":a PRIVMSG #x :two"),
        (Opcode.TEXT, True, ":a PRIVMSG #x :caf\N{REPLACEMENT CHARACTER}".encode()),
    ]
    binary = parse_frames(frame_lines(data, Opcode.BINARY))
    assert [bytes(f.data) for f in binary][2] == b":a PRIVMSG #x :caf\xe9"
    assert {f.opcode for f in binary} == {Opcode.BINARY}
    assert frame_lines(b"\r\n\n", Opcode.TEXT) == b""


@given(st.binary(max_size=300))
def test_text_frames_are_utf8_lines_whatever_the_output(data: bytes) -> None:
    for frame in parse_frames(frame_lines(data, Opcode.TEXT)):
        payload = bytes(frame.data)
        payload.decode("utf-8")
        assert payload and b"\r" not in payload and b"\n" not in payload


def test_a_batch_is_framed_once_for_every_mailbox_that_gets_it_whole() -> None:
    calls: list[bytes] = []

    def frame(data: bytes) -> bytes:
        calls.append(data)
        return b"<" + data + b">"

    batch = Batch(b"one\r\n")
    batch.items.append(b"two\r\n")
    batch.exclude("sender", 1)
    first, second = object(), object()
    assert batch.transformed(first, frame) == b"<one\r\ntwo\r\n>"
    assert batch.transformed(second, frame) is batch.transformed(first, frame)
    assert batch.transformed("sender", frame) == b"<one\r\n>"  # without its own line
    assert calls == [b"one\r\ntwo\r\n", b"one\r\n"]
    assert batch.closed


def test_a_refund_forgets_what_was_charged_but_keeps_what_is_held() -> None:
    flood = Flood(FloodLimits(lines=1.0, burst=2))
    assert flood.take(b"a\nb\n", 0.0)
    assert not flood.take(b"c\n", 0.0)
    flood.hold(b"c\n", 0.0)
    flood.refund()
    assert flood.held == b"c\n"
    assert flood.lines.room(0.0) == pytest.approx(2.0)


def test_ws_origin_is_a_list_of_origins(tmp_path: Any) -> None:
    path = tmp_path / "hubbub.toml"
    path.write_text('[network]\nws_origin = ["https://Chat.example", "http://localhost:8080", "*"]\n')
    assert load(str(path)).ws_origin == ("https://chat.example", "http://localhost:8080", "*")
    for bad in ('"https://chat.example"', '["chat.example"]', '["https://chat.example/path"]', "[1]"):
        path.write_text(f"[network]\nws_origin = {bad}\n")
        with pytest.raises(ConfigError, match="ws_origin"):
            load(str(path))


@given(st.sampled_from([Opcode.TEXT, Opcode.BINARY]), st.integers(0, 70000))
def test_the_cached_frame_headers_are_the_librarys(opcode: Opcode, size: int) -> None:
    line = b"x" * size
    expected = Frame(opcode, line).serialize(mask=False, extensions=[]) if size else b""
    assert frame_lines(line + b"\r\n", opcode) == expected
    assert frame_lines(line + b"\r\n", opcode) == expected  # the second time from the cache


def test_a_bare_cr_or_lf_among_crlf_lines_never_reaches_a_message() -> None:
    """Regression (found by fuzz_websocket): as many CRs as LFs does not make every one a CR LF pair."""
    for data in (b"x\n\ry\r\n", b"a\r\rb\n\n", b"one\r\ntw\ro\n\r\n"):
        for frame in parse_frames(frame_lines(data, Opcode.BINARY)):
            assert b"\r" not in frame.data and b"\n" not in frame.data, data
