"""Fuzz target: IRC over WebSocket (``hubbub.protocols.websocket``), what a client sends after the handshake.

The input's first byte picks the subprotocol and how the rest is split into reads; the rest is the client's
bytes (frames, or anything). Whatever they are, decoding never raises; the session gets whole IRC lines only,
each ending with CR LF and holding no other CR or LF, and, on a text connection, valid UTF-8 only; what the
server sends back (pongs, the close) is well-formed unmasked frames; after a close is sent nothing more is
decoded; and the same bytes fed whole or split give the same lines. Then the input is also taken as IRC
output: framed for the client, every message is one line without CR or LF, and a text message is valid
UTF-8. (A binary message may carry any bytes, on a text connection too, as the IRC over TCP it becomes.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _fuzzutil import NoTimer, Recorder, fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from websockets.frames import Frame, Opcode

    from hubbub.protocols.http import Request
    from hubbub.protocols.websocket import Raw, WebSocketOptions, WebSocketSession, frame_lines, upgrade

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
PROTOCOLS = ("text.ircv3.net", "binary.ircv3.net", "")


class Link:
    secure = False
    trusted_proxy = False
    peer_host = "192.0.2.1"

    def __init__(self) -> None:
        self.out: list[Any] = []
        self.closed: str | None = None
        self.codec: Any = None

    def send(self, data: bytes) -> None:
        self.out.append(data)

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason
            if self.codec is not None:
                self.codec.closing(reason)

    def call_later(self, delay: float, callback: Callable[[], None]) -> NoTimer:
        return NoTimer()

    def switch(self, session: Any) -> None:
        pass

    def set_client_address(self, host: str, how: str) -> bool:
        self.peer_host = host
        return True


def opened(protocol: str) -> tuple[Link, WebSocketSession]:
    headers = [
        ("host", "chat.example"),
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-key", KEY),
        ("sec-websocket-version", "13"),
    ]
    if protocol:
        headers.append(("sec-websocket-protocol", protocol))
    head = "GET /socket HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    link = Link()
    session = upgrade(
        link, Request("GET", "/socket", tuple(headers)), head.encode(), WebSocketOptions(), Recorder
    )
    assert isinstance(session, WebSocketSession)
    link.out.clear()  # the 101
    return link, session


def frames(data: bytes) -> list[Frame]:
    """Parse the server's frames (unmasked), all of them whole."""
    out = []
    view = data

    def read_exact(n: int) -> Any:
        nonlocal view
        if len(view) < n:
            raise AssertionError(f"a truncated frame: {data[:80]!r}")
        chunk, view = view[:n], view[n:]
        return chunk
        yield  # a generator, as Frame.parse expects

    while view:
        parser = Frame.parse(read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            out.append(done.value)
        else:
            raise AssertionError("the frame parser wanted more")
    return out


def run(protocol: str, stream: bytes, step: int) -> tuple[bytes, list[bytes], WebSocketSession]:
    link, session = opened(protocol)
    inner = session.inner
    assert isinstance(inner, Recorder)
    for i in range(0, len(stream), step):
        if link.closed is not None:
            break
        lines = session.decode(stream[i : i + step])
        if lines:
            session.data_received(lines)
    return inner.data, link.out, session


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    protocol = PROTOCOLS[data[0] % 3]
    step = 1 + (data[0] >> 2) % 61
    stream = data[1:]
    whole = run(protocol, stream, max(1, len(stream)))
    split = run(protocol, stream, step)
    for lines, sent, _session in (whole, split):
        if lines:
            assert lines.endswith(b"\r\n")
            for line in lines[:-2].split(b"\r\n"):
                assert line and b"\r" not in line and b"\n" not in line, lines[:200]
        sent_frames = b"".join(item for item in sent if isinstance(item, Raw))
        for frame in frames(sent_frames):
            assert frame.opcode in (Opcode.PONG, Opcode.CLOSE, Opcode.PING), frame
    # The same lines whatever the split, as far as both read (a close can come at a different read).
    shorter = min(len(whole[0]), len(split[0]))
    assert whole[0][:shorter] == split[0][:shorter]
    # Output: the input as IRC lines, framed.
    for opcode in (Opcode.TEXT, Opcode.BINARY):
        for frame in frames(frame_lines(stream, opcode)):
            assert frame.opcode is opcode and frame.fin
            assert frame.data and b"\r" not in frame.data and b"\n" not in frame.data
            if opcode is Opcode.TEXT:
                bytes(frame.data).decode("utf-8")


if __name__ == "__main__":
    fuzz(TestOneInput)
