"""End-to-end: one real server against 300 abusive clients at once, then normal service.

The abusive clients, all on 127.0.0.1 (loopback is exempt from the per-address limits and flood control by
default, so none is refused and the server's own defences are what is tested): random bytes on both ports,
over-long lines, connections that never speak, connections half-closed at once, partial lines then a close
(some with a reset), and floods into rooms, by clients that read what they are sent and by clients that
never do. Afterwards a plain-text client and an
IRC client connect, chat with each other and get answers, the server logged no internal error, and its
resident memory comes back near what it was before (within ``RSS_SLACK``).

Every count is fixed and every wait is bounded: the clients' sockets time out, the test waits for the
server's log to show every abusive connection gone, and polls the server's RSS until a deadline.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers import TIMEOUT, ServerProcess

RANDOM_IRC, RANDOM_PLAIN = 30, 30
LONG_IRC, LONG_PLAIN = 20, 20
IDLE_IRC, IDLE_PLAIN = 30, 30
HALF_OPEN = 40
PARTIAL = 40
FLOOD_IRC, FLOOD_PLAIN = 30, 30
ABUSERS = (
    (RANDOM_IRC + RANDOM_PLAIN + LONG_IRC + LONG_PLAIN + IDLE_IRC + IDLE_PLAIN + HALF_OPEN + PARTIAL)
    + FLOOD_IRC
    + FLOOD_PLAIN
)
FLOOD_LINES = 2000
#: How far above its pre-abuse size the server's RSS may stay once the abusive clients are gone.
RSS_SLACK = 30 * 1024 * 1024


def rss(pid: int) -> int:
    """The resident set size of process ``pid``, in bytes (/proc/<pid>/status VmRSS)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.settimeout(TIMEOUT)
    return sock


def send(port: int, data: bytes, how: str, chunk: int = 16384) -> socket.socket | None:
    """Send ``data`` (stopping quietly if the server hangs up), then, by ``how``:

    - ``close``: close at once (the server may not have read everything; reset: with an RST);
    - ``drain``: end the output (FIN) and read until the server closes, so that it handles every byte;
    - ``stall``: return the socket, still open, never to be read: the caller closes it at the end.
    """
    sock = connect(port)
    try:
        for i in range(0, len(data), chunk):
            sock.sendall(data[i : i + chunk])
        if how == "stall":
            return sock
        if how == "drain":
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
    except OSError:
        pass  # dropped by the server (or timed out): outcomes the test allows
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return None


def flood_irc(port: int, i: int, how: str) -> socket.socket | None:
    head = f"NICK flood{i}\r\nUSER f 0 * :flooder\r\nJOIN #flood\r\n".encode()
    body = b"".join(f"PRIVMSG #flood :flood {i} line {n} {'x' * 60}\r\n".encode() for n in range(FLOOD_LINES))
    return send(port, head + body, how)


def flood_plain(port: int, i: int, how: str) -> socket.socket | None:
    body = b"".join(f"flood {i} line {n} {'y' * 60}\n".encode() for n in range(FLOOD_LINES))
    return send(port, b"/join #pflood\n" + body, how)


class LogCounter:
    """Counts the server's connection log lines as they arrive (waiting on its log's condition variable)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def counts(self) -> tuple[int, int]:
        log = self.server.log
        return (
            sum(1 for line in log if " connected from " in line),
            sum(1 for line in log if " disconnected " in line),
        )

    def wait(self, done: Callable[[int, int], bool], timeout: float) -> tuple[int, int]:
        cond = self.server._cond
        with cond:
            cond.wait_for(lambda: done(*self.counts()), timeout)
            return self.counts()


def chat_works(server: ServerProcess, tag: str) -> None:
    """A new plain-text client and a new IRC client meet in #lobby, talk, and get answers."""
    plain = server.connect(f"calm{tag}")
    irc = server.irc(f"irc{tag}")
    irc.send("JOIN #lobby")
    irc.expect(rf" 366 irc{tag} #lobby ")
    plain.expect(rf"^\* irc{tag} joined #lobby$")
    plain.send(f"hello from plain {tag}")
    irc.expect(rf"^:calm{tag}!plain@127\.0\.0\.1 PRIVMSG #lobby :hello from plain {tag}$")
    irc.send(f"PRIVMSG #lobby :hello from irc {tag}")
    plain.expect(rf"^<irc{tag}> hello from irc {tag}$")
    irc.send(f"PING :{tag}")
    irc.expect(rf"PONG \S+ :{tag}$")
    plain.send("/who")
    plain.expect(r"^\* \d+ in #lobby: ")
    for client in (plain, irc):
        server.clients.remove(client)
        client.close()


