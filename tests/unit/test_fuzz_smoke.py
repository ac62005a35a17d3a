"""The fuzz targets in CI: each target's ``TestOneInput`` over its seed corpus, its regression inputs (crashes
found by fuzzing, kept in ``fuzz/regressions/<target>/``) and a few thousand deterministic random inputs; then
a short coverage-guided run of each with atheris, in a subprocess (``fuzz/run.py``, as ``scripts/fuzz`` runs
them), which must finish without a crash."""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ))

import run as fuzz_run  # noqa: E402 - fuzz/ is not a package: it is put on the path first

TARGETS = fuzz_run.TARGETS
#: Random inputs per target (sessions cost more per input than the codecs).
RANDOM_INPUTS = {
    "fuzz_lines": 3000,
    "fuzz_http": 1000,
    "fuzz_websocket": 1000,
    "fuzz_irc_codec": 3000,
    "fuzz_irc_session": 300,
    "fuzz_plain_session": 300,
    "fuzz_proxy": 2000,
    "fuzz_terminal": 3000,
}


def test_every_target_is_known() -> None:
    assert set(TARGETS) == set(RANDOM_INPUTS)


def target(name: str) -> Callable[[bytes], None]:
    module = importlib.import_module(name)
    function: Callable[[bytes], None] = module.TestOneInput
    return function


def inputs(name: str) -> list[Path]:
    files = [
        path
        for folder in (FUZZ / "corpus" / name, FUZZ / "regressions" / name)
        if folder.is_dir()
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]
    return files


@pytest.mark.parametrize("name", TARGETS)
def test_seed_corpus_and_regressions(name: str) -> None:
    files = inputs(name)
    assert files, f"no seed inputs for {name}"
    run_one = target(name)
    for path in files:
        run_one(path.read_bytes())


@pytest.mark.parametrize("name", TARGETS)
def test_random_inputs(name: str) -> None:
    run_one = target(name)
    rng = random.Random(name)
    seeds = [path.read_bytes() for path in inputs(name)]
    for i in range(RANDOM_INPUTS[name]):
        if seeds and i % 2:  # a seed with some bytes changed: mostly well-formed, a little broken
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 8)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            run_one(bytes(data))
        else:
            run_one(rng.randbytes(rng.randint(0, 300)))


@pytest.mark.parametrize("name", TARGETS)
def test_a_short_fuzz_run(name: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    result = fuzz_run.run_target(name, seconds=5, runs=20000, work=tmp_path)
    assert not result.crashed, result.output[-4000:]
    assert result.runs > 100, result.output[-4000:]
