"""A tiny run of the benchmark (bench/run.py --quick): the load generator builds, drives hubbub over IRC,
plain text and IRC over WebSocket and the bare relay, and every line arrives whole. Figures are not checked
here: speed is measured by the benchmark itself, never by tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import ServerProcess, uncovered_env

ROOT = Path(__file__).resolve().parents[2]
Start = Callable[..., ServerProcess]


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_quick_fanout_and_pingpong_deliver_every_line_intact(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--servers",
            "hubbub-irc,hubbub-plain,relay",
            "--scenarios",
            "fanout N=100,pingpong",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
        env=uncovered_env(),  # the servers a benchmark starts run at full speed, never under coverage
    )
    assert out.returncode == 0, out.stdout + out.stderr
    [path] = tmp_path.glob("bench-*.json")
    results = json.loads(path.read_text())["results"]
    runs = [(label, name, r) for label, row in results.items() for name, r in row.items()]
    assert {(label, name) for label, name, _ in runs} == {
        ("fanout N=100", "hubbub-irc"),
        ("fanout N=100", "hubbub-plain"),
        ("fanout N=100", "relay"),
        ("pingpong 500 rooms", "hubbub-irc"),
        ("pingpong 500 rooms", "hubbub-plain"),
    }
    for label, name, result in runs:
        assert "error" not in result, (label, name, result)
        assert result["ready"] == result["clients"], (label, name)
        assert result["delivered"] > 0, (label, name)
        assert result["corrupt"] == 0 and result["gaps"] == 0 and result["closed_early"] == 0, (label, name)
    assert "ratios" in out.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return  # the chart is optional: bench extras
    assert path.with_suffix(".png").exists()


def build_loadgen() -> Path:
    """bench/run.py's own build of the load generator (in a subprocess: run.py imports its neighbours)."""
    out = subprocess.run(
        [sys.executable, "-c", "import run; print(run.build_loadgen())"],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Path(out.stdout.strip())


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_the_load_generator_over_websocket_fans_out_every_line_intact(make_server: Start) -> None:
    """--proto ws: its own framing checks pass (7-, 16- and 64-bit lengths, masks), and a small fan-out over
    WebSocket delivers every line once, whole, in order (lines over 125 bytes: 16-bit lengths both ways)."""
    loadgen = build_loadgen()
    selftest = subprocess.run(
        [str(loadgen), "wstest"], capture_output=True, text=True, timeout=30, check=False
    )
    assert selftest.returncode == 0, selftest.stderr
    server = make_server()
    args = ["--clients", "20", "--senders", "4", "--duration", "1", "--payload", "150", "--settle", "5"]
    out = subprocess.run(
        [str(loadgen), "fanout", "--port", str(server.port), "--proto", "ws", *args, "--deadline", "30"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["proto"] == "ws"
    assert result["ready"] == result["clients"] == 20
    assert result["delivered"] > 0
    assert result["corrupt"] == 0 and result["gaps"] == 0 and result["closed_early"] == 0, result
    assert result["missing"] == 0, result
    assert not [line for line in server.log if "WebSocket error" in line or "Traceback" in line]


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_REUSEPORT balancing and /proc are Linux's"
)
def test_quick_cluster_suite_with_two_workers_delivers_every_line_once(tmp_path: Path) -> None:
    """bench/run.py --cluster --quick, 2 workers through a real redis-server: every line crosses to the other
    node, once, intact; no ping-pong pair stalls (a lost line); both workers serve clients and log nothing."""
    from realclients import require_binary
    from redis_server import require_redis_py

    require_binary("redis-server")
    require_redis_py()
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--cluster",
            "--quick",
            "--variants",
            "w2",
            "--scenarios",
            "pingpong,fanout",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
        env=uncovered_env(),  # the servers a benchmark starts run at full speed, never under coverage
    )
    paths = list(tmp_path.glob("cluster-*.json"))
    assert len(paths) == 1, out.stdout + out.stderr
    results = json.loads(paths[0].read_text())["results"]
    runs = [(label, name, r) for label, row in results.items() for name, rs in row.items() for r in rs]
    assert {(label, name) for label, name, _ in runs} == {
        ("pingpong 500 rooms", "w2"),
        ("fanout N=200", "w2"),
    }
    for label, name, result in runs:
        where = (label, name, result.get("log"))
        assert "error" not in result, (where, result["error"])
        assert result["ready"] == result["clients"], where
        assert result["delivered"] > 0, where
        assert result["corrupt"] == 0 and result["gaps"] == 0 and result["closed_early"] == 0, (where, result)
        assert result["missing"] == 0, (where, result["expected"], result["delivered"])
        assert result["stalled_pairs"] == 0, (where, result["stalled"], result.get("stalled_on"))
        assert result["log_problems_count"] == 0, (where, result["log_problems"])
        assert result["exit_code"] == 0, where
        assert len(result["clients_per_worker"]) == 2 and min(result["clients_per_worker"]) > 0, where
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CPU placement: none pinned" in out.stdout


def test_tiny_attack_scenarios_run_and_are_measured(tmp_path: Path) -> None:
    """bench/attacks.py end to end, tiny: the setup, the probe pair and the attacker all run, and the attack
    really happened (answers counted), so the script cannot rot."""
    path = tmp_path / "attacks.json"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "attacks.py"),
            "--tiny",
            "--scenarios",
            "list-globs,chathistory",
            "--duration",
            "1",
            "--drain",
            "2",
            "--json",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
        env=uncovered_env(),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    results = {r["scenario"]: r for r in json.loads(path.read_text())["results"]}
    assert set(results) == {"list-globs", "chathistory"}
    for result in results.values():
        assert result["errors"] == [], result
        assert result["sent"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0, result
    assert results["list-globs"]["work"]["LIST answered"] > 0
    assert results["chathistory"]["work"]["batches"] > 0
    assert results["chathistory"]["setup"]["history_rows_served"] == 100
    assert "attack work done" in out.stdout
