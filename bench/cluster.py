"""The cluster suite of hubbub's benchmark: what joining a cluster through Redis costs one hubbub, and what a
second worker process gives back.

    python bench/run.py --cluster                  # the full suite (about 8 minutes: 3 runs of each)
    python bench/run.py --cluster --quick          # small and short (about a minute)
    python bench/run.py --cluster --variants w1,w2 --scenarios pingpong --repeat 5

Variants, all of them hubbub over IRC (the ``hubbub-irc`` server of the main suite) measured in the same run:

* ``alone``: no --redis (a single process, as in the main suite);
* ``w1``: --redis and --workers 1: the only node of a cluster. What the cluster costs a node whose rooms no
  other node shares: registrations and joins go through Redis, and every message recorded in the history is
  added to the Redis stream; a room message is published only when another node has a member in the room;
* ``w2``: --redis and --workers 2: two worker processes sharing the port (SO_REUSEPORT), each a node. The
  kernel spreads the clients over them by a hash of the connection, so about half of the ping-pong pairs are
  split over both nodes (the real case: kept), and a big room's every message crosses to the other node;
* the same three with ``-nohist`` (--no-history --db :memory:): without the history, which a node records
  (a store write) for every message, its own and, in a cluster, every other node's (from the Redis stream).

Ratios are taken between runs of this run: "2 workers / 1 worker" (w2 / w1) and "1 worker with Redis /
alone" (w1 / alone), for throughput (>1: better) and latency (inverted, so >1 is better too).

Each run has a fresh redis-server (127.0.0.1, a free port, --save '' --appendonly no, in a temporary folder),
a fresh hubbub and a fresh database. CPU placement: nothing is pinned, in every variant. On a 2-CPU machine,
two workers need both CPUs, and redis-server and the load generator need CPU too: pinning the server to one
CPU (as the main suite does) would forbid the second worker the CPU it is there to use, and pinning the
workers one to each CPU would still share them with redis-server and the generator. So the server's
processes, redis-server and the generator all run wherever the kernel schedules them, and ``alone``, ``w1``
and ``w2`` see the same machine. Note what that leaves: the generator (and the kernel's loopback TCP) take
a share of the 2 CPUs, so the ceiling of "2 workers / 1 worker" here is below 2 even for perfect scaling.

For each run, over the measurement proper (the load generator says when it starts and ends), the suite
shows how many CPUs each process kept busy (hubbub's workers, redis-server, the generator, interrupts, and
the other processes of the machine: the figures are noisy when that is high), hubbub's and Redis's CPU time
per line delivered, and hubbub's write system calls per line (how well output is batched).

Every run is checked, as in the main suite (no corrupt line, no sequence gap, no client dropped), and for
completeness across nodes: in fan-out, every line sent must reach every other client (the load generator
waits for the last ones); in ping-pong, no pair may stall (a lost line stops its pair for good). The
servers' logs are searched for warnings and errors (a worker that fails, a node taken for dead, Redis
lost). A failed check is listed at the end, marks the figure with "*" and makes the exit status 1; the
logs are then kept. Results go to bench/results/cluster-<time>.json (and .png).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report import chart

import run as bench

TARGET = 1.6
"""What two workers should give over one in ping-pong (many small rooms)."""

START_TIMEOUT = 30.0
"""Seconds a server (or redis-server) has to start listening."""

SETTLE = 15.0
"""Seconds the load generator waits, after the measurement, for the last fan-out lines to arrive."""

PLACEMENT = (
    "CPU placement: none pinned, in every variant: the hubbub processes, redis-server and the load generator"
    " share the {cpus} CPUs as the kernel schedules them"
)


@dataclass(frozen=True)
class Variant:
    name: str
    workers: int  # 0: no --redis at all
    history: bool = True

    @property
    def describe(self) -> str:
        what = "alone" if not self.workers else f"--redis --workers {self.workers}"
        return what + ("" if self.history else " --no-history")


VARIANTS = {
    v.name: v
    for v in [
        Variant("alone", 0),
        Variant("w1", 1),
        Variant("w2", 2),
        Variant("alone-nohist", 0, history=False),
        Variant("w1-nohist", 1, history=False),
        Variant("w2-nohist", 2, history=False),
    ]
}


@dataclass
class Plan:
    label: str
    scenario: str
    args: list[str]
    metric: str  # delivered_per_s | p99_ms
    higher_is_better: bool = True
    clients: int = 0


def plans(quick: bool) -> list[Plan]:
    d = "1" if quick else "5"
    pingpong = 200 if quick else 1000
    fanout = 200 if quick else 1000
    return [
        Plan(
            "pingpong 500 rooms",
            "pingpong",
            ["--clients", str(pingpong), "--duration", d],
            "delivered_per_s",
            clients=pingpong,
        ),
        Plan(
            f"fanout N={fanout}",
            "fanout",
            ["--clients", str(fanout), "--senders", "10", "--duration", d],
            "delivered_per_s",
            clients=fanout,
        ),
        Plan(
            "latency N=100 @200/s",
            "fanout",
            ["--clients", "100", "--rate", "200", "--duration", d],
            "p99_ms",
            higher_is_better=False,
            clients=100,
        ),
    ]


# -- /proc -------------------------------------------------------------------------------------------------


def listeners(port: int) -> int:
    """How many sockets listen on TCP ``port`` (one per worker sharing it with SO_REUSEPORT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def machine_cpu() -> dict[str, float]:
    """CPU seconds the whole machine spent since boot (every CPU, every process), from /proc/stat: busy
    (all but idle and iowait), in interrupts (irq and softirq: loopback TCP is partly processed there,
    charged to no process) and stolen by the hypervisor."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        tick = os.sysconf("SC_CLK_TCK")
        return {
            "busy": (user + nice + system + irq + softirq + steal) / tick,
            "irq": (irq + softirq) / tick,
            "steal": steal / tick,
        }
    return {"busy": 0.0, "irq": 0.0, "steal": 0.0}


def write_calls(pid: int) -> int:
    """The write system calls (write, writev: what an event loop sends on a socket with) ``pid`` made."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("syscw:"):
                return int(line.split()[1])
    return 0


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(int(link[8:-1]))
    return inodes


def placement(pids: list[int], port: int) -> dict[int, int]:
    """{client number: index in ``pids`` of the process holding its connection}. The load generator gives
    client i the source address 127.1.(i // 250).(i % 250 + 1) (for i < 62500)."""
    owner = {inode: k for k, pid in enumerate(pids) for inode in socket_inodes(pid)}
    where: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if state != "01" or int(local.rsplit(":", 1)[1], 16) != port or inode not in owner:
                continue
            address = socket.inet_ntoa(struct.pack("<I", int(remote.split(":")[0], 16)))
            a, b, c, d = (int(x) for x in address.split("."))
            if (a, b) == (127, 1):
                where[c * 250 + d - 1] = owner[inode]
    return where


def source_state() -> str:
    """A fingerprint of hubbub's source (src/hubbub/**/*.py) and its newest change: a run's figures belong to
    the code they measured, and the tree may be edited while a long run goes on."""
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted((bench.ROOT / "src" / "hubbub").rglob("*.py")):
        with contextlib.suppress(OSError):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    stamp = time.strftime("%H:%M:%S", time.localtime(newest)) if newest else "?"
    return f"{digest.hexdigest()[:12]} (newest file {stamp})"


# -- redis-server ------------------------------------------------------------------------------------------


class Redis:
    """A fresh redis-server on 127.0.0.1 and a free port, saving nothing, in its own temporary folder."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="redis-", dir=folder))
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        for _attempt in range(5):  # a free port, taken by someone else meanwhile: another one
            if self._launch(bench.free_port()):
                return
        raise RuntimeError(f"redis-server would not start; see {self.log}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _launch(self, port: int) -> bool:
        cmd = [
            self.binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.proc = proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            info = self._info(port)
            if info.get("process_id") == str(proc.pid):
                self.port = port
                return True
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {port}; see {self.log}")

    def _info(self, port: int | None = None) -> dict[str, str]:
        """INFO, as {field: value}; empty if it does not answer."""
        try:
            with socket.create_connection(("127.0.0.1", port or self.port), timeout=5) as sock:
                sock.sendall(b"INFO\r\n")
                reply = sock.makefile("rb")
                header = reply.readline()
                if not header.startswith(b"$"):
                    return {}
                text = reply.read(int(header[1:])).decode("utf-8", "replace")
        except (OSError, ValueError):
            return {}
        return dict(
            line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
        )

    def stats(self) -> dict[str, int]:
        info = self._info()
        keys = ("total_commands_processed", "total_net_input_bytes", "total_net_output_bytes")
        return {k: int(info.get(k, 0)) for k in keys}

    def cpu(self) -> float:
        return bench.cpu_time(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- hubbub ------------------------------------------------------------------------------------------------


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    pids: list[int]  # the processes serving clients: the workers (or the server itself)
    exit_code: int | None = None
    log_at_stop: int = 0  # the log's size when it was asked to stop
    redis: Redis | None = None

    def cpu(self) -> list[float]:
        return [bench.cpu_time(pid) for pid in self.pids]

    def all_cpu(self) -> float:
        """The server's every process: the supervisor too (it serves nobody, but it runs)."""
        extra = [self.proc.pid] if self.proc.pid not in self.pids else []
        return sum(bench.cpu_time(pid) for pid in [*extra, *self.pids])

    def writes(self) -> int:
        return sum(write_calls(pid) for pid in self.pids)

    def rss_kb(self) -> int:
        return sum(bench.rss_kb(pid) for pid in self.pids)


@contextlib.contextmanager
def hubbub(variant: Variant, folder: Path, run: int, redis: Redis | None) -> Iterator[Running]:
    """hubbub-irc as in the main suite (history in a fresh SQLite file, or none), started as ``variant`` says;
    yields once every worker listens."""
    port, other = bench.free_port(), bench.free_port()
    db = (
        ["--db", str(folder / f"hubbub-{run}.db")]
        if variant.history
        else ["--no-history", "--db", ":memory:"]
    )
    cluster = ["--redis", redis.url, "--workers", str(variant.workers)] if redis else []
    cmd = [
        sys.executable, "-m", "hubbub", "serve",
        "--host", "127.0.0.1",
        "--port", str(other),
        "--irc-port", str(port),
        "--log-level", "warning",
        *db,
        *cluster,
    ]  # fmt: skip
    log_path = folder / f"hubbub-{run}-{variant.name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    running = Running(proc, port, log_path, [proc.pid], redis=redis)
    try:
        want = max(1, variant.workers)
        deadline = time.monotonic() + START_TIMEOUT
        while listeners(port) < want or listeners(other) < want:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hubbub ({variant.describe}) did not start; see {log_path}")
            time.sleep(0.05)
        if variant.workers > 1:
            running.pids = children(proc.pid)
            if len(running.pids) != variant.workers:
                raise RuntimeError(
                    f"{len(running.pids)} workers running, not {variant.workers}; see {log_path}"
                )
        yield running
    finally:
        running.log_at_stop = log_path.stat().st_size
        proc.send_signal(signal.SIGTERM)
        try:
            running.exit_code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            running.exit_code = None
            for pid in running.pids:  # workers left behind by a supervisor that had to be killed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def log_problems(text: str) -> list[str]:
    marks = (" WARNING ", " ERROR ", " CRITICAL ", "Traceback", "exited unexpectedly")
    return [line for line in text.splitlines() if any(m in line for m in marks)]


# -- one measurement ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    """CPU seconds used so far by each process of a run, and by the machine."""

    at: float
    workers: list[float]
    server: float  # every process of the server (the supervisor too)
    redis: float
    loadgen: float
    machine: dict[str, float]
    writes: int  # the server's write system calls

    @classmethod
    def take(cls, running: Running, gen: int) -> Sample:
        redis = running.redis.cpu() if running.redis else 0.0
        return cls(
            time.monotonic(),
            running.cpu(),
            running.all_cpu(),
            redis,
            bench.cpu_time(gen),
            machine_cpu(),
            running.writes(),
        )

    def until(self, end: Sample) -> dict[str, Any]:
        """What each used from this sample to ``end``: CPU seconds, and CPUs kept busy (seconds / wall)."""
        wall = max(1e-9, end.at - self.at)
        used = {
            "workers": [b - a for a, b in zip(self.workers, end.workers, strict=True)],
            "server": end.server - self.server,
            "redis": end.redis - self.redis,
            "loadgen": end.loadgen - self.loadgen,
        }
        machine = {k: end.machine[k] - self.machine[k] for k in self.machine}
        ours = used["server"] + used["redis"] + used["loadgen"]
        used["irq"] = machine["irq"]
        used["steal"] = machine["steal"]
        # the rest of the busy time: other processes on the machine (approximately: the clock ticks of
        # /proc/stat are coarser than the processes' own times)
        used["other"] = max(0.0, machine["busy"] - machine["irq"] - machine["steal"] - ours)
        cpus = {
            k: [round(x / wall, 2) for x in v] if isinstance(v, list) else round(v / wall, 2)
            for k, v in used.items()
        }
        seconds = {
            k: [round(x, 3) for x in v] if isinstance(v, list) else round(v, 3) for k, v in used.items()
        }
        return {"wall": round(wall, 3), "seconds": seconds, "cpus": cpus, "writes": end.writes - self.writes}


def run_loadgen(plan: Plan, running: Running, timeout: float) -> tuple[dict[str, Any], dict[int, int]]:
    """The load generator (not pinned). Returns its result, with the CPU time each process used during the
    measurement proper ("measured_cpu"), and where its clients were ({client: worker index})."""
    cmd = [str(bench.LOADGEN), plan.scenario, "--port", str(running.port), "--proto", "irc"]
    cmd += ["--room", "#bench", *plan.args, "--settle", str(SETTLE), "--marks", "1"]
    where: dict[int, int] = {}
    marks: dict[str, Sample] = {}
    begin = Sample.take(running, 0)
    with tempfile.TemporaryFile() as out:
        gen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        assert gen.stderr is not None
        os.set_blocking(gen.stderr.fileno(), False)
        stderr = b""
        deadline = time.monotonic() + timeout
        next_look = 0.0
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(gen.stderr, selectors.EVENT_READ)
                while True:
                    if time.monotonic() > deadline:
                        raise subprocess.TimeoutExpired(cmd, timeout)
                    if selector.select(0.05):
                        chunk = gen.stderr.read() or b""
                        if not chunk:  # it exited
                            break
                        stderr += chunk
                        for mark in (b"loadgen: measuring\n", b"loadgen: measured\n"):
                            if mark in stderr and mark not in marks:
                                marks[mark.decode()] = Sample.take(running, gen.pid)
                                stderr = stderr.replace(mark, b"")
                    if len(running.pids) > 1 and len(where) < plan.clients and time.monotonic() > next_look:
                        # until every client is connected: which worker each one landed on
                        next_look = time.monotonic() + 0.25
                        seen = placement(running.pids, running.port)
                        if len(seen) > len(where):
                            where = seen
            gen.wait(timeout)
        finally:
            if gen.poll() is None:
                gen.kill()
                gen.wait()
            gen.stderr.close()
        out.seek(0)
        stdout = out.read().decode()
    if gen.returncode != 0 or not stdout.strip():
        text = (stderr.decode(errors="replace") or stdout).strip()
        return {"error": text[-300:] or f"exit {gen.returncode}"}, where
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    end = Sample.take(running, 0)
    end.loadgen = begin.loadgen  # it is gone: its own figure is in the result
    result["run_cpu"] = begin.until(end)
    first, last = marks.get("loadgen: measuring\n"), marks.get("loadgen: measured\n")
    if first and last:
        result["measured_cpu"] = first.until(last)
    return result, where


def measure(variant: Variant, plan: Plan, folder: Path, run: int, redis_binary: str) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        redis = Redis(redis_binary, folder) if variant.workers else None
        if redis is not None:
            stack.callback(redis.stop)
        with hubbub(variant, folder, run, redis) as running:
            rstats0 = redis.stats() if redis else {}
            rss0 = running.rss_kb()
            result, where = run_loadgen(plan, running, 300.0)
            rstats = {k: v - rstats0[k] for k, v in redis.stats().items()} if redis else {}
            result["server_rss_kb"] = running.rss_kb()
            result["server_rss_kb_before"] = rss0
        result["redis"] = rstats
        measured = result.get("measured_cpu")
        if measured and "delivered_per_s" in result:
            lines = max(1.0, result["delivered_per_s"] * result["duration"])
            result["cpu_us_per_line"] = {
                "hubbub": round(measured["seconds"]["server"] / lines * 1e6, 3),
                "redis": round(measured["seconds"]["redis"] / lines * 1e6, 3),
            }
            result["writes_per_line"] = round(measured["writes"] / lines, 4)
        if where:
            counts = [sum(1 for w in where.values() if w == k) for k in range(len(running.pids))]
            result["clients_per_worker"] = counts
            if plan.scenario == "pingpong":
                pairs = [(i, i + 1) for i in range(0, plan.clients, 2) if i in where and i + 1 in where]
                result["pairs_split"] = sum(1 for a, b in pairs if where[a] != where[b])
                result["pairs_seen"] = len(pairs)
                stalled = [first for first, *_ in result.get("stalled", [])]
                result["stalled_on"] = [
                    "split" if where.get(i) != where.get(i + 1) else f"both on worker {where.get(i, -1) + 1}"
                    for i in stalled
                ]
        text = running.log.read_text("utf-8", "replace")
        during = log_problems(text[: running.log_at_stop])
        result["log_problems"] = during[:20]
        result["log_problems_count"] = len(during)
        result["log_at_stop"] = log_problems(text[running.log_at_stop :])[:10]
        result["exit_code"] = running.exit_code
        result["log"] = str(running.log)
        return result


def problems(plan: Plan, result: dict[str, Any]) -> list[str]:
    """What is wrong with a run (empty: every line arrived intact, once, and nothing failed)."""
    if "error" in result:
        return [f"error: {result['error']}"]
    found = []
    if result["ready"] != result["clients"]:
        found.append(f"ready={result['ready']}/{result['clients']}")
    for key in ("corrupt", "gaps", "closed_early"):
        if result.get(key):
            found.append(f"{key}={result[key]}")
    if result.get("stalled_pairs"):
        # [first client of the pair, lines it got, lines its peer got], and whether the pair was split
        places = [*result.get("stalled_on", []), *[""] * len(result["stalled"])]
        shown = [
            f"b{i}/b{i + 1} got {a}/{b}" + (f" ({where})" if where else "")
            for (i, a, b), where in zip(
                result["stalled"][:4], places[: len(result["stalled"][:4])], strict=True
            )
        ]
        found.append(f"stalled_pairs={result['stalled_pairs']} (" + ", ".join(shown) + ")")
    if result.get("missing"):
        found.append(f"missing={result['missing']} of {result['expected']}")
    if result["delivered"] <= 0:
        found.append("nothing delivered")
    if result["log_problems_count"]:
        found.append(f"{result['log_problems_count']} warnings/errors logged (see {result['log']})")
    if result["exit_code"] != 0:
        found.append(f"server exit code {result['exit_code']}")
    return found


def value_of(plan: Plan, result: dict[str, Any]) -> float | None:
    if "error" in result:
        return None
    if plan.metric == "p99_ms":
        return float(result["latency_ms"]["p99"])
    return float(result[plan.metric])


# -- the suite ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    values: dict[str, list[float]] = field(default_factory=dict)
    p99: dict[str, list[float]] = field(default_factory=dict)
    cost: dict[str, list[float]] = field(default_factory=dict)  # CPU us per line, hubbub + redis
    failed: set[str] = field(default_factory=set)  # variants with a run that failed a check


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the cluster suite (--cluster)")
    group.add_argument(
        "--cluster",
        action="store_true",
        help="run the cluster suite instead: hubbub-irc alone, and through Redis with 1 and 2 workers",
    )
    group.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated: " + ",".join(VARIANTS)
    )
    group.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs of each scenario and variant, the median shown (default: 3, 1 with --quick)",
    )


