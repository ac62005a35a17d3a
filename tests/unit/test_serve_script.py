"""scripts/serve installs once: again only when pyproject.toml changes (or the install is broken), so that a
restart needs no network. Run for real (bash) in a copy of the checkout with a stand-in virtualenv whose
python and hubbub record what they were asked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$(dirname "$0")/../calls"
exit 0
"""
FAKE_HUBBUB = """#!/usr/bin/env bash
echo "hubbub $*" >> "$(dirname "$0")/../calls"
"""


def checkout(tmp_path: Path) -> Path:
    copy = tmp_path / "hubbub"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "serve", copy / "scripts" / "serve")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    bin_dir = copy / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", FAKE_PYTHON), ("hubbub", FAKE_HUBBUB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return copy


def serve(copy: Path, *args: str) -> list[str]:
    calls = copy / ".venv" / "calls"
    calls.unlink(missing_ok=True)
    subprocess.run(["bash", str(copy / "scripts" / "serve"), *args], check=True, timeout=60)
    return calls.read_text().splitlines()


def test_serve_installs_once_and_again_only_when_pyproject_changes(tmp_path: Path) -> None:
    copy = checkout(tmp_path)
    first = serve(copy, "--port", "9000")
    assert any("pip install" in call and "fast,cluster,metrics" in call for call in first), first
    assert first[-1] == "hubbub serve --port 9000"
    again = serve(copy)
    assert not any("pip" in call for call in again), again  # a restart installs nothing
    assert again[-1] == "hubbub serve"
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# changed\n")
    changed = serve(copy)
    assert any("pip install" in call for call in changed), changed
