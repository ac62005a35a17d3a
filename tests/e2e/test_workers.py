"""End-to-end: ``hubbub serve --workers N``: N worker processes share the listening ports (SO_REUSEPORT) under
a supervisor that serves nobody, passes the signals on, starts a crashed worker again and stops them all.

Which worker holds a connection is read from /proc (the accepted socket's inode, among each worker's open
files): Linux only, as is the kernel spreading the connections over SO_REUSEPORT listeners.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, ServerProcess
from hubbub.config import Config
from hubbub.core.cloaks import cloak
from hubbub.workers import WORKER_ENV, Restarts, Supervisor, worker_db
from redis_server import RedisServer

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_REUSEPORT balancing and /proc are Linux's"
)

Start = Callable[..., ServerProcess]
GOODBYE = "* Server shutting down. Goodbye!"
SERVE = [
    sys.executable,
    "-m",
    "hubbub",
    "serve",
    "--host",
    "127.0.0.1",
    "--irc-port",
    "0",
    "--db",
    ":memory:",
]


def worker_pids(server: ServerProcess, count: int) -> dict[int, int]:
    """Once every worker listens: {worker number: process id}, from the supervisor's log."""
    server.wait_log(rf"all {count} workers are listening")
    pids: dict[int, int] = {}
    for line in server.find_log(r"worker \d+/\d+ started \(pid"):
        found = re.search(rf"worker (\d+)/{count} started \(pid (\d+), node (\S+)\)", line)
        assert found, line
        pids[int(found.group(1))] = int(found.group(2))  # the last one started
    assert sorted(pids) == list(range(1, count + 1)), pids
    return pids


def connect(server: ServerProcess, count: int) -> list[Client]:
    """``count`` plain-text clients, connected at once (each is greeted after the IRC sniffing delay)."""
    clients = [Client(server.port) for _ in range(count)]
    server.clients.extend(clients)
    for client in clients:
        client.nick = client.expect(r"^\* Welcome to \S+, (\S+)!").group(1)
        client.expect(r"^\* You are in #lobby")
    return clients


def wait_lines(server: ServerProcess, pattern: str, count: int) -> list[str]:
    """Wait until ``count`` log lines match ``pattern`` (several workers log the same line)."""
    return server.wait_lines(pattern, count)


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def holders(port: int, pids: Iterable[int], clients: Iterable[Client]) -> dict[int, list[Client]]:
    """Which process holds the server side of each client's connection to ``port``: {pid: clients}."""
    accepted: dict[int, int] = {}  # client port -> inode of the accepted socket
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if int(local.rsplit(":", 1)[1], 16) == port and inode:
                accepted[int(remote.rsplit(":", 1)[1], 16)] = inode
    inodes = {pid: _socket_inodes(pid) for pid in pids}
    found: dict[int, list[Client]] = {}
    for client in clients:
        inode = accepted.get(client.sock.getsockname()[1])
        owners = [pid for pid, held in inodes.items() if inode in held]
        assert len(owners) == 1, f"client {client.nick}: accepted socket {inode} held by {owners}"
        found.setdefault(owners[0], []).append(client)
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- refused at startup --------------------------------------------------------------------------------------


