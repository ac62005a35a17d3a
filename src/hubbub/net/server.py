"""The asyncio server: listeners, the set of live connections, output flushing, and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import Config
from ..core.hub import Hub, HubLimits
from ..protocols.base import Link, Session, SessionFactory
from ..protocols.irc import IrcOptions, IrcSession
from ..protocols.plain import PlainOptions, PlainSession
from ..protocols.sniff import SniffSession
from ..store import MEMORY_SPECS, open_store
from .connection import Connection

__all__ = ["Server"]

log = logging.getLogger("hubbub.net")

#: Bytes read from one connection at a time (see Connection.get_buffer).
READ_SIZE = 16384


class Server:
    def __init__(self, config: Config, hub: Hub | None = None) -> None:
        self.config = config
        limits = HubLimits(
            nick_max=config.nick_max, nick_grace=config.nick_grace, rooms_per_user=config.rooms_per_user
        )
        self.loop = asyncio.get_running_loop()
        if hub is None:
            store = open_store(config.db)
            log.info("store: %s", "in memory (nothing is kept)" if config.db in MEMORY_SPECS else config.db)
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
        hub.rehash = self.reload_config
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

    # -- listeners ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._listen("plain text", self.config.port, self._plain_factory)
        if self.config.irc_port is not None:
            await self._listen("IRC", self.config.irc_port, self._irc_factory)
        self._ticker = self.loop.call_later(self.tick_interval, self._tick)

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

    async def _listen(self, kind: str, port: int, factory: SessionFactory) -> None:
        listener = await self.loop.create_server(
            lambda: Connection(self, factory, kind),
            host=self.config.host,
            port=port,
            reuse_address=True,
            backlog=self.config.backlog,
        )
        self.listeners.append(listener)
        for sock in listener.sockets:
            host, bound = sock.getsockname()[:2]
            self.addresses.append((kind, host, bound))
            shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
            log.info("listening for %s on %s:%d", kind, shown, bound)

    # -- connections ----------------------------------------------------------------------------------------

    def attach(self, conn: Connection) -> None:
        self._ids += 1
        conn.id = self._ids
        self.connections.add(conn)
        log.info("#%d connected from %s (%s)", conn.id, conn.peer, conn.kind)

    def detach(self, conn: Connection) -> None:
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
        ok, why = self.reload_config()
        log.log(logging.INFO if ok else logging.ERROR, "SIGHUP: %s", why)
        self.reload_tls()

    def reload_config(self) -> tuple[bool, str]:
        """Read the configuration file again and apply it atomically: (True, what changed) or (False, why
        it was refused, the running configuration staying as it is)."""
        return False, "no configuration file to reload"

    def reload_tls(self) -> None:
        """Load the TLS certificate and key files again (new connections use them)."""

    async def serve(self) -> None:
        """Run until a stop is requested, then shut down gracefully."""
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for listener in self.listeners:
            listener.close()
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
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.store.close()
        log.info("stopped")


def _read_motd(path: str | None) -> list[str] | None:
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n")][:200] or [""]
