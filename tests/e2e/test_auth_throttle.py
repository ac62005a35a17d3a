"""End-to-end: password guessing and mass registration are throttled, over real sockets (issue 14).

Each server runs with ``--limit-exempt none`` so that the per-address limits apply to 127.0.0.1, and with a
short ``--login-backoff`` so that waiting out the window stays quick.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from helpers import TIMEOUT, Client, ServerProcess

Start = Callable[..., ServerProcess]
PASSWORD = "correct-horse"
NICKSERV = r":NickServ!NickServ@services\.hubbub"
GUARDED = ("--limit-exempt", "none", "--no-flood-control")


def plain_register(server: ServerProcess, nick: str) -> Client:
    client = server.connect(nick)
    client.send(f"/register {PASSWORD}")
    client.expect(rf"^\* You registered the account {nick} and are logged in\.")
    return client


def sasl_blob(account: str, password: str) -> str:
    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()


def test_repeated_wrong_passwords_from_one_address_are_refused_at_once(make_server: Start) -> None:
    server = make_server(*GUARDED, "--login-failures", "3", "--login-backoff", "0.5")
    plain_register(server, "alice")
    guesser = server.connect("mallory")
    for i in range(3):
        guesser.send(f"/login alice wrong-guess-{i}")
        guesser.expect(r"^! Login failed: wrong password, or no account named alice$")
    # Each failure is logged at info, with the account, the address and the method, never the password.
    for _ in range(3):
        server.wait_log(r"failed login to account 'alice' from 127\.0\.0\.1 by /login")
    started = time.monotonic()
    guesser.send("/login alice wrong-guess-3")
    guesser.expect(r"^! Too many failed logins, try again in \d+ s$")
    # The right password is refused too within the window: the answer gives the guesser nothing.
    guesser.send(f"/login alice {PASSWORD}")
    guesser.expect(r"^! Too many failed logins, try again in \d+ s$")
    assert time.monotonic() - started < 0.5
    # The refused attempts were not checked (no hashing, no log line).
    assert len(server.wait_lines(r"failed login to account", 3)) == 3
    assert not server.find_log("wrong-guess")
    # After the window, the right password works.
    deadline = time.monotonic() + TIMEOUT
    while True:
        guesser.send(f"/login alice {PASSWORD}")
        answer = guesser.expect(r"^(! Too many failed logins|\* You are logged in as alice$)")
        if answer.group(0).startswith("*"):
            break
        assert time.monotonic() < deadline, "the backoff never ended"


def test_sasl_and_nickserv_share_the_throttle_of_an_address(make_server: Start) -> None:
    server = make_server(*GUARDED, "--irc-port", "auto", "--login-failures", "2", "--login-backoff", "30")
    plain_register(server, "alice")
    client = Client(server.irc_port)
    server.clients.append(client)
    client.send("CAP LS 302")
    client.send("CAP REQ :sasl")
    client.send("NICK bob")
    client.send("USER bob 0 * :bob")
    client.expect(r"^:hubbub CAP \S+ ACK ")
    for i in range(2):
        client.send("AUTHENTICATE PLAIN")
        client.expect_next(r"^:hubbub AUTHENTICATE \+$")
        client.send("AUTHENTICATE " + sasl_blob("alice", f"nope-{i}"))
        client.expect(r"^:hubbub 904 \S+ :SASL authentication failed: Invalid account credentials$")
    client.send("AUTHENTICATE PLAIN")
    client.expect_next(r"^:hubbub AUTHENTICATE \+$")
    client.send("AUTHENTICATE " + sasl_blob("alice", PASSWORD))
    client.expect(r"^:hubbub 904 \S+ :SASL authentication failed: Too many failed logins, try again in \d+ s")
    server.wait_log(r"failed login to account 'alice' from 127\.0\.0\.1 by SASL PLAIN \(failure 2\)")
    client.send("CAP END")
    client.expect(r"^:hubbub 001 bob ")
    # NickServ from the same address, to another account: the address is still in its backoff.
    plain_register(server, "carol")
    client.send(f"PRIVMSG NickServ :IDENTIFY carol {PASSWORD}")
    client.expect(rf"^{NICKSERV} NOTICE bob :Too many failed logins, try again in \d+ s$")
    assert not server.find_log("nope-")


def test_an_exempt_address_is_throttled_per_account_only(make_server: Start) -> None:
    server = make_server("--login-failures", "2", "--login-backoff", "30")
    plain_register(server, "alice")
    plain_register(server, "carol")
    guesser = server.connect("mallory")
    for i in range(2):
        guesser.send(f"/login alice wrong-{i}")
        guesser.expect(r"^! Login failed")
    guesser.send(f"/login alice {PASSWORD}")
    guesser.expect(r"^! Too many failed logins, try again in \d+ s$")
    # 127.0.0.1 is exempt from the per-address limits (the default): another account is not held back.
    guesser.send(f"/login carol {PASSWORD}")
    guesser.expect(r"^\* You are logged in as carol$")


def test_one_address_registers_a_few_accounts_then_is_refused_in_every_protocol(make_server: Start) -> None:
    server = make_server(*GUARDED, "--irc-port", "auto", "--register-per-address", "2")
    plain_register(server, "one")
    plain_register(server, "two")
    third = server.connect("three")
    third.send(f"/register {PASSWORD}")
    third.expect(r"^! Too many accounts registered, try again in \d+ s$")
    irc = server.irc("four", caps=("draft/account-registration",))
    irc.send(f"REGISTER * * {PASSWORD}")
    irc.expect(r"^:hubbub FAIL REGISTER TEMPORARILY_UNAVAILABLE four :Too many accounts registered, try ")
    irc.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    irc.expect(rf"^{NICKSERV} NOTICE four :Too many accounts registered, try again")
    server.wait_log(r"registration of 'three' from 127\.0\.0\.1 refused: too many registrations")
    assert len(server.find_log(r"account \S+ registered from 127\.0\.0\.1")) == 2


def test_the_server_wide_registration_rate(make_server: Start) -> None:
    # Exempt addresses skip the per-address rate, not the global one.
    server = make_server("--register-global", "1")
    plain_register(server, "one")
    other = server.connect("two")
    other.send(f"/register {PASSWORD}")
    other.expect(r"^! Too many accounts registered, try again in \d+ s$")


def unregistered(server: ServerProcess, *lines: str) -> Client:
    """An IRC connection that has started capability negotiation (so it stays unregistered)."""
    client = Client(server.irc_port)
    server.clients.append(client)
    client.send("CAP LS 302")
    client.expect(r"^:hubbub CAP \* LS")
    for text in lines:
        client.send(text)
    return client


def test_sasl_and_register_before_the_server_password_are_refused(make_server: Start) -> None:
    server = make_server("--irc-port", "auto", "--password", "letmein")
    plain_register(server, "alice")  # the plain-text port asks for no server password
    client = unregistered(server, "CAP REQ :sasl draft/account-registration", "NICK bob")
    client.expect(r"^:hubbub CAP \S+ ACK ")
    client.send("AUTHENTICATE PLAIN")
    client.expect(r"^:hubbub 904 \S+ :SASL authentication failed: Send the server password \(PASS\) first$")
    client.send(f"REGISTER * * {PASSWORD}")
    client.expect(r"^:hubbub FAIL REGISTER TEMPORARILY_UNAVAILABLE bob :Send the server password \(PASS\) ")
    # Nothing was checked or created.
    client.send("PING sync")
    client.expect(r"PONG \S+ :sync$")
    assert not server.find_log(r"failed login|account bob registered")
    # With the server password, SASL goes on.
    client.send("PASS letmein")
    client.send("AUTHENTICATE PLAIN")
    client.expect_next(r"^:hubbub AUTHENTICATE \+$")
    client.send("AUTHENTICATE " + sasl_blob("alice", PASSWORD))
    client.expect(r"^:hubbub 903 ")


def test_a_k_lined_host_cannot_register_nor_try_sasl_before_it_is_refused(make_server: Start) -> None:
    server = make_server("--irc-port", "auto", "--oper", "admin:operpass")
    plain_register(server, "alice")
    op = server.irc("op")
    op.send("OPER admin :operpass")
    op.expect(r" 381 op ")
    op.send("KLINE 5 ~mallory@127.0.0.1 :guessing")
    op.expect(r"NOTICE op :op added a K-line")
    banned = "ERROR :Closing Link: 127.0.0.1 (K-Lined: guessing)"

    sasl = unregistered(server, "CAP REQ :sasl", "NICK mallory", "USER mallory 0 * :m")
    sasl.expect(r"^:hubbub CAP \S+ ACK ")
    sasl.send("AUTHENTICATE PLAIN")
    assert sasl.wait_eof()[-2:] == [":hubbub 465 mallory :You are banned from this server (guessing)", banned]

    register = unregistered(server, "NICK mallory", "USER mallory 0 * :m")
    register.send(f"REGISTER * * {PASSWORD}")
    assert register.wait_eof()[-1] == banned
    assert not server.find_log(r"failed login|account mallory registered")
    # Another user name from the same host is not banned.
    server.irc("innocent")


def test_the_owner_logs_in_from_a_known_address_while_someone_guesses(make_server: Start) -> None:
    server = make_server(*GUARDED, "--login-failures", "2", "--login-backoff", "30")
    plain_register(server, "alice").close()
    owner = Client(server.port, source="127.0.0.2")
    server.clients.append(owner)
    owner.expect(r"^\* You are in #lobby")
    owner.send(f"/login alice {PASSWORD}")
    owner.expect(r"^\* You are logged in as alice$")
    owner.send("/logout")
    owner.expect(r"^\* You are logged out of alice$")
    guesser = server.connect("mallory")
    for i in range(2):
        guesser.send(f"/login alice wrong-{i}")
        guesser.expect(r"^! Login failed")
    server.wait_log(r"failed login to account 'alice' from 127\.0\.0\.1 by /login \(failure 2\)")
    # The account is in its backoff for everyone else, even with the right password ...
    stranger = Client(server.port, source="127.0.0.3")
    server.clients.append(stranger)
    stranger.expect(r"^\* You are in #lobby")
    stranger.send(f"/login alice {PASSWORD}")
    stranger.expect(r"^! Too many failed logins, try again in \d+ s$")
    # ... but not for an address that logged in to it before.
    owner.send(f"/login alice {PASSWORD}")
    owner.expect(r"^\* You are logged in as alice$")
