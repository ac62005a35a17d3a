"""Turning raw line bytes from a terminal client into clean text, and text into safe terminal output.

``clean_line`` removes telnet negotiation (IAC sequences), control characters (C0, DEL and C1; a tab becomes a
space) and decodes UTF-8, replacing invalid sequences with U+FFFD. ``strip_formatting`` removes IRC formatting
codes (bold, colours, ...) so that text from IRC users reads cleanly in a terminal. ``terminal_safe`` is the
one function every line written to a terminal goes through: it drops escape sequences whole, every control
(C0, DEL, C1), every format character (Cf: bidi controls, zero-width characters, ...) and line or paragraph
separators, so that what others typed can neither drive the reader's terminal nor reorder or hide what it
shows.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_line", "has_unsafe_chars", "strip_formatting", "strip_telnet", "terminal_safe"]

IAC = 0xFF
_SB, _SE = 0xFA, 0xF0
_WILL_WONT_DO_DONT = range(0xFB, 0xFF)

# bytes.translate: tab -> space; delete the other C0 controls and DEL. They never occur inside a
# multi-byte UTF-8 sequence, so deleting them before decoding is safe.
_BYTE_TABLE = bytes(range(256)).replace(b"\t", b" ")
_BYTE_DELETE = bytes(b for b in range(32) if b != 9) + b"\x7f"
# C1 controls (U+0080-U+009F) survive decoding; drop them from the text.
_C1_DELETE = dict.fromkeys(range(0x80, 0xA0))
# The same on decoded text, but for the editing keys (BS, DEL, Ctrl-U), which _edited applies.
_EDIT_TABLE: dict[int, str | None] = {
    **dict.fromkeys(b for b in _BYTE_DELETE if b not in b"\x08\x7f\x15"),
    **_C1_DELETE,
    9: " ",
}

_FORMATTING_RE = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)


def strip_telnet(data: bytes) -> bytes:
    """Remove telnet commands.

    ``IAC IAC`` is a literal 0xFF (dropped: it is never valid UTF-8 text), ``IAC WILL/WONT/DO/DONT x`` takes
    three bytes, ``IAC SB ... IAC SE`` is a subnegotiation, and any other ``IAC x`` takes two."""
    if IAC not in data:
        return data
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        j = data.find(IAC, i)
        if j < 0:
            out += data[i:]
            break
        out += data[i:j]
        cmd = data[j + 1] if j + 1 < n else None
        if cmd in _WILL_WONT_DO_DONT:
            i = j + 3
        elif cmd == _SB:
            end = data.find(bytes((IAC, _SE)), j + 2)
            i = n if end < 0 else end + 2
        else:
            i = j + 2
    return bytes(out)


def clean_line(raw: bytes) -> str:
    """Decode one line typed at a terminal into printable text.

    What a terminal sends for editing keys is applied or dropped, never passed on as text: escape sequences
    (arrow and function keys: CSI, SS3, OSC and other ESC sequences) are dropped whole, and Backspace or DEL
    (character-by-character clients: PuTTY raw, Windows telnet) erases the character before it, Ctrl-U the
    whole line so far."""
    if IAC in raw:
        raw = strip_telnet(raw)
    if b"\x1b" in raw or b"\x08" in raw or b"\x7f" in raw or b"\x15" in raw:
        return _edited(raw.decode("utf-8", "replace"))
    raw = raw.translate(_BYTE_TABLE, _BYTE_DELETE)
    if raw.isascii():
        return raw.decode("ascii")
    return raw.decode("utf-8", "replace").translate(_C1_DELETE)


def _edited(text: str) -> str:
    if "\x1b" in text:
        text = _ESCAPE_RE.sub("", text)
    text = text.translate(_EDIT_TABLE)  # every other control out first: an erase takes a visible character
    kept: list[str] = []
    for char in text:
        if char in "\x08\x7f":
            if kept:
                kept.pop()
        elif char == "\x15":
            kept.clear()
        else:
            kept.append(char)
    return "".join(kept)


def strip_formatting(text: str) -> str:
    """Remove IRC formatting codes, then whatever :func:`terminal_safe` drops (escape sequences whole)."""
    if text.isprintable():
        return text
    return terminal_safe(_FORMATTING_RE.sub("", text))


# An escape sequence, with its 7-bit (ESC x) or 8-bit (C1) introducer: a CSI with its parameters and final
# byte; a string (OSC, DCS, SOS, PM, APC) up to its terminator (BEL or ST) or the end of the text; an SS3 with
# its character (the arrow keys of a terminal in application mode); any other ESC with its intermediate and
# final bytes.
_ESCAPE_RE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1bO|\x8f)[\x20-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
#: The general categories a terminal must never get from a user: controls, format characters (bidi controls,
#: zero-width characters, ...), surrogates, line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def _is_unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def has_unsafe_chars(text: str) -> bool:
    """Whether ``text`` holds anything :func:`terminal_safe` would drop."""
    return not text.isprintable() and any(_is_unsafe(c) for c in text)


def terminal_safe(text: str) -> str:
    """``text`` made safe to write to a terminal: escape sequences dropped whole, a tab made a space, and
    every other control (C0, DEL, C1), format character (Cf), surrogate and line or paragraph separator
    dropped. The caller adds its own line end."""
    if text.isprintable():  # the common case: nothing to drop (a space is printable; a tab, a Cf are not)
        return text
    if "\x1b" in text or _has_c1_introducer(text):
        text = _ESCAPE_RE.sub("", text)
    text = text.replace("\t", " ")
    return "".join(c for c in text if not _is_unsafe(c))


def _has_c1_introducer(text: str) -> bool:
    return any(c in text for c in "\x8f\x90\x98\x9b\x9d\x9e\x9f")
