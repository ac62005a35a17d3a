"""A TLS listener whose connections from trusted proxies may begin with a PROXY header, before the handshake.

A proxy in front of a TLS port (HAProxy in TCP mode, ``send-proxy``) writes the PROXY header first and then
passes the client's TLS bytes through. An asyncio server with ``ssl=`` would hand the header to the TLS
handshake, and a transport reads eagerly, so the header cannot be taken off in front of the handshake once a
transport owns the socket. So, only when ``--trusted-proxy`` is set, a TLS port is accepted here instead:

- the listening sockets are accepted by this class (a reader on each);
- a connection from an untrusted address goes straight to the loop's TLS transport
  (``loop.connect_accepted_socket(ssl=...)``), as with an asyncio server;
- one from a trusted proxy is first *peeked* at (``MSG_PEEK``, nothing consumed): a PROXY header (see
  :mod:`hubbub.protocols.proxy`) is read off exactly, its length and no more, and the TLS transport then
  starts at the ClientHello; anything else (a TLS record: the proxy sent no header) is left for the
  handshake. The client address the header gives becomes the connection's from its very start
  (``Connection.claimed``), so the limits, the log and the session see only it;
- a header that is malformed, or still unfinished when ``--tls-handshake-timeout`` passes, closes the socket
  (there is no plain-text channel to say why on a TLS port).

Without ``--trusted-proxy`` nothing here runs: TLS ports are ordinary asyncio servers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ..protocols.proxy import V1_MAX, ProxyError, TrustedNetworks, parse_proxy, proxy_start

__all__ = ["ProxiedTlsListener", "listening_sockets"]

log = logging.getLogger("hubbub.net")

#: The most a PROXY header may take (v1 is at most 107 bytes; v2 is bounded by its parser).
PEEK_SIZE = max(V1_MAX, 4096)
#: Seconds between two looks at a header that came in part (the rest is awaited without spinning).
REPEEK = 0.02
#: Connections accepted at most per readiness of a listening socket (fairness with the rest of the loop).
ACCEPT_BATCH = 64


def listening_sockets(host: str | None, port: int, *, backlog: int, reuse_port: bool) -> list[socket.socket]:
    """Bound, listening, non-blocking sockets for ``host`` (None: every interface, IPv4 and IPv6) and
    ``port``, as ``loop.create_server`` makes them."""
    infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    socks: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


class ProxiedTlsListener:
    """Accepts on ``socks``; ``protocol(claimed)`` makes the connection's protocol, ``claimed`` being the
    client address a PROXY header gave (None: none)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        socks: list[socket.socket],
        tls: ssl.SSLContext,
        protocol: Callable[[str | None], asyncio.BaseProtocol],
        trusted: TrustedNetworks,
        *,
        handshake_timeout: float,
        shutdown_timeout: float,
    ) -> None:
        self.loop = loop
        self.sockets = socks
        self.tls = tls
        self.protocol = protocol
        self.trusted = trusted
        self.handshake_timeout = handshake_timeout
        self.shutdown_timeout = shutdown_timeout
        #: Accepted sockets whose PROXY header is awaited, with their deadline's timer.
        self.waiting: dict[socket.socket, asyncio.TimerHandle] = {}
        self.handshakes: set[asyncio.Task[Any]] = set()
        self.closed = False
        for sock in socks:
            loop.add_reader(sock.fileno(), self._accept, sock)

    # -- the asyncio.AbstractServer methods the server uses -----------------------------------------------

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in self.sockets:
            self.loop.remove_reader(sock.fileno())
            sock.close()
        for sock, timer in list(self.waiting.items()):
            timer.cancel()
            self._drop(sock)
        for task in self.handshakes:
            task.cancel()

    async def wait_closed(self) -> None:
        if self.handshakes:
            await asyncio.gather(*self.handshakes, return_exceptions=True)

    # -- accepting -------------------------------------------------------------------------------------------

    def _accept(self, listening: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = listening.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of file descriptors, or the peer gone already: try again later
                log.warning("accept on %s failed: %s", listening.getsockname(), exc)
                return
            sock.setblocking(False)
            if address[0] in self.trusted:
                self.waiting[sock] = self.loop.call_later(self.handshake_timeout, self._timed_out, sock)
                self.loop.add_reader(sock.fileno(), self._peek, sock)
            else:
                self._start(sock, None)

    def _peek(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(PEEK_SIZE, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._give_up(sock, "gone before its TLS handshake")
            return
        if not data:
            self._give_up(sock, "closed before its TLS handshake")
            return
        start = proxy_start(data)
        if start is False:  # no header: the TLS handshake begins
            self._proceed(sock, None)
            return
        header = None
        if start:
            try:
                header = parse_proxy(data)
            except ProxyError as exc:
                self._give_up(sock, f"bad PROXY header before TLS: {exc}")
                return
        if header is None:  # in part: look again soon rather than spin on what is already readable
            self.loop.remove_reader(sock.fileno())
            self.loop.call_later(REPEEK, self._repeek, sock)
            return
        try:
            sock.recv(header.length)  # exactly the header: the rest is the client's TLS
        except OSError:
            self._give_up(sock, "gone before its TLS handshake")
            return
        self._proceed(sock, header.source)

    def _repeek(self, sock: socket.socket) -> None:
        if sock in self.waiting:
            self.loop.add_reader(sock.fileno(), self._peek, sock)

    def _proceed(self, sock: socket.socket, claimed: str | None) -> None:
        timer = self.waiting.pop(sock, None)
        if timer is not None:
            timer.cancel()
        self.loop.remove_reader(sock.fileno())
        self._start(sock, claimed)

    def _timed_out(self, sock: socket.socket) -> None:
        if sock in self.waiting:
            self._give_up(sock, "no PROXY header or TLS handshake in time")

    def _give_up(self, sock: socket.socket, why: str) -> None:
        try:
            peer = sock.getpeername()
        except OSError:
            peer = "?"
        log.info("dropped a connection from %s before TLS: %s", peer, why)
        timer = self.waiting.get(sock)
        if timer is not None:
            timer.cancel()
        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        if self.waiting.pop(sock, None) is not None:
            self.loop.remove_reader(sock.fileno())
        sock.close()

    def _start(self, sock: socket.socket, claimed: str | None) -> None:
        if self.closed:
            sock.close()
            return
        task = self.loop.create_task(self._handshake(sock, claimed))
        self.handshakes.add(task)
        task.add_done_callback(self.handshakes.discard)

    async def _handshake(self, sock: socket.socket, claimed: str | None) -> None:
        try:
            await self.loop.connect_accepted_socket(
                lambda: self.protocol(claimed),
                sock,
                ssl=self.tls,
                ssl_handshake_timeout=self.handshake_timeout,
                ssl_shutdown_timeout=self.shutdown_timeout,
            )
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            log.debug("TLS handshake failed: %s", exc)
            sock.close()
