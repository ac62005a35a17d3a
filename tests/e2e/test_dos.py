"""Denial of service on the cheap (issue 14, item 6), over real sockets: the bounded work per line still
answers as before where it matters (MONITOR, LIST, /rooms) and dead or drip-fed connections go."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpers import ServerProcess

IRC = ("--irc-port", "auto")


@pytest.fixture
def irc_server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server(*IRC)


def test_monitor_follows_arrivals_renames_removals_and_quits(irc_server: ServerProcess) -> None:
    alice = irc_server.irc("alice")
    alice.send("MONITOR + bob,carol,dave")
    alice.expect_next(r"^:hubbub 731 alice :bob,carol,dave$")
    bob = irc_server.irc("bob")
    alice.expect_next(r"^:hubbub 730 alice :bob!~?bob@")
    bob.send("NICK carol")
    alice.expect_next(r"^:hubbub 731 alice :bob$")
    alice.expect_next(r"^:hubbub 730 alice :carol!~?bob@")
    alice.send("MONITOR - carol")
    alice.send("MONITOR L")
    alice.expect_next(r"^:hubbub 732 alice :bob,dave$")
    alice.expect_next(r"^:hubbub 733 alice :End of MONITOR list$")
    bob.send("QUIT :bye")
    bob.wait_eof()
    alice.send("PING sync")
    alice.expect_next(r"^:hubbub PONG hubbub :sync$")
    # a watcher that leaves takes its watches with it; the others' stay
    erin = irc_server.irc("erin")
    erin.send("MONITOR + dave")
    erin.expect_next(r"^:hubbub 731 erin :dave$")
    alice.send("QUIT :bye")
    alice.wait_eof()
    dave = irc_server.irc("dave")
    erin.expect_next(r"^:hubbub 730 erin :dave!~?dave@")
    dave.send("QUIT :bye")
    erin.expect_next(r"^:hubbub 731 erin :dave$")
    erin.send("MONITOR C")
    erin.send("MONITOR L")
    erin.expect_next(r"^:hubbub 733 erin :End of MONITOR list$")
