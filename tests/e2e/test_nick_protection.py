"""End-to-end: a registered nickname is kept for its owner (issue 14, item 4).

Before, after the grace rename a squatter took the nickname again at once (107 times in 20 s) and received
every private message meant for the owner. Now the nickname is held for its owner after the rename, private
messages never reach a holder that is not logged in to it, and the owner frees it with GHOST or REGAIN
(NickServ over IRC, ``/ghost`` and ``/regain`` in plain text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess

Start = Callable[..., ServerProcess]
PASSWORD = "correct-horse"


def register(server: ServerProcess, nick: str) -> Client:
    client = server.connect(nick)
    client.send(f"/register {PASSWORD}")
    client.expect(rf"^\* You registered the account {nick} and are logged in\.")
    return client


def test_a_renamed_squatter_cannot_take_the_nickname_again_nor_read_its_messages(
    make_server: Start, tmp_path: Path
) -> None:
    server = make_server("--db", str(tmp_path / "db"), "--nick-grace", "1")
    register(server, "alice").close()
    friend = server.connect("carol")
    squatter = server.connect("mallory")
    squatter.send("/nick alice")
    squatter.expect_next(r"^\* You are now known as alice$")
    # In the grace period: what is meant for the owner does not reach the squatter.
    friend.send("/msg alice are you there?")
    friend.expect(r"^! alice is not logged in to that registered nickname: your message was not delivered")
    squatter.expect(r"^\* You were renamed: alice is registered and you did not log in to it\.$")
    squatter.send("/nick alice")
    squatter.expect_next(r"^! Nickname alice is registered and held for its owner: log in to its account")
    # The owner can still take it: logged in to the account.
    owner = server.connect("alice2")
    owner.send(f"/login alice {PASSWORD}")
    owner.expect(r"^\* You are logged in as alice")
    owner.send("/nick alice")
    owner.expect(r"^\* You are now known as alice$")
    friend.send("/msg alice now?")
    owner.expect(r"^\*carol\* now\?$")
    assert not any("now?" in line for line in squatter.sync())


def test_ghost_and_regain_free_the_nickname_for_its_owner(make_server: Start, tmp_path: Path) -> None:
    server = make_server("--db", str(tmp_path / "db"), "--irc-port", "auto", "--nick-grace", "60")
    register(server, "alice").close()
    stale = server.connect("alice")  # a stale or squatting session, in its grace period
    owner = server.irc("owner")
    owner.send("PRIVMSG NickServ :GHOST alice")
    owner.expect(r"NOTICE owner :You're not logged into an account")
    owner.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
    owner.expect(r"NOTICE owner :You're now logged in as alice")
    owner.send("PRIVMSG NickServ :REGAIN alice")
    owner.expect(r"^:owner!\S+ NICK :?alice$")
    owner.expect(r"NOTICE \S+ :You have regained the nickname alice")
    lines = stale.wait_eof()
    assert any(re.search(r"GHOST command used by owner", line) for line in lines), lines
    # Plain text: /ghost then /nick, and /regain.
    second = server.connect("alice2")
    second.send(f"/login alice {PASSWORD}")
    second.expect(r"^\* You are logged in as alice")
    second.send("/ghost alice")
    second.expect(r"^\* alice has been disconnected")
    owner.wait_eof()
    second.send("/nick alice")
    second.expect(r"^\* You are now known as alice$")
    third = server.connect("alice3")
    third.send(f"/login alice {PASSWORD}")
    third.expect(r"^\* You are logged in as alice")
    third.send("/regain alice")
    third.expect(r"^\* You are now known as alice$")
    second.wait_eof()
