"""The asyncio server: listeners, the set of live connections, output flushing, and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config, ConfigError, options
from ..core.hub import Hub, HubLimits
from ..protocols.base import Link, Session, SessionFactory
from ..protocols.irc import IrcOptions, IrcSession
from ..protocols.plain import PlainOptions, PlainSession
from ..protocols.sniff import SniffSession
from ..store import MEMORY_SPECS, open_store
from .connection import Connection
from .flood import Flood, FloodLimits
from .guard import EXEMPT, Guard, GuardLimits, Refused
from .tls import TlsError, reload_certificate, server_context

if TYPE_CHECKING:
    from ..cluster.node import ClusterNode
    from ..cluster.redis import RedisTransport
    from ..metrics import Metrics

__all__ = ["Server"]

log = logging.getLogger("hubbub.net")

#: Bytes read from one connection at a time (see Connection.get_buffer).
READ_SIZE = 16384


class Server:
    def __init__(self, config: Config, hub: Hub | None = None) -> None:
        self.config = config
        #: Reads the configuration again for reload_config (the --config file and the command line's
        #: overrides); None: started without a file, nothing to reload.
        self.config_source: Callable[[], Config] | None = None
        #: Called with the new Config after each successful reload, to apply what they own.
        self.on_reload: list[Callable[[Config], None]] = []
        limits = HubLimits(
            nick_max=config.nick_max,
            nick_grace=config.nick_grace,
            rooms_per_user=config.rooms_per_user,
            room_members=config.room_max_members,
        )
        self.loop = asyncio.get_running_loop()
        #: The cluster (None: this node is alone); hubbub.cluster is imported only with --redis.
        self.cluster: ClusterNode | None = None
        self.transport: RedisTransport | None = None
        if hub is None:
            store = open_store(config.db)
            log.info("store: %s", "in memory (nothing is kept)" if config.db in MEMORY_SPECS else config.db)
            if config.redis:
                store = self._cluster_store(store)
            hub = Hub(limits, store, history=config.history)
        self.hub = hub
        self.store = hub.store
        self.store.start(self.loop)
        #: Store barriers asked for and reached (see hold_tag), and the connections holding output.
        self.barriers_asked = 0
        self.barriers_reached = 0
        self.held: set[Connection] = set()
        self.workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubbub-worker")
        hub.run_blocking = self._run_blocking
        hub.call_later = self.loop.call_later
        hub.rehash = self.rehash
        if self.transport is not None:
            self._join_cluster(hub)  # after the hub's hooks are set: the cluster wraps rehash
        self.sendq = config.sendq
        self.close_timeout = config.shutdown_timeout
        self.connections: set[Connection] = set()
        self.read_view = memoryview(bytearray(READ_SIZE))
        #: Connections with output queued this loop turn, flushed together at the end of the turn.
        self.dirty: list[Connection] = []
        #: Groups of connections the hub's fan-out appended to directly this turn (by identity).
        self.dirty_groups: dict[int, list[Connection]] = {}
        self.flush_scheduled = False
        self.listeners: list[asyncio.AbstractServer] = []
        self.addresses: list[tuple[str, str, int]] = []
        #: The TLS listeners' context (None: no TLS listener); SIGHUP reloads its certificate in place.
        self.tls_context: ssl.SSLContext | None = None
        #: Connection limits (checked in attach) and flood control (None: off).
        self.guard = Guard(GuardLimits.from_config(config))
        self.flood_limits = FloodLimits.from_config(config)
        #: Counters for the metrics endpoint (plain ints, read when it is scraped; see hubbub.metrics).
        self.bytes_in = 0
        self.bytes_out = 0
        self.sendq_drops = 0
        self.flood_kills = 0
        #: The metrics endpoint (None: off); hubbub.metrics is imported only when it is configured.
        self.metrics: Metrics | None = None
        self._ids = 0
        self._stop = asyncio.Event()
        self._all_closed: asyncio.Event | None = None
        plain = PlainOptions(
            max_line=config.max_line,
            default_room=config.default_room,
            server_name=config.server_name,
            history_replay=config.history_replay,
        )
        irc = IrcOptions(
            server_name=config.server_name,
            network=config.network,
            motd=_read_motd(config.motd),
            password=config.password,
            opers=dict(config.opers),
            registration_timeout=config.registration_timeout,
            history_replay=config.history_replay,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            limits=limits,
        )
        self.irc_options = irc
        self.plain_options = plain
        plain.opers = irc.opers  # one table of operators (a reload updates it in place)
        hub_ = self.hub
        hub_.on_output = self.wake  # type: ignore[assignment]

        def plain_session(link: Link) -> Session:
            return PlainSession(link, hub_, plain)

        def irc_session(link: Link) -> Session:
            return IrcSession(link, hub_, irc)

        def sniff_session(link: Link) -> Session:
            return SniffSession(link, plain_session, irc_session, config.sniff_delay)

        self._plain_factory: SessionFactory = sniff_session
        self._irc_factory: SessionFactory = irc_session
        shortest = min(config.registration_timeout, config.ping_interval, config.ping_timeout)
        self.tick_interval = max(0.05, min(5.0, shortest / 4))
        self._ticker: asyncio.TimerHandle | None = None

    # -- the cluster ----------------------------------------------------------------------------------------

    def _cluster_store(self, store: Any) -> Any:
        config = self.config
        try:
            from ..cluster.redis import RedisTransport
            from ..cluster.replica import ReplicatedStore
        except ImportError as exc:
            raise OSError(f"--redis needs redis-py (pip install 'hubbub[cluster]'): {exc}") from None
        # Each run of a node is a node of its own (a restarted node must not inherit what its previous run
        # held, such as nickname claims): the name the operator gave, plus a random suffix.
        name = f"{config.node_name or f'{socket.gethostname()}-{os.getpid()}'}~{os.urandom(3).hex()}"
        self.transport = RedisTransport(
            config.redis, config.cluster_name, name, timeout=config.node_timeout, stream_max=config.stream_max
        )
        return ReplicatedStore(store, self.transport)

    def _join_cluster(self, hub: Hub) -> None:
        from ..cluster.node import ClusterNode
        from ..cluster.replica import ReplicatedStore

        transport = self.transport
        assert transport is not None
        self.cluster = ClusterNode(hub, transport, transport.name, self.config.cluster_name)
        if isinstance(hub.store, ReplicatedStore):
            hub.store.attach(hub, self.cluster)

    # -- listeners ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        config = self.config
        if self.transport is not None and self.cluster is not None:
            from ..cluster.replica import ReplicatedStore

            store = self.hub.store
            await self.transport.start(self.cluster, store if isinstance(store, ReplicatedStore) else None)
        tls = None
        if config.tls_port is not None or config.irc_tls_port is not None:
            tls = self.tls_context = self._tls_context()
        await self._listen("plain text", config.port, self._plain_factory)
        if config.irc_port is not None:
            await self._listen("IRC", config.irc_port, self._irc_factory)
        sts_port = 0
        if config.tls_port is not None:
            sts_port = await self._listen("plain text over TLS", config.tls_port, self._plain_factory, tls)
        if config.irc_tls_port is not None:
            sts_port = await self._listen("IRC over TLS", config.irc_tls_port, self._irc_factory, tls)
        # IRCv3 sts: plain-text connections are told the port (the bound one, also when it was 0), TLS ones
        # the duration (which a reload may change).
        self.irc_options.sts_port = sts_port
        self._apply_sts(config)
        self.on_reload.append(self._apply_sts)
        if config.metrics_port is not None:
            await self._start_metrics(config.metrics_host, config.metrics_port)
        self._ticker = self.loop.call_later(self.tick_interval, self._tick)

    async def _start_metrics(self, host: str, port: int) -> None:
        try:
            from ..metrics import Metrics  # needs prometheus-client: imported only when asked for
        except ImportError as exc:
            raise OSError(
                f"--metrics-port needs prometheus-client (pip install 'hubbub[metrics]'): {exc}"
            ) from None
        metrics = self.metrics = Metrics(self)
        await metrics.start(host, port)

    def _apply_sts(self, config: Config) -> None:
        self.irc_options.sts_duration = config.sts_duration
        if config.sts_duration > 0 and not self.irc_options.sts_port:
            log.warning("--sts-duration needs --irc-tls-port (or --tls-port): sts is not advertised")

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

    def _tick(self) -> None:
        """Let sessions with timeouts (IRC: registration, ping) check them."""
        now = time.monotonic()
        for conn in list(self.connections):
            tick = getattr(conn.session, "tick", None)
            if tick is not None and conn.open:
                try:
                    tick(now)
                except Exception:
                    log.exception("internal error in timers of #%d", conn.id)
        self._ticker = self.loop.call_later(self.tick_interval, self._tick)

    async def _listen(
        self, kind: str, port: int, factory: SessionFactory, tls: ssl.SSLContext | None = None
    ) -> int:
        """Listen for ``kind`` connections on ``port`` (over TLS with ``tls``); return the bound port.

        The TLS handshake runs in the loop's SSL transport, never blocking the loop; a client that has not
        completed it within ``--tls-handshake-timeout`` is dropped, and no Connection sees it before it has.
        """
        secure = tls is not None

        def connection() -> Connection:
            conn = Connection(self, factory, kind)
            conn.secure = secure
            return conn

        from ..workers import shares_ports

        listener = await self.loop.create_server(
            connection,
            host=self.config.host,
            port=port,
            reuse_address=True,
            # A worker of ``serve --workers N`` shares its ports with the others; a lone server does not.
            reuse_port=shares_ports(),
            backlog=self.config.backlog,
            ssl=tls,
            ssl_handshake_timeout=self.config.tls_handshake_timeout if secure else None,
            ssl_shutdown_timeout=self.config.shutdown_timeout if secure else None,
        )
        self.listeners.append(listener)
        first = 0
        for sock in listener.sockets:
            host, bound = sock.getsockname()[:2]
            first = first or bound
            self.addresses.append((kind, host, bound))
            shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
            log.info("listening for %s on %s:%d", kind, shown, bound)
        return first

    # -- connections ----------------------------------------------------------------------------------------

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

    def schedule_flush(self) -> None:
        self.flush_scheduled = True
        self.loop.call_soon(self._flush)

    def wake(self, group: list[Connection]) -> None:
        """The hub appended output for every connection of ``group``: write it at the end of this turn."""
        self.dirty_groups[id(group)] = group
        if not self.flush_scheduled:
            self.schedule_flush()

    def _flush(self) -> None:
        self.flush_scheduled = False
        tag = self.hold_tag()
        dirty, self.dirty = self.dirty, []
        for conn in dirty:
            conn.flush(tag)
        if self.dirty_groups:
            groups, self.dirty_groups = self.dirty_groups, {}
            for group in groups.values():
                for conn in group:
                    if conn.out:
                        conn.flush(tag)

    def _run_blocking(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``job`` on a worker thread, then ``done(result)`` on the loop (errors are logged)."""

        def finished(future: Future[Any]) -> None:
            try:
                result = future.result()
            except Exception:
                log.exception("internal error in a background job")
                return
            try:
                done(result)
            except Exception:
                log.exception("internal error after a background job")

        future = self.workers.submit(job)
        future.add_done_callback(lambda f: self.loop.call_soon_threadsafe(finished, f))

    # -- durability: nothing is written before the messages it carries are committed -------------------------

    def hold_tag(self) -> int:
        """0 if the store has committed everything; else the number of a new store barrier that output
        flushed now must wait for (see Connection.flush)."""
        if not self.store.pending():
            return 0
        self.barriers_asked += 1
        self.store.when_durable(self._barrier_reached)
        return self.barriers_asked

    def _barrier_reached(self) -> None:
        # Barriers are reached in the order they were asked for.
        self.barriers_reached += 1
        reached = self.barriers_reached
        for conn in list(self.held):
            conn.release(reached)

    # -- running and stopping -------------------------------------------------------------------------------

    def request_stop(self, why: str = "") -> None:
        if not self._stop.is_set():
            log.info("stopping%s", f" ({why})" if why else "")
            self._stop.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self.request_stop, sig.name)
        self.loop.add_signal_handler(signal.SIGHUP, self.on_sighup)

    # -- reloading (SIGHUP, IRC REHASH) ----------------------------------------------------------------------

    def on_sighup(self) -> None:
        ok, why = self.rehash()
        log.log(logging.INFO if ok else logging.ERROR, "SIGHUP: %s", why)

    def rehash(self) -> tuple[bool, str]:
        """SIGHUP and IRC REHASH: the configuration file, then the TLS certificates, again."""
        result = self.reload_config()
        self.reload_tls()
        return result

    def reload_config(self) -> tuple[bool, str]:
        """Read the configuration file again and apply it atomically: (True, what changed) or (False, why
        it was refused, the running configuration staying as it is)."""
        source = self.config_source
        if source is None:
            return False, "no configuration file to reload (the server was started without --config)"
        refused = "configuration not reloaded, the running one stays"
        try:
            new = source()
        except ConfigError as exc:
            return False, f"{refused}: {exc}"
        try:
            motd = _read_motd(new.motd)
        except OSError as exc:
            return False, f"{refused}: [chat] motd: cannot read {new.motd!r}: {exc.strerror or exc}"
        old = self.config
        # What needs a restart keeps its running value, so that self.config always tells the truth.
        kept = [o.name for o in options() if not o.live and getattr(new, o.name) != getattr(old, o.name)]
        new = replace(new, **{name: getattr(old, name) for name in kept})
        changed = [o.name for o in options() if getattr(new, o.name) != getattr(old, o.name)]
        if "motd" not in changed and motd != self.irc_options.motd:
            changed.append("motd")  # the same file, new text
        self.config = new
        self._apply_config(new, motd)
        for callback in list(self.on_reload):
            try:
                callback(new)
            except Exception:
                log.exception("internal error applying the reloaded configuration")
        why = "configuration reloaded: " + (f"changed {', '.join(changed)}" if changed else "nothing changed")
        if kept:
            why += f"; not changed until a restart: {', '.join(kept)}"
        return True, why

    def _apply_config(self, config: Config, motd: list[str] | None) -> None:
        """Update the settings that sessions, connections and timers read at run time (see reload_config)."""
        self.sendq = config.sendq
        for conn in self.connections:
            conn.sendq = config.sendq
        self.close_timeout = config.shutdown_timeout
        hub = self.hub
        limits = replace(
            hub.limits,
            nick_max=config.nick_max,
            nick_grace=config.nick_grace,
            rooms_per_user=config.rooms_per_user,
            room_members=config.room_max_members,
        )
        hub.limits = limits
        hub.history = config.history
        irc = self.irc_options
        irc.limits = limits
        irc.network = config.network
        irc.motd = motd
        irc.password = config.password
        irc.opers.clear()
        irc.opers.update(config.opers)
        irc.registration_timeout = config.registration_timeout
        irc.history_replay = config.history_replay
        irc.ping_interval = config.ping_interval
        irc.ping_timeout = config.ping_timeout
        irc._welcome = irc._motd = None  # rendered again from the new settings
        plain = self.plain_options
        plain.max_line = config.max_line
        plain.default_room = config.default_room
        plain.history_replay = config.history_replay
        self.flood_limits = FloodLimits.from_config(config)
        self._reload_guard(config)
        shortest = min(config.registration_timeout, config.ping_interval, config.ping_timeout)
        self.tick_interval = max(0.05, min(5.0, shortest / 4))

    def _reload_guard(self, config: Config) -> None:
        """New connection limits; the connections counted so far stay counted (and are released as before)."""
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

    async def serve(self) -> None:
        """Run until a stop is requested, then shut down gracefully."""
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for listener in self.listeners:
            listener.close()
        if self.metrics is not None:
            self.metrics.close()
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
        if self.transport is not None:
            await self.transport.close()
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.store.close()
        log.info("stopped")


def _read_motd(path: str | None) -> list[str] | None:
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n")][:200] or [""]
