"""Denial of service on the cheap (issue 14, item 6), over real sockets: the bounded work per line still
answers as before where it matters (MONITOR, LIST, /rooms) and dead or drip-fed connections go."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, ServerProcess

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


def test_list_shows_at_most_list_rooms_max_and_uses_at_most_five_patterns(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(*IRC, "--list-rooms-max", "3")
    alice = server.irc("alice")
    alice.send("JOIN #r5,#r4,#r3,#r2,#r1,#other")
    alice.expect(r" 366 alice #other ")
    alice.send("LIST")
    for name in ("#other", "#r1", "#r2"):
        alice.expect_next(rf"^:hubbub 322 alice {name} 1 :")
    alice.expect_next(r"^:hubbub NOTICE alice :3 more: narrow the LIST with a pattern")
    alice.expect_next(r"^:hubbub 323 alice :End of /LIST$")
    # a narrower LIST shows what it matches, whole
    alice.send("LIST #r*,!#r1")
    for name in ("#r2", "#r3", "#r4"):
        alice.expect_next(rf"^:hubbub 322 alice {name} 1 :")
    alice.expect_next(r"^:hubbub NOTICE alice :1 more:")
    alice.expect_next(r"^:hubbub 323 alice :End of /LIST$")
    # the sixth pattern on is ignored, with a notice; names still count
    alice.send("LIST #x1*,#x2*,#x3*,#x4*,!#x5*,#r5*,#other")
    alice.expect_next(r"^:hubbub NOTICE alice :LIST uses at most 5 patterns; 1 ignored$")
    alice.expect_next(r"^:hubbub 322 alice #other 1 :")
    alice.expect_next(r"^:hubbub 323 alice :End of /LIST$")


def test_plain_rooms_are_capped_and_take_a_pattern(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server("--list-rooms-max", "2")
    for nick, name in (("bob", "#dev"), ("carol", "#devops"), ("dave", "#music")):
        other = server.connect(nick)
        other.send(f"/join {name}")
        other.expect(rf"^\* You are in {name}, alone for now$")
    alice = server.connect("alice")
    alice.sync()
    alice.send("/rooms")
    alice.expect_next(r"^\* 4 rooms:$")
    alice.expect_next(r"^\*   #dev \(\d+ members?\)$")
    alice.expect_next(r"^\*   #devops \(\d+ members?\)$")
    alice.expect_next(r"^\* 2 more: narrow with a pattern \(/rooms word\)$")
    alice.send("/rooms mus")
    alice.expect_next(r"^\* 1 room:$")
    alice.expect_next(r"^\*   #music \(1 member\)$")
    alice.send("/rooms #dev*")
    alice.expect_next(r"^\* 2 rooms:$")
    alice.expect_next(r"^\*   #dev ")
    alice.expect_next(r"^\*   #devops ")
    alice.send("/rooms nothing")
    alice.expect_next(r"^\* No room matches nothing$")


def _server_side_timers(port: int) -> list[str]:
    """The server's ends of the connections on ``port``, as ``ss`` shows them with their timers."""
    found = subprocess.run(
        ["ss", "-tnoH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return found.stdout.splitlines()


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_every_accepted_socket_has_tcp_keepalive(irc_server: ServerProcess) -> None:
    plain = irc_server.connect("alice")
    plain.sync()
    irc = irc_server.irc("bob")
    irc.send("PING sync")
    irc.expect(r"PONG hubbub :sync$")
    for port in (irc_server.port, irc_server.irc_port):
        # ss shows the keepalive timer once the server's last bytes are acknowledged (until then, the
        # retransmission timer): ask again until then, within TIMEOUT
        deadline = time.monotonic() + TIMEOUT
        lines = _server_side_timers(port)
        while "timer:(on," in "".join(lines) and time.monotonic() < deadline:
            lines = _server_side_timers(port)
        assert len(lines) == 1, lines
        assert "timer:(keepalive," in lines[0], lines


def _keepalive_timer(port: int) -> str:
    """The keepalive timer ``ss`` shows on the one server-side connection of ``port`` (``keepalive,59sec,0``),
    once the server's last bytes are acknowledged (until then ss shows the retransmission timer)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        lines = _server_side_timers(port)
        timer = re.search(r"timer:\((keepalive,[^)]*)\)", "".join(lines))
        if timer is not None or time.monotonic() > deadline:
            break
    assert len(lines) == 1 and timer is not None, lines
    return timer.group(1)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_keepalive_timings_are_settings_and_a_reload_applies_them_to_new_connections(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text("[timeouts]\nkeepalive_idle = 3000\nkeepalive_interval = 20\nkeepalive_count = 3\n")
    server = make_server("--config", str(config))
    first = server.connect("alice")
    first.sync()
    # Default 60 s: the first probe is due within a minute. 3000 s: in about 50 minutes.
    assert re.match(r"keepalive,(49|50)min", _keepalive_timer(server.port))
    aside = tmp_path / "hubbub.new"
    aside.write_text("[timeouts]\nkeepalive_idle = 7200\n")
    aside.replace(config)
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"SIGHUP: configuration reloaded: changed keepalive_idle, keepalive_interval")
    first.close()
    second = server.connect("bob")
    second.sync()
    assert re.match(r"keepalive,(119|120)min", _keepalive_timer(server.port))


def test_a_line_left_unfinished_closes_the_connection_and_idle_people_stay(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(*IRC, "--line-timeout", "1")
    idle_plain = server.connect("idle")
    idle_irc = server.irc("idler")
    watcher = server.connect("alice")
    dripper = server.connect("dripper")
    dripper.send_raw(b"I am typing ")
    dripper.send_raw(b"very slowly")
    dripper.expect(r"^! Your line stayed unfinished for over 1 seconds; goodbye$")
    assert dripper.wait_eof() == []
    watcher.expect(r"^\* dripper left \(Line timeout\)$")
    irc_dripper = server.irc("slowirc")
    irc_dripper.send_raw(b"PRIVMSG #lobby :half a")
    irc_dripper.expect(r"^ERROR :Closing Link: 127\.0\.0\.1 \(Line timeout\)$")
    assert irc_dripper.wait_eof() == []
    # both idle clients outlived the timeout, silent: they are still here
    idle_plain.sync()
    idle_irc.send("PING still-here")
    idle_irc.expect(r"PONG hubbub :still-here$")
    # an unfinished line before registration counts too (well before the registration timeout)
    unregistered = Client(server.irc_port)
    server.clients.append(unregistered)
    unregistered.send_raw(b"NICK half")
    unregistered.expect(r"^ERROR :Closing Link: 127\.0\.0\.1 \(Line timeout\)$")


def test_history_rows_cost_flood_budget(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = make_server(
        *IRC,
        "--db",
        str(tmp_path / "chat.db"),
        "--limit-exempt",
        "none",
        "--flood-lines",
        "5",
        "--flood-burst",
        "60",
        "--flood-kill",
        "1",
        "--flood-history-rows",
        "1",
    )
    bob = server.irc("bob")
    bob.send("JOIN #room")
    bob.expect(r" 366 bob #room ")
    for i in range(30):
        bob.send(f"PRIVMSG #room :m{i}")
    bob.send("PING seeded")
    bob.expect(r"PONG hubbub :seeded$")
    alice = server.irc("alice", caps=("batch", "server-time", "message-tags", "draft/chathistory"))
    alice.send("JOIN #room")
    alice.expect(r" 366 alice #room ")
    # three queries of 30 rows: 90 lines' worth at one line a row, with a burst of 60 at 5 a second
    alice.send_raw(b"CHATHISTORY LATEST #room * 30\r\n" * 3)
    for _ in range(3):
        alice.expect(r"^:hubbub BATCH \+\S+ chathistory #room$")
        alice.expect(r"^@\S* :bob!\S+ PRIVMSG #room :m29$")
        alice.expect(r"^:hubbub BATCH -")
    # the next line finds the client seconds behind its budget: Excess Flood
    alice.send("PING more")
    alice.expect(r"^ERROR :Closing Link: 127\.0\.0\.1 \(Excess Flood\)$")
    # bob, who asked for nothing, is still within his
    bob.send("PING fine")
    bob.expect(r"PONG hubbub :fine$")


def test_a_join_and_quit_storm_in_a_big_room_reaches_everyone_once_and_in_order(
    irc_server: ServerProcess,
) -> None:
    """Many connections arriving and leaving together in #lobby (they share the room's fan-out batches, joins
    and quits included): every watcher sees each arrival, line and departure exactly once, in order, and each
    newcomer gets what is said after it arrived without waiting for anything else to be written."""
    plain_watcher = irc_server.connect("plainwatch")
    irc_watcher = irc_server.irc("ircwatch")
    irc_watcher.send("JOIN #lobby")
    irc_watcher.expect(r" 366 ircwatch #lobby ")
    count = 60
    storm = [Client(irc_server.port) for _ in range(count)]  # all connect before any is read
    irc_server.clients.extend(storm)
    nicks = [client.expect(r"^\* Welcome to \S+, (\S+)!").group(1) for client in storm]
    for client in storm:
        client.expect(r"^\* You are in #lobby")
    for client, nick in zip(storm, nicks, strict=True):
        client.send(f"hello from {nick}")
    for client, nick in zip(storm, nicks, strict=True):
        others = {other for other in nicks if other != nick}
        heard: set[str] = set()
        while heard != others:
            heard.add(client.expect(r"^<(\S+)> hello from \1$").group(1))
    for client in storm:
        client.close()
    left = {plain_watcher.expect(r"^\* (\S+) left \(").group(1) for _ in range(count)}
    quit_ = {irc_watcher.expect(r"^:(\S+?)!\S+ QUIT :").group(1) for _ in range(count)}
    assert left == quit_ == set(nicks)
    plain_watcher.sync()
    irc_watcher.send("PING :sync")
    irc_watcher.expect(r"^:hubbub PONG hubbub :sync$")
    plain_seen = plain_watcher.seen
    irc_seen = irc_watcher.seen
    for nick in nicks:
        assert plain_seen.count(f"* {nick} joined #lobby") == 1
        assert plain_seen.count(f"<{nick}> hello from {nick}") == 1
        assert sum(line.startswith(f"* {nick} left (") for line in plain_seen) == 1
        assert sum(line.startswith(f":{nick}!") and line.endswith(" JOIN #lobby") for line in irc_seen) == 1
        assert (
            sum(
                line.startswith(f":{nick}!") and line.endswith(f"PRIVMSG #lobby :hello from {nick}")
                for line in irc_seen
            )
            == 1
        )
        assert sum(line.startswith(f":{nick}!") and " QUIT :" in line for line in irc_seen) == 1
