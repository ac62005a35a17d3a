from __future__ import annotations

import pytest

from hubbub.core.names import casefold, is_valid_nick, is_valid_room


@pytest.mark.parametrize("nick", ["a", "alice", "Alice_", "[x]", "guest-7", "a" * 32, "`^{|}\\"])
def test_valid_nicks(nick: str) -> None:
    assert is_valid_nick(nick)


@pytest.mark.parametrize("nick", ["", "7up", "-a", "a b", "a@b", "a!b", "a" * 33, "caf\u00e9", "#chan", ":x"])
def test_invalid_nicks(nick: str) -> None:
    assert not is_valid_nick(nick)


def test_ascii_casemapping() -> None:
    assert casefold("AlIcE") == "alice"
    assert casefold("[]") == "[]"  # ascii, not rfc1459
    assert casefold("#Caf\u00c9") == "#caf\u00c9"  # only A-Z fold


@pytest.mark.parametrize("room", ["#a", "#lobby", "#caf\u00e9", "#a-b.c", "#" + "x" * 63])
def test_valid_rooms(room: str) -> None:
    assert is_valid_room(room)


@pytest.mark.parametrize("room", ["#", "lobby", "#a b", "#a,b", "#a:b", "#a\x07", "#" + "x" * 64])
def test_invalid_rooms(room: str) -> None:
    assert not is_valid_room(room)
