"""End-to-end IRC: raw IRC lines and a third-party client library (jaraco's ``irc``) against the real server,
sharing rooms with netcat-style plain-text users."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import irc.client
import pytest

from helpers import TIMEOUT, Client, ServerProcess

IRC = ("--irc-port", "auto")


class LibClient:
    """A client built on the ``irc`` library's reactor; waits are bounded and event-driven."""

    def __init__(self, port: int, nick: str) -> None:
        self.reactor = irc.client.Reactor()
        self.events: list[Any] = []
        self.reactor.add_global_handler("all_events", self._record, -10)
        self.conn = self.reactor.server().connect("127.0.0.1", port, nick, ircname=f"{nick} via irc lib")
        self.seen = 0

    def _record(self, connection: Any, event: Any) -> None:
        self.events.append(event)

    def wait(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self.seen, len(self.events)):
                if predicate(self.events[i]):
                    self.seen = i + 1
                    return self.events[i]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kinds = [(e.type, e.arguments) for e in self.events[-15:]]
                raise AssertionError(f"no matching event in {timeout}s; last events: {kinds}")
            self.reactor.process_once(min(remaining, 0.2))

    def wait_type(self, kind: str, timeout: float = TIMEOUT) -> Any:
        return self.wait(lambda e: e.type == kind, timeout)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def irc_server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server(*IRC)


def test_a_library_client_registers_and_reads_isupport(irc_server: ServerProcess) -> None:
    alice = LibClient(irc_server.irc_port, "alice")
    try:
        welcome = alice.wait_type("welcome")
        assert "Welcome to the hubbub IRC Network alice" in welcome.arguments[0]
        alice.wait_type("nomotd")
        features = alice.conn.features
        assert features.network == "hubbub"
        assert dict(features.prefix) == {"@": "o", "+": "v"}
        assert features.chantypes == "#"
        assert features.nicklen == 32
    finally:
        alice.close()


def test_irc_and_plain_users_talk_in_the_lobby(irc_server: ServerProcess) -> None:
    plain = irc_server.connect("carol")
    alice = LibClient(irc_server.irc_port, "alice")
    try:
        alice.wait_type("welcome")
        alice.conn.join("#lobby")
        names = alice.wait_type("namreply")
        assert set(names.arguments[2].split()) == {"@carol", "alice"}
        plain.expect(r"^\* alice joined #lobby$")
        alice.conn.privmsg("#lobby", "hello from irc")
        plain.expect(r"^<alice> hello from irc$")
        plain.send("hello from netcat")
        said = alice.wait_type("pubmsg")
        assert said.source == "carol!plain@127.0.0.1"
        assert said.target == "#lobby" and said.arguments == ["hello from netcat"]
        alice.conn.action("#lobby", "waves")
        plain.expect(r"^\* alice waves$")
        plain.send("/me waves back")
        action = alice.wait_type("action")
        assert action.arguments == ["waves back"]
        plain.send("/msg alice psst")
        private = alice.wait_type("privmsg")
        assert private.source.nick == "carol" and private.arguments == ["psst"]
        alice.conn.privmsg("carol", "psst yourself")
        plain.expect(r"^\*alice\* psst yourself$")
        alice.conn.part("#lobby", "lunch")
        plain.expect(r"^\* alice left #lobby \(lunch\)$")
        alice.conn.join("#lobby")
        alice.wait_type("endofnames")
        plain.send("/nick caroline")
        nick = alice.wait_type("nick")
        assert nick.source.nick == "carol" and nick.target == "caroline"
        plain.close()
        quit_ = alice.wait_type("quit")
        assert quit_.source.nick == "caroline"
        assert quit_.arguments[0] in ("connection closed", "connection reset by peer")
        alice.conn.quit("bye now")
    finally:
        alice.close()


def test_irc_clients_are_recognised_on_the_plain_port(irc_server: ServerProcess) -> None:
    bob = LibClient(irc_server.port, "bob")
    plain = irc_server.connect("dave")
    try:
        bob.wait_type("welcome")
        bob.conn.join("#lobby")
        bob.wait_type("endofnames")
        plain.expect(r"^\* bob joined #lobby$")
        plain.send("hi bob")
        assert bob.wait_type("pubmsg").arguments == ["hi bob"]
    finally:
        bob.close()


def test_raw_registration_errors_and_quit(irc_server: ServerProcess) -> None:
    raw = Client(irc_server.irc_port)
    raw.send("PRIVMSG #lobby :too early")
    raw.expect_next(r"^:hubbub 451 \* :You have not registered$")
    raw.send("NICK 9bad")
    raw.expect_next(r"^:hubbub 432 \* 9bad :Erroneous nickname$")
    raw.send("QUIT :never mind")
    raw.expect_next(r"^ERROR :Closing Link: 127\.0\.0\.1 \(Quit: never mind\)$")
    assert raw.wait_eof() == []


def test_over_long_irc_line_gets_417_and_the_connection_lives(irc_server: ServerProcess) -> None:
    alice = irc_server.irc("alice")
    alice.send("PRIVMSG alice :" + "x" * 600)
    alice.expect_next(r"^:hubbub 417 alice :Input line was too long$")
    alice.send("@" + "a" * 9000 + " PING x")
    alice.expect_next(r"^:hubbub 417 alice :Input line was too long$")
    alice.send("PING still-here")
    alice.expect_next(r"^:hubbub PONG hubbub :still-here$")


