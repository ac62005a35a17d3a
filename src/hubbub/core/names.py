"""Case mapping and the rules for nicknames and room names.

hubbub uses the ``ascii`` case mapping (as ergo does by default): only ``A``-``Z`` fold to ``a``-``z``, so
``Alice`` and ``alice`` are the same nickname while ``[`` and ``{`` stay distinct.

Nicknames: 1 to ``nick_max`` (default 32) characters from ``A-Z a-z 0-9 - _ [ ] \\ ` ^ { } |``, not
starting with a digit or ``-``. Room names: ``#`` followed by 1 to ``room_max - 1`` characters (default 64
in all), none of them a space, a comma, a control character or ``:``.
"""

from __future__ import annotations

import re

__all__ = [
    "NICK_CHARS_HELP",
    "ROOM_PREFIX",
    "casefold",
    "is_valid_nick",
    "is_valid_room",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

ROOM_PREFIX = "#"

NICK_CHARS_HELP = "letters, digits and - _ [ ] \\ ` ^ { } |, not starting with a digit or -"

_NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")
_ROOM_BAD_RE = re.compile(r"[\x00-\x20\x7f,:\x85\xa0\u2028\u2029]")


def casefold(name: str) -> str:
    """Fold a nickname or room name for comparison (ascii case mapping)."""
    if name.isascii():
        return name.lower()
    return name.translate(_ASCII_LOWER)


def is_valid_nick(nick: str, max_len: int = 32) -> bool:
    return 0 < len(nick) <= max_len and _NICK_RE.match(nick) is not None


def is_valid_room(name: str, max_len: int = 64) -> bool:
    return (
        1 < len(name) <= max_len
        and name[0] == ROOM_PREFIX
        and _ROOM_BAD_RE.search(name) is None
        and len(name.encode("utf-8", "surrogatepass")) <= max_len
    )
