"""The asyncio server: listeners, the set of live connections, the sessions' ticks, and graceful shutdown.

What the server serves is built outside ``net/`` (:mod:`hubbub.app`): the server gets the session factories
for its two kinds of port, the output scheduler and the counters its connections share, and the settings it
reads at run time (:meth:`Server.apply_config` on a reload).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

from ..config import Config
from ..protocols.base import SessionFactory
from ..protocols.proxy import TrustedNetworks
from .connection import Connection
from .flood import Flood, FloodLimits
from .guard import EXEMPT, Guard, GuardLimits, Refused, closing_line
from .output import OutputScheduler
from .proxied import ProxiedTlsListener, listening_sockets
from .state import NetState
from .stats import NetStats
from .tls import TlsError, reload_certificate, server_context

__all__ = ["Server", "keepalive_timings"]

log = logging.getLogger("hubbub.net")


def keepalive_timings(config: Config) -> tuple[int, int, int]:
    """The TCP keepalive timings of the configuration: (idle, interval, count)."""
    return config.keepalive_idle, config.keepalive_interval, config.keepalive_count


class Server:
    def __init__(
        self,
        config: Config,
        output: OutputScheduler,
        stats: NetStats,
        *,
        plain: SessionFactory,
        irc: SessionFactory,
        tick_interval: float,
        reuse_port: bool = False,
    ) -> None:
        #: The configuration in force (see apply_config).
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.state = NetState(
            self.loop,
            output,
            stats,
            self,
            sendq=config.sendq,
            close_timeout=config.shutdown_timeout,
            trusted=TrustedNetworks(config.trusted_proxy),
            keepalive=keepalive_timings(config),
        )
        self.connections: set[Connection] = set()
        self.listeners: list[asyncio.AbstractServer | ProxiedTlsListener] = []
        self.addresses: list[tuple[str, str, int]] = []
        #: The port of the last TLS listener (0: none), which IRCv3 sts advertises.
        self.tls_port = 0
        #: The TLS listeners' context (None: no TLS listener); reload_tls reloads its certificate in place.
        self.tls_context: ssl.SSLContext | None = None
        #: Connection limits (checked in attach) and flood control (None: off).
        self.guard = Guard(GuardLimits.from_config(config))
        self.flood_limits = FloodLimits.from_config(config)
        self._plain_factory = plain
        self._irc_factory = irc
        #: A worker of ``serve --workers N`` shares its ports with the others; a lone server does not.
        self._reuse_port = reuse_port
        #: Seconds between two calls of every session's tick.
        self.tick_interval = tick_interval
        self._ticker: asyncio.TimerHandle | None = None
        self._ids = 0
        self._all_closed: asyncio.Event | None = None

    # -- listeners ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        config = self.config
        tls = None
        if config.tls_port is not None or config.irc_tls_port is not None:
            tls = self.tls_context = self._tls_context()
        await self._listen("plain text", config.port, self._plain_factory)
        if config.irc_port is not None:
            await self._listen("IRC", config.irc_port, self._irc_factory)
        if config.tls_port is not None:
            self.tls_port = await self._listen(
                "plain text over TLS", config.tls_port, self._plain_factory, tls
            )
        if config.irc_tls_port is not None:
            self.tls_port = await self._listen("IRC over TLS", config.irc_tls_port, self._irc_factory, tls)
        self._ticker = self.loop.call_later(self.tick_interval, self._tick)

    def _tls_context(self) -> ssl.SSLContext:
        config = self.config
        option = "--tls-port" if config.tls_port is not None else "--irc-tls-port"
        given = (("--tls-cert", config.tls_cert), ("--tls-key", config.tls_key))
        missing = [name for name, value in given if not value]
        if missing:
            raise TlsError(f"{option} needs {' and '.join(missing)} (docs/tls.md: making a test certificate)")
        assert config.tls_cert is not None and config.tls_key is not None
        ctx = server_context(config.tls_cert, config.tls_key)
        log.info("TLS: certificate %s, key %s", config.tls_cert, config.tls_key)
        return ctx

    async def _listen(
        self, kind: str, port: int, factory: SessionFactory, tls: ssl.SSLContext | None = None
    ) -> int:
        """Listen for ``kind`` connections on ``port`` (over TLS with ``tls``); return the bound port.

        The TLS handshake runs in the loop's SSL transport, never blocking the loop; a client that has not
        completed it within ``--tls-handshake-timeout`` is dropped, and no Connection sees it before it has.
        """
        secure = tls is not None
        state = self.state

        def connection() -> Connection:
            conn = Connection(state, factory, kind)
            conn.tls = conn.secure = secure
            return conn

        if tls is not None and state.trusted:
            return self._listen_proxied(kind, port, factory, tls)
        listener = await self.loop.create_server(
            connection,
            host=self.config.host,
            port=port,
            reuse_address=True,
            reuse_port=self._reuse_port,
            backlog=self.config.backlog,
            ssl=tls,
            ssl_handshake_timeout=self.config.tls_handshake_timeout if secure else None,
            ssl_shutdown_timeout=self.config.shutdown_timeout if secure else None,
        )
        self.listeners.append(listener)
        return self._bound(kind, listener.sockets)

    def _listen_proxied(self, kind: str, port: int, factory: SessionFactory, tls: ssl.SSLContext) -> int:
        """A TLS port behind trusted proxies: accepted by :class:`ProxiedTlsListener`, so that a proxy's PROXY
        header may come before the handshake."""
        config = self.config
        state = self.state

        def connection(claimed: str | None) -> Connection:
            conn = Connection(state, factory, kind)
            conn.tls = conn.secure = True
            conn.claimed = claimed
            return conn

        socks = listening_sockets(config.host, port, backlog=config.backlog, reuse_port=self._reuse_port)
        listener = ProxiedTlsListener(
            self.loop,
            socks,
            tls,
            connection,
            state.trusted,
            handshake_timeout=config.tls_handshake_timeout,
            shutdown_timeout=config.shutdown_timeout,
        )
        self.listeners.append(listener)
        return self._bound(kind, socks)

    def _bound(self, kind: str, sockets: Iterable[Any]) -> int:
        """Record and log the addresses ``sockets`` listen on; the first one's port."""
        first = 0
        for sock in sockets:
            host, bound = sock.getsockname()[:2]
            first = first or bound
            self.addresses.append((kind, host, bound))
            shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
            log.info("listening for %s on %s:%d", kind, shown, bound)
        return first

    def _tick(self) -> None:
        """Let sessions with timeouts (IRC: registration, ping) check them."""
        now = time.monotonic()
        for conn in list(self.connections):
            session = conn.session
            if session is not None and conn.open:
                try:
                    session.tick(now)
                except Exception:
                    log.exception("internal error in timers of #%d", conn.id)
        self._ticker = self.loop.call_later(self.tick_interval, self._tick)

    # -- connections (the connections' Admission) ------------------------------------------------------------

    def attach(self, conn: Connection) -> bool:
        """Admit a new connection (False: the limits refused it, and it was told why and closed)."""
        try:
            ticket = conn.ticket = self.guard.admit(conn.peer_host)
        except Refused as refusal:
            log.info("refused a connection from %s (%s): %s", conn.peer, conn.kind, refusal.message)
            conn.refuse(refusal.message)
            return False
        if ticket is not EXEMPT and self.flood_limits is not None:
            conn.flood = Flood(self.flood_limits)
        self._ids += 1
        conn.id = self._ids
        self.connections.add(conn)
        log.info("#%d connected from %s (%s)", conn.id, conn.peer, conn.kind)
        return True

    def move(self, conn: Connection, host: str, how: str) -> bool:
        """Count ``conn`` under the address ``host`` a trusted proxy gave for its client (``how``), and
        release its place under the proxy's address; the new address is checked against the limits as a new
        connection from it would be (False: refused, told why, closing)."""
        old = conn.ticket
        if old is None or not conn.open:
            return False
        try:
            ticket = self.guard.move(old, host)
        except Refused as refusal:
            log.info("#%d refused %s (%s from %s): %s", conn.id, host, how, conn.peer, refusal.message)
            conn.send(closing_line(host, refusal.message))
            conn.close(refusal.message)
            return False
        conn.ticket = ticket
        flood = conn.flood
        if ticket is EXEMPT:
            if flood is not None and not flood.held and flood.timer is None:
                conn.flood = None
        elif flood is None and self.flood_limits is not None:
            session = conn.session
            if session is None or not session.exempt_from_flood:
                conn.flood = Flood(self.flood_limits, paste=session is not None and session.pastes)
        log.info("#%d is %s (%s from %s)", conn.id, f"[{host}]" if ":" in host else host, how, conn.peer)
        conn.show_client(host)
        return True

    def detach(self, conn: Connection) -> None:
        ticket = conn.ticket
        if ticket is None:
            return  # refused: never attached
        conn.ticket = None
        self.guard.release(ticket)
        self.connections.discard(conn)
        log.info("#%d disconnected %s: %s", conn.id, conn.peer, conn.reason)
        if self._all_closed is not None and not self.connections:
            self._all_closed.set()

    # -- reloading -------------------------------------------------------------------------------------------

    def apply_config(self, config: Config) -> None:
        """A reloaded configuration: the send queue (live connections too), the closing timeout, and for the
        connections that arrive next flood control, the connection limits and the keepalive timings."""
        self.config = config
        state = self.state
        state.sendq = config.sendq
        for conn in self.connections:
            conn.sendq = config.sendq
        state.close_timeout = config.shutdown_timeout
        state.keepalive = keepalive_timings(config)
        self.flood_limits = FloodLimits.from_config(config)
        # The connections counted so far stay counted (and are released as before).
        limits = GuardLimits.from_config(config)
        if limits != self.guard.limits:
            self.guard.reconfigure(limits)

    def reload_tls(self) -> None:
        """Load the TLS certificate and key files again (new connections use them)."""
        ctx = self.tls_context
        if ctx is None:
            return
        cert, key = self.config.tls_cert, self.config.tls_key
        try:
            if not cert or not key:
                raise TlsError("--tls-cert and --tls-key are needed")
            # Into the same context the listeners hold; tried in a fresh one first, so a bad pair changes
            # nothing.
            reload_certificate(ctx, cert, key)
        except TlsError as exc:
            log.error("TLS: certificate not reloaded, the previous one stays in use: %s", exc)
            return
        log.info("TLS: certificate reloaded from %s and %s", cert, key)

    # -- stopping --------------------------------------------------------------------------------------------

    def close_listeners(self) -> None:
        """Accept no more connections (and stop the ticks)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        for listener in self.listeners:
            listener.close()

    async def shutdown(self) -> None:
        """Stop listening; every session sends its shutdown notice and every connection closes, within
        ``--shutdown-timeout`` (then the rest are aborted)."""
        self.close_listeners()
        conns = list(self.connections)
        self._all_closed = asyncio.Event()
        for conn in conns:
            session = conn.session
            if session is not None and conn.open:
                try:
                    session.shutdown()
                except Exception:
                    log.exception("internal error in shutdown notice on #%d", conn.id)
            conn.close("server shutting down")
        if self.connections:
            try:
                await asyncio.wait_for(self._all_closed.wait(), self.config.shutdown_timeout)
            except TimeoutError:
                log.warning("%d connections did not close in time; aborting them", len(self.connections))
                for conn in list(self.connections):
                    conn.abort("shutdown timeout")
        for listener in self.listeners:
            await listener.wait_closed()
