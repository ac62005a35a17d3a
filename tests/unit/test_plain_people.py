"""Room and people commands and the rules under them, in memory: the status a newcomer gets (core.rooms),
/help COMMAND, /ignore's own rendering variant, and the words of /whois's durations."""

from __future__ import annotations

from hubbub.core.hub import Hub
from hubbub.core.model import Room
from hubbub.core.rooms import entry_status
from hubbub.protocols.plain.people import duration
from hubbub.protocols.plain.table import command_help

from .irc_harness import PlainClient


def test_a_newcomer_gets_op_only_in_a_room_without_one_that_is_not_registered() -> None:
    hub = Hub()
    alice, bob = PlainClient(hub), PlainClient(hub)
    assert alice.session.user is not None and bob.session.user is not None
    a, b = alice.session.user, bob.session.user
    room = Room("#r", "#r")
    assert entry_status(a, room) == "o"  # nobody in it: no operator
    room.members[a] = ""
    assert entry_status(b, room) == "o"
    room.members[a] = "v"
    assert entry_status(b, room) == "o"
    room.members[a] = "o"
    assert entry_status(b, room) == ""
    room.founder = "carol"  # registered: the founder alone, whoever is there
    room.members[a] = ""
    assert entry_status(b, room) == ""
    b.account = "Carol"
    assert entry_status(b, room) == "o"


def test_the_lobby_gives_op_back_when_its_operator_leaves() -> None:
    hub = Hub()
    alice, bob = PlainClient(hub), PlainClient(hub)
    alice.send("/quit")
    carol = PlainClient(hub)
    lobby = hub.rooms["#lobby"]
    assert lobby.members[carol.session.user] == "o"  # type: ignore[index]
    assert lobby.members[bob.session.user] == ""  # type: ignore[index]
    dave = PlainClient(hub)
    assert lobby.members[dave.session.user] == ""  # type: ignore[index]


def test_help_of_one_command() -> None:
    assert command_help("/NAMES") == [
        "  /who [#room]            list the members of the current room (or of #room);",
        "                          @ marks its operators, + those with voice",
        "  also: /names",
    ]
    assert command_help("wallops") == [
        "  /wallops text           a message to every operator (server operators)",
        "  (server operators only)",
    ]
    assert command_help("nope") is None


def test_ignoring_someone_gives_the_session_its_own_variant() -> None:
    hub = Hub()
    alice, bob, carol = PlainClient(hub), PlainClient(hub), PlainClient(hub)
    for client, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        client.send(f"/nick {nick}")
    assert alice.session.variant == carol.session.variant == "plain"
    assert alice.send("/ignore BOB") == [
        "* You ignore BOB: you will not see their lines or messages (/unignore BOB to stop)"
    ]
    assert alice.session.variant != carol.session.variant
    bob.send("hello")
    assert alice.take() == []
    assert carol.take() == ["<bob> hello"]
    assert alice.send("/unignore bob") == ["* You see bob again"]
    assert alice.session.variant == "plain"
    bob.send("again")
    assert alice.take() == carol.take() == ["<bob> again"]


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (-1, 0, 59, 60, 3599, 3600, 3660, 86399, 86400, 90000)] == [
        "0s",
        "0s",
        "59s",
        "1m",
        "59m",
        "1h 0m",
        "1h 1m",
        "23h 59m",
        "1d 0h",
        "1d 1h",
    ]
