"""End-to-end: host cloaking on a real server over real sockets.

A new database (and ``:memory:``) cloaks by default, an existing one without a cloak secret keeps showing
addresses until ``--cloak on``; a cloak is stable across restarts and across the users of one address, and
differs between addresses. The user and the operators see the real address (WHOIS 338, WHO ``%i``), others
see only the cloak. Room bans, exceptions and invite exceptions match the cloaked and the real hostmask;
K-lines match the real address; a client behind WEBIRC or a PROXY header is cloaked by its own address.

The test helper starts servers with ``--cloak off`` (so that the other tests see 127.0.0.1); every test here
gives its own ``--cloak``. Clients bind other loopback addresses (127.0.0.2, ...) to be other addresses.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess
from hubbub.core.cloaks import ALPHABET, cloak
from hubbub.store.schema import MIGRATIONS

Start = Callable[..., ServerProcess]
IRC = ("--irc-port", "auto")
SECRET = "a shared test secret"
ON = ("--cloak", "on", "--cloak-secret", SECRET)
OPER = ("--oper", "admin:oper-pw")
CLOAKED = rf"[{ALPHABET}]{{13}}\.irc"


def irc_from(
    server: ServerProcess, nick: str, source: str = "127.0.0.1", caps: tuple[str, ...] = ()
) -> Client:
    """An IRC client connecting from ``source`` (a loopback address), registered as ``nick``; the host in
    its 001 welcome is in ``client.host``."""
    client = Client(server.irc_port, source=source)
    server.clients.append(client)
    if caps:
        client.send(f"CAP REQ :{' '.join(caps)}")
        client.send("CAP END")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick} the tester")
    welcome = client.expect(rf"^:\S+ 001 {nick} :Welcome to the \S+ IRC Network {nick}!~{nick}@(\S+)$")
    client.expect(rf"^:{nick} MODE {nick} :\+i$")
    client.nick = nick
    client.host = welcome.group(1)  # type: ignore[attr-defined]
    return client


def host_of(client: Client) -> str:
    return str(client.host)  # type: ignore[attr-defined]


def whois(viewer: Client, nick: str) -> list[str]:
    viewer.send(f"WHOIS {nick}")
    viewer.expect(rf"^:\S+ 318 {viewer.nick} {nick} ")
    return viewer.skipped


def become_oper(client: Client) -> None:
    client.send("OPER admin oper-pw")
    client.expect(rf" 381 {client.nick} :You are now an IRC operator")


def old_database(path: Path, version: int) -> None:
    """A database as an earlier hubbub left it: schema ``version``, no cloak secret."""
    conn = sqlite3.connect(path)
    for step in MIGRATIONS[:version]:
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_a_new_database_cloaks_by_default_and_the_cloak_survives_a_restart(
    make_server: Start, tmp_path: Path
) -> None:
    db = str(tmp_path / "new.db")
    server = make_server(*IRC, "--cloak", "auto", "--db", db)
    server.wait_log(r"cloak: on, with a new secret kept in the store")
    alice = irc_from(server, "alice", caps=("userhost-in-names",))
    assert re.fullmatch(CLOAKED, host_of(alice)), host_of(alice)
    bob = irc_from(server, "bob")
    assert host_of(bob) == host_of(alice)  # one address, one cloak
    carol = irc_from(server, "carol", "127.0.0.2", caps=("userhost-in-names",))
    assert re.fullmatch(CLOAKED, host_of(carol)) and host_of(carol) != host_of(alice)
    dave = server.connect("dave")  # a netcat user is cloaked too

    alice.send("JOIN #r")
    alice.expect(rf"^:alice!~alice@{re.escape(host_of(alice))} JOIN #r$")
    for client in (bob, carol):
        client.send("JOIN #r")
        client.expect(rf" 366 {client.nick} #r ")
        alice.expect(rf"^:{client.nick}!~{client.nick}@{re.escape(host_of(client))} JOIN #r$")
    dave.send("/join #r")
    alice.expect(rf"^:dave!plain@{re.escape(host_of(alice))} JOIN #r$")
    carol.send("NAMES #r")
    names = carol.expect(r" 353 carol = #r :(.*)$").group(1).split()
    assert f"@alice!~alice@{host_of(alice)}" in names and f"dave!plain@{host_of(alice)}" in names
    carol.send("WHO #r")
    carol.expect(r" 315 carol #r ")
    assert sum(f" {host_of(alice)} " in line for line in carol.skipped if " 352 " in line) == 3
    assert any(line.split()[3:6] == ["dave", "plain", host_of(alice)] for line in whois(carol, "dave"))
    bob.send("QUIT :bye")
    alice.expect(r"^:bob!\S+ QUIT ")
    carol.send("WHOWAS bob")
    carol.expect(rf" 314 carol bob ~bob {re.escape(host_of(alice))} \* :")
    carol.send("PING :sync")
    carol.expect(r" PONG \S+ :sync$")
    # carol, at 127.0.0.2, learnt nothing of 127.0.0.1's address.
    assert not [line for line in carol.seen if "127.0.0.1" in line]

    first = host_of(alice)
    for client in server.clients:
        client.close()
    assert server.stop() == 0
    with sqlite3.connect(db) as conn:
        (secret,) = conn.execute("SELECT value FROM meta WHERE name = 'cloak_secret'").fetchone()
    assert len(secret) == 43 and not server.find_log(re.escape(secret))  # kept, never logged
    again = make_server(*IRC, "--cloak", "auto", "--db", db)
    again.wait_log(r"cloak: on, with the secret kept in the store")
    assert host_of(irc_from(again, "alice")) == first
    assert host_of(irc_from(again, "carol", "127.0.0.2")) == host_of(carol)


def test_memory_databases_cloak_by_default_and_off_never_cloaks(make_server: Start) -> None:
    server = make_server(*IRC, "--cloak", "auto")  # --db :memory:
    assert re.fullmatch(CLOAKED, host_of(irc_from(server, "alice")))
    off = make_server(*IRC, "--cloak", "off", "--cloak-secret", SECRET)
    assert host_of(irc_from(off, "alice")) == "127.0.0.1"
    off.wait_log(r"cloak: off \(users' addresses are in their hostmasks\)")


def test_an_existing_database_without_a_secret_shows_addresses_until_cloak_on(
    make_server: Start, tmp_path: Path
) -> None:
    for name, version in (("v2.db", 2), ("v3.db", len(MIGRATIONS))):
        db = tmp_path / name
        old_database(db, version)
        server = make_server(*IRC, "--cloak", "auto", "--db", str(db))
        assert host_of(irc_from(server, "alice")) == "127.0.0.1"
        hint = server.find_log(r'cloak: off for this existing store .*set cloak = "on" .*--cloak on')
        assert len(hint) == 1, server.log  # said once, at start
        for client in server.clients:
            client.close()
        assert server.stop() == 0

        on = make_server(*IRC, "--cloak", "on", "--db", str(db))
        on.wait_log(r"cloak: on, with a new secret kept in the store")
        cloaked = host_of(irc_from(on, "alice"))
        assert re.fullmatch(CLOAKED, cloaked)
        for client in on.clients:
            client.close()
        assert on.stop() == 0

        auto = make_server(*IRC, "--cloak", "auto", "--db", str(db))  # the secret is kept: still cloaked
        assert host_of(irc_from(auto, "alice")) == cloaked
        for client in auto.clients:
            client.close()
        assert auto.stop() == 0

        off = make_server(*IRC, "--cloak", "off", "--db", str(db))
        assert host_of(irc_from(off, "alice")) == "127.0.0.1"
        for client in off.clients:
            client.close()
        assert off.stop() == 0


def test_the_user_and_operators_see_the_real_address_the_others_the_cloak(make_server: Start) -> None:
    server = make_server(*IRC, *ON, *OPER)
    alice = irc_from(server, "alice", "127.0.0.2")
    shown = cloak("127.0.0.2", SECRET)
    assert host_of(alice) == shown
    bob = irc_from(server, "bob", "127.0.0.3")
    op = irc_from(server, "op", "127.0.0.4")
    become_oper(op)

    for viewer in (alice, op):  # the user about itself, and an operator
        lines = whois(viewer, "alice")
        assert any(
            line.endswith(f" 311 {viewer.nick} alice ~alice {shown} * :alice the tester") for line in lines
        )
        assert any(
            line.endswith(f" 338 {viewer.nick} alice ~alice@127.0.0.2 127.0.0.2 :Actual user@host, Actual IP")
            for line in lines
        ), lines
    lines = whois(bob, "alice")
    assert any(line.endswith(f" 311 bob alice ~alice {shown} * :alice the tester") for line in lines)
    assert not [line for line in lines if " 338 " in line or "127.0.0.2" in line], lines

    for viewer, ip in ((alice, "127.0.0.2"), (op, "127.0.0.2"), (bob, "255.255.255.255")):
        viewer.send("WHO alice %tnuhi,7")
        viewer.expect(rf"^:\S+ 354 {viewer.nick} 7 ~alice {re.escape(ip)} {shown} alice$")
    bob.send("WHO alice")
    bob.expect(rf"^:\S+ 352 bob \* ~alice {shown} \S+ alice H :0 alice the tester$")
    bob.send("USERHOST alice")
    bob.expect(rf"^:\S+ 302 bob :alice=\+~alice@{shown}$")
    # The log keeps the real addresses.
    server.wait_log(r"#\d+ .*127\.0\.0\.2:\d+")
    server.wait_log(r"OPER: op!~op@127\.0\.0\.4 is now operator admin")
    assert not [line for line in bob.seen if "127.0.0.2" in line]


def test_bans_on_the_cloak_or_the_real_address_keep_a_user_out(make_server: Start) -> None:
    server = make_server(*IRC, *ON)
    owner = irc_from(server, "owner", "127.0.0.1")
    alice = irc_from(server, "alice", "127.0.0.2")
    shown = cloak("127.0.0.2", SECRET)
    owner.send("JOIN #r")
    owner.expect(r" 366 owner #r ")

    def banned_from(room: str) -> bool:
        alice.send(f"JOIN {room}")
        found = alice.expect(rf"^:alice!\S+ JOIN {room}$| 47[34] alice {room} ")
        if "JOIN" in found.group():
            alice.send(f"PART {room}")
            alice.expect(rf"^:alice!\S+ PART {room}")
            return False
        return True

    for mask in (f"*!*@{shown}", "*!*@127.0.0.2", "*!*@127.0.0.*"):
        owner.send(f"MODE #r +b {mask}")
        owner.expect(rf" MODE #r \+b {re.escape(mask)}$")
        assert banned_from("#r"), mask
        owner.send(f"MODE #r -b {mask}")
        owner.expect(rf" MODE #r -b {re.escape(mask)}$")
    assert not banned_from("#r")

    # An exception on either hostmask lets alice in despite a ban on the other.
    for ban, exception in ((f"*!*@{shown}", "*!*@127.0.0.2"), ("*!*@127.0.0.2", f"*!*@{shown}")):
        owner.send(f"MODE #r +be {ban} {exception}")
        owner.expect(r" MODE #r \+be ")
        assert not banned_from("#r"), (ban, exception)
        owner.send(f"MODE #r -be {ban} {exception}")
        owner.expect(r" MODE #r -be ")

    # Invite exceptions (+I) too.
    owner.send("MODE #r +i")
    owner.expect(r" MODE #r \+i$")
    assert banned_from("#r")
    for mask in ("*!*@127.0.0.2", f"*!*@{shown}"):
        owner.send(f"MODE #r +I {mask}")
        owner.expect(rf" MODE #r \+I {re.escape(mask)}$")
        assert not banned_from("#r"), mask
        owner.send(f"MODE #r -I {mask}")
        owner.expect(rf" MODE #r -I {re.escape(mask)}$")


def test_klines_match_the_real_address_of_a_cloaked_user(make_server: Start) -> None:
    server = make_server(*IRC, *ON, *OPER)
    op = irc_from(server, "op", "127.0.0.1")
    become_oper(op)
    alice = irc_from(server, "alice", "127.0.0.2")
    bob = irc_from(server, "bob", "127.0.0.3")

    op.send("KLINE 5 *@127.0.0.2 :spam")
    op.expect(r"NOTICE op :op added a K-line for 5m on \*@127\.0\.0\.2: spam \(disconnected: alice\)$")
    assert alice.wait_eof()[-1] == "ERROR :Closing Link: 127.0.0.2 (K-Lined: spam)"
    server.wait_log(r"KLINE: op!~op@127\.0\.0\.1 banned \*@127\.0\.0\.2 for 5m: spam")
    again = Client(server.irc_port, source="127.0.0.2")
    server.clients.append(again)
    again.send("NICK alice2")
    again.send("USER alice2 0 * :x")
    assert again.wait_eof()[-1] == "ERROR :Closing Link: 127.0.0.2 (K-Lined: spam)"
    irc_from(server, "carol", "127.0.0.4")  # another address: let in

    # A K-line on a nickname bans that user's real address, not its cloak.
    op.send("KLINE 5 bob :flood")
    op.expect(r"NOTICE op :op added a K-line for 5m on \*@127\.0\.0\.3: flood \(disconnected: bob\)$")
    bob.wait_eof()
    # A K-line on the cloak matches too (as in ergo, either host does).
    shown = cloak("127.0.0.4", SECRET)
    op.send(f"KLINE 5 *@{shown} :by cloak")
    op.expect(
        rf"NOTICE op :op added a K-line for 5m on \*@{re.escape(shown)}: by cloak \(disconnected: carol\)$"
    )


def test_proxied_users_are_cloaked_by_their_client_address(make_server: Start) -> None:
    server = make_server(*IRC, *ON, *OPER, "--trusted-proxy", "127.0.0.1/32", "--webirc", "gw:gateway-pw")
    op = irc_from(server, "op", "127.0.0.5")
    become_oper(op)
    web = Client(server.irc_port)
    server.clients.append(web)
    web.send("WEBIRC gateway-pw gw web.example.net 203.0.113.7")
    web.send("NICK web")
    web.send("USER web 0 * :on the web")
    web.expect(
        rf" 001 web :Welcome to the hubbub IRC Network web!~web@{re.escape(cloak('203.0.113.7', SECRET))}$"
    )
    assert any(" 338 op web ~web@203.0.113.7 203.0.113.7 " in line for line in whois(op, "web"))

    netcat = Client(server.port)
    server.clients.append(netcat)
    netcat.send_raw(b"PROXY TCP4 198.51.100.23 127.0.0.1 40000 6667\r\n")
    nick = netcat.expect(r"^\* Welcome to \S+, (\S+)!").group(1)
    lines = whois(op, nick)
    assert any(f" 311 op {nick} plain {cloak('198.51.100.23', SECRET)} " in line for line in lines), lines
    assert any(f" 338 op {nick} plain@198.51.100.23 198.51.100.23 " in line for line in lines), lines
