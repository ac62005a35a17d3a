"""What every fuzz target shares: instrumentation of hubbub's modules, and the atheris entry point.

A target is a script with a ``TestOneInput(data: bytes) -> None`` function. Run as a script it fuzzes with
atheris (libFuzzer options and corpus directories on the command line, see ``scripts/fuzz``); imported, its
``TestOneInput`` is an ordinary function that the smoke test calls on the seed corpus. Only when run as a
script are hubbub's modules instrumented for coverage (``instrumented(__name__ == "__main__")`` around the
target's hubbub imports): importing a target in a test process changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

__all__ = ["fuzz", "instrumented"]


@contextlib.contextmanager
def instrumented(enabled: bool) -> Iterator[None]:
    """Instrument the hubbub modules imported in this block when ``enabled`` (running under atheris)."""
    if not enabled:
        yield
        return
    import atheris

    with atheris.instrument_imports(include=["hubbub"]):
        yield


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Fuzz ``test_one_input`` with atheris; libFuzzer's options come from the command line."""
    import atheris

    logging.disable(logging.CRITICAL)  # the server's own log lines would drown the fuzzer's
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
