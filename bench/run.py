#!/usr/bin/env python3
"""hubbub's benchmark: hubbub (IRC, IRC over WebSocket and plain text) against the seed chat room, a bare
relay (the ceiling), miniircd, ngircd and ergo (when installed), on 127.0.0.1, with a C load generator in its
own process (bench/loadgen.c, client.c and ws.c, built into bench/build/).

    python bench/run.py                      # the full run (about 10 minutes)
    python bench/run.py --quick              # a small, fast run (a smoke test)
    python bench/run.py --servers hubbub-irc,ngircd --scenarios fanout
    python bench/run.py --servers hubbub-irc,hubbub-ws --scenarios "fanout N=1000,idle"   # WebSocket's cost
    python bench/run.py --servers relay,hubbub-irc --baseline ../main-before   # before/after in one run
    python bench/run.py --cluster [--quick]  # the cluster suite instead (bench/cluster.py): hubbub-irc alone,
                                             # and through a real redis-server with 1 and 2 worker processes

Each scenario starts a fresh server pinned to CPU 0 and runs the load generator pinned to CPU 1. Results are
printed as a table with ratios between the servers measured in the same run, and written as JSON and a PNG
chart under bench/results/. A server that is not installed is skipped with a note (bench/setup.sh installs
them). Everything is bounded in count and time and talks to 127.0.0.1 only.

hubbub-ws is hubbub on its plain-text port with clients speaking IRC over WebSocket (the load generator's
--proto ws: GET /socket, text.ircv3.net, one masked text frame per line); it runs every scenario hubbub-irc
runs, and the table ends with the ratio hubbub-ws / hubbub-irc of each figure. "idle C=5000" (C=1000 with
--quick) measures memory per idle client: 5,000 IRC clients, registered and in no channel, held connected at
once; the server's RSS is read while they are held (the load generator says when), less its RSS after a
warm-up of 50 clients that came and went; for hubbub-irc (IRC over TCP) and hubbub-ws. ("capacity" measures
the same around the whole run, with connection times, up to the file limit.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report import BASELINE, chart, print_table  # bench/report.py (bench/ is this script's import path)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
LOADGEN = BENCH / "build" / "loadgen"
CPU_SERVER, CPU_LOAD = "0", "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something listens on ``port``, found without connecting to it: a probe connection would
    be a client to the server (and sends the seed, which never handles EOF, into its endless loop)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def build_loadgen() -> Path:
    sources = [BENCH / name for name in ("loadgen.c", "client.c", "ws.c")]
    newest = max(path.stat().st_mtime for path in [*sources, BENCH / "loadgen.h", BENCH / "ws.h"])
    if not LOADGEN.exists() or LOADGEN.stat().st_mtime < newest:
        LOADGEN.parent.mkdir(exist_ok=True)
        subprocess.run(["cc", "-O2", "-Wall", "-o", str(LOADGEN), *map(str, sources)], check=True)
    return LOADGEN


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pinned(cpu: str, cmd: list[str]) -> list[str]:
    return (
        ["taskset", "-c", cpu, *cmd]
        if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1
        else cmd
    )


@dataclass
class Server:
    name: str
    proto: str  # irc | plain | raw | ws (IRC over WebSocket)
    room: str = "#bench"
    note: str = ""
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hubbub-bench-")))

    def available(self) -> str | None:
        """None if it can run here, else why not."""
        return None

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str] | None:
        """The server's environment (None: this process's)."""
        return None

    @contextlib.contextmanager
    def run(self) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
        port = free_port()
        log = open(self.tmp / f"{self.name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            pinned(CPU_SERVER, self.command(port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.tmp,
            env=self.env(),
        )
        try:
            deadline = time.monotonic() + 15
            while not listening(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start; see {log.name}")
                time.sleep(0.05)
            yield proc, port
        finally:
            proc.send_signal(signal.SIGKILL if self.name == "seed" else signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()


class Hubbub(Server):
    """hubbub with its defaults: history on, in a SQLite file in the server's scratch folder. ``extra``
    arguments vary that (``--no-history``). ``source``: run the hubbub of another checkout (its ``src``
    folder), for a before/after comparison in one run (``--baseline``)."""

    def __init__(
        self,
        name: str,
        proto: str,
        room: str = "#bench",
        extra: tuple[str, ...] = (),
        source: Path | None = None,
    ) -> None:
        super().__init__(name, proto, room=room)
        self.extra = extra
        self.source = source
        self.runs = 0

    def available(self) -> str | None:
        if self.source is not None and not (self.source / "src" / "hubbub").is_dir():
            return f"{self.source} is not a hubbub checkout"
        return None

    def env(self) -> dict[str, str] | None:
        if self.source is None:
            return None
        return {**os.environ, "PYTHONPATH": str(self.source / "src")}

    def _fresh_db(self) -> Path:
        """A new database for each run: history left by an earlier scenario would be replayed to the next
        one's clients on joining."""
        self.runs += 1
        return self.tmp / f"hubbub-{self.runs}.db"

    def command(self, port: int) -> list[str]:
        other = free_port()
        ports = (
            ["--port", str(other), "--irc-port", str(port)] if self.proto == "irc" else ["--port", str(port)]
        )
        if self.proto in ("plain", "ws"):  # WebSocket is on the plain-text port (an HTTP upgrade)
            ports += ["--irc-port", "0"]
        return [
            sys.executable,
            "-m",
            "hubbub",
            "serve",
            "--host",
            "127.0.0.1",
            *ports,
            "--log-level",
            "warning",
            "--db",
            str(self._fresh_db()),
            *self.extra,
        ]


