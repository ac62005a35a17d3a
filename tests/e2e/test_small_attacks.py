"""End-to-end: the smaller attacks of issue 14, each reproduced over real sockets."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

import pytest

from helpers import TIMEOUT, Client, ServerProcess
from hubbub.store.passwords import hash_password


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server("--irc-port", "auto")


def test_a_tls_client_on_the_plain_port_is_closed_and_never_chats(server: ServerProcess) -> None:
    watcher = server.connect("watcher")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    try:
        with pytest.raises((ssl.SSLError, OSError)):
            ctx.wrap_socket(raw, server_hostname="localhost")  # sends its ClientHello, gets closed
    finally:
        raw.close()
    server.wait_log(r"a TLS handshake on a port without TLS; closed")
    server.wait_log(r"TLS handshake on a plain port")
    later = server.connect()  # a connection after it: the watcher sees it join, and nothing before
    watcher.expect(rf"^\* {later.nick} joined #lobby$")
    assert watcher.skipped == []  # no guest joined for the TLS client, no binary line, no leaving
    assert watcher.sync() == []


def test_a_label_with_escaped_crlf_cannot_forge_a_line_to_its_sender(server: ServerProcess) -> None:
    alice = server.irc("alice", caps=("labeled-response", "batch"))
    # Escaped on the wire: a CR LF, spaces and a ; that, echoed unescaped, made a second line (a forged
    # NickServ message) and broke the tags.
    evil = r"x\r\n:NickServ!NickServ@services\sPRIVMSG\salice\s\:forged\:"
    alice.send_raw(f"@label={evil};more PING :probe\r\n".encode())
    pong = alice.expect(r"PONG \S+ :probe$")
    assert pong.string == f"@label={evil} :hubbub PONG hubbub :probe"  # the same escapes, one line
    alice.send("PING :sync")
    alice.expect(r"PONG \S+ :sync$")
    assert not any("forged" in line and not line.startswith("@label=") for line in alice.seen)
    assert b"\r\n:NickServ" not in bytes(alice.raw)


def test_oper_answers_the_same_for_an_unknown_name_and_a_wrong_password(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server("--irc-port", "auto", "--oper", f"admin:{hash_password('right one')}")
    guesser = server.irc("guesser")
    answers = []
    for name in ("admin", "nosuch", "root"):
        guesser.send(f"OPER {name} :wrong guess")
        answers.append(guesser.expect(r"^:hubbub (\d{3}) guesser ").string)
    assert answers == [":hubbub 464 guesser :Password incorrect"] * 3
    plain = server.connect("plainguess")
    plain.send("/oper admin wrong")
    known = plain.expect(r"^! ").string
    plain.send("/oper nosuch wrong")
    assert plain.expect(r"^! ").string == known == "! OPER failed: wrong name or password"


@pytest.mark.parametrize("name", ["Server", "SERVER", "you", "Hubbub", "Welcome", "Wallops"])
def test_names_that_would_forge_server_lines_to_netcat_users_are_reserved(
    server: ServerProcess, name: str
) -> None:
    # An IRC user named Server doing /me "shutting down. Goodbye!" read, in a terminal, as the server's own
    # "* Server shutting down. Goodbye!".
    watcher = server.connect("watcher")
    mallory = server.irc("mallory")
    mallory.send(f"NICK {name}")
    mallory.expect(rf"^:hubbub 432 mallory {name} :")
    early = Client(server.irc_port)
    server.clients.append(early)
    early.send(f"NICK {name}")
    early.send("USER x 0 * :x")
    early.expect(rf"^:hubbub 432 \* {name} :")
    plain = server.connect("plainuser")
    plain.send(f"/nick {name}")
    plain.expect(rf"^! The nickname {name} is reserved$")
    mallory.send("JOIN #lobby")
    watcher.expect(r"^\* mallory joined #lobby$")
    mallory.send("PRIVMSG #lobby :\x01ACTION shutting down. Goodbye!\x01")
    watcher.expect(r"^\* mallory shutting down\. Goodbye!$")
    assert f"* {name} shutting down. Goodbye!" not in watcher.seen
