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

__all__ = ["NoTimer", "Recorder", "fuzz", "instrumented"]


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


class NoTimer:
    """What a fake link's ``call_later`` returns: the targets never run timers."""

    def cancel(self) -> None:
        pass


class Recorder:
    """A session that only gathers the bytes it is given (what a chat or IRC session would have got)."""

    protocol = "recorder"
    exempt_from_flood = False

    def __init__(self, link: object) -> None:
        self.link = link
        self.data = b""

    def start(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        pass

    def connection_lost(self, reason: str) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass
