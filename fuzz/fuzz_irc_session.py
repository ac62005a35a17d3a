"""Fuzz target: IRC sessions (``hubbub.protocols.irc.IrcSession``) on a shared Hub, with a few plain-text and
protocol-detected clients beside them. See ``_world.py`` for the script the input encodes and the invariants
checked after every step: no exception may escape a session, and the hub stays consistent."""

from __future__ import annotations

import sys

from _fuzzutil import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from _world import World


def TestOneInput(data: bytes) -> None:
    World("irc").run(data)


if __name__ == "__main__":
    fuzz(TestOneInput)
    sys.exit(0)
