"""A tiny run of the benchmark (bench/run.py --quick): the load generator builds, drives hubbub over IRC and
plain text and the bare relay, and every line arrives whole. Figures are not checked here: speed is measured
by the benchmark itself, never by tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
