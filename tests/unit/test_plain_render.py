"""Plain-text rendering in words: room modes, kicks and notices (protocols.plain.render)."""

from __future__ import annotations

import pytest

from hubbub.core.modes import LIST_MODES, PARAM_ALWAYS, PARAM_ON_SET, PREFIX_MODES, ROOM_FLAGS
from hubbub.protocols.plain.render import mode_words

from .irc_harness import PlainClient, make_world


@pytest.mark.parametrize(
    ("change", "arg", "words"),
    [
        ("+o", "bob", "alicia made bob an operator of #irc"),
        ("-o", "bob", "alicia took operator status from bob in #irc"),
        ("+v", "bob", "alicia gave bob voice in #irc"),
        ("-v", "bob", "alicia took voice from bob in #irc"),
        ("+b", "*!*@host", "alicia banned *!*@host from #irc"),
        ("-b", "*!*@host", "alicia lifted the ban on *!*@host in #irc"),
        ("+e", "*!*@host", "alicia let *!*@host into #irc whatever its bans"),
        ("-e", "*!*@host", "alicia took back the ban exception of *!*@host in #irc"),
        ("+I", "*!*@host", "alicia let *!*@host into #irc without an invitation"),
        ("-I", "*!*@host", "alicia took back the invite exception of *!*@host in #irc"),
        ("+k", "sesame", "#irc now needs a key to join: /join #irc sesame (changed by alicia)"),
        ("-k", None, "#irc no longer needs a key to join (changed by alicia)"),
        ("+l", "10", "#irc is now limited to 10 members (changed by alicia)"),
        ("-l", None, "#irc no longer has a member limit (changed by alicia)"),
        ("+m", None, "#irc is now moderated: only voiced users may talk (changed by alicia)"),
        ("-m", None, "#irc is no longer moderated: everyone may talk (changed by alicia)"),
        ("+i", None, "#irc is now invite-only: /invite lets people in (changed by alicia)"),
        ("-i", None, "#irc is no longer invite-only (changed by alicia)"),
        ("+s", None, "#irc is now secret: it is hidden from /rooms and /who (changed by alicia)"),
        ("-s", None, "#irc is no longer secret (changed by alicia)"),
        ("+t", None, "#irc now lets only its operators change the topic (changed by alicia)"),
        ("-t", None, "#irc now lets everyone in it change the topic (changed by alicia)"),
        ("+n", None, "#irc now takes messages from its members only (changed by alicia)"),
        ("-n", None, "#irc now takes messages from people outside it too (changed by alicia)"),
        ("+z", "x", "alicia set mode +z x on #irc"),  # a mode this server does not know: as it came
        ("+Q", None, "alicia set mode +Q on #irc"),
    ],
)
def test_every_room_mode_in_words(change: str, arg: str | None, words: str) -> None:
    assert mode_words("alicia", "#irc", change, arg) == words


def test_every_mode_the_server_supports_has_words() -> None:
    for letter in LIST_MODES + PARAM_ALWAYS + PARAM_ON_SET + ROOM_FLAGS + PREFIX_MODES:
        for sign in "+-":
            assert "set mode" not in mode_words("alicia", "#irc", sign + letter, "x"), letter


def test_a_change_by_the_server_names_no_one() -> None:
    assert mode_words("", "#irc", "+o", "bob") == "The server made bob an operator of #irc"
    assert mode_words("", "#irc", "+m", None) == "#irc is now moderated: only voiced users may talk"


def test_kicks_and_notices_in_words() -> None:
    hub, _, irc = make_world()
    alice = irc("alice")
    alice.send("JOIN #x")
    pat = PlainClient(hub)
    pat.send("/join #x")
    carol = PlainClient(hub)
    carol.send("/join #x")
    pat_nick = pat.session.user.nick  # type: ignore[union-attr]
    pat.take()
    carol.take()
    alice.send("NOTICE #x :to all")
    alice.send(f"NOTICE {pat_nick} :to you")
    assert pat.take() == ["-alice- to all", "-alice- to you"]
    alice.send(f"KICK #x {pat_nick}")
    assert pat.take() == ["* You were kicked from #x by alice"]
    assert carol.take() == ["-alice- to all", f"* {pat_nick} was kicked from #x by alice"]