class Script(Server):
    def __init__(self, name: str, script: str, note: str = "") -> None:
        super().__init__(name, "raw", note=note)
        self.script = script

    def command(self, port: int) -> list[str]:
        return [sys.executable, str(BENCH / self.script), str(port)]


class Miniircd(Server):
    def available(self) -> str | None:
        try:
            import miniircd  # noqa: F401
        except ImportError:
            return "miniircd is not installed (pip install miniircd)"
        return None

    def command(self, port: int) -> list[str]:
        extra = ["--setuid", "root"] if os.geteuid() == 0 else []
        return [sys.executable, "-m", "miniircd", "--listen", "127.0.0.1", "--ports", str(port), *extra]


class Ngircd(Server):
    def binary(self) -> str | None:
        return shutil.which("ngircd") or ("/usr/sbin/ngircd" if Path("/usr/sbin/ngircd").exists() else None)

    def available(self) -> str | None:
        return None if self.binary() else "ngircd is not installed (apt-get install ngircd)"

    def command(self, port: int) -> list[str]:
        conf = self.tmp / "ngircd.conf"
        conf.write_text(
            "[Global]\nName = bench.ngircd\nInfo = bench\nListen = 127.0.0.1\n"
            f"Ports = {port}\nMotdPhrase = bench\n"
            "[Limits]\nMaxConnections = 0\nMaxConnectionsIP = 0\nMaxJoins = 0\nMaxNickLength = 30\n"
            "MaxPenaltyTime = 0\nPingTimeout = 600\nPongTimeout = 600\n"
            "[Options]\nDNS = no\nIdent = no\nPAM = no\n"
        )
        return [str(self.binary()), "--nodaemon", "--config", str(conf)]


class Ergo(Server):
    def available(self) -> str | None:
        path = shutil.which("ergo")
        if path is None:
            return "no ergo binary on PATH"
        out = subprocess.run([path, "version"], capture_output=True, text=True, check=False).stdout
        return None if "ergo" in out.lower() else "the ergo on PATH is not the IRC server"

    def command(self, port: int) -> list[str]:
        conf = self.tmp / "ircd.yaml"
        default = subprocess.run(["ergo", "defaultconfig"], capture_output=True, text=True, check=True).stdout
        conf.write_text(default.replace('"127.0.0.1:6667":', f'"127.0.0.1:{port}":'))
        subprocess.run(
            ["ergo", "mkcerts", "--conf", str(conf)], capture_output=True, check=False, cwd=self.tmp
        )
        return ["ergo", "run", "--conf", str(conf)]


