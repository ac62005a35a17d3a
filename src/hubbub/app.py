"""The application: what a node serves, built from the configuration, and how it starts, reloads and stops.

:class:`App` builds the store, the hub, the cluster (only with ``--redis``: nothing of hubbub.cluster or redis
is imported otherwise), the protocol options and session factories, the output scheduler and counters, the
network server (:class:`hubbub.net.server.Server`: listeners, connections, shutdown) and the metrics endpoint
(only with ``--metrics-port``). It applies a reloaded configuration to the hub, the protocols' options and the
server, and handles the signals (SIGINT and SIGTERM stop, SIGHUP reloads).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, ConfigError, options
from .core.cloaks import Cloaks, settle
from .core.expiry import SWEEP_BATCH
from .core.hub import Hub, HubLimits
from .net.output import OutputScheduler
from .net.server import Server
from .net.stats import NetStats
from .protocols.base import Link, Session
from .protocols.http import HttpSession, Request, Response, refuse
from .protocols.irc import IrcOptions, IrcSession
from .protocols.plain import PlainOptions, PlainSession
from .protocols.sniff import SniffSession
from .protocols.websocket import WebSocketOptions, upgrade
from .store import MEMORY_SPECS, Store, open_store
from .web import Site

if TYPE_CHECKING:
    from .cluster.node import ClusterNode
    from .cluster.redis import RedisTransport
    from .metrics import Metrics

__all__ = ["App", "hub_limits", "install_hint", "tick_interval"]

# The logger the server's start-up, reload and stop lines have always used.
log = logging.getLogger("hubbub.net")


def hub_limits(config: Config, base: HubLimits | None = None) -> HubLimits:
    """The hub's limits that the configuration sets, over ``base`` (the defaults if None)."""
    return replace(
        base or HubLimits(),
        nick_max=config.nick_max,
        server_name=config.server_name,
        nick_grace=config.nick_grace,
        rooms_per_user=config.rooms_per_user,
        room_members=config.room_max_members,
        list_rooms=config.list_rooms_max,
        login_failures=config.login_failures,
        login_backoff=config.login_backoff,
        hash_queue=config.hash_queue,
        register_per_address=config.register_per_address,
        register_global=config.register_global,
        register_window=config.register_window,
        account_expire=config.account_expire * 86400.0,
        replay_window=config.replay_window,
    )


def install_hint(package: str, extra: str) -> str:
    """How to get an optional dependency, in words that work from a checkout as from an installed package."""
    return (
        f"{package}, which is not installed: from a checkout, scripts/serve installs it (or "
        f".venv/bin/pip install -e '.[{extra}]'); otherwise pip install {package}"
    )


def tick_interval(config: Config) -> float:
    """Seconds between two session ticks: often enough for the shortest of the sessions' timeouts."""
    shortest = min(
        config.registration_timeout, config.ping_interval, config.ping_timeout, config.line_timeout
    )
    return max(0.05, min(5.0, shortest / 4))


