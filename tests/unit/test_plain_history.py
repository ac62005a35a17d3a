"""Plain-text history: replay on joining, /history and /search, driven in memory."""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from typing import Any

import pytest

from hubbub.core.events import MessageKind
from hubbub.core.hub import Hub
from hubbub.protocols.plain import PlainOptions
from hubbub.store import StoredMessage, StoreTimeout

from .irc_harness import PlainClient, make_world

#: 2024-05-01 14:03:20 UTC, the "now" of the tests that check exact times.
NOW = calendar.timegm((2024, 5, 1, 14, 3, 20))
STAMP = r"\[\d\d:\d\d\]"


@pytest.fixture
def hub() -> Hub:
    return make_world()[0]


def plain(hub: Hub, nick: str | None = None, **options: Any) -> PlainClient:
    client = PlainClient(hub, PlainOptions(**options))
    if nick is not None:
        client.send(f"/nick {nick}")
    client.take()
    return client


def record(
    hub: Hub, when: float, sender: str, text: str, kind: str = "PRIVMSG", room: str = "#lobby"
) -> None:
    hub.store.append(StoredMessage(0, f"m{when}", when, room, room, f"{sender}!u@h", None, kind, text))


def frozen(hub: Hub, now: float = NOW) -> Hub:
    hub.now = lambda: now  # type: ignore[method-assign]
    return hub


# -- replay on joining -------------------------------------------------------------------------------------


def test_a_newcomer_sees_the_recent_lines_after_the_greeting(hub: Hub) -> None:
    alice, bob = plain(hub, "alice"), plain(hub, "bob")
    alice.send("hello", "/me waves")
    hub.say(bob.session.user, bob.session.room, "a notice", MessageKind.NOTICE)  # type: ignore[arg-type]
    carol = PlainClient(hub)
    lines = carol.take()
    assert lines[0].startswith("* Welcome to hubbub")
    assert lines[1] == "* You are in #lobby with alice, bob"
    assert lines[2] == "* Recent messages in #lobby:"
    assert [re.sub(STAMP, "[T]", line) for line in lines[3:]] == [
        "[T] <alice> hello",
        "[T] * alice waves",
        "[T] -bob- a notice",
        "* --- end of replay ---",
    ]


def test_replay_format_limit_and_dates(hub: Hub) -> None:
    frozen(hub)
    record(hub, NOW - 86400, "old", "yesterday's line")
    for i in range(5):
        record(hub, NOW - 60 + i, "alice", f"line {i}")
    record(hub, NOW - 1, "bob", "\x01VERSION\x01")  # a CTCP request: not shown
    record(hub, NOW, "bob", "\x02bold\x02 and \x0304red", "ACTION")
    carol = PlainClient(hub, PlainOptions(history_replay=4))
    assert carol.take()[2:] == [
        "* Recent messages in #lobby:",
        "[14:02] <alice> line 3",
        "[14:02] <alice> line 4",
        "[14:03] * bob bold and red",
        "* --- end of replay ---",
    ]
    dave = PlainClient(hub, PlainOptions(history_replay=100))
    assert dave.take()[3] == "[2024-04-30 14:03] <old> yesterday's line"


def test_no_replay_when_there_is_nothing_or_it_is_off(hub: Hub) -> None:
    alice = plain(hub, "alice")
    assert alice.send("/join #new") == ["* You are in #new, alone for now"]
    alice.send("said in #new", "/join #lobby", "said in #lobby")
    off = PlainClient(hub, PlainOptions(history_replay=0))
    assert off.take()[1:] == ["* You are in #lobby with alice"]
    assert off.send("/join #new") == ["* You are in #new, alone for now"]
    off.send("/part")
    # alice saw her line when she said it: back in #new soon after, nothing is replayed to her
    assert alice.send("/join #new") == ["* You are in #new, alone for now"]


def test_replay_follows_the_topic(hub: Hub) -> None:
    alice = plain(hub, "alice")
    alice.send("hi")
    assert alice.session.room is not None
    alice.session.room.topic = "all things"
    lines = PlainClient(hub).take()
    assert lines[2:4] == ["* Topic: all things", "* Recent messages in #lobby:"]


