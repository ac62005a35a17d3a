"""HTTP on the chat ports: recognised by its request line, answered as HTTP, and never turned into chat.

Any web page can make its visitors' browsers send a request to any port they do not block, chat ports
included: without this, the request line and headers of a ``POST`` would be said in ``#lobby`` and the lines
of its body run as commands. So the first line of every connection is looked at (:func:`is_request_line`, by
the sniffer) and an HTTP request goes to an :class:`HttpSession` instead: h11 parses it, with a bound on the
size of the request head (:data:`MAX_HEAD`) and on the time it may take to arrive (:data:`HEAD_TIMEOUT`, so a
slowloris client holds nothing for long), and the session answers it. A successful GET or HEAD keeps the
connection for the next request (HTTP/1.1 keep-alive: a browser loads the page and its files over one
connection, up to :data:`MAX_REQUESTS`, closed when idle for the same timeout); anything else is answered
and closed. A WebSocket upgrade goes to the ``upgrade`` callable instead. What it answers is the
``responder``'s: the IRC port refuses every request with 400, the plain-text ports serve the web page
(:class:`hubbub.web.Site`; :func:`chat_port` is the bare answer that says how to connect). Nothing of the
request reaches the hub, and refusals are logged at info level.

Sans-I/O: bytes in through :meth:`HttpSession.data_received`, bytes out through the link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar

import h11

from .base import FloodWords, Link, Session

__all__ = [
    "HEAD_TIMEOUT",
    "MAX_HEAD",
    "HttpSession",
    "Request",
    "Response",
    "chat_port",
    "is_request_line",
    "refuse",
]

log = logging.getLogger("hubbub.http")

#: The most bytes a request's line and headers may take.
MAX_HEAD = 8192
#: Seconds a client has to send its whole request head (--http-timeout), and the most a kept-alive
#: connection may wait idle for its next request.
HEAD_TIMEOUT = 10.0
#: Requests one connection may make (keep-alive: a page and its files over one connection, as browsers do;
#: each new connection counts against --connect-rate).
MAX_REQUESTS = 100

#: An HTTP request line: a method token, a target without spaces, the version (h11 refuses all but 1.x).
_REQUEST_LINE = re.compile(rb"^[A-Z]{3,10} \S+ HTTP/[0-9]\.[0-9]\r?$")


def is_request_line(line: bytes) -> bool:
    """Whether ``line`` (a first line, without its LF) is an HTTP request line."""
    return _REQUEST_LINE.match(line) is not None


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    #: Headers that replace the defaults of the same name (``_HEADERS``, Content-Type, Content-Length) or
    #: come after them: a page's own Content-Security-Policy, its caching, a HEAD's Content-Length.
    headers: tuple[tuple[str, str], ...] = ()


def refuse(request: Request) -> Response:
    """The IRC port's answer to any HTTP request: it is not a web server."""
    return Response(400, b"This port speaks IRC, not HTTP.\n")


CHAT_PORT_TEXT = b"""\
This is a hubbub chat server. Connect to this port with netcat or telnet (nc HOST PORT) to chat in plain
text, or with an IRC client.
"""


def chat_port(request: Request) -> Response:
    """The plain-text port's answer: how to connect, for a GET or HEAD of ``/``; nothing else is served, and
    no request of any method reaches the chat."""
    if request.method not in ("GET", "HEAD"):
        return Response(405, b"405 method not allowed\n")
    if request.target != "/":
        return Response(404, b"404 not found\n")
    return Response(200, b"" if request.method == "HEAD" else CHAT_PORT_TEXT)


#: Headers every answer carries: nothing here may be framed, sniffed into another type, or cached.
_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Connection", "close"),
)


