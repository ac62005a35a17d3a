"""IRC over WebSocket (the IRCv3 ``websocket`` extension), on the chat ports, through an ordinary IRC session.

A browser's HTTP request with ``Upgrade: websocket`` at ``/`` or ``/socket`` (see protocols.http) comes here:
:func:`upgrade` checks its ``Origin`` against the allowlist (a foreign page must not chat as its visitor),
completes the handshake with the websockets library's sans-I/O :class:`~websockets.server.ServerProtocol`
(which also validates the request), picks the subprotocol (``text.ircv3.net`` or ``binary.ircv3.net``, in the
client's order of preference; a client that offers neither gets text) and hands the connection to a
:class:`WebSocketSession`. Behind a reverse proxy in ``--trusted-proxy`` (nginx, Caddy), the client's address
is the one its ``X-Forwarded-For`` or ``Forwarded`` header gives (:func:`hubbub.protocols.proxy.real_client`),
and becomes the connection's before the session starts.

The WebSocket is a framing between the connection's bytes and an :class:`~hubbub.protocols.irc.IrcSession`'s:
the session is the connection's :class:`~hubbub.protocols.base.Codec`.

- In: :meth:`WebSocketSession.decode` turns frames into IRC lines, each message one line (a trailing CR LF is
  allowed; a message holding another line break is refused), before flood control, so that a WebSocket client
  has the same budget of lines and bytes as any other. A text message must be UTF-8 (else close 1007), a
  message is at most the line limit (else close 1009), pings are answered, a close is answered and ends the
  connection.
- Out: :meth:`WebSocketSession.encode` frames the IRC lines queued for the connection, one message per line
  without its CR LF; text frames carry UTF-8 only (anything else a non-UTF-8 IRC client said is replaced with
  U+FFFD). Fan-out shares one framing of a room's batch between all the WebSocket clients of a variant
  (:meth:`~hubbub.core.fanout.Batch.transformed`), as it shares the bytes of IRC clients.
- Keepalive: a WebSocket ping after ``ping_interval`` seconds of silence, and the close (1011) when nothing
  has come back ``ping_timeout`` seconds later. The IRC session's own PING and timeouts go on as for
  any client.

Compression (permessage-deflate) is left off: IRC lines are short, and inflating is a cost an attacker
chooses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, cast
from urllib.parse import urlsplit

from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request as WsRequest
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from ..core.fanout import Batch, Queued
from .base import FloodWords, Link, Session
from .http import Request, Response
from .proxy import TrustedNetworks, real_client

__all__ = [
    "BINARY",
    "PATHS",
    "SUBPROTOCOLS",
    "TEXT",
    "Raw",
    "WebSocketOptions",
    "WebSocketSession",
    "frame_lines",
    "origin_allowed",
    "upgrade",
]

log = logging.getLogger("hubbub.websocket")
#: The websockets library's own log of each connection (its opening at info level, every frame at debug):
#: too much for a chat server's log, whose own lines say what matters.
_protocol_log = logging.getLogger("hubbub.websocket.protocol")
_protocol_log.setLevel(logging.WARNING)

#: Where the upgrade is accepted: gamja's default, and the root (irctest, and most other clients).
PATHS = frozenset({"/", "/socket"})
TEXT = Subprotocol("text.ircv3.net")
BINARY = Subprotocol("binary.ircv3.net")
SUBPROTOCOLS = (TEXT, BINARY)
#: Bytes of IRC tags and line a message may carry beyond the line limit (the IRCv3 tags' 4096, and the
#: line's 512, as the IRC session's own limits allow).
MAX_MESSAGE_SLACK = 8192


class Raw(bytes):
    """Bytes queued for a WebSocket connection that are frames already (pong, ping, close): sent as is."""

    __slots__ = ()


@dataclass(slots=True)
class WebSocketOptions:
    """What a reload may change is read from here at each use."""

    #: Origins allowed to open a WebSocket besides the server's own (``*``: any); see origin_allowed.
    origins: tuple[str, ...] = ()
    #: The largest message accepted, in bytes (bigger: close 1009).
    max_message: int = MAX_MESSAGE_SLACK
    ping_interval: float = 90.0
    ping_timeout: float = 60.0
    #: The --trusted-proxy networks, whose forwarded headers say who the client is.
    trusted: TrustedNetworks = field(default_factory=TrustedNetworks)


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a WebSocket upgrade with this ``Origin`` may proceed.

    No ``Origin`` at all: a client that is not a browser (a browser always sends one on a WebSocket), which no
    web page can drive: allowed. An origin whose host and port are the request's ``Host``: the server's own
    page. Any other origin only if the allowlist names it (scheme, host and port, as ``https://chat.example``)
    or holds ``*``. ``null`` (a sandboxed or local page) is foreign.
    """
    if origin is None:
        return True
    if "*" in allowed or origin in allowed:
        return True
    if origin == "null" or host is None:
        return False
    try:
        parts = urlsplit(origin)
        netloc = parts.netloc.lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not netloc:
        return False
    default = ":443" if parts.scheme == "https" else ":80"
    return netloc.removesuffix(default) == host.lower().removesuffix(default)