SERVERS: dict[str, Server] = {
    "hubbub-irc": Hubbub("hubbub-irc", "irc"),
    "hubbub-plain": Hubbub("hubbub-plain", "plain", room="#lobby"),
    # IRC over WebSocket (GET /socket, text.ircv3.net) on the plain-text port: against hubbub-irc, what the
    # framing costs
    "hubbub-ws": Hubbub("hubbub-ws", "ws"),
    # the same without recording history: what history costs
    "hubbub-irc-nohist": Hubbub("hubbub-irc-nohist", "irc", extra=("--no-history", "--db", ":memory:")),
    "relay": Script("relay", "relay.py", note="bare asyncio relay: the ceiling"),
    "seed": Script("seed", "seed_chat.py", note="the select() chat room, Python 3 port"),
    "miniircd": Miniircd("miniircd", "irc"),
    "ngircd": Ngircd("ngircd", "irc"),
    "ergo": Ergo("ergo", "irc"),
}


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_time(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def server_pid(proc: subprocess.Popen[bytes]) -> int:
    """The server's own pid (taskset execs it, so it is the same process)."""
    return proc.pid


def loadgen(scenario: str, port: int, server: Server, timeout: float, *args: str) -> dict[str, Any]:
    cmd = [str(LOADGEN), scenario, "--port", str(port), "--proto", server.proto, "--room", server.room, *args]
    out = subprocess.run(pinned(CPU_LOAD, cmd), capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return {"error": (out.stderr or out.stdout).strip()[-300:] or f"exit {out.returncode}"}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(server: Server, scenario: str, args: list[str], timeout: float) -> dict[str, Any]:
    with server.run() as (proc, port):
        pid = server_pid(proc)
        rss0, cpu0, t0 = rss_kb(pid), cpu_time(pid), time.monotonic()
        result = loadgen(scenario, port, server, timeout, *args)
        wall = time.monotonic() - t0
        result["server_rss_kb_before"] = rss0
        result["server_rss_kb"] = rss_kb(pid)
        result["server_cpu"] = round(cpu_time(pid) - cpu0, 3)
        result["wall"] = round(wall, 3)
        return result


#: Clients connected and gone before an idle measurement: what the first ones cost once (imports, caches) is
#: then out of the per-client figure.
IDLE_WARMUP = 50


def measure_idle(server: Server, args: list[str], timeout: float) -> dict[str, Any]:
    """The server's memory per idle client: RSS with the clients connected and idle (read while the load
    generator holds them, after it says so), less RSS after a warm-up (IDLE_WARMUP clients that came and
    went)."""
    with server.run() as (proc, port):
        pid = server_pid(proc)
        warm = ["--clients", str(IDLE_WARMUP), "--hold", "0", "--deadline", "30"]
        warmed = loadgen("capacity", port, server, timeout, *warm)
        if "error" in warmed:
            return {"error": f"warm-up: {warmed['error']}"}
        time.sleep(1.0)
        rss0, cpu0, t0 = rss_kb(pid), cpu_time(pid), time.monotonic()
        cmd = [str(LOADGEN), "capacity", "--port", str(port), "--proto", server.proto, *args]
        pipe = subprocess.PIPE
        gen = subprocess.Popen(pinned(CPU_LOAD, cmd), stdout=pipe, stderr=pipe, text=True)
        try:
            assert gen.stderr is not None
            holding = any(line.startswith("loadgen: holding") for line in gen.stderr)
            # the stream ends when it exits, so this read waited for the mark (or the end): sample now
            samples = []
            if holding and gen.poll() is None:
                time.sleep(1.0)
                samples.append(rss_kb(pid))
            out, _ = gen.communicate(timeout=timeout)
        finally:
            if gen.poll() is None:
                gen.kill()
                gen.wait()
        if not samples or not out.strip():
            return {"error": f"no idle measurement (loadgen exit {gen.returncode})"}
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result["server_rss_kb_before"] = rss0
        result["server_rss_kb"] = samples[-1]
        result["server_cpu"] = round(cpu_time(pid) - cpu0, 3)
        result["wall"] = round(time.monotonic() - t0, 3)
        result["warmup_clients"] = IDLE_WARMUP
        return result


@dataclass
class Plan:
    label: str
    scenario: str
    args: list[str]
    metric: str  # the figure compared between servers
    higher_is_better: bool = True
    protos: tuple[str, ...] = ("irc", "plain", "raw", "ws")
    #: Measure the server's memory while the clients are held (measure_idle) instead of around the run.
    idle: bool = False


def plans(quick: bool, max_clients: int) -> list[Plan]:
    d = "1" if quick else "5"
    sizes = [100, 500] if quick else [100, 1000, 5000]
    out = [
        Plan(
            f"fanout N={n}",
            "fanout",
            ["--clients", str(n), "--senders", "10", "--duration", d],
            "delivered_per_s",
        )
        for n in sizes
    ]
    out += [
        Plan(
            "latency N=100 @200/s",
            "fanout",
            ["--clients", "100", "--rate", "200", "--duration", d],
            "p99_ms",
            False,
        ),
        Plan(
            "latency N=1000 @20/s",
            "fanout",
            ["--clients", "200" if quick else "1000", "--rate", "20", "--duration", d],
            "p99_ms",
            False,
        ),
        Plan(
            "pingpong 500 rooms",
            "pingpong",
            ["--clients", "200" if quick else "1000", "--duration", d],
            "delivered_per_s",
            protos=("irc", "plain", "ws"),
        ),
    ]
    for count in [1000] if quick else [5000, max_clients]:
        out.append(
            Plan(
                f"capacity C={count}",
                "capacity",
                ["--clients", str(count), "--hold", "1", "--deadline", "120"],
                "rss_per_client_kb",
                False,
                protos=("irc", "plain", "ws"),
            )
        )
    idle = 1000 if quick else 5000
    out.append(
        Plan(
            f"idle C={idle}",
            "capacity",
            ["--clients", str(idle), "--hold", "3", "--deadline", "120", "--marks", "1"],
            "rss_per_client_kb",
            False,
            protos=("irc", "ws"),
            idle=True,
        )
    )
    out.append(
        Plan(
            "churn",
            "churn",
            ["--concurrency", "50", "--duration", d],
            "cycles_per_s",
            protos=("irc", "plain", "ws"),
        )
    )
    return out


def summarise(plan: Plan, result: dict[str, Any]) -> float | None:
    if "error" in result:
        return None
    if plan.metric == "p99_ms":
        return float(result["latency_ms"]["p99"])
    if plan.metric == "rss_per_client_kb":
        alive = max(1, int(result.get("alive", 0)))
        grown = result["server_rss_kb"] - result["server_rss_kb_before"]
        if grown <= 0:  # the process measured is not the one holding the clients (a wrapper)
            result["rss_per_client_kb"] = None
            return None
        result["rss_per_client_kb"] = round(grown / alive, 2)
        return float(result["rss_per_client_kb"])
    return float(result.get(plan.metric, 0.0))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small counts and short durations")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: " + ",".join(SERVERS))
    parser.add_argument("--scenarios", default="", help="only plans whose label contains one of these words")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the JSON and PNG results")
    parser.add_argument(
        "--baseline",
        metavar="CHECKOUT",
        help="also run hubbub-irc from another checkout (e.g. a git worktree of main) as hubbub-base,"
        " to compare before and after a change in one run",
    )
    import cluster  # bench/cluster.py: the cluster suite (it imports this file as ``run``)

    cluster.add_arguments(parser)
    args = parser.parse_args()
    if args.cluster:
        return cluster.main(args)

    hard = raise_fd_limit()
    max_clients = min(19000, hard - 500)
    build_loadgen()
    chosen = [SERVERS[name] for name in args.servers.split(",") if name]
    if args.baseline:
        chosen.append(Hubbub(BASELINE, "irc", source=Path(args.baseline).resolve()))
    skipped = {s.name: why for s in chosen if (why := s.available())}
    servers = [s for s in chosen if s.name not in skipped]
    for name, why in skipped.items():
        print(f"skipping {name}: {why}")
    wanted = [w for w in args.scenarios.split(",") if w]
    results: dict[str, dict[str, Any]] = {}
    table: dict[str, dict[str, float | None]] = {}
    metrics: dict[str, Plan] = {}
    for plan in plans(args.quick, max_clients):
        if wanted and not any(w in plan.label for w in wanted):
            continue
        for server in servers:
            if server.proto not in plan.protos:
                continue
            timeout = 300.0
            print(f"{plan.label:<24} {server.name:<13}", end=" ", flush=True)
            try:
                if plan.idle:
                    result = measure_idle(server, plan.args, timeout)
                else:
                    result = measure(server, plan.scenario, plan.args, timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                result = {"error": str(exc)}
            value = summarise(plan, result)
            results.setdefault(plan.label, {})[server.name] = result
            table.setdefault(plan.label, {})[server.name] = value
            if plan.scenario == "capacity" and "connect_time" in result:
                # the second figure of the capacity scenario: seconds to connect and register them all
                connect = f"{plan.label} connect"
                metrics[connect] = Plan(connect, plan.scenario, [], "connect_s", higher_is_better=False)
                table.setdefault(connect, {})[server.name] = float(result["connect_time"])
            extra = ""
            if "corrupt" in result:
                share = result["loadgen_cpu_share"]
                extra = (
                    f" corrupt={result['corrupt']} gaps={result['gaps']} dropped={result['closed_early']}"
                    f" loadgen_cpu={share:.0%}"
                )
            print(f"{plan.metric}={value if value is not None else result.get('error')}{extra}", flush=True)
    print_table(table, [*plans(args.quick, max_clients), *metrics.values()])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {"quick": args.quick, "cpus": os.cpu_count(), "python": sys.version.split()[0], "skipped": skipped}
    (out / f"bench-{stamp}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    chart(table, out / f"bench-{stamp}.png")
    print(f"results: {out / f'bench-{stamp}.json'} and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
