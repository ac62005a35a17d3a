"""Fuzz target: plain-text sessions (``hubbub.protocols.plain.PlainSession``) on a shared Hub, with a few IRC
and protocol-detected clients beside them. See ``_world.py`` for the script the input encodes and the
invariants checked after every step: no exception may escape a session, and the hub stays consistent."""

from __future__ import annotations

import sys

from _fuzzutil import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from _world import World


def TestOneInput(data: bytes) -> None:
    World("plain").run(data)


if __name__ == "__main__":
    fuzz(TestOneInput)
    sys.exit(0)
