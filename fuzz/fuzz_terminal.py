"""Fuzz target: the terminal safety function (``hubbub.wire.text.terminal_safe``) and the plain-text line
writer built on it.

The input is decoded as UTF-8 (invalid sequences replaced; if the first byte is odd, as Latin-1 instead, so
that every C1 control is reachable from a single byte). Whatever the text: the output holds no C0 control,
DEL, C1 control, bidi control or other format (Cf) character, surrogate or line separator; it is a fixed
point; a text with nothing unsafe comes out unchanged; and a rendered line holds no control but its one CRLF.

The same bytes as terminal input: the telnet reader (``hubbub.wire.telnet``) reads them the same whole as cut
at any point, leaves no 0xFF in the text and answers in whole three-byte commands; the line cleaner
(``clean_line``) turns that text into a line with no control character at all (C0, DEL, C1).
"""

from __future__ import annotations

import sys
import unicodedata

from _fuzzutil import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from hubbub.core.names import is_valid_room
    from hubbub.protocols.plain.render import line
    from hubbub.wire.telnet import Telnet
    from hubbub.wire.text import clean_line, has_unsafe_chars, strip_formatting, terminal_safe

UNSAFE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def check(out: str) -> None:
    for char in out:
        assert unicodedata.category(char) not in UNSAFE, (out, char)
        assert char not in BIDI, (out, char)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    text = data[1:].decode("latin-1") if data[0] & 1 else data[1:].decode("utf-8", "replace")
    out = terminal_safe(text)
    check(out)
    assert terminal_safe(out) == out
    assert has_unsafe_chars(text) == (out != text.replace("\t", " ") or "\t" in text)
    if not has_unsafe_chars(text):
        assert out == text
    check(strip_formatting(text))
    rendered = line(text)
    assert rendered.endswith(b"\r\n") and rendered.count(b"\n") == 1 and rendered.count(b"\r") == 1
    check(rendered[:-2].decode("utf-8"))
    if is_valid_room("#" + text):
        assert not has_unsafe_chars(text)
    check_input(data[1:], data[0])


def check_input(raw: bytes, cut: int) -> None:
    whole = Telnet()
    text = whole.feed(raw)
    assert b"\xff" not in text and len(whole.replies) % 3 == 0
    parts = Telnet()
    cut = cut % (len(raw) + 1)
    assert parts.feed(raw[:cut]) + parts.feed(raw[cut:]) == text
    assert parts.replies == whole.replies and parts.interrupts == whole.interrupts
    cleaned = clean_line(text)
    assert all(unicodedata.category(char) != "Cc" for char in cleaned), cleaned


if __name__ == "__main__":
    fuzz(TestOneInput)
    sys.exit(0)