def _choose(protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The first of the client's subprotocols that is ours (the client's order is its preference); None (text)
    when it offers none of ours."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


def upgrade(
    link: Link,
    request: Request,
    head: bytes,
    options: WebSocketOptions,
    irc: Callable[[Link], Session],
) -> Session | Response:
    """Answer the upgrade request ``request`` (parsed by h11; ``head`` is its raw line and headers, which the
    WebSocket protocol parses again to validate the handshake): a refusal, or the session that now serves
    the connection (the 101 response is queued on ``link``)."""
    if request.target.split("?", 1)[0] not in PATHS:
        return Response(404, b"404 not found (the WebSocket is at /socket)\n")
    headers = dict((name.lower(), value) for name, value in request.headers)
    if not origin_allowed(headers.get("origin"), headers.get("host"), options.origins):
        return Response(403, b"403 forbidden: this origin may not open a WebSocket here\n")
    ws = ServerProtocol(
        select_subprotocol=_choose,
        max_size=options.max_message,
        logger=_protocol_log,
    )
    ws.receive_data(head)
    parsed = ws.events_received()
    if len(parsed) != 1 or not isinstance(parsed[0], WsRequest):
        return Response(400, b"400 bad WebSocket handshake\n")
    response = ws.accept(parsed[0])
    if response.status_code != 101:
        return Response(response.status_code, bytes(response.body or b"bad WebSocket handshake\n"))
    if link.trusted_proxy:
        client = real_client(link.peer_host, request.headers, options.trusted)
        if client != link.peer_host:
            how = "X-Forwarded-For" if "x-forwarded-for" in headers else "Forwarded"
            if not link.set_client_address(client, how):
                return Response(403, b"403 forbidden: too many connections\n")  # the link is closing
    ws.send_response(response)
    # The protocol's parser keeps the request it parsed as long as the connection lives (a local of its
    # suspended generator); nothing reads its headers after the accept, and they are half a WebSocket
    # client's memory when idle.
    parsed[0].headers.clear()
    link.send(Raw(b"".join(ws.data_to_send())))
    binary = ws.subprotocol == BINARY
    return WebSocketSession(link, ws, irc, options, binary=binary)


