"""The real-client harness (tests/realclients.py) proven against reference IRC servers, not hubbub.

Each test runs against miniircd (PyPI) and ngircd (Debian); a server or client that is not installed skips its
tests. Once these pass, the same helpers can drive irssi and WeeChat against hubbub's IRC port.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from realclients import (
    IrssiClient,
    RawIrcClient,
    RealClient,
    ReferenceServer,
    WeechatClient,
    free_port,
    process_running,
    require_binary,
)

pytestmark = pytest.mark.realclient

ClientFactory = Callable[[int, str], RealClient]
CLIENTS: dict[str, ClientFactory] = {"irssi": IrssiClient, "weechat": WeechatClient}


@pytest.fixture(params=["miniircd", "ngircd"])
def ircd(request: pytest.FixtureRequest) -> Iterator[ReferenceServer]:
    with ReferenceServer(request.param) as server:
        yield server


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Everything entered here is closed after the test, pass or fail, last opened first."""
    with contextlib.ExitStack() as exits:
        yield exits


@pytest.fixture(params=sorted(CLIENTS))
def make_client(request: pytest.FixtureRequest, stack: contextlib.ExitStack) -> ClientFactory:
    """Start the real client of this parametrisation (irssi or WeeChat); it is closed after the test."""
    factory = CLIENTS[request.param]

    def start(port: int, nick: str) -> RealClient:
        client = factory(port, nick)
        stack.callback(client.close)
        return client

    return start


def raw_client(stack: contextlib.ExitStack, port: int, nick: str) -> RawIrcClient:
    client = RawIrcClient(port, nick)
    stack.callback(client.close)
    return client


def test_a_real_client_and_a_raw_client_talk_in_the_lobby(
    ircd: ReferenceServer, make_client: ClientFactory, stack: contextlib.ExitStack
) -> None:
    alice = make_client(ircd.port, "alice").join("#lobby")
    bob = raw_client(stack, ircd.port, "bob")
    bob.join("#lobby")
    bob.privmsg("#lobby", "hello alice")
    alice.wait_for_message("bob", "hello alice")
    alice.say("hi bob")
    bob.expect_privmsg(alice.nick, "#lobby", "hi bob")
    bob.privmsg("#lobby", "hello alice")  # the same line again is seen a second time
    alice.wait_for_message("bob", "hello alice", count=2)


def test_private_messages_both_ways(
    ircd: ReferenceServer, make_client: ClientFactory, stack: contextlib.ExitStack
) -> None:
    alice = make_client(ircd.port, "alice")
    bob = raw_client(stack, ircd.port, "bob")
    bob.privmsg(alice.nick, "psst, alice")
    alice.wait_for_private("bob", "psst, alice")
    alice.msg("bob", "yes, bob?")
    bob.expect_privmsg(alice.nick, "bob", "yes, bob?")


def test_non_ascii_and_slash_lines_go_through_unchanged(
    ircd: ReferenceServer, make_client: ClientFactory, stack: contextlib.ExitStack
) -> None:
    alice = make_client(ircd.port, "alice").join("#lobby")
    bob = raw_client(stack, ircd.port, "bob")
    bob.join("#lobby")
    bob.privmsg("#lobby", "héllo wörld ☃ and 日本語")
    alice.wait_for_message("bob", "héllo wörld ☃ and 日本語")
    alice.say("/not a command, ça va ☃")
    bob.expect_privmsg(alice.nick, "#lobby", "/not a command, ça va ☃")


def test_quitting_is_seen_by_the_others(
    ircd: ReferenceServer, make_client: ClientFactory, stack: contextlib.ExitStack
) -> None:
    alice = make_client(ircd.port, "alice").join("#lobby")
    bob = raw_client(stack, ircd.port, "bob")
    bob.join("#lobby")
    alice.quit("see you")
    bob.expect(rf"^:{re.escape(alice.nick)}!\S* QUIT :.*see you")


