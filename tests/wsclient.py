"""IRC over WebSocket clients for the tests: the websockets library's client (what a browser does), and raw
frames on a socket for what a browser never sends.

Every wait is bounded by ``TIMEOUT``, as in helpers.
"""

from __future__ import annotations

import inspect
import re
import socket
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from helpers import TIMEOUT

__all__ = ["RawWebSocket", "WsClient", "upgrade_request"]

#: Newer websockets warn unless connect() is a context manager or says it is used directly.
_DIRECT: dict[str, Any] = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


class WsClient:
    """An IRC client over WebSocket (one IRC line per message)."""

    def __init__(
        self,
        port: int,
        *,
        path: str = "/socket",
        subprotocols: list[str] | None = None,
        origin: str | None = None,
        ssl: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        scheme = "wss" if ssl is not None else "ws"
        headers = dict(headers or {})
        if origin is not None:
            headers["Origin"] = origin
        self.conn: ClientConnection = connect(
            f"{scheme}://127.0.0.1:{port}{path}",
            subprotocols=subprotocols,  # type: ignore[arg-type]
            additional_headers=headers or None,
            open_timeout=TIMEOUT,
            close_timeout=TIMEOUT,
            ssl=ssl,
            **_DIRECT,
        )
        self.nick = ""

    @property
    def subprotocol(self) -> str | None:
        return self.conn.subprotocol

    def send(self, line: str | bytes) -> None:
        self.conn.send(line)

    def recv(self, timeout: float = TIMEOUT) -> str | bytes:
        return self.conn.recv(timeout=timeout)

    def text(self, timeout: float = TIMEOUT) -> str:
        """The next message as text (a binary one decoded as UTF-8)."""
        message = self.recv(timeout)
        return message.decode("utf-8") if isinstance(message, bytes) else message

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Read messages until one matches ``pattern`` (bounded by ``timeout`` per message)."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self.text(timeout)
            except TimeoutError:
                raise AssertionError(f"no message matching {pattern!r} in {timeout}s") from None
            found = regex.search(line)
            if found:
                return found

    def register(self, nick: str, caps: tuple[str, ...] = ()) -> WsClient:
        if caps:
            self.send("CAP LS 302")
            self.send(f"CAP REQ :{' '.join(caps)}")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick} on the web")
        if caps:
            self.send("CAP END")
        self.expect(rf"^:\S+ 001 {re.escape(nick)} ")
        self.expect(rf"^:{re.escape(nick)} MODE {re.escape(nick)} :\+i$")
        self.nick = nick
        return self

    def sync(self) -> list[str]:
        """Round-trip a PING: every message that came before its PONG."""
        self.send("PING :sync")
        lines = []
        while True:
            line = self.text()
            if re.search(r" PONG \S+ :?sync$", line):
                return lines
            lines.append(line)

    def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, list[str]]:
        """Wait for the server to close: (the close code it sent, the messages before it)."""
        lines = []
        try:
            while True:
                lines.append(self.text(timeout))
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd is not None else None), lines

    def close(self) -> None:
        self.conn.close()


def upgrade_request(
    port: int, *, path: str = "/socket", origin: str | None = None, protocols: str | None = None
) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if protocols is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocols}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class RawWebSocket:
    """A WebSocket on a plain socket, its frames written and read one by one (masked, as a client's are)."""

    def __init__(self, port: int, **request: Any) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(upgrade_request(port, **request))
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.head = head

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_frame(self, opcode: Opcode, data: bytes, *, fin: bool = True) -> None:
        self.sock.sendall(Frame(opcode, data, fin=fin).serialize(mask=True, extensions=[]))

    def send_text(self, line: str | bytes) -> None:
        self.send_frame(Opcode.TEXT, line.encode() if isinstance(line, str) else line)

    def frame(self) -> Frame:
        """The next frame from the server (unmasked, as a server's are)."""

        def read_exact(n: int) -> Any:
            return self._read_exact(n)
            yield  # pragma: no cover - makes this a generator, as Frame.parse expects

        parser = Frame.parse(read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frame: Frame = done.value
            return frame
        raise AssertionError("the frame parser wanted more than it was given")

    def close_code(self) -> int:
        """Read frames until the close; its code."""
        while True:
            frame = self.frame()
            if frame.opcode is Opcode.CLOSE:
                return int.from_bytes(frame.data[:2], "big")

    def close(self) -> None:
        self.sock.close()