class WebSocketSession(FloodWords):
    """One IRC client over WebSocket: the connection's session and codec, wrapping an IRC session."""

    __slots__ = (
        "active",
        "binary",
        "close_code",
        "inner",
        "link",
        "options",
        "partial",
        "partial_opcode",
        "ping_sent",
        "silent_since",
        "ws",
    )

    protocol: ClassVar[str] = "websocket"

    def __init__(
        self,
        link: Link,
        ws: ServerProtocol,
        irc: Callable[[Link], Session],
        options: WebSocketOptions,
        *,
        binary: bool = False,
    ) -> None:
        self.link = link
        self.ws = ws
        self.options = options
        #: binary.ircv3.net: binary frames out, any bytes; else text frames, UTF-8 only.
        self.binary = binary
        #: The fragments of a message still coming (the library bounds their total), and its opcode.
        self.partial: list[bytes] = []
        self.partial_opcode = Opcode.TEXT
        #: The close code sent when the connection closes (1001 when the server is going away).
        self.close_code = CloseCode.NORMAL_CLOSURE
        self.active = True
        self.silent_since = 0.0
        self.ping_sent = 0.0
        link.codec = self
        self.inner = irc(link)

    @property
    def exempt_from_flood(self) -> bool:
        return self.inner.exempt_from_flood

    # -- Session --------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.inner.start()

    def data_received(self, data: bytes) -> None:
        """IRC lines (decoded from the frames, through flood control): the IRC session's."""
        self.inner.data_received(data)

    def eof_received(self) -> None:
        self.inner.eof_received()

    def connection_lost(self, reason: str) -> None:
        self.inner.connection_lost(reason)

    def shutdown(self) -> None:
        self.close_code = CloseCode.GOING_AWAY
        self.inner.shutdown()

    def tick(self, now: float) -> None:
        self.inner.tick(now)
        if self.active:
            self.active = False
            self.silent_since = now
            self.ping_sent = 0.0
            return
        options = self.options
        if self.ping_sent:
            if now - self.ping_sent > options.ping_timeout:
                self.close_code = CloseCode.INTERNAL_ERROR
                self._fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout", "WebSocket ping timeout")
        elif self.silent_since and now - self.silent_since > options.ping_interval:
            self.ping_sent = now
            self.ws.send_ping(b"hubbub")
            self._send_frames()

    # -- Codec ----------------------------------------------------------------------------------------------

    def decode(self, data: bytes) -> bytes:
        """Frames in, the IRC lines they carry out (each with CR LF); control frames are answered here."""
        self.active = True
        ws = self.ws
        if ws.state is not State.OPEN:  # closing: what comes now is discarded (the close answered, if one)
            ws.receive_data(data)
            return b""
        ws.receive_data(data)
        lines: list[bytes] = []
        for event in ws.events_received():
            if ws.state is not State.OPEN:
                break
            frame = cast(Frame, event)  # after the handshake, the protocol's events are frames
            opcode = frame.opcode
            data = bytes(frame.data)
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if frame.fin:
                    self._message(opcode, data, lines)
                else:
                    self.partial_opcode = opcode
                    self.partial = [data]
            elif opcode is Opcode.CONT:
                self.partial.append(data)
                if frame.fin:
                    self._message(self.partial_opcode, b"".join(self.partial), lines)
                    self.partial = []
        if ws.state is not State.OPEN:
            self._closing()
        elif ws.writes:  # pongs
            self._send_frames()
        return b"".join(lines)

    def _message(self, opcode: Opcode, payload: bytes, lines: list[bytes]) -> None:
        if opcode is Opcode.TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.ws.fail(CloseCode.INVALID_DATA, f"invalid UTF-8 at position {exc.start}")
                return
        if payload.endswith(b"\n"):
            payload = payload[:-2] if payload.endswith(b"\r\n") else payload[:-1]
        if b"\n" in payload or b"\r" in payload:
            self.link.send(
                b"FAIL * INVALID_MESSAGE :A WebSocket message carries one IRC line, without CR or LF\r\n"
            )
            return
        if payload:
            lines.append(payload + b"\r\n")

    def _closing(self) -> None:
        """The peer closed, or broke the protocol (the close frame saying why is sent): close."""
        ws = self.ws
        self._send_frames()
        if ws.close_rcvd is not None and ws.parser_exc is None and ws.close_rcvd_then_sent:
            reason = f"WebSocket closed ({ws.close_rcvd.code})"
        else:
            sent = ws.close_sent
            code = f" ({sent.code}: {sent.reason})" if sent is not None else ""
            reason = f"WebSocket error{code}"
            log.info("%s from %s", reason, self.link.peer_host)
        self.link.close(reason)

    def _fail(self, code: int, why: str, reason: str) -> None:
        self.ws.fail(code, why)
        self._send_frames()
        self.link.close(reason)

    def _send_frames(self) -> None:
        data = self.ws.data_to_send()
        frames = b"".join(data)
        if frames:
            self.link.send(Raw(frames))

    def encode(self, out: list[Queued], mailbox: object) -> bytes:
        """The queued IRC output, framed: one message per line."""
        frame = _frame_binary if self.binary else _frame_text
        parts = []
        for item in out:
            if type(item) is Batch:
                parts.append(item.transformed(mailbox, frame))
            elif type(item) is Raw:
                parts.append(item)
            else:
                parts.append(frame(cast(bytes, item)))
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def closing(self, reason: str) -> None:
        """The connection is about to close: the close frame goes after the output queued before it."""
        ws = self.ws
        if ws.state is State.OPEN:
            ws.send_close(self.close_code)
            data = b"".join(ws.data_to_send())
            if data:
                self.link.send(Raw(data))


