"""Hostmask helpers: splitting ``nick!user@host``, glob matching for ban/invite masks, hostname validation.

Mask syntax: ``*`` matches any run of characters (including none), ``?`` exactly one character, and a
backslash makes the next ``*``, ``?`` or ``\\`` literal (``\\*``, ``\\?``, ``\\\\``). Any other backslash is
an ordinary character, so a nick such as ``foo\\bar`` can be banned as written. Everything else, ``[`` and
``]`` included, is literal (unlike :mod:`fnmatch`). Matching covers the whole string and is case-insensitive
with the ``ascii`` case mapping (only ``A``-``Z`` fold to ``a``-``z``) unless another ``casefold`` function
(or ``None``, for case-sensitive matching) is given.

Masks are compiled to regular expressions and cached, because ban lists are matched often. The expressions
cannot backtrack catastrophically: each ``*`` that is followed by more text takes the shortest run that lets
the next fixed-width piece match and commits to it (an atomic group), which is always correct for globs, so
matching costs at most O(len(mask) * len(string)) even for hostile masks such as ``*a*a*a*a*a*b``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TypeAlias

__all__ = [
    "Matcher",
    "ascii_casefold",
    "compile_mask",
    "is_valid_hostname",
    "match_mask",
    "split_userhost",
]

Matcher: TypeAlias = Callable[[str], bool]
"""A compiled mask: call it with a string to test whether the whole string matches."""

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_casefold(s: str) -> str:
    """Fold ``A``-``Z`` to ``a``-``z`` and leave every other character alone (the ``ascii`` case mapping)."""
    if s.isascii():
        return s.lower()
    return s.translate(_ASCII_LOWER)


def split_userhost(s: str) -> tuple[str, str | None, str | None]:
    """Split ``nick!user@host`` into ``(nick, user, host)``; a missing part is ``None``.

    The host starts after the first ``@``, the user after the first ``!`` before it: ``coolguy@127.0.0.1``
    gives ``("coolguy", None, "127.0.0.1")`` and a server name such as ``irc.example.com`` is all nick.
    """
    at = s.find("@")
    if at == -1:
        left, host = s, None
    else:
        left, host = s[:at], s[at + 1 :]
    bang = left.find("!")
    if bang == -1:
        return left, None, host
    return left[:bang], left[bang + 1 :], host


def _segments(mask: str, fold: Callable[[str], str] | None) -> list[str]:
    """The regexes of the parts of ``mask`` between unescaped ``*``s (runs of ``*`` count as one)."""
    segments: list[str] = []
    pieces: list[str] = []  # regex pieces of the current segment
    literal: list[str] = []  # literal characters not yet added to pieces
    i, n = 0, len(mask)
    while i < n:
        c = mask[i]
        if c == "\\" and i + 1 < n and mask[i + 1] in "*?\\":
            literal.append(mask[i + 1])
            i += 2
            continue
        i += 1
        if c not in {"*", "?"}:
            literal.append(c)
            continue
        if literal:
            text = "".join(literal)
            pieces.append(re.escape(fold(text) if fold is not None else text))
            literal = []
        if c == "?":
            pieces.append(".")
        elif pieces or not segments:
            segments.append("".join(pieces))
            pieces = []
    if literal:
        text = "".join(literal)
        pieces.append(re.escape(fold(text) if fold is not None else text))
    segments.append("".join(pieces))
    return segments


@lru_cache(maxsize=4096)
def compile_mask(mask: str, casefold: Callable[[str], str] | None = ascii_casefold) -> Matcher:
    """Compile an IRC glob mask into a function that tells whether a whole string matches it.

    ``casefold`` folds literal text in the mask and the strings matched against it; the default is the
    ``ascii`` case mapping (done by the regex engine, without folding each string), ``None`` matches
    case-sensitively. Results are cached per ``(mask, casefold)``.
    """
    ascii_fold = casefold is ascii_casefold
    fold = None if ascii_fold else casefold
    segments = _segments(mask, fold)
    if len(segments) == 1:
        pattern = segments[0] + r"\Z"
    else:
        # first (?>.*?middle)... .*last: the shortest run before each middle part, committed to.
        middle = "".join("(?>.*?" + segment + ")" for segment in segments[1:-1])
        pattern = segments[0] + middle + ".*" + segments[-1] + r"\Z"
    flags = re.DOTALL | re.IGNORECASE | re.ASCII if ascii_fold else re.DOTALL
    match = re.compile(pattern, flags).match

    if fold is None:

        def matcher(s: str) -> bool:
            return match(s) is not None

    else:
        folder = fold

        def matcher(s: str) -> bool:
            return match(folder(s)) is not None

    return matcher


def match_mask(mask: str, string: str, casefold: Callable[[str], str] | None = ascii_casefold) -> bool:
    """Whether ``string`` (typically ``nick!user@host``) matches the glob ``mask``.

    Uses the cached :func:`compile_mask`.
    """
    return compile_mask(mask, casefold)(string)


_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def is_valid_hostname(s: str) -> bool:
    """Whether ``s`` is acceptable as a server name or client hostname.

    Dot-separated labels of ASCII letters, digits and ``-`` (1 to 63 characters, not starting or ending with
    ``-``), at most 253 characters, with at least one dot (single-label names such as ``irc`` are refused); a
    final dot is allowed (``services.``). Internationalised names must be given in punycode. IP address
    literals are not hostnames: IPv4 happens to pass, IPv6 does not.
    """
    if "." not in s:
        return False
    name = s[:-1] if s[-1] == "." else s
    if not name or len(name) > 253:
        return False
    return all(_LABEL_RE.match(label) for label in name.split("."))