class App:
    def __init__(self, config: Config, hub: Hub | None = None) -> None:
        self.config = config
        #: Reads the configuration again for reload_config (the --config file and the command line's
        #: overrides); None: started without a file, nothing to reload.
        self.config_source: Callable[[], Config] | None = None
        #: Called with the new Config after each successful reload, to apply what they own.
        self.on_reload: list[Callable[[Config], None]] = []
        limits = hub_limits(config)
        self.loop = asyncio.get_running_loop()
        #: The cluster (None: this node is alone); hubbub.cluster is imported only with --redis.
        self.cluster: ClusterNode | None = None
        self.transport: RedisTransport | None = None
        #: Whether the store was created by this start (a new install: cloaking is on by default).
        fresh = False
        if hub is None:
            store = open_store(config.db)
            log.info("store: %s", "in memory (nothing is kept)" if config.db in MEMORY_SPECS else config.db)
            fresh = config.db in MEMORY_SPECS or bool(getattr(store, "created", False))
            if config.redis:
                store = self._cluster_store(store)
            hub = Hub(limits, store, history=config.history)
        self.hub = hub
        self.store: Store = hub.store
        self.store.start(self.loop)
        hub.nicks.number_guests_on()  # (a cluster node numbers its guests at random instead, see cluster)
        self._set_cloaks(hub, fresh)
        self.workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubbub-worker")
        hub.run_blocking = self._run_blocking
        hub.call_later = self.loop.call_later
        hub.rehash = self.rehash
        if self.transport is not None:
            self._join_cluster(hub)  # after the hub's hooks are set: the cluster wraps rehash
        #: The metrics endpoint (None: off); hubbub.metrics is imported only when it is configured.
        self.metrics: Metrics | None = None
        self._stop = asyncio.Event()
        #: The next sweep of expired accounts (--account-expire; see core.expiry).
        self._sweep_timer: asyncio.Handle | None = None

        motd = _read_motd(config.motd)
        plain = PlainOptions(
            max_line=config.max_line,
            motd=motd,
            default_room=config.default_room,
            server_name=config.server_name,
            history_replay=config.history_replay,
            line_timeout=config.line_timeout,
        )
        irc = IrcOptions(
            server_name=config.server_name,
            network=config.network,
            motd=motd,
            password=config.password,
            opers=dict(config.opers),
            webirc=dict(config.webirc),
            registration_timeout=config.registration_timeout,
            history_replay=config.history_replay,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            line_timeout=config.line_timeout,
            limits=limits,
        )
        self.irc_options = irc
        self.plain_options = plain
        websocket = self.websocket_options = WebSocketOptions(
            origins=config.ws_origin,
            max_message=irc.max_line,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
        )
        plain.opers = irc.opers  # one table of operators (a reload updates it in place)

        def plain_session(link: Link) -> Session:
            return PlainSession(link, hub, plain)

        def irc_session(link: Link) -> Session:
            return IrcSession(link, hub, irc)

        def websocket_upgrade(link: Link, request: Request, head: bytes) -> Session | Response:
            return upgrade(link, request, head, websocket, irc_session)

        # The web page's files, read once now (a request never touches the disk).
        site = self.site = Site()

        def web_session(link: Link) -> Session:
            return HttpSession(link, site, config.http_timeout, upgrade=websocket_upgrade)

        def not_web_session(link: Link) -> Session:
            return HttpSession(link, refuse, config.http_timeout)

        def sniff_session(link: Link) -> Session:
            return SniffSession(link, plain_session, irc_session, config.sniff_delay, http=web_session)

        def irc_port_session(link: Link) -> Session:
            # IRC clients speak at once: the sniffer only keeps an HTTP request from becoming IRC.
            return SniffSession(link, irc_session, irc_session, config.sniff_delay, http=not_web_session)

        self.output = OutputScheduler(self.loop, self.store)
        self.stats = NetStats()
        hub.on_output = self.output.wake  # type: ignore[assignment]
        from .workers import shares_ports

        self.server = Server(
            config,
            self.output,
            self.stats,
            plain=sniff_session,
            irc=irc_port_session,
            tick_interval=tick_interval(config),
            reuse_port=shares_ports(),
        )
        hub.accounts.limit_exempt = self.server.guard.is_exempt
        websocket.trusted = self.server.state.trusted  # one --trusted-proxy table, the network layer's

    @property
    def addresses(self) -> list[tuple[str, str, int]]:
        """(kind, host, port) of every listening socket."""
        return self.server.addresses

    def _set_cloaks(self, hub: Hub, fresh: bool) -> None:
        """Decide whether users' hosts are cloaked, and with which secret (see core.cloaks.settle)."""
        config = self.config
        from .workers import CLOAK_ENV, WORKER_ENV

        shared = os.environ.get(CLOAK_ENV) if WORKER_ENV in os.environ else None
        if shared is not None:  # a worker of serve --workers N: the supervisor settled it for all
            secret = shared
        else:
            secret, why = settle(config.cloak, hub.store, fresh=fresh, configured=config.cloak_secret)
            log.info("%s", why)
        hub.cloaks = Cloaks(secret, config.cloak_netname, config.cloak_cidr_v4, config.cloak_cidr_v6)
        if secret and config.redis and not config.cloak_secret and shared is None:
            log.warning(
                "cloak: every node of a cluster must share one secret (set cloak_secret), or the same address"
                " has a different cloak on each node"
            )

    # -- the cluster ----------------------------------------------------------------------------------------

    def _cluster_store(self, store: Any) -> Any:
        config = self.config
        try:
            from .cluster.redis import RedisTransport
            from .cluster.replica import ReplicatedStore
        except ImportError as exc:
            raise OSError(f"--redis needs {install_hint('redis-py', 'cluster')}: {exc}") from None
        # Each run of a node is a node of its own (a restarted node must not inherit what its previous run
        # held, such as nickname claims): the name the operator gave, plus a random suffix.
        name = f"{config.node_name or f'{socket.gethostname()}-{os.getpid()}'}~{os.urandom(3).hex()}"
        self.transport = RedisTransport(
            config.redis, config.cluster_name, name, timeout=config.node_timeout, stream_max=config.stream_max
        )
        return ReplicatedStore(store, self.transport)

    def _join_cluster(self, hub: Hub) -> None:
        from .cluster.node import ClusterNode
        from .cluster.replica import ReplicatedStore

        transport = self.transport
        assert transport is not None
        self.cluster = ClusterNode(hub, transport, transport.name, self.config.cluster_name)
        if isinstance(hub.store, ReplicatedStore):
            hub.store.attach(hub, self.cluster)

    # -- starting -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        config = self.config
        if self.transport is not None and self.cluster is not None:
            from .cluster.replica import ReplicatedStore

            store = self.hub.store
            await self.transport.start(self.cluster, store if isinstance(store, ReplicatedStore) else None)
            # Users logged in on other nodes are known once every node has been heard from: no account
            # they use may expire before.
            self._sweep_timer = self.loop.call_later(2 * config.node_timeout, self._sweep_accounts)
        else:
            self._sweep_accounts()  # before anyone connects: the expired names are free from the start
        self.on_reload.append(self._sweep_again)
        await self.server.start()
        # IRCv3 sts: plain-text connections are told the port (the bound one, also when it was 0), TLS ones
        # the duration (which a reload may change).
        self.irc_options.sts_port = self.server.tls_port
        self._apply_sts(config)
        self.on_reload.append(self._apply_sts)
        if config.metrics_port is not None:
            await self._start_metrics(config.metrics_host, config.metrics_port)

    async def _start_metrics(self, host: str, port: int) -> None:
        try:
            from .metrics import Metrics  # needs prometheus-client: imported only when asked for
        except ImportError as exc:
            raise OSError(
                f"--metrics-port needs {install_hint('prometheus-client', 'metrics')}: {exc}"
            ) from None
        metrics = self.metrics = Metrics(self)
        await metrics.start(host, port)

    def _apply_sts(self, config: Config) -> None:
        self.irc_options.sts_duration = config.sts_duration
        if config.sts_duration > 0 and not self.irc_options.sts_port:
            log.warning("--sts-duration needs --irc-tls-port (or --tls-port): sts is not advertised")

    def _sweep_accounts(self) -> None:
        """Remove the accounts nobody logged in to for --account-expire, then schedule the next sweep (at
        once, the loop serving clients in between, if one sweep's batch was not enough)."""
        expiry = self.hub.accounts.expiry
        try:
            removed = expiry.sweep()
        except Exception:
            log.exception("internal error expiring accounts")
            removed = 0
        delay = 0.0 if removed >= SWEEP_BATCH else expiry.interval
        self._sweep_timer = self.loop.call_later(delay, self._sweep_accounts)

    def _sweep_again(self, config: Config) -> None:
        """A reload may have changed --account-expire: sweep with it now (in a cluster, as planned)."""
        if self.cluster is None and self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = self.loop.call_soon(self._sweep_accounts)

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

    # -- signals: SIGINT and SIGTERM stop, SIGHUP reloads ----------------------------------------------------

    def request_stop(self, why: str = "") -> None:
        if not self._stop.is_set():
            log.info("stopping%s", f" ({why})" if why else "")
            self._stop.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self.request_stop, sig.name)
        self.loop.add_signal_handler(signal.SIGHUP, self.on_sighup)

    def on_sighup(self) -> None:
        ok, why = self.rehash()
        log.log(logging.INFO if ok else logging.ERROR, "SIGHUP: %s", why)

    # -- reloading (SIGHUP, IRC REHASH) ----------------------------------------------------------------------

    def rehash(self) -> tuple[bool, str]:
        """SIGHUP and IRC REHASH: the configuration file, then the TLS certificates, again."""
        result = self.reload_config()
        self.server.reload_tls()
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
        hub = self.hub
        limits = hub.limits = hub_limits(config, hub.limits)
        hub.history = config.history
        irc = self.irc_options
        irc.limits = limits
        irc.network = config.network
        irc.motd = motd
        irc.password = config.password
        irc.opers.clear()
        irc.opers.update(config.opers)
        irc.webirc = dict(config.webirc)
        irc.registration_timeout = config.registration_timeout
        irc.history_replay = config.history_replay
        irc.ping_interval = config.ping_interval
        irc.ping_timeout = config.ping_timeout
        irc.line_timeout = config.line_timeout
        irc.settings_changed()
        plain = self.plain_options
        plain.max_line = config.max_line
        plain.default_room = config.default_room
        plain.history_replay = config.history_replay
        plain.motd = motd
        plain.line_timeout = config.line_timeout
        websocket = self.websocket_options
        websocket.origins = config.ws_origin
        websocket.ping_interval = config.ping_interval
        websocket.ping_timeout = config.ping_timeout
        self.server.apply_config(config)
        self.server.tick_interval = tick_interval(config)

    # -- running and stopping -------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run until a stop is requested, then shut down gracefully."""
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        self.server.close_listeners()
        if self.metrics is not None:
            self.metrics.close()
        await self.server.shutdown()
        if self.transport is not None:
            await self.transport.close()
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.store.close()
        log.info("stopped")


def _read_motd(path: str | None) -> list[str] | None:
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    # splitlines: a file that ends with a line end (as editors write them) has no empty last line
    return [line.rstrip("\r") for line in text.splitlines()][:200] or [""]