def test_hundreds_of_abusive_clients_at_once(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    # History in a SQLite file, as by default: an in-memory store would keep every flooded line, by design.
    server = make_server("--irc-port", "auto", "--db", str(tmp_path / "abuse.db"))
    pid = server.proc.pid
    log = LogCounter(server)
    chat_works(server, "0")  # warm up: everything a normal session uses is loaded
    log.wait(lambda c, d: c == d, TIMEOUT)
    baseline = rss(pid)

    rng = random.Random(20240601)
    port, irc_port = server.port, server.irc_port
    held: list[socket.socket] = []  # idle and half-open connections, kept until the end
    peak = baseline
    stop_sampling = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop_sampling.wait(0.05) and server.proc.poll() is None:
            try:
                peak = max(peak, rss(pid))
            except (OSError, AssertionError):  # the server is gone: the test fails on its own
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        for i in range(IDLE_IRC + IDLE_PLAIN):
            held.append(connect(irc_port if i < IDLE_IRC else port))
        for i in range(HALF_OPEN):
            sock = connect(irc_port if i % 2 else port)
            sock.shutdown(socket.SHUT_WR)
            held.append(sock)
        jobs: list[Callable[[], socket.socket | None]] = []
        for i in range(RANDOM_IRC + RANDOM_PLAIN):
            data = rng.randbytes(16384)
            jobs.append(lambda d=data, p=(irc_port if i < RANDOM_IRC else port): send(p, d, "drain"))
        for i in range(LONG_IRC + LONG_PLAIN):
            data = b"A" * 262144 + b"\r\nPING :after\r\n"
            jobs.append(lambda d=data, p=(irc_port if i < LONG_IRC else port): send(p, d, "drain", 65536))
        for i in range(PARTIAL):
            data = b"PRIVMSG #lobby :half a li" if i % 2 else b"half a line, never finish"
            how = "reset" if i % 3 == 0 else "close"
            jobs.append(lambda d=data, p=(irc_port if i % 4 < 2 else port), h=how: send(p, d, h))
        for i in range(FLOOD_IRC):  # half of the flooders read what they are sent, half never do
            jobs.append(lambda i=i: flood_irc(irc_port, i, "drain" if i % 2 else "stall"))
        for i in range(FLOOD_PLAIN):
            jobs.append(lambda i=i: flood_plain(port, i, "drain" if i % 2 else "stall"))
        rng.shuffle(jobs)
        with ThreadPoolExecutor(max_workers=64) as pool:
            for future in [pool.submit(job) for job in jobs]:
                stalled = future.result(timeout=TIMEOUT * 6)
                if stalled is not None:
                    held.append(stalled)
        assert len(jobs) + IDLE_IRC + IDLE_PLAIN + HALF_OPEN == ABUSERS
        # Everyone connected (the server counted them all), and nobody was refused.
        connected, _ = log.wait(lambda c, d: c >= ABUSERS + 2, TIMEOUT * 3)
        assert connected >= ABUSERS + 2
        assert not server.find_log(r"refused a connection")
    finally:
        for sock in held:
            sock.close()
        abuse_seconds = time.monotonic() - started
        try:
            connected, disconnected = log.wait(lambda c, d: c == d, TIMEOUT * 3)
        finally:
            stop_sampling.set()
            sampler.join(TIMEOUT)
    assert connected == disconnected, f"{connected - disconnected} connections still open"

    chat_works(server, "1")
    assert not server.find_log(r"internal error|Traceback")

    deadline = time.monotonic() + TIMEOUT * 2
    after = rss(pid)
    while after > baseline + RSS_SLACK and time.monotonic() < deadline:
        threading.Event().wait(0.25)  # polling the RSS, bounded by the deadline
        after = rss(pid)
    mib = 1024 * 1024
    reasons = Counter(line.rpartition(": ")[2] for line in server.log if " disconnected " in line)
    print(
        f"\nabuse: {ABUSERS} clients in {abuse_seconds:.1f}s; RSS baseline {baseline / mib:.1f} MiB,"
        f" peak {peak / mib:.1f} MiB, after {after / mib:.1f} MiB; disconnections: {dict(reasons)}"
    )
    assert after <= baseline + RSS_SLACK, (baseline / mib, peak / mib, after / mib)
