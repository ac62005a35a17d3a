"""End-to-end: the event loop a server runs on (--loop) when uvloop cannot be imported: "auto" falls back to
asyncio, "uvloop" is refused with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TIMEOUT, ServerProcess


@pytest.fixture
def no_uvloop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose Python finds a uvloop that cannot be imported (first on PYTHONPATH)."""
    (tmp_path / "uvloop.py").write_text('raise ImportError("uvloop is hidden from this test")\n')
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    return dict(os.environ)


def test_auto_falls_back_to_asyncio_without_uvloop(no_uvloop: dict[str, str]) -> None:
    server = ServerProcess("--loop", "auto")
    try:
        server.wait_log(r"started \(event loop: asyncio\)")
        ann, bob = server.connect("ann"), server.connect("bob")
        ann.send("hello")
        bob.expect(r"^<ann> hello$")
    finally:
        assert server.stop() == 0


def test_uvloop_asked_for_but_missing_is_refused(no_uvloop: dict[str, str]) -> None:
    cmd = [sys.executable, "-m", "hubbub", "serve", "--loop", "uvloop", "--port", "0", "--db", ":memory:"]
    result = subprocess.run(cmd, check=False, env=no_uvloop, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 1
    assert "hubbub: --loop uvloop, but uvloop is not installed (pip install uvloop)" in result.stderr
    assert "listening" not in result.stderr