def test_long_plain_lines_are_split_for_irc(irc_server: ServerProcess) -> None:
    alice = irc_server.irc("alice")
    alice.send("JOIN #lobby")
    alice.expect(r" 366 ")
    plain = irc_server.connect("erin")
    text = " ".join(f"word{i:04d}" for i in range(150))  # ~1350 bytes
    plain.send(text)
    pieces = []
    while len(" ".join(pieces)) < len(text):
        found = alice.expect(r"^:erin!plain@127\.0\.0\.1 PRIVMSG #lobby :(.*)$")
        pieces.append(found.group(1).strip())
    assert " ".join(pieces) == text
    assert all(len(line.encode()) + 2 <= 512 for line in alice.seen)


def test_password_motd_and_server_name(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("Be excellent\nto each other\n")
    server = make_server(
        *IRC, "--password", "s3cret", "--motd", str(motd), "--server-name", "irc.example.test"
    )
    wrong = Client(server.irc_port)
    wrong.send("PASS nope")
    wrong.send("NICK mallory")
    wrong.send("USER m 0 * :M")
    wrong.expect_next(r"^:irc\.example\.test 464 mallory :Password incorrect$")
    wrong.expect_next(r"^ERROR :Closing Link: ")
    assert wrong.wait_eof() == []
    right = Client(server.irc_port)
    right.send("PASS s3cret")
    right.send("NICK alice")
    right.send("USER a 0 * :A")
    right.expect(r"^:irc\.example\.test 001 alice ")
    right.expect(r"^:irc\.example\.test 004 alice irc\.example\.test ")
    right.expect(r" 375 alice :- irc\.example\.test Message of the day")
    right.expect_next(r" 372 alice :- Be excellent$")
    right.expect_next(r" 372 alice :- to each other$")


def test_ping_timeout_drops_a_silent_client_and_keeps_a_live_one(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(*IRC, "--ping-interval", "0.3", "--ping-timeout", "0.3")
    live = server.irc("live")
    dead = server.irc("dead")
    live.send("JOIN #lobby")
    dead.send("JOIN #lobby")
    live.expect(r" JOIN #lobby")
    # The live client answers every PING; the dead one never does.
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = live.read_line()
        assert line is not None
        if line.startswith("PING "):
            live.send("PONG " + line.split(" ", 1)[1])
        elif re.match(r"^:dead!\S+ QUIT :Ping timeout: \d+ seconds$", line):
            break
    else:
        raise AssertionError("the silent client was not dropped")
    lines = dead.wait_eof()
    assert any(line.startswith("PING ") for line in lines)
    server.wait_log(r"disconnected .*: Ping timeout")


def test_registration_timeout(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, "--registration-timeout", "0.3")
    idle = Client(server.irc_port)
    idle.send("NICK slowpoke")
    assert idle.wait_eof() == ["ERROR :Closing Link: registration timed out"]


def test_labeled_response_and_echo_over_the_wire(irc_server: ServerProcess) -> None:
    alice = irc_server.irc("alice", caps=("labeled-response", "batch", "echo-message", "message-tags"))
    alice.send("@label=x1 JOIN #t")
    alice.expect_next(r"^@label=x1 :hubbub BATCH \+(\S+) labeled-response$")
    alice.expect(r"^:hubbub BATCH -")
    alice.send("@label=x2 PRIVMSG #t :echo me")
    alice.expect_next(r"^@label=x2;msgid=\S+ :alice!~alice@127\.0\.0\.1 PRIVMSG #t :echo me$")


def test_channel_events_reach_plain_users_as_readable_lines(irc_server: ServerProcess) -> None:
    alice = irc_server.irc("alice")
    alice.send("JOIN #ops")
    alice.expect(r" 366 alice #ops ")
    plain = irc_server.connect("pat")
    plain.send("/join #ops")
    plain.expect(r"^\* You are in #ops with alice$")
    alice.expect(r"^:pat!plain@127\.0\.0\.1 JOIN #ops$")
    alice.send("TOPIC #ops :release at noon")
    plain.expect_next(r"^\* alice set the topic of #ops: release at noon$")
    alice.send("MODE #ops +m")
    plain.expect_next(r"^\* #ops is now moderated: only voiced users may talk \(changed by alice\)$")
    plain.send("can I still talk?")
    plain.expect_next(r"^! You cannot send to #ops \(moderated or banned\)$")
    alice.send("MODE #ops +v pat")
    plain.expect_next(r"^\* alice gave pat voice in #ops$")
    plain.send("now I can")
    alice.expect(r"^:pat!plain@127\.0\.0\.1 PRIVMSG #ops :now I can$")
    alice.send("WHOIS pat")
    alice.expect(r"^:hubbub 311 alice pat plain 127\.0\.0\.1 \* :plain-text user$")
    alice.send("KICK #ops pat :enough")
    plain.expect_next(r"^\* You were kicked from #ops by alice \(enough\)$")
    plain.send("hello?")
    plain.expect_next(r"^! You are not in a room: /join #room first$")
    alice.send("NICK alicia")
    alice.expect(r"^:alice!\S+ NICK :?alicia$")
    plain.send("/join #ops")
    plain.expect_next(r"^\* You are in #ops with alicia$")
    plain.expect_next(r"^\* Topic: release at noon$")
    # Back soon after the kick: nothing was said since, so nothing is replayed (pat saw its own line).
    alice.send("PART #ops :bye")
    plain.expect_next(r"^\* alicia left #ops \(bye\)$")
