"""End-to-end: every limit is answered with a clear line before the close; flood control slows, then kills.

The servers here run with ``--limit-exempt none`` (the tests connect from loopback, exempt by default), except
where the exemption itself is tested. Clients that must come from another address bind a source address in
127.0.0.0/8 (Linux routes the whole network to the loopback interface).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

import pytest

from helpers import Client, ServerProcess

Start = Callable[..., ServerProcess]

NOT_EXEMPT = ("--limit-exempt", "none")


class SourceClient(Client):
    """A raw client connecting from the loopback address ``source``."""

    def __init__(self, port: int, source: str) -> None:
        super().__init__(port, source=source)


def plain(server: ServerProcess, nick: str, source: str | None = None) -> Client:
    client = Client(server.port) if source is None else SourceClient(server.port, source)
    server.clients.append(client)
    client.expect(r"^\* You are in #lobby")
    client.send(f"/nick {nick}")
    client.expect(rf"^\* You are now known as {nick}$")
    client.nick = nick
    return client


def refused_with(server: ServerProcess, reason: str, *, port: int = 0, source: str | None = None) -> None:
    """A new connection gets exactly one line, the closing line with ``reason``, then EOF."""
    port = port or server.port
    client = Client(port) if source is None else SourceClient(port, source)
    server.clients.append(client)
    lines = client.wait_eof()
    host = source or "127.0.0.1"
    assert len(lines) == 1, lines
    assert re.fullmatch(rf"ERROR :Closing Link: {re.escape(host)} \({reason}\)", lines[0]), lines


def chat_works(speaker: Client, *listeners: Client, text: str = "still here") -> None:
    speaker.send(text)
    for listener in listeners:
        listener.expect(rf"^<{speaker.nick}> {text}$")


def loopback_aliases_work() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 9), 0.2, source_address=("127.0.0.2", 0)):
            pass
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return True


# -- connection limits ---------------------------------------------------------------------------------------


def test_clients_per_address(make_server: Start) -> None:
    server = make_server(*NOT_EXEMPT, "--max-per-ip", "3", "--irc-port", "auto")
    first = [plain(server, f"user{i}") for i in range(3)]
    refused_with(server, "Too many connections from your address")
    refused_with(server, "Too many connections from your address", port=server.irc_port)  # IRC alike
    server.wait_log(r"refused a connection from 127\.0\.0\.1:\d+ \(plain text\): Too many connections")
    chat_works(first[0], first[1], first[2])
    # A place freed is a place taken.
    first[2].send("/quit")
    first[2].wait_eof()
    server.wait_log(r"disconnected .*: quit")
    last = plain(server, "latecomer")
    chat_works(last, first[0], first[1])


@pytest.mark.skipif(
    not loopback_aliases_work(), reason="needs the whole 127.0.0.0/8 on the loopback interface"
)
def test_clients_per_network(make_server: Start) -> None:
    server = make_server(*NOT_EXEMPT, "--max-per-ip", "5", "--max-per-cidr", "2", "--cidr-v4", "24")
    a = plain(server, "alice", source="127.0.0.1")
    b = plain(server, "bob", source="127.0.0.2")
    refused_with(server, "Too many connections from your network", source="127.0.0.3")
    c = plain(server, "carol", source="127.0.1.1")  # another /24
    chat_works(c, a, b)


def test_connection_rate(make_server: Start) -> None:
    server = make_server(*NOT_EXEMPT, "--connect-rate", "3", "--connect-window", "60")
    for i in range(3):
        client = plain(server, f"quick{i}")
        client.send("/quit")
        client.wait_eof()
    client = Client(server.port)
    server.clients.append(client)
    lines = client.wait_eof()
    assert len(lines) == 1, lines
    found = re.fullmatch(
        r"ERROR :Closing Link: 127\.0\.0\.1 \(Connecting too fast; try again in (\d+) seconds?\)", lines[0]
    )
    assert found, lines
    assert 1 <= int(found.group(1)) <= 20


def test_the_server_is_full_also_for_exempt_addresses(make_server: Start) -> None:
    server = make_server("--max-clients", "2")  # loopback is exempt, from all but this limit
    a = plain(server, "alice")
    b = plain(server, "bob")
    refused_with(server, "The server is full")
    chat_works(a, b)


# -- chat limits ---------------------------------------------------------------------------------------------


def test_members_per_room(make_server: Start) -> None:
    server = make_server("--room-max-members", "2", "--irc-port", "auto")
    a = plain(server, "alice")
    b = plain(server, "bob")
    # A plain user arriving in a full default room is told so, and can go elsewhere.
    c = Client(server.port)
    server.clients.append(c)
    c.expect(r"^\* Welcome to ")
    c.expect_next(r"^! #lobby is full; /join #room to go to another room$")
    c.send("/join #other")
    c.expect(r"^\* You are in #other, alone for now$")
    # An IRC client gets 471.
    irc = server.irc("ircuser")
    irc.send("JOIN #lobby")
    irc.expect(r"^:\S+ 471 ircuser #lobby :Cannot join channel")
    irc.send("JOIN #other")
    irc.expect(r"^:ircuser!\S+ JOIN #other")
    # Room for one more once someone leaves.
    b.send("/join #third")
    b.expect(r"^\* You are in #third")
    irc.send("JOIN #lobby")
    irc.expect(r"^:ircuser!\S+ JOIN #lobby")
    a.expect(r"^\* ircuser joined #lobby$")


def test_rooms_per_user(make_server: Start) -> None:
    server = make_server("--rooms-per-user", "2", "--irc-port", "auto")
    irc = server.irc("joiner")
    irc.send("JOIN #one,#two,#three")
    irc.expect(r"^:\S+ 405 joiner #three :You have joined too many channels$")


def test_ping_timeout_tells_the_client_before_closing(make_server: Start) -> None:
    server = make_server("--irc-port", "auto", "--ping-interval", "0.2", "--ping-timeout", "0.2")
    dead = server.irc("dead")
    lines = dead.wait_eof()
    assert lines[-1:] and re.fullmatch(
        r"ERROR :Closing Link: 127\.0\.0\.1 \(Ping timeout: \d+ seconds\)", lines[-1]
    ), lines


def test_registration_timeout_tells_the_client_before_closing(make_server: Start) -> None:
    server = make_server("--irc-port", "auto", "--registration-timeout", "0.2")
    idle = Client(server.irc_port)
    server.clients.append(idle)
    assert idle.wait_eof() == ["ERROR :Closing Link: registration timed out"]


# -- flood control -------------------------------------------------------------------------------------------


def test_a_burst_over_the_budget_is_slowed_and_every_line_arrives(make_server: Start) -> None:
    server = make_server(*NOT_EXEMPT, "--flood-lines", "20", "--flood-burst", "5", "--flood-kill", "10")
    watcher = plain(server, "watcher")
    sender = plain(server, "sender")
    watcher.expect(r"is now known as sender$")
    count = 45
    started = time.monotonic()
    sender.send_raw(b"".join(f"line {i:03d}\n".encode() for i in range(count)))
    for i in range(count):
        watcher.expect_next(rf"^<sender> line {i:03d}$")
    elapsed = time.monotonic() - started
    # At most a burst of 5 at once, then 20 a second: the last arrives no sooner than 2 seconds later.
    assert elapsed >= (count - 5) / 20 * 0.9, elapsed
    chat_works(sender, watcher, text="and I am still here")
    assert not server.find_log("excess flood")


def test_a_client_that_keeps_flooding_is_disconnected(make_server: Start) -> None:
    # No paste allowance: the plain-text flooder is disconnected as an IRC client would be, in words.
    server = make_server(
        *NOT_EXEMPT,
        "--irc-port",
        "auto",
        "--flood-lines",
        "5",
        "--flood-burst",
        "5",
        "--flood-kill",
        "2",
        "--flood-paste",
        "0",
    )
    watcher = plain(server, "watcher")
    calm = plain(server, "calm")
    flooder = plain(server, "flooder")
    watcher.expect(r"is now known as flooder$")
    irc_watcher = server.irc("ircwatch")
    irc_watcher.send("JOIN #lobby")
    irc_watcher.expect(r"^:ircwatch!\S+ JOIN #lobby")
    batch = b"".join(f"flood {i:04d}\n".encode() for i in range(50))
    for _ in range(100):  # it keeps sending until the server hangs up (bounded)
        try:
            flooder.send_raw(batch)
        except OSError:
            break
        if server.find_log(r"excess flood"):
            break
    lines = flooder.wait_eof()
    assert lines[-1:] == ["! You were disconnected for flooding (more than 5 lines a second)"], lines[-3:]
    watcher.expect(r"^\* flooder left \(Excess Flood\)$")
    irc_watcher.expect(r"^:flooder!\S+ QUIT :Excess Flood$")
    server.wait_log(r"#\d+ 127\.0\.0\.1:\d+: excess flood")
    server.wait_log(r"disconnected .*: Excess Flood")
    chat_works(calm, watcher)


def test_an_irc_flooder_gets_the_error_line(make_server: Start) -> None:
    server = make_server(
        *NOT_EXEMPT, "--irc-port", "auto", "--flood-lines", "5", "--flood-burst", "5", "--flood-kill", "2"
    )
    watcher = plain(server, "watcher")
    flooder = server.irc("ircflood")
    flooder.send("JOIN #lobby")
    watcher.expect(r"^\* ircflood joined #lobby$")
    flooder.send_raw(b"".join(f"PRIVMSG #lobby :flood {i}\r\n".encode() for i in range(200)))
    lines = flooder.wait_eof()
    assert lines[-1:] == ["ERROR :Closing Link: 127.0.0.1 (Excess Flood)"], lines[-3:]
    watcher.expect(r"^\* ircflood left \(Excess Flood\)$")


def test_exempt_addresses_are_not_limited(make_server: Start) -> None:
    # Tight limits that a non-exempt client would break many times over; loopback is exempt by default.
    server = make_server(
        "--flood-lines",
        "1",
        "--flood-burst",
        "1",
        "--flood-kill",
        "1",
        "--max-per-ip",
        "1",
        "--connect-rate",
        "1",
    )
    watcher = plain(server, "watcher")
    sender = plain(server, "sender")
    watcher.expect(r"is now known as sender$")
    sender.send_raw(b"".join(f"line {i:03d}\n".encode() for i in range(300)))
    for i in range(300):
        watcher.expect_next(rf"^<sender> line {i:03d}$")
    chat_works(sender, watcher)
    assert not server.find_log("refused|excess flood")


def test_operators_are_exempt_from_flood_control(make_server: Start) -> None:
    server = make_server(
        *NOT_EXEMPT,
        "--irc-port",
        "auto",
        "--oper",
        "boss:secret",
        "--flood-lines",
        "2",
        "--flood-burst",
        "4",
        "--flood-kill",
        "1",
    )
    watcher = plain(server, "watcher")
    boss = server.irc("boss")
    boss.send("OPER boss secret")
    boss.expect(r"^:\S+ 381 boss ")
    boss.send("JOIN #lobby")
    watcher.expect(r"^\* boss joined #lobby$")
    boss.send_raw(b"".join(f"PRIVMSG #lobby :order {i:03d}\r\n".encode() for i in range(200)))
    for i in range(200):
        watcher.expect_next(rf"^<boss> order {i:03d}$")
    assert not server.find_log("excess flood")
