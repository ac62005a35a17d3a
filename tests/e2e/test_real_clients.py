"""Real terminal IRC clients (irssi in tmux, WeeChat headless) against hubbub, sharing #lobby with a netcat
user. The harness itself is proven against reference servers in test_real_clients_harness.py."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from helpers import ServerProcess
from realclients import IrssiClient, RealClient, WeechatClient

pytestmark = pytest.mark.realclient

CLIENTS: dict[str, Callable[[int, str], RealClient]] = {"irssi": IrssiClient, "weechat": WeechatClient}


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as exits:
        yield exits


@pytest.fixture(params=sorted(CLIENTS))
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_real_client_and_a_netcat_user_talk_in_the_lobby(
    make_server: Callable[..., ServerProcess], stack: contextlib.ExitStack, client_kind: str
) -> None:
    server = make_server("--irc-port", "auto")
    netcat = server.connect("nc_user")
    alice = CLIENTS[client_kind](server.irc_port, "alice")
    stack.callback(alice.close)
    alice.join("#lobby")
    netcat.expect(r"^\* alice joined #lobby$")
    netcat.send("hello from netcat")
    alice.wait_for_message("nc_user", "hello from netcat")
    alice.say("hi netcat, from a real client ☃")
    netcat.expect(r"^<alice> hi netcat, from a real client ☃$")
    netcat.send("/msg alice psst")
    alice.wait_for_private("nc_user", "psst")
    alice.msg("nc_user", "psst back")
    netcat.expect(r"^\*alice\* psst back$")
    alice.quit("see you")
    netcat.expect(r"^\* alice left \(Quit: see you\)$")


def test_irssi_on_the_plain_port_is_recognised(
    make_server: Callable[..., ServerProcess], stack: contextlib.ExitStack
) -> None:
    server = make_server()
    netcat = server.connect("nc_user")
    alice = stack.enter_context(IrssiClient(server.port, "alice"))
    alice.join("#lobby")
    netcat.expect(r"^\* alice joined #lobby$")
    netcat.send("same port, different protocols")
    alice.wait_for_message("nc_user", "same port, different protocols")


def test_irssi_and_weechat_and_netcat_together(
    make_server: Callable[..., ServerProcess], stack: contextlib.ExitStack
) -> None:
    server = make_server("--irc-port", "auto")
    netcat = server.connect("nc_user")
    alice = stack.enter_context(IrssiClient(server.irc_port, "alice")).join("#lobby")
    carol = stack.enter_context(WeechatClient(server.irc_port, "carol")).join("#lobby")
    alice.wait_for_text(r"^-!- carol \[.*\] has joined #lobby$")
    carol.say("hi all, from weechat")
    alice.wait_for_message("carol", "hi all, from weechat")
    netcat.expect(r"^<carol> hi all, from weechat$")
    netcat.send("and hello from netcat")
    alice.wait_for_message("nc_user", "and hello from netcat")
    carol.wait_for_message("nc_user", "and hello from netcat")