def test_several_workers_need_redis(tmp_path: Path) -> None:
    result = subprocess.run(
        [*SERVE, "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "--workers 2 needs --redis" in result.stderr, result.stderr
    assert "listening" not in result.stderr

    config = tmp_path / "hubbub.toml"
    config.write_text("[cluster]\nworkers = 3\n")
    result = subprocess.run(
        [*SERVE, "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "--workers 3 needs --redis" in result.stderr, result.stderr


def test_a_worker_that_cannot_listen_stops_them_all(redis_server: RedisServer) -> None:
    with socket.socket() as busy:  # a port in use by someone else (no SO_REUSEPORT): no worker can share it
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--port", str(port), "--workers", "2", "--redis", redis_server.url],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 2,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    assert "cannot listen" in result.stderr, result.stderr
    assert re.search(
        r"worker [12]/2 \(pid \d+\) exited before it was listening \(exit code 1\)", result.stderr
    )
    assert result.stderr.rstrip().endswith("stopped"), result.stderr


# -- running -------------------------------------------------------------------------------------------------


def test_workers_share_the_port_reload_and_stop_together(
    make_server: Start, redis_server: RedisServer, tmp_path: Path
) -> None:
    config = tmp_path / "hubbub.toml"  # a configuration file: the workers read it too
    config.write_text(
        f'[chat]\nserver_name = "workerhub"\n\n[cluster]\nworkers = 2\nredis = "{redis_server.url}"\n'
    )
    db = tmp_path / "hub.db"
    server = make_server("--config", str(config), "--db", str(db))
    pids = worker_pids(server, 2)
    supervisor = server.proc.pid
    assert len({supervisor, *pids.values()}) == 3
    for number in (1, 2):
        assert server.find_log(rf"worker {number}/2 started \(pid \d+, node \S+-{supervisor}-{number}\)")
    server.wait_log(rf"store: {re.escape(str(db))}$")
    server.wait_log(rf"store: {re.escape(str(tmp_path / 'hub.worker2.db'))}$")
    assert len(server.find_log(rf"listening for plain text on 127\.0\.0\.1:{server.port}$")) == 2

    clients = connect(server, 40)
    assert all(client.seen[0].startswith("* Welcome to workerhub, ") for client in clients)
    held = holders(server.port, pids.values(), clients)
    assert sorted(held) == sorted(pids.values()), {pid: len(c) for pid, c in held.items()}
    assert sum(len(c) for c in held.values()) == 40

    os.kill(supervisor, signal.SIGHUP)
    server.wait_log(r"SIGHUP: passed on to 2 of 2 workers")
    assert len(wait_lines(server, r"SIGHUP: configuration reloaded", 2)) == 2

    assert server.stop(signal.SIGINT) == 0
    for client in clients:
        lines = client.wait_eof()
        assert GOODBYE in lines, lines
    for number, pid in pids.items():
        assert server.find_log(rf"worker {number}/2 \(pid {pid}\) stopped$")
        assert gone(pid)
    assert len(server.find_log(r"hubbub\.net: stopping \(SIGINT\)")) == 2
    assert server.log[-1].endswith("hubbub.workers: stopped"), server.log[-3:]
    assert not server.find_log(r"ERROR|unexpectedly")


def test_every_worker_gives_an_address_the_same_cloak(
    make_server: Start, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Each worker has its own database: the supervisor settles the cloak secret once (in the first worker's
    database) and hands it to them all, so one address has one cloak whichever worker it reaches."""
    db = tmp_path / "hub.db"
    server = make_server("--workers", "2", "--redis", redis_server.url, "--cloak", "auto", "--db", str(db))
    pids = worker_pids(server, 2)
    server.wait_log(r"cloak: on, with a new secret kept in the store \(for every worker\)")
    clients = []
    for number in range(16):
        client = Client(server.port, source="127.0.0.2")  # IRC on the plain-text port
        server.clients.append(client)
        client.send(f"NICK w{number}")
        client.send(f"USER w{number} 0 * :worker test")
        clients.append(client)
    hosts = {client.expect(rf" 001 w{n} :.*!~w{n}@(\S+)$").group(1) for n, client in enumerate(clients)}
    held = holders(server.port, pids.values(), clients)
    assert sorted(held) == sorted(pids.values()), {pid: len(c) for pid, c in held.items()}
    with sqlite3.connect(db) as conn:
        (secret,) = conn.execute("SELECT value FROM meta WHERE name = 'cloak_secret'").fetchone()
    assert hosts == {cloak("127.0.0.2", secret)}
    assert not server.find_log(r"WARNING|ERROR") and not server.find_log(re.escape(secret))


def test_a_killed_worker_is_started_again(make_server: Start, redis_server: RedisServer) -> None:
    server = make_server("--workers", "2", "--redis", redis_server.url)
    pids = worker_pids(server, 2)
    first = connect(server, 20)
    victims = holders(server.port, pids.values(), first).get(pids[2], [])
    assert victims, "worker 2 accepted none of 20 connections"

    os.kill(pids[2], signal.SIGKILL)
    server.wait_log(rf"worker 2/2 \(pid {pids[2]}\) exited unexpectedly \(killed by SIGKILL\)")
    for client in victims:
        client.wait_eof()
    # Worker 1 kept the port while worker 2 was down.
    meanwhile = connect(server, 5)
    restarted = int(server.wait_log(rf"worker 2/2 started \(pid (?!{pids[2]},)(\d+),").group(1))
    server.wait_log(rf"worker 2/2 listening \(pid {restarted}\)")
    assert not gone(pids[1])

    later = connect(server, 30)
    held = holders(server.port, [pids[1], restarted], later)
    assert sorted(held) == sorted([pids[1], restarted]), {pid: len(c) for pid, c in held.items()}
    for client in (*meanwhile, *later):
        client.send("/who")
        client.expect(r"^\* \d+ in #lobby")
    # the fixture stops it with SIGINT and wants exit code 0


def test_a_worker_that_keeps_crashing_is_given_up_on(redis_server: RedisServer) -> None:
    server = ServerProcess("--workers", "2", "--redis", redis_server.url)
    try:
        pids = worker_pids(server, 2)
        killed = [pids[2]]
        for crash in range(1, 7):
            os.kill(killed[-1], signal.SIGKILL)
            server.wait_log(rf"worker 2/2 \(pid {killed[-1]}\) exited unexpectedly")
            if crash <= 5:
                others = "|".join(map(str, killed))
                killed.append(
                    int(server.wait_log(rf"worker 2/2 started \(pid (?!(?:{others}),)(\d+),").group(1))
                )
        server.wait_log(
            r"worker 2/2 \(pid \d+\) exited unexpectedly \(killed by SIGKILL\), the 6th time in 60 s"
        )
        assert server.proc.wait(TIMEOUT) == 1
        server._reader.join(TIMEOUT)
        assert server.find_log(rf"worker 1/2 \(pid {pids[1]}\) stopped$")
        assert len(server.find_log(r"worker 2/2 started")) == 6
        assert gone(pids[1])
    finally:
        server.kill()


# -- the supervisor's parts --------------------------------------------------------------------------------


def test_each_worker_gets_its_ports_database_node_name_and_metrics_port() -> None:
    config = Config(
        host="127.0.0.1",
        port=0,
        irc_port=6667,
        tls_port=None,
        irc_tls_port=0,
        db="data/hub.db",
        metrics_port=9100,
        node_name="edge",
        redis="redis://127.0.0.1:6379/0",
        workers=3,
    )
    supervisor = Supervisor(config, None, ["--port", "0", "--workers", "3"])
    supervisor.prepare()
    try:
        plain, irc_tls = supervisor.ports["port"], supervisor.ports["irc_tls_port"]
        assert supervisor.ports == {"port": plain, "irc_port": 6667, "irc_tls_port": irc_tls}
        assert plain and irc_tls and plain != irc_tls
        # Reserved: bound by the supervisor, so that nobody else takes them before the workers listen ...
        with socket.socket() as other, pytest.raises(OSError) as refused:
            other.bind(("127.0.0.1", plain))
        assert refused.value.errno == errno.EADDRINUSE
        # ... but a worker can, as they all set SO_REUSEPORT.
        with socket.socket() as worker:
            worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            worker.bind(("127.0.0.1", plain))
            worker.listen()
        for worker_, number in zip(supervisor.workers, (1, 2, 3), strict=True):
            args = worker_.argv[worker_.argv.index("serve") + 1 :]
            assert worker_.argv[:4] == [sys.executable, "-m", "hubbub", "serve"]
            assert args == [
                *("--port", "0", "--workers", "3"),
                *("--port", str(plain), "--irc-port", "6667", "--irc-tls-port", str(irc_tls)),
                *("--workers", "1", "--node-name", f"edge-{number}"),
                *("--db", worker_db("data/hub.db", number), "--metrics-port", str(9099 + number)),
            ]
            assert worker_.env[WORKER_ENV] == f"{number}/3"
    finally:
        supervisor.release_ports()
    with socket.socket() as other:
        other.bind(("127.0.0.1", plain))  # free again


def test_worker_databases() -> None:
    assert worker_db("hubbub.db", 1) == "hubbub.db"
    assert worker_db("hubbub.db", 2) == "hubbub.worker2.db"
    assert worker_db("/var/lib/hubbub/chat.sqlite3", 12) == "/var/lib/hubbub/chat.worker12.sqlite3"
    assert worker_db("data/hub", 3) == "data/hub.worker3"
    assert worker_db(":memory:", 2) == ":memory:"
    assert worker_db("memory", 2) == "memory"


def test_more_than_five_crashes_a_minute_is_too_many() -> None:
    restarts = Restarts()
    assert all(restarts.record(t) for t in (0.0, 1.0, 2.0, 3.0, 4.0))
    assert not restarts.record(5.0)
    spaced = Restarts()
    assert all(spaced.record(13.0 * n) for n in range(20))  # never more than five in a minute
    assert len(spaced) == 5