#: Lines up to this long get their frame header from the cache (see _Headers); longer ones are rare.
HEADER_CACHE_MAX = 4096


class _Headers(dict[int, bytes]):
    """The header of an unmasked, unfragmented frame of ``opcode`` carrying a payload of each length: what the
    library's ``Frame.serialize`` puts before the payload, asked of it once per length and kept (it depends on
    nothing else). Framing a line is then one lookup and a join, instead of a Frame object and its checks."""

    def __init__(self, opcode: Opcode) -> None:
        super().__init__()
        self.opcode = opcode

    def __missing__(self, size: int) -> bytes:
        payload = bytes(size)
        frame = Frame(self.opcode, payload).serialize(mask=False, extensions=[])
        header = frame[: len(frame) - size]
        if size <= HEADER_CACHE_MAX:
            self[size] = header
        return header


_HEADERS = {Opcode.TEXT: _Headers(Opcode.TEXT), Opcode.BINARY: _Headers(Opcode.BINARY)}


def frame_lines(data: bytes, opcode: Opcode) -> bytes:
    """IRC lines (each ending with LF) as WebSocket messages of ``opcode``, one per line without its line
    ending; a text message's invalid UTF-8 is replaced (text frames must be UTF-8)."""
    headers = _HEADERS[opcode]
    text = opcode is Opcode.TEXT
    out = []
    lines = data.count(b"\n")
    if (
        data.endswith(b"\r\n")
        and data.count(b"\r\n") == lines == data.count(b"\r")
        and (not text or data.isascii())
    ):
        # What the server writes: CR LF lines, nothing to clean (ASCII, for a text frame).
        for line in data[:-2].split(b"\r\n"):
            if line:
                out.append(headers[len(line)])
                out.append(line)
        return b"".join(out)
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\r" in line:  # a line break to a client that takes CR for one: not in a message of one line
            line = line.replace(b"\r", b"")
        if not line:
            continue
        if text and not line.isascii():
            line = line.decode("utf-8", "replace").encode("utf-8")
        out.append(headers[len(line)])
        out.append(line)
    return b"".join(out)


class _Memo:
    """The framing of the last bytes framed: fan-out to the members of a small room queues the same bytes
    object for each, and each WebSocket member's flush would frame it again."""

    __slots__ = ("data", "framed", "opcode")

    def __init__(self, opcode: Opcode) -> None:
        self.opcode = opcode
        self.data = b""
        self.framed = b""

    def __call__(self, data: bytes) -> bytes:
        if data is not self.data:
            self.framed = frame_lines(data, self.opcode)
            self.data = data
        return self.framed


_frame_text = _Memo(Opcode.TEXT)
_frame_binary = _Memo(Opcode.BINARY)