def test_a_store_failure_is_one_error_line(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = plain(hub, "alice")
    alice.send("hi")

    def broken(*args: object) -> list[StoredMessage]:
        raise StoreTimeout("the writer is behind")

    monkeypatch.setattr(hub.store, "latest", broken)
    monkeypatch.setattr(hub.store, "search", broken)
    assert PlainClient(hub).take()[2] == "! History is not available right now; try again later"
    assert alice.send("/history") == ["! History is not available right now; try again later"]
    assert alice.send("/search hi") == ["! History is not available right now; try again later"]


# -- /history ----------------------------------------------------------------------------------------------


def test_history_of_the_room(hub: Hub) -> None:
    frozen(hub)
    alice = plain(hub, "alice")
    assert alice.send("/history") == ["* No messages in #lobby yet"]
    for i in range(30):
        record(hub, NOW - 100 + i, "bob", f"line {i}")
    lines = alice.send("/history")
    assert lines[0] == "* Last 20 messages in #lobby:"
    assert lines[1] == "[14:01] <bob> line 10" and lines[-1] == "[14:02] <bob> line 29"
    assert alice.send("/history 1") == ["* Last 1 message in #lobby:", "[14:02] <bob> line 29"]
    assert len(alice.send("/history 100")) == 31


def test_history_is_capped_at_500(hub: Hub) -> None:
    alice = plain(hub, "alice")
    room = alice.session.room
    user = alice.session.user
    assert room is not None and user is not None
    for i in range(600):
        hub.say(user, room, f"n{i}")
    lines = alice.send("/history 100000")
    assert lines[0] == "* Last 500 messages in #lobby:" and len(lines) == 501
    assert lines[1].endswith("n100") and lines[-1].endswith("n599")


@pytest.mark.parametrize("arg", ["0", "-3", "bob ten", "bob 0", "bob 1 2", "5 6"])
def test_history_usage(hub: Hub, arg: str) -> None:
    alice = plain(hub, "alice")
    assert alice.send(f"/history {arg}") == ["! Usage: /history [N] or /history NICK [N] (N from 1 to 500)"]


def test_history_outside_a_room(hub: Hub) -> None:
    alice = plain(hub, "alice")
    alice.send("/part")
    assert alice.send("/history") == ["! You are not in a room: /join #room first, or /history NICK"]
    assert alice.send("/history #lobby") == ["! No such room: #lobby"]
    plain(hub, "bob")
    assert alice.send("/history #lobby") == ["! You are not in #lobby"]
    assert alice.send("/history 9lives") == ["! No such nickname: 9lives"]


def test_history_of_a_private_conversation(hub: Hub) -> None:
    alice, bob, carol = plain(hub, "alice"), plain(hub, "bob"), plain(hub, "carol")
    alice.send("/msg bob psst", "/msg bob /me winks")
    bob.send("/msg alice what?")
    carol.send("/msg alice unrelated")
    lines = [re.sub(STAMP, "[T]", line) for line in alice.send("/history BOB")]
    assert lines == [
        "* Last 3 messages with bob:",
        "[T] <alice> psst",
        "[T] <alice> /me winks",
        "[T] <bob> what?",
    ]
    lines = [re.sub(STAMP, "[T]", line) for line in bob.send("/history alice 1")]
    assert lines == ["* Last 1 message with alice:", "[T] <bob> what?"]
    assert bob.send("/history carol") == ["* No messages with carol yet"]
    assert alice.send("/history nobody") == ["* No messages with nobody yet"]
    # the room's history holds none of it
    assert alice.send("/history") == ["* No messages in #lobby yet"]


def test_history_of_the_current_room_by_name(hub: Hub) -> None:
    alice = plain(hub, "alice")
    alice.send("/join #dev", "in dev")
    lines = alice.send("/history #DEV")
    assert lines[0] == "* Last 1 message in #dev:" and lines[1].endswith("<alice> in dev")


# -- /search -----------------------------------------------------------------------------------------------


def test_search_newest_first_with_dates(hub: Hub) -> None:
    frozen(hub)
    alice = plain(hub, "alice")
    record(hub, NOW - 86400 * 3, "bob", "The Deploy went fine")
    record(hub, NOW - 30, "carol", "deploy again? fine by me", "ACTION")
    record(hub, NOW - 10, "bob", "lunch")
    record(hub, NOW - 5, "bob", "deploy", room="#other")
    assert alice.send("/search deploy FINE") == [
        "* 2 messages in #lobby match deploy FINE (newest first):",
        "[2024-05-01 14:02] * carol deploy again? fine by me",
        "[2024-04-28 14:03] <bob> The Deploy went fine",
    ]
    assert alice.send("/search lunch") == [
        "* 1 message in #lobby matches lunch (newest first):",
        "[2024-05-01 14:03] <bob> lunch",
    ]
    assert alice.send("/search dinner") == ["* Nothing in #lobby matches dinner"]


def test_search_shows_at_most_20(hub: Hub) -> None:
    alice = plain(hub, "alice")
    for i in range(30):
        alice.send(f"word {i}")
    lines = alice.send("/search word")
    assert len(lines) == 21 and lines[1].endswith("<alice> word 29") and lines[-1].endswith("word 10")


def test_search_usage(hub: Hub) -> None:
    alice = plain(hub, "alice")
    assert alice.send("/search") == ["! Usage: /search WORDS"]
    assert alice.send("/search * -- !") == ["! Search for words made of letters or digits"]
    alice.send("/part")
    assert alice.send("/search x") == ["! You are not in a room: /join #room first"]


def test_coming_back_soon_replays_only_what_was_said_meanwhile(hub: Hub) -> None:
    alice, bob = plain(hub, "alice"), plain(hub, "bob")
    alice.send("before")
    bob.take()
    assert bob.send("/join #elsewhere") == ["* You are in #elsewhere, alone for now"]
    alice.send("while bob was away")
    lines = bob.send("/join #lobby")
    assert lines[0] == "* You are in #lobby with alice"
    assert lines[1] == "* Since you left #lobby:"
    assert re.fullmatch(STAMP + r" <alice> while bob was away", lines[2])
    assert lines[3:] == ["* --- end of replay ---"]
    bob.send("/join #elsewhere")
    assert bob.send("/join #lobby") == ["* You are in #lobby with alice"]  # nothing new: no replay at all
    hub.limits = replace(hub.limits, replay_window=0)  # 0: the whole replay every time
    bob.send("/join #elsewhere")
    assert bob.send("/join #lobby")[1] == "* Recent messages in #lobby:"