class HttpSession(FloodWords):
    """One HTTP request on a chat port: parsed, answered by ``responder``, closed."""

    __slots__ = (
        "conn",
        "done",
        "fed",
        "head",
        "idle",
        "link",
        "responder",
        "served",
        "timeout",
        "timer",
        "upgrade",
    )

    protocol: ClassVar[str] = "http"
    exempt_from_flood: ClassVar[bool] = False

    def __init__(
        self,
        link: Link,
        responder: Callable[[Request], Response] = refuse,
        timeout: float = HEAD_TIMEOUT,
        upgrade: Callable[[Link, Request, bytes], Session | Response] | None = None,
    ) -> None:
        self.link = link
        self.responder = responder
        #: Who answers a WebSocket upgrade (None: nobody here, it goes to the responder like any request).
        self.upgrade = upgrade
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        #: The request head gathered so far (h11 gets it whole, once its end has come within MAX_HEAD).
        self.head: bytes | None = b""
        #: What h11 was given with the request's end (the head, and what came after it).
        self.fed = b""
        self.done = False
        self.timeout = timeout
        #: Requests answered on this connection (kept alive), and whether it waits for the next one.
        self.served = 0
        self.idle = False
        self.timer = link.call_later(timeout, self._timed_out)

    def start(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        if self.done:
            return
        self.idle = False
        head = self.head
        if head is not None:
            # h11 bounds only a head still incomplete: a whole one that came in one read is bounded here.
            head += data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                end = head.find(b"\n\n")
            if (end < 0 and len(head) > MAX_HEAD) or end > MAX_HEAD:
                self._answer(
                    Response(431, b"431 request header fields too large\n"), "HTTP request head too big"
                )
                return
            if end < 0:
                self.head = head
                return
            self.head, data = None, head
            self.fed = head
        self.conn.receive_data(data)
        self._next()

    def eof_received(self) -> None:
        if not self.done and self.head is not None:
            self.conn.receive_data(self.head)
            self.head = None
        if not self.done:
            self.conn.receive_data(b"")
            self._next()
        if not self.done:
            self._finish("incomplete HTTP request")

    def connection_lost(self, reason: str) -> None:
        self.done = True
        self.timer.cancel()

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def _next(self) -> None:
        try:
            event = self.conn.next_event()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint
            self._answer(Response(status, f"{status} bad request\n".encode()), f"bad HTTP request: {exc}")
            return
        if isinstance(event, h11.Request):
            request = Request(
                event.method.decode("ascii", "replace"),
                event.target.decode("ascii", "replace"),
                tuple((k.decode("ascii", "replace"), v.decode("latin-1")) for k, v in event.headers),
            )
            what = f"HTTP {request.method} {request.target[:100]}"
            if self.upgrade is not None and _wants_websocket(request):
                trailing = len(self.conn.trailing_data[0])
                answer = self.upgrade(self.link, request, self.fed[: len(self.fed) - trailing])
                if not isinstance(answer, Response):
                    self._switch(answer, what)
                    return
                response = answer
            else:
                response = self.responder(request)
            keep = response.status < 400 and request.method in ("GET", "HEAD") and self.served < MAX_REQUESTS
            self._answer(response, f"{what}: {response.status}", keep=keep)
        elif event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
            self._finish("connection closed")

    def _answer(self, response: Response, why: str, *, keep: bool = False) -> None:
        """Send ``response``; then close, unless ``keep`` and the request allows the connection to serve
        the next one (HTTP/1.1 keep-alive)."""
        log.info("%s from %s", why, self.link.peer_host)
        headers = _headers(response, keep_alive=keep)
        try:
            head = self.conn.send(
                h11.Response(status_code=response.status, headers=headers, reason=_reason(response.status))
            )
            body = self.conn.send(h11.Data(data=response.body)) if response.body else b""
            end = self.conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:  # the request was unreadable before h11 knew its version
            head = _plain_response(response, headers)
            body = end = b""
        self.link.send((head or b"") + (body or b"") + (end or b""))
        if not (keep and self._next_cycle()):
            self._finish(why)

    def _next_cycle(self) -> bool:
        """Make ready for the connection's next request, if the one answered is over (its body read) and
        neither side asked to close; False: close."""
        conn = self.conn
        try:
            while conn.their_state is h11.SEND_BODY:
                if conn.next_event() is h11.NEED_DATA:
                    return False
        except h11.RemoteProtocolError:
            return False
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        conn.start_next_cycle()
        self.served += 1
        self.head = b""
        self.idle = True
        self.timer.cancel()
        self.timer = self.link.call_later(self.timeout, self._timed_out)
        self._next()  # a request already read (pipelined)
        return True

    def _switch(self, session: Session, what: str) -> None:
        """The request was an accepted upgrade: ``session`` serves the connection from now on, starting with
        what came after the request."""
        log.info("%s: 101 %s from %s", what, session.protocol, self.link.peer_host)
        self.done = True
        self.timer.cancel()
        link = self.link
        link.switch(session)
        session.start()
        trailing = self.conn.trailing_data[0]
        codec = link.codec
        if trailing and codec is not None:
            trailing = codec.decode(trailing)
        if trailing:
            session.data_received(trailing)

    def _timed_out(self) -> None:
        if self.done:
            return
        if self.idle:
            self._finish("HTTP connection idle")  # kept alive, and no request came: nothing to answer
        else:
            self._answer(Response(408, b"request timed out\n"), "HTTP request head timed out")

    def _finish(self, reason: str) -> None:
        if self.done:
            return
        self.done = True
        self.timer.cancel()
        self.link.close(reason)


def _headers(response: Response, *, keep_alive: bool = False) -> list[tuple[str, str]]:
    """The response's headers: the defaults, each replaced by the response's own of the same name (and
    without ``Connection: close`` when the connection is kept alive)."""
    own = {name.lower(): (name, value) for name, value in response.headers}
    defaults = [
        ("Content-Type", response.content_type),
        ("Content-Length", str(len(response.body))),
        *(_HEADERS[:-1] if keep_alive else _HEADERS),
    ]
    headers = [own.pop(name.lower(), (name, value)) for name, value in defaults]
    return headers + list(own.values())


def _wants_websocket(request: Request) -> bool:
    return any(name.lower() == "upgrade" and "websocket" in value.lower() for name, value in request.headers)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _plain_response(response: Response, headers: list[tuple[str, str]]) -> bytes:
    """A response written without h11's state machine (it refuses to answer a request it could not parse)."""
    lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body
