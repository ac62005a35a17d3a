from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hubbub.wire.text import clean_line, strip_formatting, strip_telnet


def test_plain_ascii_is_unchanged() -> None:
    assert clean_line(b"hello, world!") == "hello, world!"


def test_invalid_utf8_is_replaced() -> None:
    assert clean_line(b"caf\xe9 ok \xc3\xa9") == "caf\ufffd ok \u00e9"


def test_control_characters_are_removed_and_tabs_become_spaces() -> None:
    assert clean_line(b"\x1b[1mbold\x07\x00\tend") == "bold end"  # an escape sequence goes whole
    assert clean_line("a\u0085b\u009bc".encode()) == "abc"


def test_editing_keys_are_applied_not_passed_on() -> None:
    assert clean_line(b"\x1b[A\x1b[D\x1b[Doops") == "oops"  # arrow keys (CSI)
    assert clean_line(b"left\x1bOD\x1bOCright") == "leftright"  # arrow keys in application mode (SS3)
    assert clean_line(b"\x1b]52;c;cHduZWQ=\x07safe") == "safe"  # OSC, to its terminator
    assert clean_line(b"helo\x08\x08llo") == "hello"  # Backspace, character by character
    assert clean_line(b"helo\x7f\x7fllo") == "hello"  # DEL, as PuTTY sends it
    assert clean_line("caf\u00e9\x08e".encode()) == "cafe"  # erases a character, not a byte
    assert clean_line(b"\x08\x08hi") == "hi"  # nothing to erase
    assert clean_line(b"bold\x07\x00\x7f!") == "bol!"  # the erase takes the visible character
    assert clean_line(b"oops, wrong\x15right") == "right"  # Ctrl-U: the whole line so far


def test_telnet_negotiation_is_removed() -> None:
    assert strip_telnet(b"\xff\xfb\x01\xff\xfd\x03hi") == b"hi"
    assert strip_telnet(b"a\xff\xfa\x18\x00xterm\xff\xf0b") == b"ab"
    assert strip_telnet(b"x\xff\xf4y") == b"xy"  # IAC IP (Ctrl-C)
    assert strip_telnet(b"x\xff\xffy") == b"xy"
    assert strip_telnet(b"end\xff") == b"end"
    assert clean_line(b"\xff\xfb\x01hello") == "hello"


def test_irc_formatting_is_stripped_for_terminals() -> None:
    assert strip_formatting("\x02bold\x02 \x0304,12red\x03 \x1ditalic\x0f") == "bold red italic"
    assert strip_formatting("plain \u00e9\U0001f600") == "plain \u00e9\U0001f600"


@given(st.binary(max_size=300))
def test_clean_lines_are_printable(data: bytes) -> None:
    text = clean_line(data)
    assert "\n" not in text and "\r" not in text
    assert all(ch == " " or ord(ch) >= 0x20 for ch in text)
    assert not any(0x7F <= ord(ch) <= 0x9F for ch in text)
