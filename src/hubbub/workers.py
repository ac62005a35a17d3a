"""``hubbub serve --workers N``: N processes serving the same ports (SO_REUSEPORT), under a supervisor.

The supervisor (the process started as ``hubbub serve --workers N``) serves no client. It fixes a concrete
port for every listener (a port of 0, "any free port", is reserved: bound, not listening, with SO_REUSEADDR
and SO_REUSEPORT, until the workers listen on it too), then starts N children::

    python -m hubbub serve <the same arguments> --port P ... --workers 1 --node-name BASE-i --db DB_i

each with ``HUBBUB_WORKER=i/N`` in its environment (which makes its listeners use SO_REUSEPORT, so that the
kernel spreads the connections over the workers) and one end of a socket pair with the supervisor
(``HUBBUB_WORKER_FD``): the worker writes "ready" to it once it listens, and stops when it reads EOF from it
(the supervisor is gone, even killed). The workers share their users and rooms through ``--redis``.

The supervisor forwards SIGINT and SIGTERM (a graceful stop: it waits for the workers, then kills what is
left) and SIGHUP (a reload) to the workers, and starts again a worker that exits unexpectedly (after a
second; it gives up, and stops everything, when one crashes more than ``CRASH_LIMIT`` times a minute).

Nothing of Redis is imported here: the supervisor only starts processes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config, ConfigError
from .settings import ConfigSource
from .store import MEMORY_SPECS, MemoryStore

__all__ = [
    "CHANNEL_ENV",
    "CLOAK_ENV",
    "WORKER_ENV",
    "Restarts",
    "SupervisorChannel",
    "connect_supervisor",
    "shared_cloak_secret",
    "shares_ports",
    "supervise",
    "worker_db",
]

log = logging.getLogger("hubbub.workers")

#: "<i>/<N>" in a worker's environment: its listeners share their ports (SO_REUSEPORT).
WORKER_ENV = "HUBBUB_WORKER"
#: The file descriptor of a worker's end of its socket pair with the supervisor.
CHANNEL_ENV = "HUBBUB_WORKER_FD"
#: The cloak secret the supervisor settled for all its workers ("": they do not cloak), when their own
#: settings leave it to their databases (see shared_cloak_secret).
CLOAK_ENV = "HUBBUB_CLOAK_SECRET"
#: What a worker writes to the supervisor once it listens.
READY = b"ready\n"

#: Seconds the supervisor waits before starting again a worker that exited unexpectedly.
BACKOFF = 1.0
#: A worker exiting unexpectedly more than this many times in ``CRASH_WINDOW`` seconds is given up on.
CRASH_LIMIT = 5
CRASH_WINDOW = 60.0
#: Seconds the supervisor waits for the workers to stop, beyond their --shutdown-timeout, before SIGKILL.
STOP_MARGIN = 5.0

#: The listeners: (Config field, command-line flag, what it serves).
LISTENERS = (
    ("port", "--port", "plain text"),
    ("irc_port", "--irc-port", "IRC"),
    ("tls_port", "--tls-port", "plain text over TLS"),
    ("irc_tls_port", "--irc-tls-port", "IRC over TLS"),
)


# -- in a worker ---------------------------------------------------------------------------------------------


def shares_ports() -> bool:
    """Whether this process is a worker, whose listeners share their ports with the other workers."""
    return bool(os.environ.get(WORKER_ENV))


class SupervisorChannel:
    """A worker's end of its socket pair with the supervisor: it says "ready" once the worker listens, and
    calls ``stop(why)`` when the supervisor goes away (EOF: it exited, or was killed)."""

    def __init__(
        self, sock: socket.socket, loop: asyncio.AbstractEventLoop, stop: Callable[[str], None]
    ) -> None:
        self.sock = sock
        self.loop = loop
        self.stop = stop
        self.watching = True
        sock.set_inheritable(False)
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._unwatch()
            self.stop("the supervisor is gone")

    def ready(self) -> None:
        with contextlib.suppress(OSError):  # the supervisor is gone: _readable sees EOF
            self.sock.send(READY)

    def _unwatch(self) -> None:
        if self.watching:
            self.watching = False
            self.loop.remove_reader(self.sock.fileno())

    def close(self) -> None:
        self._unwatch()
        self.sock.close()


def connect_supervisor(
    loop: asyncio.AbstractEventLoop, stop: Callable[[str], None]
) -> SupervisorChannel | None:
    """In a worker: its channel to the supervisor (None when this process was not started by one). Call
    ``ready()`` on it once listening, and ``close()`` at the end."""
    text = os.environ.pop(CHANNEL_ENV, None)
    if text is None:
        return None
    try:
        sock = socket.socket(fileno=int(text))
    except (ValueError, OSError) as exc:
        log.warning("no channel to the supervisor (%s=%r): %s", CHANNEL_ENV, text, exc)
        return None
    return SupervisorChannel(sock, loop, stop)


# -- in the supervisor ---------------------------------------------------------------------------------------


def shared_cloak_secret(config: Config) -> str | None:
    """The cloak secret all the workers use ("": none of them cloaks), settled once here from ``--cloak`` and
    the first worker's database, so that every worker gives an address the same cloak (each has its own
    database); None when ``--cloak off`` or ``--cloak-secret`` settle it for each worker alike."""
    if config.cloak == "off" or config.cloak_secret:
        return None
    from .core.cloaks import settle
    from .store.schema import MetaFile

    if config.db in MEMORY_SPECS:
        secret, why = settle(config.cloak, MemoryStore(), fresh=True)
    else:
        path = Path(config.db).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        with MetaFile(str(path)) as meta:
            secret, why = settle(config.cloak, meta, fresh=meta.created)
    log.info("%s (for every worker)", why)
    return secret


def worker_db(db: str, index: int) -> str:
    """Worker ``index``'s store: worker 1 keeps ``db``; the others use ``<stem>.worker<i><suffix>`` beside it
    (``hubbub.db`` -> ``hubbub.worker2.db``); an in-memory store stays in memory."""
    if index == 1 or db in MEMORY_SPECS:
        return db
    path = Path(db)
    return str(path.with_name(f"{path.stem}.worker{index}{path.suffix}"))


class Restarts:
    """The unexpected exits of one worker in the last ``window`` seconds."""

    def __init__(self, limit: int = CRASH_LIMIT, window: float = CRASH_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self.times: collections.deque[float] = collections.deque()

    def record(self, now: float) -> bool:
        """Count an exit at ``now`` (monotonic seconds): False if that makes more than ``limit`` in the
        window (give up)."""
        self.times.append(now)
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        return len(self.times) <= self.limit

    def __len__(self) -> int:
        return len(self.times)


def reserve_port(
    host: str | None, taken: Sequence[int] = (), tries: int = 20
) -> tuple[int, list[socket.socket]]:
    """A free port on every address of ``host`` (None: every interface, as the listeners bind it), and the
    sockets bound to it (SO_REUSEADDR and SO_REUSEPORT, not listening) that hold it until they are closed.

    The workers can bind the port too (they set SO_REUSEPORT), anybody else cannot. Ports in ``taken`` are
    not chosen.
    """
    infos = socket.getaddrinfo(host, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    addresses: list[tuple[socket.AddressFamily, tuple[Any, ...]]] = []
    for info in infos:
        entry = (info[0], tuple(info[4]))
        if entry not in addresses:
            addresses.append(entry)
    held: list[socket.socket] = []  # ports in ``taken`` that came up, kept bound while trying again
    try:
        for _ in range(tries):
            sockets: list[socket.socket] = []
            port = 0
            try:
                for family, address in addresses:
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    sock.bind((address[0], port, *address[2:]))
                    port = port or sock.getsockname()[1]
            except OSError as exc:
                for sock in sockets:
                    sock.close()
                if exc.errno != errno.EADDRINUSE or not port:
                    raise
                continue  # free on one address, not on another: another port
            if port in taken:
                held.extend(sockets)
                continue
            return port, sockets
        raise OSError(errno.EADDRINUSE, f"no port free on every address of {host or 'every interface'}")
    finally:
        for sock in held:
            sock.close()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass(eq=False)
class Worker:
    index: int
    argv: list[str]
    env: dict[str, str]
    name: str
    proc: asyncio.subprocess.Process | None = None
    #: Whether it said it listens (its signal handlers are installed by then).
    ready: bool = False
    restarts: Restarts = field(default_factory=Restarts)


class Supervisor:
    """The parent of ``serve --workers N``: starts the workers, passes signals on, restarts the crashed."""

    def __init__(self, config: Config, source: ConfigSource | None, serve_args: Sequence[str]) -> None:
        self.config = config
        self.source = source
        self.count = config.workers
        self.reserved: list[socket.socket] = []
        self.ports: dict[str, int] = {}
        self.workers: list[Worker] = []
        self.stopping = asyncio.Event()
        self.stop_signal = signal.SIGTERM
        self.failed = False
        self.up = 0
        self.all_up = False
        self.serve_args = list(serve_args)

    # -- setting up ------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Fix every listener's port (reserving the free ones) and each worker's command line."""
        config = self.config
        for name, _flag, _kind in LISTENERS:
            port: int | None = getattr(config, name)
            if port is None:
                continue
            if port == 0:
                port, sockets = reserve_port(config.host, list(self.ports.values()))
                self.reserved.extend(sockets)
            self.ports[name] = port
        base = config.node_name or f"{socket.gethostname()}-{os.getpid()}"
        cloak_secret = shared_cloak_secret(config)
        for index in range(1, self.count + 1):
            name = f"{base}-{index}"
            argv = [sys.executable, "-m", "hubbub", "serve", *self.serve_args]
            for option, flag, _kind in LISTENERS:
                if option in self.ports:
                    argv += [flag, str(self.ports[option])]
            argv += ["--workers", "1", "--node-name", name, "--db", worker_db(config.db, index)]
            if config.metrics_port:
                argv += ["--metrics-port", str(config.metrics_port + index - 1)]
            env = dict(os.environ)
            env[WORKER_ENV] = f"{index}/{self.count}"
            if cloak_secret is not None:  # in the environment: not on a command line others can read
                env[CLOAK_ENV] = cloak_secret
            self.workers.append(Worker(index, argv, env, name))

    def release_ports(self) -> None:
        for sock in self.reserved:
            sock.close()
        self.reserved.clear()

    def label(self, worker: Worker) -> str:
        return f"worker {worker.index}/{self.count}"

    # -- running ---------------------------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop, sig)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        shown = ", ".join(
            f"{kind} port {self.ports[name]}" for name, _flag, kind in LISTENERS if name in self.ports
        )
        log.info("starting %d workers sharing %s (pid %d)", self.count, shown, os.getpid())
        tasks = [asyncio.create_task(self.keep(worker)) for worker in self.workers]
        for task in tasks:
            task.add_done_callback(self.kept)
        try:
            await self.stopping.wait()
            await self.stop_workers(tasks)
        finally:
            self.release_ports()
            for task in tasks:
                task.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
        log.info("stopped")
        return 1 if self.failed else 0

    async def keep(self, worker: Worker) -> None:
        """Run one worker, and start it again whenever it exits unexpectedly, until a stop."""
        while not self.stopping.is_set():
            ready, code = await self.run_once(worker)
            if self.stopping.is_set():
                how = "stopped" if code == 0 else f"stopped ({_describe(code)})"
                log.info("%s (pid %d) %s", self.label(worker), worker.proc.pid if worker.proc else 0, how)
                return
            pid = worker.proc.pid if worker.proc else 0
            if not self.all_up and not ready:
                self.fail(
                    f"{self.label(worker)} (pid {pid}) exited before it was listening ({_describe(code)})"
                )
                return
            if not worker.restarts.record(time.monotonic()):
                self.fail(
                    f"{self.label(worker)} (pid {pid}) exited unexpectedly ({_describe(code)}), the"
                    f" {len(worker.restarts)}th time in {CRASH_WINDOW:g} s: giving up"
                )
                return
            log.error(
                "%s (pid %d) exited unexpectedly (%s); starting it again in %g s",
                self.label(worker),
                pid,
                _describe(code),
                BACKOFF,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), BACKOFF)

    def kept(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("internal error watching a worker", exc_info=task.exception())
            self.fail("stopping: a worker can no longer be watched")

    async def run_once(self, worker: Worker) -> tuple[bool, int]:
        """Start the worker and wait for it to exit: (whether it said it listened, its exit code)."""
        loop = asyncio.get_running_loop()
        worker.proc = None
        worker.ready = False
        ours, theirs = socket.socketpair()
        try:
            ours.setblocking(False)
            env = dict(worker.env)
            env[CHANNEL_ENV] = str(theirs.fileno())
            try:
                proc = worker.proc = await asyncio.create_subprocess_exec(
                    *worker.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    env=env,
                    pass_fds=(theirs.fileno(),),
                    # Its own process group: a ^C in the terminal reaches the supervisor alone, which passes
                    # it on.
                    process_group=0,
                )
            except OSError as exc:
                log.error("cannot start %s: %s", self.label(worker), exc)
                return False, 127
            theirs.close()
            log.info("%s started (pid %d, node %s)", self.label(worker), proc.pid, worker.name)
            if self.stopping.is_set():  # the stop came while it was being started
                self.send(worker, signal.SIGTERM)
            said = b""
            with contextlib.suppress(OSError):
                while not said.endswith(b"\n"):
                    data = await loop.sock_recv(ours, 64)
                    if not data:
                        break  # it exited (or closed the channel) first
                    said += data
            if said == READY:
                worker.ready = True
                self.on_ready(worker)
            # ``ours`` stays open while it runs: the worker stops when it closes.
            return worker.ready, await proc.wait()
        finally:
            worker.ready = False
            theirs.close()
            ours.close()

    def on_ready(self, worker: Worker) -> None:
        assert worker.proc is not None
        log.info("%s listening (pid %d)", self.label(worker), worker.proc.pid)
        if self.all_up:
            return
        self.up += 1
        if self.up == self.count:
            self.all_up = True
            self.release_ports()
            log.info("all %d workers are listening", self.count)

    def send(self, worker: Worker, sig: int) -> None:
        proc = worker.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    # -- signals ---------------------------------------------------------------------------------------------

    def request_stop(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            return
        log.info("stopping (%s)", sig.name)
        self.stop_signal = sig
        self.stopping.set()

    def fail(self, why: str) -> None:
        log.error("%s", why)
        self.failed = True
        if not self.stopping.is_set():
            log.info("stopping the workers")
            self.stopping.set()

    def reload(self) -> None:
        """SIGHUP: read the configuration again (for the supervisor's own settings), and pass it on."""
        if self.source is not None and self.source.path is not None:
            try:
                new = self.source()
            except ConfigError:
                pass  # the workers say why
            else:
                self.config = new  # the ports, --workers and the like keep their running values
                from . import logs

                logs.configure(new)
        ready = [worker for worker in self.workers if worker.ready]
        log.info("SIGHUP: passed on to %d of %d workers", len(ready), self.count)
        for worker in ready:
            self.send(worker, signal.SIGHUP)

    async def stop_workers(self, tasks: list[asyncio.Task[None]]) -> None:
        for worker in self.workers:
            # One that has not said it listens may not handle signals yet: SIGTERM stops it quietly.
            self.send(worker, self.stop_signal if worker.ready else signal.SIGTERM)
        timeout = self.config.shutdown_timeout + STOP_MARGIN
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if not pending:
            return
        left = [w for w in self.workers if w.proc is not None and w.proc.returncode is None]
        log.warning("%d workers did not stop in %g s: killing them", len(left), timeout)
        for worker in left:
            self.send(worker, signal.SIGKILL)
        await asyncio.wait(pending, timeout=STOP_MARGIN)


def check(config: Config) -> str | None:
    """Why ``config`` cannot run several workers (None: it can)."""
    if config.workers > 1 and not config.redis:
        return (
            f"--workers {config.workers} needs --redis: the workers share users and rooms through a Redis"
            " or Valkey server (--redis redis://HOST:PORT/DB, or redis in the [cluster] section of the"
            " configuration file)"
        )
    if config.workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        return f"--workers {config.workers} needs SO_REUSEPORT, which this system does not have"
    if config.metrics_port and config.metrics_port + config.workers - 1 > 65535:
        return (
            f"--metrics-port {config.metrics_port} leaves no room for {config.workers} workers (they use"
            " that port and the next ones)"
        )
    return None


def supervise(config: Config, source: ConfigSource | None, serve_args: Sequence[str]) -> int:
    """``hubbub serve --workers N`` (N > 1): start the workers and watch over them until a stop; the exit
    status (0 after a requested stop)."""
    problem = check(config)
    if problem is not None:
        raise SystemExit(f"hubbub: {problem}")
    from . import logs

    logs.configure(config)

    async def run() -> int:
        supervisor = Supervisor(config, source, serve_args)
        try:
            supervisor.prepare()
        except OSError as exc:
            log.error("cannot reserve the ports: %s", exc)
            supervisor.release_ports()
            return 1
        return await supervisor.run()

    with asyncio.Runner() as runner:
        return runner.run(run())
