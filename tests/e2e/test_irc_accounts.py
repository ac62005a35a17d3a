"""End-to-end IRC accounts and history over real sockets, with a SQLite database file: SASL PLAIN, REGISTER,
NickServ and ChanServ, nickname protection, CHATHISTORY, and what survives a restart."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess

HISTORY_CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")


def start(make_server: Callable[..., ServerProcess], db: Path, *extra: str) -> ServerProcess:
    return make_server("--irc-port", "auto", "--db", str(db), *extra)


def plain(account: str, password: str) -> str:
    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()


def sasl_client(
    server: ServerProcess, nick: str, account: str, password: str, caps: tuple[str, ...] = ()
) -> tuple[Client, bool]:
    """Connect and register with SASL PLAIN; whether the login succeeded (the client is registered either
    way)."""
    client = Client(server.irc_port)
    server.clients.append(client)
    client.send("CAP LS 302")
    client.send(f"CAP REQ :{' '.join(('sasl', *caps))}")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick}")
    client.expect(r"^:hubbub CAP \S+ ACK ")
    client.send("AUTHENTICATE PLAIN")
    client.expect_next(r"^:hubbub AUTHENTICATE \+$")
    client.send("AUTHENTICATE " + plain(account, password))
    result = client.expect(r"^:hubbub (903|904) ")
    client.send("CAP END")
    client.expect(rf"^:hubbub 001 {re.escape(nick)} ")
    client.expect(rf"^:{re.escape(nick)} MODE {re.escape(nick)} :\+i$")
    client.nick = nick
    return client, result.group(1) == "903"


def register_account(server: ServerProcess, nick: str, password: str) -> None:
    """Create the account ``nick`` with REGISTER, then disconnect (waiting until the server has seen it)."""
    client = server.irc(nick)
    client.send(f"REGISTER * * {password}")
    client.expect(rf"^:hubbub REGISTER SUCCESS {re.escape(nick)} ")
    client.expect(rf"^:hubbub 900 {re.escape(nick)} ")
    client.send("QUIT")
    client.expect(r"^ERROR :Closing Link")


def read_batch(client: Client) -> tuple[str, list[str]]:
    """The next batch: its opening line, and the lines inside it (each checked for its batch tag)."""
    opening = client.expect(r"^(?:@\S+ )?:hubbub BATCH \+(\S+) (.*)$")
    ref = opening.group(1)
    lines: list[str] = []
    while True:
        got = client.read_line()
        assert got is not None
        if re.match(rf"^(?:@\S+ )?:hubbub BATCH -{re.escape(ref)}$", got):
            return opening.group(2), lines
        assert got.startswith(f"@batch={ref};") or got.startswith(f"@batch={ref} "), got
        lines.append(got)


def texts(lines: list[str]) -> list[str]:
    """The text of each line (after its tags and source)."""
    return [line.split(" ", 1)[1].split(" :", 1)[1] if line[0] == "@" else line.split(" :", 1)[1]
            for line in lines]  # fmt: skip


def tag(line: str, name: str) -> str:
    found = re.search(rf"[@;]{name}=([^; ]+)", line)
    assert found, line
    return found.group(1)


def stamp(t: float) -> str:
    ms = int(t * 1000) % 1000
    return "timestamp=" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def test_sasl_plain_success_and_failure(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = start(make_server, tmp_path / "db.sqlite3")
    register_account(server, "alice", "correct-horse")
    alice, ok = sasl_client(server, "alice", "alice", "correct-horse")
    assert ok
    alice.send("WHOIS alice")
    alice.expect(r"^:hubbub 330 alice alice alice :is logged in as$")
    mallory, ok = sasl_client(server, "mallory", "alice", "wrong-password")
    assert not ok
    assert "904 mallory :SASL authentication failed" in " ".join(mallory.seen)
    mallory.send("WHOIS mallory")
    line = mallory.expect(r"^:hubbub 318 mallory ")
    assert not any(" 330 " in seen for seen in mallory.skipped), line
    assert "correct-horse" not in "\n".join(server.log)


def test_register_before_connect_then_reconnect_with_sasl(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start(make_server, tmp_path / "db.sqlite3")
    bob = Client(server.irc_port)
    server.clients.append(bob)
    bob.send("CAP LS 302")
    bob.expect(r"draft/account-registration=before-connect")
    bob.send("NICK bob")
    bob.send("REGISTER * bob@example.com hunter2-secret")
    bob.expect_next(r"^:hubbub REGISTER SUCCESS bob :Account successfully registered$")
    bob.expect_next(r"^:hubbub 900 bob bob!\*@127\.0\.0\.1 bob :You are now logged in as bob$")
    bob.send("USER bob 0 * :Bob")
    bob.send("CAP END")
    bob.expect(r"^:hubbub 001 bob ")
    bob.send("QUIT")
    bob.expect(r"^ERROR :Closing Link")
    again, ok = sasl_client(server, "bob", "bob", "hunter2-secret", ("account-notify",))
    assert ok
    assert not any("is registered" in line for line in again.seen)


def test_nickserv_register_and_identify(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = start(make_server, tmp_path / "db.sqlite3")
    carol = server.irc("carol")
    carol.send("PRIVMSG NickServ :REGISTER tr0ub4dor-3")
    carol.expect(r"^:NickServ!NickServ@services\.hubbub NOTICE carol :Account created: carol$")
    carol.expect(r"^:NickServ!NickServ@services\.hubbub NOTICE carol :You're now logged in as carol$")
    carol.send("QUIT")
    carol.expect(r"^ERROR :Closing Link")
    carol = server.irc("carol")
    carol.expect(r"^:hubbub NOTICE carol :The nickname carol is registered\.")
    carol.send("NS IDENTIFY wrong-password")
    carol.expect(r"NOTICE carol :Invalid account credentials$")
    carol.send("PRIVMSG NickServ :IDENTIFY tr0ub4dor-3")
    carol.expect(r"^:hubbub 900 carol carol!~carol@127\.0\.0\.1 carol :You are now logged in as carol$")
    carol.expect(r"NOTICE carol :You're now logged in as carol$")
    assert "tr0ub4dor" not in "\n".join(server.log)


def test_nick_protection_renames_after_the_grace_period(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = start(make_server, tmp_path / "db.sqlite3", "--nick-grace", "0.5")
    register_account(server, "dave", "dave-password")
    register_account(server, "frank", "frank-password")
    watcher = server.irc("erin")
    watcher.send("JOIN #x")
    watcher.expect(r" 366 erin #x ")
    impostor = server.irc("dave")
    impostor.expect(
        r"^:hubbub NOTICE dave :The nickname dave is registered\. Log in to it within 0\.5 seconds"
    )
    impostor.send("JOIN #x")
    impostor.expect(r" 366 dave #x ")
    renamed = impostor.expect(r"^:dave!~dave@127\.0\.0\.1 NICK (guest-\d+)$")
    guest = renamed.group(1)
    impostor.expect(rf"^:hubbub NOTICE {guest} :You were renamed: dave is registered")
    watcher.expect(rf"^:dave!~dave@127\.0\.0\.1 NICK {guest}$")
    # Renamed away, the nickname is held for its owner: taken again only once logged in to its account.
    impostor.send("NICK dave")
    impostor.expect(rf"^:hubbub 433 {guest} dave ")
    impostor.send("NS IDENTIFY dave dave-password")
    impostor.expect(rf"NOTICE {guest} :You're now logged in as dave$")
    impostor.send("NICK dave")
    impostor.expect(rf"^:{guest}!\S+ NICK :?dave$")
    # A second impostor's grace period starts later and ends later: once it is renamed, dave's period
    # is over too, and dave kept the nickname.
    marker = server.irc("frank")
    marker.expect(r"^:frank!\S+ NICK guest-\d+$")
    impostor.send("WHOIS dave")
    impostor.expect(r"^:hubbub 311 dave dave ~dave ")
    impostor.expect(r"^:hubbub 330 dave dave dave :is logged in as$")
    assert not any(" NICK " in line for line in impostor.skipped)


def test_chathistory_over_sqlite(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = start(make_server, tmp_path / "db.sqlite3")
    before = time.time() - 60
    alice = server.irc("alice", caps=HISTORY_CAPS)
    bob = server.irc("bob")
    alice.send("JOIN #room")
    alice.expect(r" 366 alice #room ")
    bob.send("JOIN #room")
    bob.expect(r" 366 bob #room ")
    seen: list[str] = []
    for i in range(1, 6):
        bob.send(f"PRIVMSG #room :m{i}")
        seen.append(alice.expect(rf"PRIVMSG #room :m{i}$").string)
    bob.send("PRIVMSG alice :private hello")
    alice.expect(r"PRIVMSG alice :private hello$")
    ids = [tag(line, "msgid") for line in seen]
    after = time.time() + 60

    alice.send("CHATHISTORY LATEST #room * 2")
    header, lines = read_batch(alice)
    assert header == "chathistory #room"
    assert texts(lines) == ["m4", "m5"]
    assert [tag(line, "msgid") for line in lines] == ids[3:]
    assert all(":bob!~bob@127.0.0.1 PRIVMSG #room :" in line for line in lines)
    alice.send(f"CHATHISTORY BEFORE #room msgid={ids[2]} 10")
    assert texts(read_batch(alice)[1]) == ["m1", "m2"]
    alice.send(f"CHATHISTORY AFTER #room msgid={ids[2]} 1")
    assert texts(read_batch(alice)[1]) == ["m4"]
    alice.send(f"CHATHISTORY AROUND #room msgid={ids[2]} 3")
    assert texts(read_batch(alice)[1]) == ["m2", "m3", "m4"]
    alice.send(f"CHATHISTORY BETWEEN #room msgid={ids[0]} msgid={ids[4]} 10")
    assert texts(read_batch(alice)[1]) == ["m2", "m3", "m4"]
    alice.send(f"CHATHISTORY AFTER #room {stamp(before)} 2")
    assert texts(read_batch(alice)[1]) == ["m1", "m2"]
    alice.send(f"CHATHISTORY BETWEEN #room {stamp(after)} {stamp(before)} 1")
    assert texts(read_batch(alice)[1]) == ["m5"]
    alice.send(f"CHATHISTORY LATEST #room timestamp={tag(seen[4], 'time')} 10")
    assert texts(read_batch(alice)[1]) == []  # m5's millisecond is not after itself
    alice.send("CHATHISTORY LATEST bob * 10")
    header, lines = read_batch(alice)
    assert header == "chathistory bob" and texts(lines) == ["private hello"]
    alice.send(f"CHATHISTORY TARGETS {stamp(before)} {stamp(after)} 10")
    header, lines = read_batch(alice)
    assert header == "draft/chathistory-targets"
    assert [line.split()[4] for line in lines] == ["#room", "bob"]
    assert all(line.split()[1:4] == [":hubbub", "CHATHISTORY", "TARGETS"] for line in lines)
    alice.send("CHATHISTORY LATEST #elsewhere * 10")
    alice.expect_next(r"^:hubbub FAIL CHATHISTORY INVALID_TARGET LATEST #elsewhere :")


def test_accounts_rooms_and_history_survive_a_restart(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite3"
    first = start(make_server, db)
    alice = first.irc("alice")
    alice.send("REGISTER * * persistent-pw")
    alice.expect(r"^:hubbub REGISTER SUCCESS alice ")
    alice.send("JOIN #keep")
    alice.expect(r" 366 alice #keep ")
    alice.send("CS REGISTER #keep")
    alice.expect(r"NOTICE alice :Channel #keep successfully registered$")
    alice.send("TOPIC #keep :a topic to keep")
    alice.expect(r"^:alice!\S+ TOPIC #keep :a topic to keep$")
    alice.send("MODE #keep +k sekrit")
    alice.expect(r"^:alice!\S+ MODE #keep \+k sekrit$")
    alice.send("MODE #keep +b troll!*@*")
    alice.expect(r"^:alice!\S+ MODE #keep \+b troll!\*@\*$")
    bob = first.irc("bob")
    bob.send("JOIN #keep sekrit")
    bob.expect(r" 366 bob #keep ")
    alice.expect(r"^:bob!\S+ JOIN #keep$")
    bob.send("PRIVMSG #keep :first line")
    alice.expect(r"PRIVMSG #keep :first line$")
    alice.send("PRIVMSG #keep :second line")
    bob.expect(r"PRIVMSG #keep :second line$")
    assert first.stop() == 0

    second = start(make_server, db)
    alice, ok = sasl_client(second, "alice", "alice", "persistent-pw", HISTORY_CAPS)
    assert ok
    alice.send("JOIN #keep")
    alice.expect(r"^:hubbub 475 alice #keep ")  # the key survived
    alice.send("JOIN #keep sekrit")
    alice.expect(r"^(?:@\S+ )?:alice!\S+ JOIN #keep$")
    alice.expect_next(r"^:hubbub 332 alice #keep :a topic to keep$")
    alice.expect_next(r"^:hubbub 333 alice #keep alice!~alice@127\.0\.0\.1 :?\d+$")
    alice.expect_next(r"^:hubbub 353 alice = #keep :@alice$")  # the founder gets op
    alice.send("MODE #keep")
    alice.expect(r"^:hubbub 324 alice #keep \+[nt]*k[nt]* :?sekrit$")
    alice.send("MODE #keep b")
    alice.expect(r"^:hubbub 367 alice #keep troll!\*@\* alice!~alice@127\.0\.0\.1 :?\d+$")
    alice.send("CHATHISTORY LATEST #keep * 10")
    _, lines = read_batch(alice)
    assert texts(lines) == ["first line", "second line"]
    assert ":bob!~bob@127.0.0.1 PRIVMSG #keep :first line" in lines[0]
    # A client without draft/chathistory gets the lines replayed on joining.
    bob = second.irc("bob")
    bob.send("JOIN #keep sekrit")
    bob.expect(r" 366 bob #keep ")
    bob.expect_next(r"^:hubbub NOTICE #keep :--- last 2 messages ---$")  # no batch: marked in words
    bob.expect_next(r"^:bob!~bob@127\.0\.0\.1 PRIVMSG #keep :first line$")
    bob.expect_next(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #keep :second line$")
    bob.expect_next(r"^:hubbub NOTICE #keep :--- end of replay ---$")