def main(args: argparse.Namespace) -> int:
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        print("the cluster suite needs redis-server (Debian: apt-get install redis-server)", file=sys.stderr)
        return 2
    unknown = [v for v in args.variants.split(",") if v and v not in VARIANTS]
    if unknown:
        print(f"unknown variants: {', '.join(unknown)} (known: {', '.join(VARIANTS)})", file=sys.stderr)
        return 2
    variants = [VARIANTS[v] for v in args.variants.split(",") if v]
    repeat = args.repeat or (1 if args.quick else 3)
    bench.raise_fd_limit()
    bench.build_loadgen()
    wanted = [w for w in args.scenarios.split(",") if w]
    chosen = [p for p in plans(args.quick) if not wanted or any(w in p.label for w in wanted)]
    cpus = os.cpu_count() or 1
    version = subprocess.run([redis_binary, "--version"], capture_output=True, text=True, check=False).stdout
    load0 = os.getloadavg()
    source0 = source_state()
    print(PLACEMENT.format(cpus=cpus) + ".")
    print("variants: " + "; ".join(f"{v.name} = hubbub-irc {v.describe}" for v in variants))
    print(f"{version.strip()}; load average before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    print(f"hubbub source {source0}; {repeat} run(s) of each, interleaved; the median is shown\n")

    folder = Path(tempfile.mkdtemp(prefix="hubbub-bench-cluster-"))
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    rows: dict[str, Row] = {}
    failures: list[str] = []
    run = 0
    for plan in chosen:
        row = rows.setdefault(plan.label, Row())
        for rep in range(repeat):
            for variant in variants:
                run += 1
                print(f"{plan.label:<22} {variant.name:<13}", end=" ", flush=True)
                try:
                    result = measure(variant, plan, folder, run, redis_binary)
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                    result = {"error": str(exc)}
                result["repetition"] = rep + 1
                results.setdefault(plan.label, {}).setdefault(variant.name, []).append(result)
                value = value_of(plan, result)
                wrong = problems(plan, result)
                if value is not None:
                    row.values.setdefault(variant.name, []).append(value)
                    row.p99.setdefault(variant.name, []).append(float(result["latency_ms"]["p99"]))
                    if "cpu_us_per_line" in result:
                        cost = result["cpu_us_per_line"]
                        row.cost.setdefault(variant.name, []).append(cost["hubbub"] + cost["redis"])
                if wrong:
                    row.failed.add(variant.name)
                    failures.append(f"{plan.label} {variant.name} (run {rep + 1}): " + ", ".join(wrong))
                print(describe(plan, value, result, wrong), flush=True)
    load1 = os.getloadavg()
    source1 = source_state()
    print_table(chosen, variants, rows)
    print_ratios(chosen, variants, rows)
    print(f"\n{PLACEMENT.format(cpus=cpus)}.")
    print(f"load average after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if source1 != source0:
        print(f"WARNING: hubbub's source changed during the run: {source0} -> {source1}")
    if failures:
        print(f"\nFAILED checks ({len(failures)} runs):")
        for line in failures:
            print("  " + line)
    else:
        print(
            "\nchecks: every run complete (no corrupt line, gap, drop, missing line, stalled pair, warning)"
        )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {
        "suite": "cluster",
        "quick": args.quick,
        "repeat": repeat,
        "cpus": cpus,
        "placement": PLACEMENT.format(cpus=cpus),
        "python": sys.version.split()[0],
        "redis": version.strip(),
        "variants": {v.name: v.describe for v in variants},
        "loadavg_before": load0,
        "loadavg_after": load1,
        "source_before": source0,
        "source_after": source1,
        "failures": failures,
    }
    table = {label: {k: median(v) for k, v in row.values.items()} for label, row in rows.items()}
    path = out / f"cluster-{stamp}.json"
    path.write_text(json.dumps({"meta": meta, "table": table, "results": results}, indent=1))
    chart(table, path.with_suffix(".png"))
    print(f"results: {path} and .png")
    if failures:
        print(f"server logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


def describe(plan: Plan, value: float | None, result: dict[str, Any], wrong: list[str]) -> str:
    if "error" in result:
        return f"ERROR {result['error']}"
    parts = [f"{plan.metric}={value:,.1f}", f"p99={result['latency_ms']['p99']:.1f}ms"]
    measured = result.get("measured_cpu")
    if measured:
        cpus = measured["cpus"]
        shown = "+".join(f"{c:.2f}" for c in cpus["workers"])
        if cpus["server"] - sum(cpus["workers"]) >= 0.01:
            shown += f"(+{cpus['server'] - sum(cpus['workers']):.2f})"  # the supervisor
        busy = f"| CPUs busy: hubbub {shown}"
        if result["redis"]:
            busy += f" redis {cpus['redis']:.2f}"
        busy += f" loadgen {cpus['loadgen']:.2f} irq {cpus['irq']:.2f} other {cpus['other']:.2f}"
        if cpus["steal"] >= 0.01:
            busy += f" steal {cpus['steal']:.2f}"
        parts.append(busy)
    cost = result.get("cpu_us_per_line")
    if cost:
        text = f"| cpu us/line: hubbub {cost['hubbub']:,.2f}"
        if result["redis"]:
            text += f" redis {cost['redis']:,.2f}"
        parts.append(text + f"; write calls/line {result['writes_per_line']:.3g}")
    if "clients_per_worker" in result:
        parts.append("| clients/worker " + "/".join(str(n) for n in result["clients_per_worker"]))
    if "pairs_split" in result:
        parts.append(f"pairs split {result['pairs_split']}/{result['pairs_seen']}")
    check = "ok" if not wrong else "FAILED: " + ", ".join(wrong)
    return " ".join(parts) + f" [{check}]"


def print_table(chosen: list[Plan], variants: list[Variant], rows: dict[str, Row]) -> None:
    names = [v.name for v in variants]
    print()
    print(f"{'scenario':<26} " + " ".join(f"{n:>12} " for n in names))
    for plan in chosen:
        row = rows[plan.label]
        lines = [(plan.label, row.values, plan.metric)]
        if plan.metric != "p99_ms":
            lines.append(("  p99", row.p99, "p99_ms"))
        lines.append(("  cpu us/line", row.cost, "hubbub+redis CPU us per line delivered"))
        for label, values, metric in lines:
            cells = []
            for n in names:
                c = median(values.get(n, []))
                shown = "-" if c is None else f"{c:,.1f}" if c >= 10 else f"{c:.3g}"
                cells.append(shown + ("*" if n in row.failed else " "))
            print(f"{label:<26} " + " ".join(f"{c:>13}" for c in cells) + f"   ({metric})")
    if any(row.failed for row in rows.values()):
        print("* a run of it failed a check (see FAILED below); its figure is counted all the same")


def ratio(plan: Plan, row: Row, top: str, base: str) -> float | None:
    a, b = median(row.values.get(top, [])), median(row.values.get(base, []))
    if not a or not b:
        return None
    return a / b if plan.higher_is_better else b / a


def print_ratios(chosen: list[Plan], variants: list[Variant], rows: dict[str, Row]) -> None:
    names = {v.name for v in variants}
    pairs = [
        ("w2", "w1", "2 workers / 1 worker"),
        ("w1", "alone", "1 worker with Redis / alone"),
        ("w2", "alone", "2 workers / alone"),
    ]
    print()
    print("ratios against runs of the same scenario in this run (>1: better; latency ratios are inverted)")
    for suffix, title in (("", "history on"), ("-nohist", "--no-history")):
        lines = []
        for plan in chosen:
            parts = []
            for top, base, text in pairs:
                if top + suffix not in names or base + suffix not in names:
                    continue
                r = ratio(plan, rows[plan.label], top + suffix, base + suffix)
                cell = f"{text}: {'-' if r is None else f'{r:.2f}x'}"
                if r is not None and top == "w2" and base == "w1" and plan.scenario == "pingpong":
                    cell += f" (target {TARGET}x: {'met' if r >= TARGET else 'NOT met'})"
                parts.append(cell)
            if parts:
                lines.append(f"  {plan.label:<24} " + "; ".join(parts))
        if lines:
            print(f" {title}:")
            print("\n".join(lines))
    costs = []
    for plan in chosen:
        parts = []
        for v in ("alone", "w1", "w2"):
            if v in names and v + "-nohist" in names:
                r = ratio(plan, rows[plan.label], v, v + "-nohist")
                parts.append(f"{v} {'-' if r is None else f'{r:.2f}x'}")
        if parts:
            costs.append(f"  {plan.label:<24} " + ", ".join(parts))
    if costs:
        print(" history on / off (what recording history costs; 1.00x: nothing):")
        print("\n".join(costs))