def test_irssi_and_weechat_talk_to_each_other(ircd: ReferenceServer, stack: contextlib.ExitStack) -> None:
    alice = stack.enter_context(IrssiClient(ircd.port, "alice")).join("#lobby")
    carol = stack.enter_context(WeechatClient(ircd.port, "carol")).join("#lobby")
    alice.wait_for_text(r"^-!- carol \[.*\] has joined #lobby$")
    carol.say("hi alice, from weechat")
    alice.wait_for_message("carol", "hi alice, from weechat")
    alice.say("hi carol, from irssi")
    carol.wait_for_message("alice", "hi carol, from irssi")


def test_irssi_shows_joins_and_reports_the_nick_the_server_gave(
    ircd: ReferenceServer, stack: contextlib.ExitStack
) -> None:
    first = stack.enter_context(IrssiClient(ircd.port, "dave")).join("#lobby")
    second = stack.enter_context(IrssiClient(ircd.port, "dave")).join("#lobby")
    assert first.nick == "dave"
    assert second.nick != "dave"
    assert second.nick.startswith("dave")
    first.wait_for_text(rf"^-!- {re.escape(second.nick)} \[.*\] has joined #lobby$")
    second.say("which dave am I?")
    first.wait_for_message(second.nick, "which dave am I?")


def test_irssi_close_ends_tmux_and_irssi(ircd: ReferenceServer) -> None:
    client = IrssiClient(ircd.port, "erin").join("#lobby")
    pids = list(client.pids)
    scratch = client.dir
    assert pids
    assert all(process_running(pid) for pid in pids)
    client.close()
    client.close()  # idempotent
    assert not any(process_running(pid) for pid in pids)
    assert not scratch.exists()


def _tmux_sockets() -> set[Path]:
    base = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
    return set(base.glob(f"hubbub-irssi-{os.getpid()}-*"))


def test_irssi_fails_fast_and_cleans_up_when_nothing_listens() -> None:
    before = _tmux_sockets()
    with pytest.raises(AssertionError, match=r"irssi could not connect: .*Unable to connect"):
        IrssiClient(free_port(), "frank")
    assert _tmux_sockets() <= before


def test_weechat_fails_fast_when_nothing_listens() -> None:
    with pytest.raises(AssertionError, match="WeeChat could not connect"):
        WeechatClient(free_port(), "frank")


def test_a_missing_program_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBBUB_REQUIRE_REAL_CLIENTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="hubbub-no-such-client is not installed"):
        require_binary("hubbub-no-such-client")
    monkeypatch.setenv("HUBBUB_REQUIRE_REAL_CLIENTS", "1")
    with pytest.raises(pytest.fail.Exception, match="HUBBUB_REQUIRE_REAL_CLIENTS=1"):
        require_binary("hubbub-no-such-client")


def test_irssi_can_connect_without_cap_negotiation(
    ircd: ReferenceServer, stack: contextlib.ExitStack
) -> None:
    alice = stack.enter_context(IrssiClient(ircd.port, "alice", cap=False)).join("#lobby")
    bob = raw_client(stack, ircd.port, "bob")
    bob.join("#lobby")
    bob.privmsg("#lobby", "no caps here")
    alice.wait_for_message("bob", "no caps here")
    assert "CAP LS" not in alice.rawlog.read_text()


def test_join_is_idempotent_and_a_rejoin_waits_for_the_server(
    ircd: ReferenceServer, make_client: ClientFactory, stack: contextlib.ExitStack
) -> None:
    alice = make_client(ircd.port, "alice").join("#lobby")
    bob = raw_client(stack, ircd.port, "bob")
    bob.join("#lobby")
    alice.join("#lobby")  # already in: nothing goes to the server, and it still returns
    alice.say("still here")
    bob.expect_privmsg(alice.nick, "#lobby", "still here")
    bob.send("JOIN #dev")
    alice.join("#dev").join("#lobby")  # the active channel is #lobby again
    alice.say("back in the lobby")
    bob.expect_privmsg(alice.nick, "#lobby", "back in the lobby")
    if isinstance(alice, IrssiClient):
        alice.command("/part #lobby")
    else:
        assert isinstance(alice, WeechatClient)
        alice.command("/part #lobby", "irc.hubbub.#lobby")
    bob.expect(rf"^:{re.escape(alice.nick)}!\S* PART #lobby")
    alice.join("#lobby").say("rejoined")  # a real JOIN again, and waits for the server's answer
    bob.expect_privmsg(alice.nick, "#lobby", "rejoined")
