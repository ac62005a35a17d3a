"""Turning raw line bytes from a terminal client into clean text, and text into safe terminal output.

``clean_line`` removes telnet negotiation (IAC sequences), control characters (C0, DEL and C1; a tab becomes a
space) and decodes UTF-8, replacing invalid sequences with U+FFFD. ``strip_formatting`` removes IRC formatting
codes (bold, colours, ...) so that text from IRC users reads cleanly in a terminal.
"""

from __future__ import annotations

import re

__all__ = ["clean_line", "strip_formatting", "strip_telnet"]

IAC = 0xFF
_SB, _SE = 0xFA, 0xF0
_WILL_WONT_DO_DONT = range(0xFB, 0xFF)

# bytes.translate: tab -> space; delete the other C0 controls and DEL. They never occur inside a
# multi-byte UTF-8 sequence, so deleting them before decoding is safe.
_BYTE_TABLE = bytes(range(256)).replace(b"\t", b" ")
_BYTE_DELETE = bytes(b for b in range(32) if b != 9) + b"\x7f"
# C1 controls (U+0080-U+009F) survive decoding; drop them from the text.
_C1_DELETE = dict.fromkeys(range(0x80, 0xA0))

_FORMATTING_RE = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    """Decode one line typed at a terminal into printable text."""
    if IAC in raw:
        raw = strip_telnet(raw)
    raw = raw.translate(_BYTE_TABLE, _BYTE_DELETE)
    if raw.isascii():
        return raw.decode("ascii")
    return raw.decode("utf-8", "replace").translate(_C1_DELETE)


def strip_formatting(text: str) -> str:
    """Remove IRC formatting codes and any remaining control characters."""
    if text.isprintable():
        return text
    return _CONTROL_RE.sub("", _FORMATTING_RE.sub("", text))
