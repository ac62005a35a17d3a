"""Run the fuzz targets with atheris: ``python fuzz/run.py [SECONDS] [--runs N] [--jobs N] [TARGET...]``.

Each target (``fuzz/fuzz_*.py``) runs for SECONDS (default 30) or N inputs, starting from its seed corpus
(``fuzz/corpus/<target>/``, read only) and a working corpus kept between runs (``fuzz/.work/<target>/``, where
new inputs go), with its dictionary (``fuzz/<target>.dict``) when there is one. A crashing input is written to
``fuzz/.work/crashes/``. The summary gives, per target, the inputs executed and the crash found, if any; the
exit status is 1 if any target crashed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = tuple(sorted(path.stem for path in HERE.glob("fuzz_*.py")))
WORK = HERE / ".work"


@dataclass
class Result:
    target: str
    runs: int
    seconds: float
    crashed: bool
    artifact: str
    output: str


def command(target: str, *, seconds: float | None, runs: int | None, work: Path = WORK) -> list[str]:
    corpus = work / target
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = work / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / f"{target}.py"), str(corpus)]
    seeds = HERE / "corpus" / target
    if seeds.is_dir():
        cmd.append(str(seeds))
    cmd += [
        f"-artifact_prefix={crashes}/{target}-",
        "-timeout=20",
        "-rss_limit_mb=3072",
        "-max_len=4096",
        "-print_final_stats=1",
    ]
    if target.endswith("_session"):
        cmd.append("-len_control=0")  # a script needs room for several actions from the start
    dictionary = HERE / f"{target}.dict"
    if dictionary.is_file():
        cmd.append(f"-dict={dictionary}")
    if seconds is not None:
        cmd.append(f"-max_total_time={max(1, round(seconds))}")
    if runs is not None:
        cmd.append(f"-runs={runs}")
    return cmd


def run_target(
    target: str, *, seconds: float | None = None, runs: int | None = None, work: Path = WORK
) -> Result:
    started = time.monotonic()
    limit = (seconds or 0) * 2 + 300  # a hard stop, well past the fuzzer's own
    proc = subprocess.run(
        command(target, seconds=seconds, runs=runs, work=work),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=limit,
        check=False,
    )
    output = proc.stdout.decode("utf-8", "replace")
    found = re.findall(r"stat::number_of_executed_units: (\d+)", output)
    if not found:
        found = re.findall(r"Done (\d+) runs", output) or re.findall(r"^#(\d+)", output, re.MULTILINE)
    artifact = re.findall(r"Test unit written to (\S+)", output)
    return Result(
        target,
        int(found[-1]) if found else 0,
        time.monotonic() - started,
        proc.returncode != 0,
        artifact[-1] if artifact else "",
        output,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("seconds", nargs="?", type=float, default=30.0, help="seconds per target (30)")
    parser.add_argument("targets", nargs="*", help=f"targets to run (default all: {', '.join(TARGETS)})")
    parser.add_argument("--runs", type=int, default=None, help="stop each target after this many inputs")
    parser.add_argument("--jobs", type=int, default=1, help="targets to run at the same time")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each fuzzer's output")
    args = parser.parse_args(argv)
    targets = args.targets or list(TARGETS)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)}")
    seconds = None if args.runs is not None and args.seconds == 30.0 else args.seconds
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda t: run_target(t, seconds=seconds, runs=args.runs), targets))
    failed = False
    for result in results:
        if args.verbose or result.crashed:
            print(f"---- {result.target}\n{result.output[-6000:]}")
    print(f"{'target':<22} {'executions':>11} {'seconds':>8}  crashes")
    for result in results:
        crash = f"1: {result.artifact or 'see output above'}" if result.crashed else "0"
        failed = failed or result.crashed
        print(f"{result.target:<22} {result.runs:>11} {result.seconds:>8.1f}  {crash}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
