"""Case mapping and the rules for nicknames and room names.

hubbub uses the ``ascii`` case mapping (as ergo does by default): only ``A``-``Z`` fold to ``a``-``z``, so
``Alice`` and ``alice`` are the same nickname while ``[`` and ``{`` stay distinct.

Nicknames: 1 to ``nick_max`` (default 32) characters from ``A-Z a-z 0-9 - _ [ ] \\ ` ^ { } |``, not
starting with a digit or ``-``. Room names: ``#`` followed by 1 to ``room_max - 1`` characters (default 64
in all), none of them a space (of any kind), a comma, ``:``, a control or a format character (bidi
controls, zero-width characters: see :func:`is_clean`), and with letters from at most one of the Latin, Greek
and Cyrillic scripts, so that ``#l\u043ebby`` (a Cyrillic o) cannot pass for ``#lobby``.
"""

from __future__ import annotations

import re
import unicodedata

from ..wire.text import has_unsafe_chars

__all__ = [
    "NICK_CHARS_HELP",
    "ROOM_PREFIX",
    "casefold",
    "is_clean",
    "is_mixed_script",
    "is_valid_nick",
    "is_valid_room",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

ROOM_PREFIX = "#"

NICK_CHARS_HELP = "letters, digits and - _ [ ] \\ ` ^ { } |, not starting with a digit or -"

_NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")
_ROOM_BAD_RE = re.compile(r"[\x00-\x20\x7f,:\x85\xa0\u2028\u2029]")
#: The scripts whose letters look alike: a name may use letters of one of them only.
_CONFUSABLE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def casefold(name: str) -> str:
    """Fold a nickname or room name for comparison (ascii case mapping)."""
    if name.isascii():
        return name.lower()
    return name.translate(_ASCII_LOWER)


def is_valid_nick(nick: str, max_len: int = 32) -> bool:
    return 0 < len(nick) <= max_len and _NICK_RE.match(nick) is not None


def is_clean(text: str) -> bool:
    """Whether ``text`` (a room name, a key, a ban mask) holds no control character (C0, DEL, C1), format
    character (Cf: bidi controls, zero-width characters, ...), surrogate or line separator. The one check of
    user-chosen names for both protocols: what it refuses can never reach a terminal or hide in a list."""
    return not has_unsafe_chars(text)


def is_mixed_script(text: str) -> bool:
    """Whether ``text`` has letters from more than one of the Latin, Greek and Cyrillic scripts."""
    if text.isascii():
        return False
    seen: set[str] = set()
    for char in text:
        if char.isalpha() and not char.isascii():
            script = unicodedata.name(char, "").partition(" ")[0]
            if script in _CONFUSABLE_SCRIPTS:
                seen.add(script)
        elif char.isalpha():
            seen.add("LATIN")
    return len(seen) > 1


def is_valid_room(name: str, max_len: int = 64) -> bool:
    return (
        1 < len(name) <= max_len
        and name[0] == ROOM_PREFIX
        and _ROOM_BAD_RE.search(name) is None
        and len(name.encode("utf-8", "surrogatepass")) <= max_len
        and is_clean(name)
        and not any(unicodedata.category(c) == "Zs" for c in name)
        and not is_mixed_script(name)
    )
