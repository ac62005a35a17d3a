"""Messages for someone who is not here, over real sockets: a /msg (or IRC PRIVMSG) to a registered account
nobody is connected as is kept, the sender is told, and the account gets it at its next login, once."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess

PASSWORD = "correct-horse"


def test_a_message_to_an_offline_account_waits_for_its_next_login(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = make_server("--db", str(tmp_path / "db.sqlite3"), "--irc-port", "auto")
    carol = server.connect("carol")
    carol.send(f"/register {PASSWORD}")
    carol.expect(r"^\* You registered the account carol")
    carol.send("/quit")
    carol.wait_eof()
    alice = server.connect("alice")
    alice.send("/msg carol lunch tomorrow?")
    alice.expect(r"^\* carol is not here: your message will be delivered when carol logs in$")
    alice.send("/msg nobody hello")
    alice.expect(r"^! .*nobody")  # no such account: no such nickname, as before
    irc = server.irc("ircer")
    irc.send("PRIVMSG carol :from IRC")
    irc.expect(
        r"^:hubbub NOTICE ircer :carol is not connected: your message will be delivered when carol logs in$"
    )
    back = Client(server.port)
    server.clients.append(back)
    back.send(f"/login carol {PASSWORD}")
    back.expect(r"^\* You are logged in as carol$")
    back.expect(r"^\* While you were away, 2 messages came:$")
    back.expect_next(r"^\[\d\d:\d\d\] <alice> lunch tomorrow\?$")
    back.expect_next(r"^\[\d\d:\d\d\] <ircer> from IRC$")
    back.expect_next(r"^\* --- end of messages ---$")
    back.send("/logout")
    back.expect(r"logged out")
    back.send(f"/login carol {PASSWORD}")
    back.expect(r"^\* You are logged in as carol$")
    lines = back.sync()
    assert not any("While you were away" in line for line in lines)  # delivered once


def test_an_irc_client_gets_them_at_its_login(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = make_server("--db", str(tmp_path / "db.sqlite3"), "--irc-port", "auto")
    dave = server.connect("dave")
    dave.send(f"/register {PASSWORD}")
    dave.expect(r"^\* You registered the account dave")
    dave.send("/quit")
    dave.wait_eof()
    alice = server.connect("alice")
    alice.send("/msg dave ping me")
    alice.expect(r"will be delivered when dave logs in")
    irc = server.irc("dave2")
    irc.send(f"PRIVMSG NickServ :IDENTIFY dave {PASSWORD}")
    irc.expect(r"^:hubbub NOTICE dave2 :While you were away, a message came:$")
    irc.expect_next(r"^:alice!\S+ PRIVMSG dave :ping me$")
    irc.expect_next(r"^:hubbub NOTICE dave2 :--- end of messages ---$")


def test_an_irc_client_logged_in_by_sasl_gets_them_once_registered(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = make_server("--db", str(tmp_path / "db.sqlite3"), "--irc-port", "auto")
    erin = server.connect("erin")
    erin.send(f"/register {PASSWORD}")
    erin.expect(r"^\* You registered the account erin")
    erin.send("/quit")
    erin.wait_eof()
    alice = server.connect("alice")
    alice.send("/msg erin see you at 5")
    alice.expect(r"will be delivered when erin logs in")
    client = Client(server.irc_port)
    server.clients.append(client)
    for text in ("CAP LS 302", "CAP REQ :sasl", "NICK erin", "USER erin 0 * :Erin", "AUTHENTICATE PLAIN"):
        client.send(text)
    client.expect(r"AUTHENTICATE \+$")
    client.send("AUTHENTICATE " + base64.b64encode(f"\0erin\0{PASSWORD}".encode()).decode())
    client.expect(r" 903 ")
    client.send("CAP END")
    client.expect(r" 001 erin ")
    client.expect(r"^:hubbub NOTICE erin :While you were away, a message came:$")
    client.expect_next(r"^:alice!\S+ PRIVMSG erin :see you at 5$")
    client.expect_next(r"^:hubbub NOTICE erin :--- end of messages ---$")
