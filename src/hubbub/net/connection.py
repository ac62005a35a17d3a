"""One TCP connection: an asyncio protocol that feeds a sans-I/O session and owns a bounded send queue.

Output is coalesced: :meth:`Connection.send` only appends to a list, and the output scheduler flushes every
connection that has output once per loop turn, so all the lines queued for a client in one turn leave in one
``write``.
The queue is bounded: a client whose unsent output (what the kernel would not take) stays over ``sendq`` bytes
for more than ``SENDQ_GRACE`` seconds, or reaches ``SENDQ_HARD_FACTOR`` times ``sendq``, is disconnected,
and nobody else ever waits for it. A client that reads drains a burst within the grace; a stalled one does
not.

Durability: output is written only once every message it could contain is committed to the store. When the
store has writes in flight at flush time, the flushed bytes are *held* with the number of the store barrier
they wait for (OutputScheduler.hold_tag) and released, in order, when that barrier is reached.

A connection depends on :class:`~hubbub.net.state.NetState` and what it names (the output scheduler, the
counters, the admission of connections), never on the server that listens.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..core.fanout import Batch, Queued, enqueue, flatten
from .guard import closing_line

if TYPE_CHECKING:
    from ..protocols.base import Codec, Session, SessionFactory
    from .flood import Flood
    from .guard import Ticket
    from .output import OutputScheduler
    from .state import NetState
    from .stats import NetStats

__all__ = [
    "KEEPALIVE_COUNT",
    "KEEPALIVE_IDLE",
    "KEEPALIVE_INTERVAL",
    "SENDQ_GRACE",
    "SENDQ_HARD_FACTOR",
    "Connection",
    "enable_keepalive",
]

#: Seconds a client's backlog may stay over ``sendq`` (a burst it is draining) before it is disconnected.
SENDQ_GRACE = 1.0
#: A backlog this many times ``sendq`` disconnects at once, whatever the grace.
SENDQ_HARD_FACTOR = 4

log = logging.getLogger("hubbub.net")


#: TCP keepalive on every client socket, by default: probes after this many seconds of silence, this often,
#: and the connection is dropped after this many unanswered: a peer that vanished is found in about two
#: minutes, whatever the protocol (a plain-text client is never pinged). The --keepalive-* settings change
#: them for new connections.
KEEPALIVE_IDLE = 60
KEEPALIVE_INTERVAL = 15
KEEPALIVE_COUNT = 4


def enable_keepalive(
    sock: Any, idle: int = KEEPALIVE_IDLE, interval: int = KEEPALIVE_INTERVAL, count: int = KEEPALIVE_COUNT
) -> bool:
    """Turn on TCP keepalive on ``sock`` (a socket or the transport's view of one): the first probe after
    ``idle`` seconds of silence, then one every ``interval`` seconds, dropped after ``count`` unanswered
    (where the platform has these options); False if it is not a TCP socket or the options are refused."""
    if sock is None or getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (
            ("TCP_KEEPIDLE", idle),
            ("TCP_KEEPINTVL", interval),
            ("TCP_KEEPCNT", count),
        ):
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError:
        return False
    return True


class Connection(asyncio.BufferedProtocol):
    __slots__ = (
        "claimed",
        "close_held",
        "close_timer",
        "codec",
        "factory",
        "flood",
        "held",
        "hung_up",
        "id",
        "kind",
        "loop",
        "open",
        "out",
        "output",
        "over_since",
        "peer",
        "peer_host",
        "read_view",
        "reason",
        "secure",
        "sendq",
        "session",
        "state",
        "stats",
        "ticket",
        "tls",
        "transport",
        "trusted_proxy",
    )

    def __init__(self, state: NetState, factory: SessionFactory, kind: str) -> None:
        self.state = state
        # What the hot paths use, one attribute away.
        self.output: OutputScheduler = state.output
        self.stats: NetStats = state.stats
        self.loop = state.loop
        self.read_view = state.read_view
        self.factory = factory
        self.id = 0
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        #: Output queued during this loop turn. The list is never replaced: the hub's fan-out keeps a
        #: reference to it and appends to it directly.
        self.out: list[Queued] = []
        #: Flushed output waiting for the store: (barrier number, bytes), oldest first.
        self.held: list[tuple[int, bytes]] = []
        #: Close the transport once the held output is written.
        self.close_held = False
        #: False once the connection is closing: nothing more is written.
        self.open = True
        #: The peer closed its side (EOF): on closing, only the answers to it are written, not room lines.
        self.hung_up = False
        #: When the backlog first went over ``sendq`` (loop time), 0 when it is under.
        self.over_since = 0.0
        self.sendq = state.sendq
        self.reason = ""
        self.kind = kind
        #: Whether the transport is TLS (set by the listener that accepted it).
        self.tls = False
        #: Whether the client's connection is over TLS: this one's, or as a trusted gateway says (WEBIRC).
        self.secure = False
        #: The client as the log shows it (address and port; behind a proxy, the proxy's after "via").
        self.peer = "?"
        #: The client's address: the TCP peer's, or the one a trusted proxy gave (set_client_address).
        self.peer_host = "unknown"
        #: Whether peer_host is in --trusted-proxy (see protocols.proxy).
        self.trusted_proxy = False
        #: The client address a PROXY header gave before the TLS handshake (net.proxied; None: none).
        self.claimed: str | None = None
        self.close_timer: asyncio.TimerHandle | None = None
        #: The connection's place in the limits' counts (None: not admitted, or released).
        self.ticket: Ticket | None = None
        #: The input budget (None: exempt from flood control, or flood control is off).
        self.flood: Flood | None = None
        #: The framing of the bytes (a WebSocket session's), between the socket and flood control.
        self.codec: Codec | None = None

    # -- asyncio.BufferedProtocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        enable_keepalive(transport.get_extra_info("socket"), *self.state.keepalive)
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple):
            host = self.peer_host = str(peername[0])
            self.peer = f"[{host}]:{peername[1]}" if ":" in host else f"{host}:{peername[1]}"
            self.trusted_proxy = host in self.state.trusted
        claimed = self.claimed
        if claimed is not None and claimed != self.peer_host:
            self.show_client(claimed)
        if not self.state.admission.attach(self):
            return  # refused (see refuse): no session
        session = self.session = self.factory(self)
        if self.flood is not None:
            self.flood.allow_paste(session.pastes)
        self._guard(session.start)

    def get_buffer(self, sizehint: int) -> memoryview:
        # Every connection reads into the server's one buffer, at most READ_SIZE bytes at a time: a client
        # that sends a flood is served in slices, fairly with the others, and one loop turn's output stays
        # bounded.
        return self.read_view

    def buffer_updated(self, nbytes: int) -> None:
        self.stats.bytes_in += nbytes
        data = bytes(self.read_view[:nbytes])
        codec = self.codec
        if codec is not None:
            try:
                data = codec.decode(data)
            except Exception:
                self._crash()
                return
            if not data:
                return
        flood = self.flood
        if flood is None or flood.take(data, self.loop.time()):
            self.data_received(data)
        else:
            self._over_budget(flood, data)

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is not None and self.open:
            try:
                session.data_received(data)
            except Exception:
                self._crash()

    def eof_received(self) -> bool:
        flood = self.flood
        if flood is not None and flood.held:
            flood.eof = True  # after the held input (see _release)
            return not self.tls
        self.hung_up = True
        session = self.session
        if session is not None and self.open:
            self._guard(session.eof_received)
        if self.open:
            self.close("connection closed")
        # Keep the transport open: close() flushes our output before closing it. (A TLS transport closes
        # itself after flushing what was written, and warns if asked to stay open.)
        return not self.tls

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.reason:
            self.reason = _describe(exc)
        self._shut()
        self.held.clear()
        self.output.held.discard(self)
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        flood = self.flood
        if flood is not None:
            self.flood = None
            if flood.timer is not None:
                flood.timer.cancel()
        session, self.session = self.session, None
        if session is not None:
            self._guard(session.connection_lost, self.reason)
        self.state.admission.detach(self)

    def _shut(self) -> None:
        self.open = False
        self.out.clear()

    # -- limits and flood control ---------------------------------------------------------------------------

    def refuse(self, reason: str) -> None:
        """Turn the connection away before any session starts: one line saying why, then the close."""
        self.reason = reason
        self.open = False
        transport = self.transport
        assert transport is not None
        transport.write(closing_line(self.peer_host, reason))
        transport.close()

    def kill(self, reason: str, last: bytes | None = None) -> None:
        """Disconnect on the server's initiative: the client gets ``last`` (by default the IRC closing line),
        the others see it leave with ``reason``."""
        if not self.open:
            return
        self.send(closing_line(self.peer_host, reason) if last is None else last)
        session, self.session = self.session, None
        if session is not None:
            self._guard(session.connection_lost, reason)
        self.close(reason)

    def _over_budget(self, flood: Flood, data: bytes) -> None:
        """Input over the client's budget: hold it and pass it on as the budget allows, reading nothing more
        meanwhile; a client too far behind is disconnected."""
        session = self.session
        if session is not None and session.exempt_from_flood:
            # Operators are exempt: from now on, nothing is held or counted for this connection.
            self.flood = None
            if flood.timer is not None:
                flood.timer.cancel()
            held, flood.held = flood.held, b""
            if flood.paused and self.transport is not None:
                self.transport.resume_reading()
            self.data_received(held + data)
            if flood.eof:
                self.eof_received()
            return
        now = self.loop.time()
        lag = flood.hold(data, now)
        if session is not None:
            # Tell a person what happens to what they typed or pasted (an IRC session says nothing).
            if not flood.noticed:
                flood.noticed = True
                self._guard(session.slowed, flood.queued(now))
            if flood.allowance and not flood.warned and lag > flood.allowance:
                flood.warned = True
                self._guard(session.lagging, lag, flood.limit)
        if lag > flood.limit:
            flood.held = b""
            self.stats.flood_kills += 1
            log.info("#%d %s: excess flood", self.id, self.peer)
            session = self.session
            last = None
            if session is not None:
                try:
                    last = session.flooded(flood.lines.rate)
                except Exception:
                    log.exception("internal error on connection #%d %s", self.id, self.peer)
            self.kill("Excess Flood", last)
        elif flood.timer is None:
            self._release()

    def _release(self) -> None:
        """Pass on the held input the budget allows now; come back when more is allowed."""
        flood = self.flood
        if flood is None or not self.open:
            return
        flood.timer = None
        data, wait = flood.release(self.loop.time())
        transport = self.transport
        assert transport is not None
        if wait:
            flood.timer = self.loop.call_later(wait, self._release)
            if not flood.paused:
                flood.paused = True
                transport.pause_reading()
        if data:
            self.data_received(data)
        if not wait and self.open and self.flood is flood:
            if flood.paused:
                flood.paused = False
                transport.resume_reading()
            if flood.eof:
                self.eof_received()

    # -- the session's Link ---------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if not self.open:
            return
        out = self.out
        if not out:
            output = self.output
            output.dirty.append(self)
            if not output.flush_scheduled:
                output.schedule_flush()
        enqueue(out, data)

    def close(self, reason: str) -> None:
        """Flush, then close; a peer that does not take the last bytes in time is cut off."""
        if not self.open:
            return
        if not self.reason:
            self.reason = reason
        codec = self.codec
        if codec is not None:
            try:
                codec.closing(reason)
            except Exception:
                log.exception("internal error closing connection #%d %s", self.id, self.peer)
        if self.hung_up:
            # Room lines for someone who hung up are read by nobody, and in a storm of departures each
            # one's share of the turn's batch grows with the others': only the answers to it are written.
            self.out[:] = [item for item in self.out if type(item) is not Batch]
        self.flush(self.output.hold_tag())
        self._shut()
        if self.held:
            self.close_held = True  # closed by release() once the held output is written
            return
        self._close_transport()

    def _close_transport(self) -> None:
        transport = self.transport
        if transport is None:
            return
        if transport.get_write_buffer_size():
            self.close_timer = self.loop.call_later(self.state.close_timeout, transport.abort)
        transport.close()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        def fire() -> None:
            if self.open:
                self._guard(callback)

        return self.loop.call_later(delay, fire)

    def charge_history(self, rows: int) -> None:
        flood = self.flood
        if flood is not None:
            flood.charge_history(rows, self.loop.time())

    def charge_scan(self, items: int) -> None:
        flood = self.flood
        if flood is not None:
            flood.charge_scan(items, self.loop.time())

    def show_client(self, host: str) -> None:
        """From now on the client is at ``host``, as a trusted proxy said (the log shows the proxy after
        "via"); the limits' count is the caller's (see set_client_address)."""
        shown = f"[{host}]" if ":" in host else host
        self.peer = f"{shown} via {self.peer}"
        self.peer_host = host
        self.trusted_proxy = host in self.state.trusted

    def set_client_address(self, host: str, how: str) -> bool:
        """The client is at ``host``, as a trusted proxy or gateway says: counted there by the limits
        (:meth:`~hubbub.net.state.Admission.move`), and shown there from now on."""
        return self.state.admission.move(self, host, how)

    def switch(self, session: Session) -> None:
        self.session = session
        if self.flood is not None:
            self.flood.refund()
            self.flood.allow_paste(session.pastes)
        log.debug("#%d is served by %s", self.id, type(session).__name__)

    def abort(self, reason: str) -> None:
        """Drop the connection at once, discarding its output."""
        if not self.reason:
            self.reason = reason
        self._shut()
        self.held.clear()
        self.output.held.discard(self)
        if self.transport is not None:
            self.transport.abort()

    # -- output ---------------------------------------------------------------------------------------------

    def flush(self, tag: int = 0) -> None:
        """Write what is queued, or hold it until the store reaches barrier ``tag`` (0: nothing to wait for
        but what is already held)."""
        out = self.out
        if not out:
            return
        if not self.open:
            out.clear()
            return
        codec = self.codec
        data = flatten(out, self) if codec is None else codec.encode(out, self)
        out.clear()
        held = self.held
        if tag or held:
            # behind what is already held, whatever this output waits for
            held.append((max(tag, held[-1][0]) if held else tag, data))
            self.output.held.add(self)
            return
        self._write(data)

    def release(self, reached: int) -> None:
        """The store reached barrier ``reached``: write the held output that waited for it."""
        held = self.held
        while held and held[0][0] <= reached:
            self._write(held.pop(0)[1])
        if not held:
            self.output.held.discard(self)
            if self.close_held:
                self.close_held = False
                self._close_transport()

    def _write(self, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        transport.write(data)
        self.stats.bytes_out += len(data)
        backlog = transport.get_write_buffer_size()
        if backlog > self.sendq:
            self._over_sendq(backlog)
        elif self.over_since:
            self.over_since = 0.0

    def _over_sendq(self, backlog: int) -> None:
        """Over ``sendq`` bytes wait for this client: tolerate a burst, not a client that stays behind."""
        now = self.loop.time()
        if backlog > SENDQ_HARD_FACTOR * self.sendq:
            self.stats.sendq_drops += 1
            self.abort("send queue exceeded")
        elif not self.over_since:
            self.over_since = now
        elif now - self.over_since > SENDQ_GRACE:
            self.stats.sendq_drops += 1
            self.abort("send queue exceeded")

    # -- errors ---------------------------------------------------------------------------------------------

    def _guard(self, func: Callable[..., object], *args: object) -> None:
        try:
            func(*args)
        except Exception:
            self._crash()

    def _crash(self) -> None:
        log.exception("internal error on connection #%d %s; closing it", self.id, self.peer)
        session, self.session = self.session, None
        if session is not None and self.open:
            try:
                session.connection_lost("internal error")
            except Exception:
                log.exception("internal error while closing connection #%d", self.id)
        self.close("internal error")


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "connection closed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
