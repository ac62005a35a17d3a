"""Case mapping and the rules for nicknames and room names.

hubbub uses the ``ascii`` case mapping (as ergo does by default): only ``A``-``Z`` fold to ``a``-``z``, so
``Alice`` and ``alice`` are the same nickname while ``[`` and ``{`` stay distinct.

Nicknames: 1 to ``nick_max`` (default 32) characters from ``A-Z a-z 0-9 - _ [ ] \\ ` ^ { } |``, not
starting with a digit or ``-``. Room names: ``#`` followed by 1 to ``room_max - 1`` characters (default 64
in all), none of them a space (of any kind), a comma, ``:``, a control or a format character (bidi
controls, zero-width characters: see :func:`is_clean`), none of them a compatibility or singleton
variant of another character (fullwidth ``\uff4c``, mathematical ``\U0001d425``, the Kelvin sign: see
:func:`is_look_alike_char`), and with letters of one script only (:func:`is_mixed_script`), so that
``#l\u043ebby`` (a Cyrillic o) cannot pass for ``#lobby``.
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
    "is_look_alike_char",
    "is_mixed_script",
    "is_valid_nick",
    "is_valid_room",
    "script_of",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

ROOM_PREFIX = "#"

NICK_CHARS_HELP = "letters, digits and - _ [ ] \\ ` ^ { } |, not starting with a digit or -"

_NICK_RE = re.compile(r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*\Z")
_ROOM_BAD_RE = re.compile(r"[\x00-\x20\x7f,:\x85\xa0\u2028\u2029]")
#: Scripts, by the first word of their characters' names, that are written together (UTS #39, "highly
#: restrictive"): Japanese, Chinese with Bopomofo, Korean, each with Latin. Any other mix is refused.
_WRITTEN_TOGETHER = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
#: First words of character names that name no script (Common and Inherited characters: combining marks,
#: variation selectors, modifier letters, numerals shared by scripts), or that name one differently.
_NO_SCRIPT = frozenset(
    {
        "COMBINING", "VARIATION", "MODIFIER", "DINGBAT", "MUSICAL", "COUNTING", "NEGATIVE", "CIRCLED",
        "DOUBLE", "ROMAN", "TURNED", "TALLY", "VERTICAL", "NORTH", "CARON", "MASU", "PHAISTOS", "VIETNAMESE",
        "INDIC", "DIGIT",
    }
)  # fmt: skip
_SCRIPT_ALIASES = {
    "CJK": "HAN",
    "IDEOGRAPHIC": "HAN",
    "KANGXI": "HAN",
    "HANGZHOU": "HAN",
    "HENTAIGANA": "HIRAGANA",
}


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


def script_of(char: str) -> str | None:
    """The script of a letter, mark or digit, named by the first word of its Unicode name (``LATIN``,
    ``CYRILLIC``, ``HAN``, ``HIRAGANA``...); None for what belongs to no one script (punctuation, symbols,
    ASCII digits, combining marks, modifier letters). Python's unicodedata has no Script property: the name
    tells it for letters, as each script's letters are named after it."""
    if char.isascii():
        return "LATIN" if char.isalpha() else None
    if unicodedata.category(char)[0] not in "LMN":
        return None
    words = unicodedata.name(char, "").replace("-", " ").split()
    if words[:1] == ["EXTENDED"]:  # EXTENDED ARABIC-INDIC DIGIT ONE
        words = words[1:]
    if not words or words[0] in _NO_SCRIPT:
        return None
    return _SCRIPT_ALIASES.get(words[0], words[0])


def is_look_alike_char(char: str) -> bool:
    """Whether ``char`` is a variant that Unicode normalisation (NFKC) replaces by another character:
    fullwidth and mathematical letters, circled and superscript ones, ligatures, the Kelvin and Ohm signs,
    CJK compatibility ideographs. Each looks like the character it stands for."""
    return unicodedata.normalize("NFKC", char) != char


def is_mixed_script(text: str) -> bool:
    """Whether ``text`` mixes letters of several scripts (digits and marks of a script count too; what
    belongs to no one script does not), beyond those written together: Latin with Han, Hiragana and
    Katakana (Japanese), with Han and Bopomofo, or with Han and Hangul (UTS #39, "highly restrictive")."""
    if text.isascii():
        return False
    seen: set[str] = set()
    for char in text:
        script = script_of(char)
        if script is not None:
            seen.add(script)
    return len(seen) > 1 and not any(seen <= together for together in _WRITTEN_TOGETHER)


def is_valid_room(name: str, max_len: int = 64) -> bool:
    return (
        1 < len(name) <= max_len
        and name[0] == ROOM_PREFIX
        and _ROOM_BAD_RE.search(name) is None
        and len(name.encode("utf-8", "surrogatepass")) <= max_len
        and is_clean(name)
        and (
            name.isascii() or not any(unicodedata.category(c) == "Zs" or is_look_alike_char(c) for c in name)
        )
        and not is_mixed_script(name)
    )
