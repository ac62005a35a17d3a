#!/usr/bin/env python3
"""Cheap denial of service, measured: one address attacks a fresh hubbub within its limits while a probe pair
in another /24 measures how long the other users' messages take.

    .venv/bin/python bench/attacks.py                          # every scenario against this checkout
    .venv/bin/python bench/attacks.py --scenarios list-globs,chathistory --duration 10
    .venv/bin/python bench/attacks.py --src ../before/src      # another checkout's hubbub
    .venv/bin/python bench/attacks.py --compare ../before/src src   # both, interleaved, side by side
    .venv/bin/python bench/attacks.py --tiny --scenarios list-globs --duration 1   # a smoke test

Each scenario starts a fresh server (``python -m hubbub serve`` of the chosen ``src``, an empty SQLite file,
``--limit-exempt`` naming only the probes' and the setup's networks, so the attacker at 127.0.0.2 gets every
default limit: 16 connections per address, 64 per /24, 30 new connections a minute, 4 lines/s with a burst of
20 and 4 KiB/s) pinned to CPU 0; every client runs on CPU 1, the attackers niced so the probes come first.

- The **setup** (rooms, history, an account) is made before the attack, from 127.0.2.0/24 (exempt, another
  /24): it is not what is measured. Its clients stay connected, since a room lives while it has members.
- The **probe pair**, IRC clients at 127.0.1.1 and 127.0.1.2 (exempt from flood control: they send 50 lines a
  second), sends a PRIVMSG with a sequence number every 20 ms for the whole attack; the receiver measures the
  one-way delay on the same clock. After the attack the probes wait up to ``--drain`` seconds for what is
  still due: what has not come by then is *lost* (and counted in the percentiles at its age then, so a lost
  message never makes a percentile look better); *late* is over 250 ms.
- The **attacker**, at 127.0.0.2 (another /24), in one or more processes reading their sockets as fast as
  they come (asyncio protocols that count bytes and the few replies they wait for, so the send queue never
  drops them). What it got done is counted and printed: an attack that did not run measures nothing.

Scenarios (issue "Denial of service on the cheap"):

- ``baseline``: no attack.
- ``list-globs``: 4,800 rooms; 16 IRC connections each send ``LIST`` with 70 masks at 3.9 lines/s.
- ``list-full``: 20,000 rooms; 8 IRC connections send a full ``LIST`` and 8 plain ones ``/rooms``, 3.9/s each.
- ``monitor-quit``: 1,000 IRC users each ``MONITOR`` 100 nicknames (100,000 keys), then quit together, in
  rounds. One address cannot hold 1,000 connections: the attacker is exempt here (``--limit-exempt
  127.0.0.2/32``), as for the issue's "1,000 monitoring users leaving together".
- ``chathistory``: a room with 10,000 lines of history; 16 IRC connections ask ``CHATHISTORY LATEST #hist *
  1000``, two requests in flight each (the server's flood control paces them).
- ``join-storm``: 4,000 plain connections join #lobby, then all close together, in rounds; the attacker is
  exempt (``--limit-exempt 127.0.0.2/32``), as in the issue.
- ``login-guess``: 16 plain connections send ``/login victim WRONG`` at 3.9 lines/s each.
- ``register-flood``: 16 plain connections register new accounts as fast as their flood budget lets them.
- ``slowloris``: 16 plain connections each drip one byte of a line that never ends, every second.

``--compare BEFORE AFTER`` runs every scenario on both (before, after, next scenario) and prints them side by
side. Everything talks to 127.0.0.0/8 only, and each scenario stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CPU_SERVER, CPU_CLIENT = 0, 1
PROBES = ("127.0.1.1", "127.0.1.2")
ATTACKER = "127.0.0.2"
SETUP = "127.0.2.1"
EXEMPT = ("127.0.1.0/24", "127.0.2.0/24")
LATE = 0.250
PROBE_EVERY = 0.020
#: How long the probes may go on past ``--duration`` while the last round of an attack ends.
PROBE_OVERTIME = 120.0
#: The attacker's line rate: just under the default flood budget (4 lines/s).
RATE = 3.9

try:
    import uvloop
except ImportError:  # plain asyncio is slower, but works
    uvloop = None  # type: ignore[assignment]


def run_loop(coro: Any) -> Any:
    if uvloop is not None:
        return uvloop.run(coro)
    return asyncio.run(coro)


# -- sizes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    glob_rooms: int = 4800
    masks: int = 70
    full_rooms: int = 20000
    watchers: int = 1000
    watch_keys: int = 100
    history: int = 10000
    history_limit: int = 1000
    storm: int = 4000
    conns: int = 16
    procs: int = 4


TINY = Sizes(
    glob_rooms=200,
    masks=10,
    full_rooms=300,
    watchers=20,
    watch_keys=10,
    history=200,
    history_limit=100,
    storm=40,
    conns=4,
    procs=2,
)


# -- a connection that reads fast ---------------------------------------------------------------------------


class Conn(asyncio.Protocol):
    """A client socket that counts what it receives: bytes, and how often each marker occurred (markers may
    straddle reads). It answers the server's PING, and discards everything else."""

    def __init__(self, markers: tuple[bytes, ...] = ()) -> None:
        self.markers = tuple(dict.fromkeys((b"PING :", b"PONG", *markers)))
        self.keep = max(len(m) for m in self.markers) - 1
        self.counts = dict.fromkeys(self.markers, 0)
        self.tail = b""
        self.received = 0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.waits: list[tuple[bytes, int, asyncio.Future[None]]] = []
        self.on_line: Callable[[bytes], None] | None = None
        self.partial = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        tail = self.tail
        for marker in self.markers:
            self.counts[marker] += (tail[len(tail) - len(marker) + 1 :] + data).count(marker)
        self.tail = (tail + data)[-self.keep :]
        if b"PING :" in data and self.transport is not None:  # keepalive (one straddling two reads is missed)
            for line in data.split(b"\r\n"):
                if line.startswith(b"PING :"):
                    self.transport.write(b"PONG :" + line[6:] + b"\r\n")
        if self.on_line is not None:
            *lines, self.partial = (self.partial + data).split(b"\r\n")
            for line in lines:
                self.on_line(line)
        if self.waits:
            left = []
            for marker, count, future in self.waits:
                if self.counts[marker] >= count:
                    if not future.done():
                        future.set_result(None)
                else:
                    left.append((marker, count, future))
            self.waits = left

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        for _marker, _count, future in self.waits:
            if not future.done():
                future.set_exception(ConnectionError("closed"))
        self.waits = []

    async def sync(self, timeout: float = 60.0) -> None:
        """Wait until the server has answered everything sent so far."""
        self.send(b"PING :sync\r\n")
        await self.wait(b"PONG", self.counts[b"PONG"] + 1, timeout)

    def count(self, marker: bytes) -> int:
        return self.counts[marker]

    async def wait(self, marker: bytes, count: int = 1, timeout: float = 60.0) -> None:
        if self.counts[marker] >= count:
            return
        if self.closed.done():
            raise ConnectionError("closed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waits.append((marker, count, future))
        await asyncio.wait_for(future, timeout)

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    @property
    def alive(self) -> bool:
        return self.transport is not None and not self.transport.is_closing() and not self.closed.done()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def connect(port: int, source: str, markers: tuple[bytes, ...] = ()) -> Conn:
    loop = asyncio.get_running_loop()
    _transport, conn = await loop.create_connection(
        lambda: Conn(markers), "127.0.0.1", port, local_addr=(source, 0)
    )
    return conn


async def irc(port: int, source: str, nick: str, markers: tuple[bytes, ...] = (), caps: str = "") -> Conn:
    """A registered IRC client."""
    conn = await connect(port, source, (b" 001 ", *markers))
    first = f"CAP REQ :{caps}\r\n" if caps else ""
    end = "CAP END\r\n" if caps else ""
    conn.send(f"{first}NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n{end}".encode())
    await conn.wait(b" 001 ")
    return conn


async def plain(port: int, source: str, markers: tuple[bytes, ...] = ()) -> Conn:
    """A plain-text user, greeted (after the server's sniffing delay) and in #lobby."""
    conn = await connect(port, source, (b"* Welcome", *markers))
    await conn.wait(b"* Welcome")
    return conn


async def gather_bounded(coros: list[Any], at_once: int = 100) -> list[Any]:
    gate = asyncio.Semaphore(at_once)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def paced(
    conn: Conn, line: Callable[[int], bytes], done: bytes | None, stop_at: float, rate: float, inflight: int
) -> int:
    """Send ``line(i)`` at ``rate`` lines/s at most, with at most ``inflight`` answers (``done`` markers)
    outstanding; returns how many were sent."""
    sent = 0
    base = conn.count(done) if done is not None else 0
    next_at = time.monotonic()
    while time.monotonic() < stop_at and conn.alive:
        if done is not None and sent - (conn.count(done) - base) >= inflight:
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                await conn.wait(
                    done, base + sent - inflight + 1, timeout=max(0.01, stop_at - time.monotonic())
                )
            continue
        now = time.monotonic()
        if now < next_at:
            await asyncio.sleep(next_at - now)
            continue
        payload = line(sent)
        conn.send(payload)
        sent += 1
        next_at = max(next_at, now - 1.0) + payload.count(b"\n") / rate
    return sent


# -- processes ----------------------------------------------------------------------------------------------


def _child(target: Callable[..., Any], args: tuple[Any, ...], out: Any, nice: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {CPU_CLIENT})
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    try:
        out.put(run_loop(target(*args)))
    except BaseException as exc:  # reported to the parent
        out.put({"error": f"{type(exc).__name__}: {exc}"})


class Child:
    """A coroutine function run in its own process; ``result()`` is what it returned."""

    def __init__(self, target: Callable[..., Any], *args: Any, nice: int = 0) -> None:
        ctx = mp.get_context("fork")
        self.queue: Any = ctx.Queue()
        self.process = ctx.Process(target=_child, args=(target, args, self.queue, nice), daemon=True)
        self.process.start()

    def result(self, timeout: float) -> Any:
        try:
            return self.queue.get(timeout=timeout)
        except Exception:  # queue.Empty, or a child that died
            return {"error": "no answer"}
        finally:
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()


def wait_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return False


# -- setup: rooms, history, an account (exempt, another /24) ------------------------------------------------


def room_name(i: int) -> str:
    return f"#room{i:05d}-{i % 97}"


async def setup_main(kind: str, ports: dict[str, int], sizes: Sizes, ready: str, stop: str) -> dict[str, Any]:
    conns: list[Conn] = []
    info: dict[str, Any] = {}
    irc_port, plain_port = ports["irc"], ports["plain"]
    if kind in ("list-globs", "list-full"):
        rooms = sizes.glob_rooms if kind == "list-globs" else sizes.full_rooms
        per = 100  # the default rooms per user

        async def holder(n: int) -> Conn:
            conn = await irc(irc_port, SETUP, f"rooms{n}", (b" 366 ",))
            names = [room_name(i) for i in range(n * per, min(rooms, (n + 1) * per))]
            for start in range(0, len(names), 10):
                conn.send(f"JOIN {','.join(names[start : start + 10])}\r\n".encode())
            await conn.wait(b" 366 ", len(names), timeout=300)
            return conn

        got = await gather_bounded([holder(n) for n in range((rooms + per - 1) // per)], 20)
        conns = [c for c in got if isinstance(c, Conn)]
        errors = [repr(c) for c in got if not isinstance(c, Conn)]
        if errors:
            raise RuntimeError(f"setup: {len(errors)} room holders failed: {errors[0]}")
        info["rooms"] = rooms
    elif kind == "chathistory":
        conn = await irc(
            irc_port, SETUP, "historian", (b" 366 ", b"PONG", b"BATCH -", b"PRIVMSG #hist"), "batch"
        )
        conns.append(conn)
        conn.send(b"JOIN #hist\r\n")
        await conn.wait(b" 366 ")
        for start in range(0, sizes.history, 500):
            conn.send(
                b"".join(
                    f"PRIVMSG #hist :history line {i} of the past, long enough to look like chat\r\n".encode()
                    for i in range(start, min(sizes.history, start + 500))
                )
            )
            conn.send(f"PING :h{start}\r\n".encode())
            await conn.wait(b"PONG", start // 500 + 1, timeout=120)
        # The store writes in batches: ask until the history is there.
        rows = 0
        for attempt in range(100):
            before = conn.count(b"PRIVMSG #hist")
            conn.send(f"CHATHISTORY LATEST #hist * {sizes.history_limit}\r\n".encode())
            await conn.wait(b"BATCH -", attempt + 1, timeout=60)
            rows = conn.count(b"PRIVMSG #hist") - before
            if rows >= sizes.history_limit:
                break
            await asyncio.sleep(0.2)
        info["history_rows_served"] = rows
    elif kind == "login-guess":
        conn = await plain(plain_port, SETUP, (b"You registered",))
        conns.append(conn)
        conn.send(b"/nick victim\r\n/register correct-horse-battery\r\n")
        await conn.wait(b"You registered", timeout=60)
        info["account"] = "victim"
    Path(ready).write_text(json.dumps(info))
    while not Path(stop).exists():
        await asyncio.sleep(0.1)
    for conn in conns:
        conn.close()
    return info


# -- the probe pair -----------------------------------------------------------------------------------------


async def probe_main(
    irc_port: int, ready: str, start: str, done: str, duration: float, drain: float
) -> dict[str, Any]:
    """Probe for ``duration`` seconds, and on until the attack is ``done`` (a round may outlast it)."""
    sent_at: dict[int, float] = {}
    delays: dict[int, float] = {}
    sender = await irc(irc_port, PROBES[0], "probe1")
    receiver = await irc(irc_port, PROBES[1], "probe2")

    def on_line(line: bytes) -> None:
        at = time.monotonic()
        mark = line.find(b" :probe ")
        if mark >= 0:
            seq = int(line[mark + 8 :].split(b" ", 1)[0])
            if seq in sent_at and seq not in delays:
                delays[seq] = at - sent_at[seq]

    receiver.on_line = on_line
    # One round trip before the measure: both are registered and the path is warm.
    sent_at[-1] = time.monotonic()
    sender.send(b"PRIVMSG probe2 :probe -1 warm\r\n")
    for _ in range(500):
        if -1 in delays:
            break
        await asyncio.sleep(0.01)
    Path(ready).write_text("ok")
    while not Path(start).exists():
        await asyncio.sleep(0.005)
    began = time.monotonic()
    seq = 0
    while True:
        due = began + seq * PROBE_EVERY
        now = time.monotonic()
        if due - began >= duration and (Path(done).exists() or due - began >= duration + PROBE_OVERTIME):
            break
        if due > now:
            await asyncio.sleep(due - now)
        sent_at[seq] = time.monotonic()
        sender.send(f"PRIVMSG probe2 :probe {seq} {'x' * 40}\r\n".encode())
        seq += 1
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and len(delays) < len(sent_at):
        await asyncio.sleep(0.02)
    ended = time.monotonic()
    del sent_at[-1]
    delays.pop(-1, None)
    lost = [s for s in sent_at if s not in delays]
    samples = [(sent_at[s], delays[s] if s in delays else ended - sent_at[s]) for s in sorted(sent_at)]
    every = sorted(d for _t, d in samples)
    sender.close()
    receiver.close()
    return {
        "sent": len(sent_at),
        "lost": len(lost),
        "delays": every,
        "samples": samples,
        "late": sum(d > LATE for d in every),
    }


@dataclass(frozen=True)
class Gate:
    """The attackers connect first, then wait here: the attack (and the probes' measure) starts when all of
    them are in, for ``duration`` seconds."""

    folder: str
    duration: float

    async def go(self) -> float:
        """Say this process is ready, wait for the start; when the attack stops (``time.monotonic()``)."""
        (Path(self.folder) / f"ready-{os.getpid()}").touch()
        start = Path(self.folder) / "start"
        deadline = time.monotonic() + 600
        while not start.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the attack never started")
            await asyncio.sleep(0.005)
        return float(start.read_text()) + self.duration


# -- the attacks --------------------------------------------------------------------------------------------


@dataclass
class Work:
    """What one attacker process got done."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


async def opened(coros: list[Any], work: Work) -> list[Conn]:
    got = await gather_bounded(coros)
    conns = [c for c in got if isinstance(c, Conn)]
    work.add("connected", len(conns))
    if len(conns) < len(got):
        work.add("refused", len(got) - len(conns))
    return conns


def tally_closed(conns: list[Conn], work: Work, markers: dict[str, bytes]) -> None:
    for conn in conns:
        for name, marker in markers.items():
            work.add(name, conn.count(marker))
        work.add("bytes_in", conn.received)
        work.add("dropped", 0 if conn.alive else 1)
        work.add("flood kills", conn.counts.get(b"Excess Flood", 0))
        conn.close()


async def attack_list_globs(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    masks = ",".join(f"#*{i}*x" for i in range(sizes.masks))
    line = f"LIST {masks}\r\n".encode()
    conns = await opened(
        [irc(ports["irc"], ATTACKER, f"lg{os.getpid()}x{i}", (b" 323 ", b"Excess Flood")) for i in range(n)],
        work,
    )
    stop_at = await gate.go()
    sent = await asyncio.gather(*(paced(c, lambda _i: line, b" 323 ", stop_at, RATE, 64) for c in conns))
    work.add("LIST sent", sum(sent))
    tally_closed(conns, work, {"LIST answered": b" 323 "})
    return work.counts


async def attack_list_full(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    half = n // 2
    ircs = await opened(
        [
            irc(ports["irc"], ATTACKER, f"lf{os.getpid()}x{i}", (b" 323 ", b"Excess Flood"))
            for i in range(half)
        ],
        work,
    )
    plains = await opened(
        [plain(ports["plain"], ATTACKER, (b" rooms:", b"Excess Flood")) for _ in range(n - half)], work
    )
    stop_at = await gate.go()
    sent = await asyncio.gather(
        *(paced(c, lambda _i: b"LIST\r\n", b" 323 ", stop_at, RATE, 64) for c in ircs),
        *(paced(c, lambda _i: b"/rooms\r\n", b" rooms:", stop_at, RATE, 64) for c in plains),
    )
    work.add("requests sent", sum(sent))
    tally_closed(ircs, work, {"LIST answered": b" 323 "})
    tally_closed(plains, work, {"/rooms answered": b" rooms:"})
    return work.counts


async def attack_chathistory(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    conns = await opened(
        [
            irc(
                ports["irc"],
                ATTACKER,
                f"ch{os.getpid()}x{i}",
                (b"BATCH -", b" 366 ", b"Excess Flood"),
                "batch",
            )
            for i in range(n)
        ],
        work,
    )
    for conn in conns:
        conn.send(b"JOIN #hist\r\n")
    await gather_bounded([c.sync() for c in conns])
    joined = sum(c.count(b"BATCH -") for c in conns)  # a replay on joining, if any
    line = f"CHATHISTORY LATEST #hist * {sizes.history_limit}\r\n".encode()
    stop_at = await gate.go()
    sent = await asyncio.gather(*(paced(c, lambda _i: line, b"BATCH -", stop_at, RATE, 2) for c in conns))
    work.add("CHATHISTORY sent", sum(sent))
    tally_closed(conns, work, {"batches": b"BATCH -"})
    work.add("batches", -joined)
    return work.counts


async def attack_login_guess(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    markers = (b"Login failed", b"try again in", b"busy checking", b"You are logged in", b"Excess Flood")
    conns = await opened([plain(ports["plain"], ATTACKER, markers) for _ in range(n)], work)
    stop_at = await gate.go()
    sent = await asyncio.gather(
        *(paced(c, lambda i: f"/login victim guess{i}\r\n".encode(), None, stop_at, RATE, 0) for c in conns)
    )
    work.add("guesses sent", sum(sent))
    tally_closed(
        conns,
        work,
        {
            "wrong": b"Login failed",
            "throttled": b"try again in",
            "busy": b"busy checking",
            "logged in": b"You are logged in",
        },
    )
    return work.counts


async def attack_register_flood(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    markers = (b"You registered", b"try again in", b"busy checking", b"Excess Flood")
    conns = await opened([plain(ports["plain"], ATTACKER, markers) for _ in range(n)], work)
    tag = os.getpid()
    stop_at = await gate.go()

    async def one(conn: Conn, k: int) -> int:
        return await paced(
            conn,
            lambda i: f"/logout\r\n/nick r{tag}c{k}n{i}\r\n/register secret-{i}-password\r\n".encode(),
            None,
            stop_at,
            RATE,
            0,
        )

    sent = await asyncio.gather(*(one(c, k) for k, c in enumerate(conns)))
    work.add("registrations sent", sum(sent))
    tally_closed(
        conns, work, {"registered": b"You registered", "throttled": b"try again in", "busy": b"busy checking"}
    )
    return work.counts


async def attack_slowloris(ports: dict[str, int], sizes: Sizes, n: int, gate: Gate) -> dict[str, int]:
    work = Work()
    conns = await opened([plain(ports["plain"], ATTACKER) for _ in range(n)], work)
    stop_at = await gate.go()
    dripped = 0
    while time.monotonic() < stop_at:
        for conn in conns:
            if conn.alive:
                conn.send(b"a")
                dripped += 1
        await asyncio.sleep(min(1.0, max(0.0, stop_at - time.monotonic())))
    work.add("bytes dripped", dripped)
    work.add("held to the end", sum(c.alive for c in conns))
    tally_closed(conns, work, {})
    return work.counts


async def meet(folder: Path, me: str, procs: int) -> None:
    """Wait until ``procs`` processes reached ``folder`` (each leaves a file there)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / me).touch()
    deadline = time.monotonic() + 120
    while len(list(folder.iterdir())) < procs:
        if (folder.parent / "abort").exists() or time.monotonic() > deadline:
            raise RuntimeError(f"another attacker process failed (at {folder.name})")
        await asyncio.sleep(0.02)


async def attack_rounds(
    kind: str,
    ports: dict[str, int],
    sizes: Sizes,
    n: int,
    gate: Gate,
    barrier: str,
    procs: int,
    index: int,
) -> dict[str, Any]:
    """monitor-quit and join-storm: ``n`` connections in this process, all processes open theirs, then all
    leave together, in rounds until ``stop_at`` (process 0 decides whether another round starts). After
    leaving, each waits until the server answers a PING on a connection of its own, so that a round's opening
    and its leaving are measured apart (``_events``: when each round opened, left, and was over)."""
    try:
        return await _rounds(kind, ports, sizes, n, gate, Path(barrier), procs, index)
    except BaseException:
        (Path(barrier) / "abort").touch()  # the others stop waiting for this one
        raise


async def _rounds(
    kind: str,
    ports: dict[str, int],
    sizes: Sizes,
    n: int,
    gate: Gate,
    barrier: Path,
    procs: int,
    index: int,
) -> dict[str, Any]:
    work = Work()
    me = str(os.getpid())
    events: list[tuple[str, int, float]] = []
    control = await irc(ports["irc"], ATTACKER, f"ctl{me}")
    stop_at = await gate.go()
    rnd = 0
    while True:
        if index == 0:  # written whole, then renamed: the others never read half of it
            (barrier / "decided").write_text("go" if time.monotonic() < stop_at or rnd == 0 else "stop")
            (barrier / "decided").rename(barrier / f"go{rnd}")
        else:
            while not (Path(barrier) / f"go{rnd}").exists():
                if (Path(barrier) / "abort").exists():
                    raise RuntimeError("another attacker process failed")
                await asyncio.sleep(0.02)
        if (Path(barrier) / f"go{rnd}").read_text() != "go":
            break
        events.append(("open", rnd, time.monotonic()))
        if kind == "monitor-quit":
            conns = await opened(
                [irc(ports["irc"], ATTACKER, f"m{me}r{rnd}u{i}", (b"PONG",)) for i in range(n)], work
            )
            for i, conn in enumerate(conns):
                keys = [f"w{me}u{i}k{j}" for j in range(sizes.watch_keys)]
                for start in range(0, len(keys), 40):
                    conn.send(f"MONITOR + {','.join(keys[start : start + 40])}\r\n".encode())
                conn.send(b"PING :watched\r\n")
            await gather_bounded([c.wait(b"PONG", timeout=120) for c in conns])
            work.add("keys watched", sizes.watch_keys * sum(c.count(b"PONG") > 0 for c in conns))
        else:
            conns = await opened([plain(ports["plain"], ATTACKER) for _ in range(n)], work)
            work.add("joined #lobby", len(conns))
        await control.sync(180)
        await meet(Path(barrier) / f"r{rnd}", me, procs)
        events.append(("leave", rnd, time.monotonic()))
        for conn in conns:
            if kind == "monitor-quit":
                conn.send(b"QUIT :bye\r\n")
            else:
                conn.close()
        work.add("left together", len(conns))
        if kind == "monitor-quit":
            await gather_bounded([asyncio.wait_for(asyncio.shield(c.closed), 60) for c in conns], 2000)
            for conn in conns:
                conn.close()
        await control.sync(180)  # the server is through with them
        events.append(("over", rnd, time.monotonic()))
        await meet(Path(barrier) / f"over{rnd}", me, procs)
        rnd += 1
    control.close()
    result: dict[str, Any] = dict(work.counts)
    result["rounds"] = rnd
    result["_events"] = events
    return result


ATTACKS: dict[str, Callable[..., Any]] = {
    "list-globs": attack_list_globs,
    "list-full": attack_list_full,
    "chathistory": attack_chathistory,
    "login-guess": attack_login_guess,
    "register-flood": attack_register_flood,
    "slowloris": attack_slowloris,
}
ROUNDS = ("monitor-quit", "join-storm")
SCENARIOS = (
    "baseline",
    "list-globs",
    "list-full",
    "monitor-quit",
    "chathistory",
    "join-storm",
    "login-guess",
    "register-flood",
    "slowloris",
)


# -- the server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cmd: list[str], cpu: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu), *cmd]
    return cmd


@contextlib.contextmanager
def server(src: Path, scenario: str, workdir: Path) -> Iterator[dict[str, int]]:
    ports = {"plain": free_port(), "irc": free_port()}
    exempt = list(EXEMPT)
    if scenario in ROUNDS:
        exempt.append(f"{ATTACKER}/32")
    cmd = [sys.executable, "-m", "hubbub", "serve", "--host", "127.0.0.1"]
    cmd += [
        "--port",
        str(ports["plain"]),
        "--irc-port",
        str(ports["irc"]),
        "--db",
        str(workdir / "hubbub.db"),
    ]
    for net in exempt:
        cmd += ["--limit-exempt", net]
    env = {**os.environ, "PYTHONPATH": str(src)}
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        pinned(cmd, CPU_SERVER), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
    )
    try:
        deadline = time.monotonic() + 30
        for port in ports.values():
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not start: {(workdir / 'server.log').read_text()[-2000:]}"
                    )
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                    break
                time.sleep(0.05)
        ports["pid"] = proc.pid
        yield ports
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


# -- one scenario -------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def run_scenario(
    src: Path, scenario: str, sizes: Sizes, duration: float, drain: float, profile: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hubbub-attacks-") as tmp:
        workdir = Path(tmp)
        with server(src, scenario, workdir) as ports:
            setup_ready, stop = str(workdir / "setup-ready"), str(workdir / "stop")
            setup = Child(setup_main, scenario, ports, sizes, setup_ready, stop, nice=5)
            if not wait_file(Path(setup_ready), 600):
                raise RuntimeError(f"{scenario}: setup failed: {setup.result(1)}")
            info = json.loads(Path(setup_ready).read_text())
            gate = Gate(str(workdir / "gate"), duration)
            Path(gate.folder).mkdir()
            probe_ready, start = str(workdir / "probe-ready"), str(Path(gate.folder) / "start")
            done = str(workdir / "done")
            probe = Child(probe_main, ports["irc"], probe_ready, start, done, duration, drain)
            if not wait_file(Path(probe_ready), 60):
                raise RuntimeError(f"{scenario}: the probes did not connect: {probe.result(1)}")
            attackers: list[Child] = []
            # The attackers connect first; the attack (and the probes' measure) starts when they are in.
            connect_time = 0.0
            if scenario != "baseline":
                began = time.monotonic()
                procs = sizes.procs
                if scenario in ROUNDS:
                    total = sizes.watchers if scenario == "monitor-quit" else sizes.storm
                    barrier = workdir / "barrier"
                    barrier.mkdir()
                    attackers = [
                        Child(
                            attack_rounds,
                            scenario,
                            ports,
                            sizes,
                            total // procs,
                            gate,
                            str(barrier),
                            procs,
                            index,
                            nice=5,
                        )
                        for index in range(procs)
                    ]
                else:
                    split = [sizes.conns // 2, sizes.conns - sizes.conns // 2]
                    attackers = [Child(ATTACKS[scenario], ports, sizes, n, gate, nice=5) for n in split if n]
                deadline = time.monotonic() + 300
                while len(list(Path(gate.folder).glob("ready-*"))) < len(attackers):
                    if time.monotonic() > deadline or not all(a.process.is_alive() for a in attackers):
                        break  # the failure is reported with the results
                    time.sleep(0.01)
                connect_time = time.monotonic() - began
            Path(start + ".tmp").write_text(repr(time.monotonic()))
            Path(start + ".tmp").rename(start)
            spy = None
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                name = f"{scenario}-{_commit(src)}"
                spy = subprocess.Popen(
                    [
                        _py_spy(),
                        "record",
                        "--pid",
                        str(ports["pid"]),
                        "--format",
                        "raw",
                        "--output",
                        str(profile / f"{name}.txt"),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            work: dict[str, int] = {}
            events: list[tuple[str, int, float]] = []
            errors: list[str] = []
            for child in attackers:
                got = child.result(duration + 300)
                if "error" in got:
                    errors.append(got["error"])
                    continue
                events += [tuple(e) for e in got.pop("_events", [])]
                for key, value in got.items():
                    work[key] = max(work.get(key, 0), value) if key == "rounds" else work.get(key, 0) + value
            Path(done).touch()
            measured = probe.result(duration + drain + PROBE_OVERTIME + 60)
            if spy is not None:  # it writes its samples when interrupted
                spy.send_signal(signal.SIGINT)
                try:
                    spy.wait(30)
                except subprocess.TimeoutExpired:
                    spy.kill()
            Path(stop).touch()
            setup.result(30)
    if "error" in measured:
        raise RuntimeError(f"{scenario}: the probes failed: {measured['error']}")
    delays = measured["delays"]
    phases = phase_p99(measured["samples"], events)
    return {
        "phases": phases,
        "scenario": scenario,
        "src": str(src),
        "p50_ms": percentile(delays, 0.50) * 1e3,
        "p99_ms": percentile(delays, 0.99) * 1e3,
        "max_ms": (delays[-1] if delays else float("nan")) * 1e3,
        "sent": measured["sent"],
        "lost": measured["lost"],
        "late": measured["late"],
        "work": work,
        "setup": info,
        "errors": errors,
        "connect_s": connect_time,
    }


def phase_p99(samples: list[tuple[float, float]], events: list[tuple[str, int, float]]) -> dict[str, float]:
    """For the attacks in rounds: the probes' p99 (ms) while the attackers opened their connections, and
    while they left (from the first to leave until the server was through with the last)."""
    if not events:
        return {}
    windows: dict[str, list[tuple[float, float]]] = {"opening": [], "leaving": []}
    for rnd in sorted({r for _k, r, _t in events}):
        at = {k: [t for kind, r, t in events if r == rnd and kind == k] for k in ("open", "leave", "over")}
        if at["open"] and at["leave"]:
            windows["opening"].append((min(at["open"]), min(at["leave"])))
        if at["leave"] and at["over"]:
            windows["leaving"].append((min(at["leave"]), max(at["over"])))
    phases = {}
    for name, spans in windows.items():
        inside = sorted(d for t, d in samples if any(a <= t < b for a, b in spans))
        if inside:
            phases[f"p99 {name}"] = percentile(inside, 0.99) * 1e3
    return phases


# -- the table ----------------------------------------------------------------------------------------------


def describe(work: dict[str, int], phases: dict[str, float] | None = None) -> str:
    parts = [f"{work['connected']} connections"] if "connected" in work else []
    # Answers are shown when none came too (the attack did not get through); disconnections when some did.
    quiet = {"dropped", "flood kills", "refused"}
    parts += [
        f"{k} {v}" for k, v in work.items() if k not in ("bytes_in", "connected") and (v or k not in quiet)
    ]
    parts += [f"{k} {v:.0f} ms" for k, v in (phases or {}).items()]
    if "bytes_in" in work:
        parts.append(f"{work['bytes_in'] / 2**20:.1f} MiB read")
    return ", ".join(parts)


def row(result: dict[str, Any]) -> str:
    """The probe's figures; one that a lost message decides is only a lower bound: marked ``>``."""
    lost, sent = result["lost"], result["sent"]
    figures = [
        f"{'>' if lost > (1 - q) * sent else ''}{result[key]:.1f}".rjust(8)
        for key, q in (("p50_ms", 0.5), ("p99_ms", 0.99), ("max_ms", 1.0))
    ]
    return f"{' '.join(figures)} {f'{lost}/{sent}':>9} {result['late']:5}"


def print_table(results: list[dict[str, Any]]) -> None:
    head = f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'lost':>9} {'late':>5}"
    print(f"\n{'scenario':15} {head}  attack work done")
    for result in results:
        print(f"{result['scenario']:15} {row(result)}  {describe(result['work'], result['phases'])}")
        for error in result["errors"]:
            print(f"{'':15} error: {error}")


def print_compare(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    head = f"{'p50':>8} {'p99':>8} {'max':>8} {'lost':>9} {'late':>5}"
    print(f"\n{'':15} {'before (ms)':^42} | {'after (ms)':^42}")
    print(f"{'scenario':15} {head} | {head}  p99 target 250 ms")
    for before, after in pairs:
        verdict = "ok" if after["p99_ms"] < 250 and after["lost"] == 0 else "OVER"
        print(f"{before['scenario']:15} {row(before)} | {row(after)}  {verdict}")
    print("\nattack work done (before | after):")
    for before, after in pairs:
        print(f"  {before['scenario']:15} {describe(before['work'], before['phases']) or '-'}")
        print(f"  {'':15} {describe(after['work'], after['phases']) or '-'}")
        for error in before["errors"] + after["errors"]:
            print(f"  {'':15} error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the src of the hubbub to attack")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE_SRC", "AFTER_SRC"))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, in order")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of attack (and of probing)")
    parser.add_argument("--drain", type=float, default=10.0, help="seconds the probes wait after the attack")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", type=Path, help="record the server with py-spy into this folder (raw)")
    args = parser.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for name in scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 20000 if hard == resource.RLIM_INFINITY else min(hard, 20000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {CPU_CLIENT})
    sizes = TINY if args.tiny else Sizes()
    sources = [p.resolve() for p in (args.compare or [args.src])]
    for src in sources:
        if not (src / "hubbub").is_dir():
            parser.error(f"{src} holds no hubbub package")
    commits = {str(s): _commit(s) for s in sources}
    named = ", ".join(f"{s} ({commits[str(s)]})" for s in sources)
    print(f"sources: {named}; {args.duration:g} s of attack each", flush=True)
    results: list[dict[str, Any]] = []
    for name in scenarios:
        for src in sources:
            result = run_scenario(src, name, sizes, args.duration, args.drain, args.profile)
            results.append(result)
            label = f" [{commits[str(src)]}]" if len(sources) > 1 else ""
            print(
                f"{name}{label}: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max "
                f"{result['max_ms']:.1f} ms, lost {result['lost']}/{result['sent']}; "
                f"{describe(result['work'], result['phases'])}",
                flush=True,
            )
            for error in result["errors"]:
                print(f"  error: {error}", flush=True)
    if args.compare:
        print_compare(list(zip(results[::2], results[1::2], strict=True)))
    else:
        print_table(results)
    if args.json:
        args.json.write_text(json.dumps({"commits": commits, "results": results}, indent=1))


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


def _commit(src: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip() + ("+" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
