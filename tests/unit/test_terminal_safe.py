"""``terminal_safe``: what any user wrote, made safe to write to a terminal; and the clean-name checks."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.core.names import is_clean, is_mixed_script, is_valid_room
from hubbub.protocols.plain.render import line, lines
from hubbub.wire.text import has_unsafe_chars, strip_formatting, terminal_safe

ESC = "\x1b"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def is_safe(text: str) -> bool:
    return all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text, caf\u00e9 \U0001f600", "plain text, caf\u00e9 \U0001f600"),
        (f"a{ESC}[2Jb", "ab"),  # CSI: clear the screen
        (f"a{ESC}[38;5;196mred{ESC}[0m", "ared"),
        (f"x{ESC}]0;title\x07y", "xy"),  # OSC 0, ended by BEL
        (f"{ESC}]8;;https://e.example/{ESC}\\link{ESC}]8;;{ESC}\\", "link"),  # OSC 8, ended by ST
        (f"{ESC}]52;c;cm0gLXJmIH4=\x07ok", "ok"),  # OSC 52: the clipboard
        (f"{ESC}P1$r{ESC}\\x", "x"),  # DCS
        (f"{ESC}c{ESC}(Bz", "z"),  # RIS, a charset
        ("\x9b2Jz", "z"),  # C1 CSI
        ("\x9d0;t\x9cz", "z"),  # C1 OSC, ended by C1 ST
        (f"unterminated {ESC}]0;title", "unterminated "),
        ("a\x00b\x07c\x08d\x7fe\x85f", "abcdef"),
        ("tab\there", "tab here"),
        ("line\r\nbreak\u2028x\u2029y", "linebreakxy"),
        ("#\u202eybbol", "#ybbol"),
        ("zero\u200bwidth\ufeff\u2060", "zerowidth"),
        (BIDI + "x", "x"),
        (f"{ESC}", ""),
    ],
)
def test_terminal_safe(text: str, expected: str) -> None:
    assert terminal_safe(text) == expected
    assert has_unsafe_chars(text) == (text != expected)


def test_formatting_and_escapes_are_stripped_together() -> None:
    assert strip_formatting(f"\x02bold\x02 {ESC}[2J\x0304red\x03") == "bold red"


def test_every_rendered_line_is_safe() -> None:
    assert line(f"* Topic: {ESC}]0;x\x07hi\r\nforged") == b"* Topic: hiforged\r\n"
    assert lines(["a\x9b2J", "b\u202e"]) == b"a\r\nb\r\n"


@pytest.mark.parametrize("name", ["#\u009b2J", "#\u202eybbol", "#lobby\u200b", "#l\u043ebby", "#a\u3000b"])
def test_unsafe_and_look_alike_room_names_are_invalid(name: str) -> None:
    assert not is_valid_room(name)


@pytest.mark.parametrize(
    "name",
    ["#lobby", "#caf\u00e9", "#\u043b\u043e\u0431\u0431\u0438", "#\u03b1\u03b2", "#\u65e5\u672c", "#x-1"],
)
def test_single_script_room_names_are_valid(name: str) -> None:
    assert is_valid_room(name)


@pytest.mark.parametrize(
    "name",
    [
        "#\uff4c\uff4f\uff42\uff42\uff59",  # fullwidth
        "#\U0001d425obby",  # mathematical bold
        "#\u212aitchen",  # the Kelvin sign
        "#\ufb01sh",  # a ligature
        "#a\u00b2",  # a superscript
        "#\u05e2\u05d1\u05e8\u05d9\u05ea-chat",  # Hebrew and Latin
        "#lobby\u0663",  # an Arabic-Indic digit
        "#\ud55c\uad6d\u3072\u3089",  # Hangul and Hiragana
        "#\u0e44\u0e17\u0e22\u03b1",  # Thai and Greek
    ],
)
def test_look_alike_and_mixed_script_room_names_of_any_script_are_invalid(name: str) -> None:
    assert not is_valid_room(name)


@pytest.mark.parametrize(
    "name",
    [
        "#caf\u0065\u0301",  # a combining accent (inherited: no script of its own)
        "#\u65e5\u672c\u8a9echat",  # Japanese and Latin
        "#\u3072\u3089\u30ab\u30bf\u6f22\u5b57",  # Hiragana, Katakana, Han
        "#\u3105\u3106\u4e2d\u6587",  # Bopomofo and Han
        "#\ud55c\uad6d\uc5b4-chat",  # Hangul and Latin
        "#\u0627\u0644\u0639\u0631\u0628\u064a\u0629\u0661",  # Arabic with an Arabic-Indic digit
        "#\u0939\u093f\u0928\u094d\u0926\u0940",  # Devanagari with its vowel signs
        "#lobby\u2615",  # a symbol: no script
    ],
)
def test_room_names_of_one_script_or_of_scripts_written_together_are_valid(name: str) -> None:
    assert is_valid_room(name)


def test_mixed_scripts() -> None:
    assert is_mixed_script("l\u043ebby") and is_mixed_script("\u03b1a") and is_mixed_script("\u03b1\u0430")
    assert (
        not is_mixed_script("lobby")
        and not is_mixed_script("\u043b\u043e")
        and not is_mixed_script("a\u65e5")
    )
    assert is_clean("bad!*@*") and not is_clean("a\u200b")


@given(st.text(max_size=200))
def test_any_text_comes_out_safe(text: str) -> None:
    out = terminal_safe(text)
    assert is_safe(out)
    assert not has_unsafe_chars(out)
    assert terminal_safe(out) == out  # idempotent
    assert not any(c in out for c in BIDI)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=100))
def test_safe_text_is_unchanged(text: str) -> None:
    if is_safe(text) and "\t" not in text:
        assert terminal_safe(text) == text


@given(st.lists(st.text(max_size=50), max_size=5))
def test_rendered_lines_hold_no_control_but_their_ends(texts: list[str]) -> None:
    data = lines(texts)
    assert data.count(b"\r\n") == len(texts)
    body = data.replace(b"\r\n", b"")
    assert is_safe(body.decode("utf-8", "replace"))


@given(st.text(max_size=64))
def test_a_valid_room_name_has_one_script_and_no_compatibility_letter(text: str) -> None:
    name = "#" + text
    if is_valid_room(name):
        assert not is_mixed_script(name)
        assert all(unicodedata.normalize("NFKC", c) == c for c in name)
        assert not has_unsafe_chars(name)
