"""Tests for hubbub.wire.masks: the ircdocs parser-tests vectors, escapes, case mapping, a reference model."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.wire.masks import (
    ascii_casefold,
    compile_mask,
    is_valid_hostname,
    match_mask,
    split_userhost,
)

from .parser_vectors import Missing, load_vectors, vector

# --------------------------------------------------------------------------------------------------------
# Conformance vectors (github.com/ircdocs/parser-tests), kept outside the repo in the sibling shared/ folder.


@pytest.mark.parametrize("case", load_vectors("mask-match.yaml", "mask"))
def test_mask_match(case: dict[str, Any] | Missing) -> None:
    test = vector(case)
    matcher = compile_mask(test["mask"])
    for string in test["matches"]:
        assert matcher(string), string
        assert match_mask(test["mask"], string)
        assert reference_match(test["mask"], string)
    for string in test["fails"]:
        assert not matcher(string), string
        assert not match_mask(test["mask"], string)
        assert not reference_match(test["mask"], string)


@pytest.mark.parametrize("case", load_vectors("userhost-split.yaml", "source"))
def test_userhost_split(case: dict[str, Any] | Missing) -> None:
    test = vector(case)
    atoms = test["atoms"]
    nick, user, host = split_userhost(test["source"])
    # The vectors read a missing atom as "".
    assert (nick, user or "", host or "") == (
        atoms.get("nick", ""),
        atoms.get("user", ""),
        atoms.get("host", ""),
    )


@pytest.mark.parametrize("case", load_vectors("validate-hostname.yaml", "host"))
def test_validate_hostname(case: dict[str, Any] | Missing) -> None:
    test = vector(case)
    assert is_valid_hostname(test["host"]) is test["valid"]


# --------------------------------------------------------------------------------------------------------
# split_userhost


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("coolguy", ("coolguy", None, None)),
        ("irc.example.com", ("irc.example.com", None, None)),
        ("n!u@h", ("n", "u", "h")),
        ("n!@h", ("n", "", "h")),
        ("n!u@", ("n", "u", "")),
        ("!u@h", ("", "u", "h")),
        ("n!u", ("n", "u", None)),
        ("n@h", ("n", None, "h")),
        ("n@h!x", ("n", None, "h!x")),
        ("n!u!v@h@i", ("n", "u!v", "h@i")),
        ("", ("", None, None)),
    ],
)
def test_split_userhost(source: str, parts: tuple[str, str | None, str | None]) -> None:
    assert split_userhost(source) == parts


# --------------------------------------------------------------------------------------------------------
# Mask matching


@pytest.mark.parametrize(
    ("mask", "string", "matches"),
    [
        ("*", "", True),
        ("*", "anything at all", True),
        ("", "", True),
        ("", "x", False),
        ("?", "", False),
        ("?", "\u00e9", True),
        ("??", "\u00e9", False),
        ("a*", "a", True),
        ("*a", "ba", True),
        ("*a", "ab", False),
        ("a**b", "ab", True),
        ("a*?*b", "ab", False),
        ("a*?*b", "axb", True),
        ("*ab*b", "ab", False),
        ("*ab*b", "abb", True),
        ("*@*.example.com", "n!u@host.example.com", True),
        ("*@*.example.com", "n!u@host.example.org", False),
        ("*@*.example.com", "n!u@hostxexample.com", False),  # '.' is literal
        ("a+b(c)|d^$", "a+b(c)|d^$", True),
        ("a{2}", "aa", False),
        ("line*", "line\nbreak", True),  # '*' matches any character
        ("a?b", "a\nb", True),
        # Escapes: \* \? \\ are literal; any other backslash is an ordinary character.
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("a\\?b", "a?b", True),
        ("a\\?b", "axb", False),
        ("a\\\\b", "a\\b", True),
        ("a\\\\*", "a\\xyz", True),
        ("a\\\\*", "ab", False),
        ("foo\\bar!*@*", "foo\\bar!u@h", True),
        ("trailing\\", "trailing\\", True),
        ("\\*\\?*", "*?", True),
        ("\\*\\?*", "x?", False),
    ],
)
def test_mask_cases(mask: str, string: str, matches: bool) -> None:
    assert match_mask(mask, string) is matches
    assert reference_match(mask, string) is matches


@pytest.mark.parametrize(
    ("mask", "string", "matches"),
    [
        ("COOL*@*", "coolguy!u@h", True),
        ("cool*@*", "COOLGUY!U@H", True),
        ("*!*@Example.COM", "n!u@example.com", True),
        # ascii case mapping: only A-Z and a-z fold into each other.
        ("[nick]", "{nick}", False),
        ("nick\\\\", "nick|", False),
        ("caf\u00c9", "caf\u00e9", False),
        ("k", "\u212a", False),  # KELVIN SIGN
        ("s", "\u017f", False),  # LATIN SMALL LETTER LONG S
        ("?", "\u212a", True),
    ],
)
def test_ascii_case_mapping(mask: str, string: str, matches: bool) -> None:
    assert match_mask(mask, string) is matches
    assert match_mask(mask, string, ascii_casefold) is matches
    assert compile_mask(mask, lambda s: s.translate(ASCII_LOWER))(string) is matches  # slow path, same rules


def test_case_sensitive_and_custom_casefold() -> None:
    assert match_mask("Cool*", "Coolguy", None)
    assert not match_mask("Cool*", "coolguy", None)

    def rfc1459(s: str) -> str:
        return s.translate(RFC1459_LOWER)

    assert match_mask("NICK[AWAY]\\\\~*", "nick{away}|^x", rfc1459)
    assert not match_mask("NICK[AWAY]*", "nick{away}x")
    # The escape is read before folding: under rfc1459 '\\' folds to '|', yet "\\*" is still a literal '*'.
    assert match_mask("a\\*", "A*", rfc1459)
    assert not match_mask("a\\*", "Ab", rfc1459)


def test_ascii_casefold() -> None:
    assert ascii_casefold("ABC[]\\~xyz") == "abc[]\\~xyz"
    assert ascii_casefold("\u00c9A\u212a") == "\u00c9a\u212a"


def test_compile_mask_is_cached() -> None:
    assert compile_mask("*!*@cached.example") is compile_mask("*!*@cached.example")
    assert compile_mask("*!*@cached.example", None) is not compile_mask("*!*@cached.example")


def test_hostile_masks_match_in_polynomial_time() -> None:
    """A backtracking glob->regex translation takes forever on these; ours is O(len(mask) * len(string))."""
    hostile = ["*a" * 25 + "*b", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*?b", "*?" * 30 + "*b"]
    subject = "a" * 400
    start = time.perf_counter()
    for mask in hostile:
        assert not match_mask(mask, subject)
        assert match_mask(mask, subject + "b")
    assert time.perf_counter() - start < 2.0


# A reference model: straightforward dynamic programming over the same token rules.

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
RFC1459_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")


def reference_match(mask: str, string: str) -> bool:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(mask):
        c = mask[i]
        if c == "\\" and i + 1 < len(mask) and mask[i + 1] in "*?\\":
            tokens.append(("lit", mask[i + 1]))
            i += 2
            continue
        tokens.append((c, c) if c in "*?" else ("lit", c))
        i += 1
    s = string.translate(ASCII_LOWER)
    # row[j]: the tokens so far match s[:j]
    row = [True] + [False] * len(s)
    for kind, char in tokens:
        new = [False] * (len(s) + 1)
        if kind == "*":
            new[0] = row[0]
            for j in range(1, len(s) + 1):
                new[j] = row[j] or new[j - 1]
        else:
            lit = char.translate(ASCII_LOWER)
            for j in range(1, len(s) + 1):
                new[j] = row[j - 1] and (kind == "?" or s[j - 1] == lit)
        row = new
    return row[len(s)]


_mask_alphabet = st.sampled_from(["*", "?", "\\", "a", "A", "b", "\u00e9", ".", "[", "!", "@", "*a"])
_string_alphabet = st.sampled_from(["a", "A", "b", "B", "\u00e9", ".", "[", "!", "@", "*", "?", "\\", "\n"])


@settings(max_examples=1000)
@given(
    st.lists(_mask_alphabet, max_size=12).map("".join), st.lists(_string_alphabet, max_size=16).map("".join)
)
def test_matches_reference_model(mask: str, string: str) -> None:
    assert match_mask(mask, string) is reference_match(mask, string)


@settings(max_examples=300)
@given(st.text(max_size=20), st.text(max_size=20))
def test_any_text_mask_compiles(mask: str, string: str) -> None:
    assert match_mask(mask, string) is reference_match(mask, string)


@given(st.text(max_size=30))
def test_a_string_matches_itself_escaped(string: str) -> None:
    escaped = string.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")
    assert match_mask(escaped, string)
    assert match_mask(escaped, string.upper()) is (
        string.upper().translate(ASCII_LOWER) == string.translate(ASCII_LOWER)
    )


# --------------------------------------------------------------------------------------------------------
# Hostnames


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("a.b", True),
        ("1.2.3.4", True),
        ("a" * 63 + ".net", True),
        ("a" * 64 + ".net", False),
        (".".join(["a" * 63] * 4)[:253], True),
        ((".".join(["a" * 63] * 4)[:253]) + ".", True),
        (".".join(["a" * 63] * 4)[:254] + "a", False),
        ("irc-.example.com", False),
        ("irc.example-.com", False),
        ("i-r-c.example.com", True),
        (".", False),
        ("..", False),
        (".example.com", False),
        ("a..b", False),
        ("example.com..", False),
        ("irc.b\u00fccher.ch", False),
        ("irc.example.com\n", False),
        ("::1", False),
    ],
)
def test_is_valid_hostname(host: str, valid: bool) -> None:
    assert is_valid_hostname(host) is valid
