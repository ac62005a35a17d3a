"""End-to-end: plain-text history, accounts and registered rooms over real sockets, kept in a SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import Client, ServerProcess

#: A history line's time: HH:MM in UTC, with the date first when the line is not from today.
STAMP = r"\[(?:\d{4}-\d\d-\d\d )?\d\d:\d\d\]"
DATED = r"\[\d{4}-\d\d-\d\d \d\d:\d\d\]"
PASSWORD = "correct-horse"

Start = Callable[..., ServerProcess]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "db.sqlite3")


def register(server: ServerProcess, nick: str, password: str = PASSWORD) -> Client:
    client = server.connect(nick)
    client.send(f"/register {password}")
    client.expect(rf"^\* You registered the account {nick} and are logged in\.")
    return client


def test_a_newcomer_sees_what_was_said_before(make_server: Start, db: str) -> None:
    server = make_server("--db", db)
    alice, bob = server.connect("alice"), server.connect("bob")
    alice.send("first line")
    alice.send("/me waves")
    bob.expect(r"^\* alice waves$")
    bob.send("second line")
    alice.expect(r"^<bob> second line$")
    carol = Client(server.port)
    carol.expect_next(r"^\* Welcome to hubbub, guest-\d+!")
    carol.expect_next(r"^\* You are in #lobby with alice, bob$")
    carol.expect_next(r"^\* Recent messages in #lobby:$")
    carol.expect_next(rf"^{STAMP} <alice> first line$")
    carol.expect_next(rf"^{STAMP} \* alice waves$")
    carol.expect_next(rf"^{STAMP} <bob> second line$")
    carol.expect_next(r"^\* --- end of replay ---$")
    carol.send("/who")
    carol.expect_next(r"^\* 3 in #lobby: @alice, bob, guest-\d+$")  # nothing after the replay
    carol.close()


def test_history_and_search(make_server: Start, db: str) -> None:
    server = make_server("--db", db)
    alice, bob = server.connect("alice"), server.connect("bob")
    for text in ("apples and pears", "bananas", "/me eats apples", "/msg bob apples for you?"):
        alice.send(text)
    bob.expect(r"^\*alice\* apples for you\?$")
    bob.send("/history")
    bob.expect(r"^\* Last 3 messages in #lobby:$")
    bob.expect_next(rf"^{STAMP} <alice> apples and pears$")
    bob.expect_next(rf"^{STAMP} <alice> bananas$")
    bob.expect_next(rf"^{STAMP} \* alice eats apples$")
    bob.send("/history 1")
    bob.expect_next(r"^\* Last 1 message in #lobby:$")
    bob.expect_next(rf"^{STAMP} \* alice eats apples$")
    bob.send("/search APPLES")
    bob.expect_next(r"^\* 2 messages in #lobby match APPLES \(newest first\):$")
    bob.expect_next(rf"^{DATED} \* alice eats apples$")
    bob.expect_next(rf"^{DATED} <alice> apples and pears$")
    bob.send("/search cherries")
    bob.expect_next(r"^\* Nothing in #lobby matches cherries$")
    bob.send("/history alice")
    bob.expect_next(r"^\* Last 1 message with alice:$")
    bob.expect_next(rf"^{STAMP} <alice> apples for you\?$")
    bob.send("/history 0")
    bob.expect_next(r"^! Usage: /history \[N\]")


def test_register_then_log_in_from_a_new_connection(make_server: Start, db: str) -> None:
    server = make_server("--db", db)
    alice = register(server, "alice")
    alice.send("/quit")
    alice.wait_eof()
    again = server.connect("alice")
    again.expect(r"^\* The nickname alice is registered\. Log in to it within 30 seconds")
    again.send("/login not-the-password")
    again.expect_next(r"^! Login failed: wrong password, or no account named alice$")
    again.send("/login nobody " + PASSWORD)
    again.expect_next(r"^! Login failed: wrong password, or no account named nobody$")
    again.send(f"/login {PASSWORD}")
    again.expect_next(r"^\* You are logged in as alice$")
    again.send("/logout")
    again.expect_next(r"^\* You are logged out of alice$")
    again.expect_next(r"^\* The nickname alice is registered\.")
    assert not any(PASSWORD in line for line in again.seen + alice.seen)
    assert not server.find_log(PASSWORD)


def test_an_account_survives_a_restart(make_server: Start, db: str) -> None:
    first = make_server("--db", db)
    alice = register(first, "alice")
    alice.send("/password second-password")
    alice.expect_next(r"^\* The password of alice is changed$")
    alice.send("/replay off")
    alice.expect_next(r"^\* Recent messages are shown when you join a room: off$")
    alice.send("something to replay")
    alice.sync()
    assert first.stop() == 0
    second = make_server("--db", db)
    client = second.connect()  # a guest: it sees the replay
    client.expect(rf"^{STAMP} <alice> something to replay$")
    client.expect_next(r"^\* --- end of replay ---$")
    client.send(f"/login alice {PASSWORD}")
    client.expect_next(r"^! Login failed")
    client.send("/login alice second-password")
    client.expect_next(r"^\* You are logged in as alice$")
    client.expect_next(r"^\* You are now known as alice$")  # a guest logged in goes by its account's name
    client.send("/join #elsewhere")
    client.expect_next(r"^\* You are in #elsewhere, alone for now$")
    client.send("/join #lobby")
    client.expect_next(r"^\* You are in #lobby, alone for now$")
    client.send("/who")
    client.expect_next(r"^\* 1 in #lobby")  # the setting held: no replay came first


def test_a_registered_nickname_is_taken_back(make_server: Start, db: str) -> None:
    server = make_server("--db", db, "--nick-grace", "0.5")
    register(server, "alice").close()
    watcher = server.connect("carol")
    bob = server.connect("bob")
    bob.send("/nick alice")
    bob.expect_next(r"^\* You are now known as alice$")
    bob.expect_next(r"^\* The nickname alice is registered\. Log in to it within 0\.5 seconds")
    guest = bob.expect_next(r"^\* You are now known as (guest-\d+)$").group(1)
    bob.expect_next(r"^\* You were renamed: alice is registered and you did not log in to it\.$")
    watcher.expect(rf"^\* alice is now known as {guest}$")


def test_a_registered_room_survives_a_restart(make_server: Start, db: str) -> None:
    first = make_server("--db", db)
    alice = register(first, "alice")
    alice.send("/join #dev")
    alice.expect_next(r"^\* You are in #dev, alone for now$")
    alice.send("/register #dev")
    alice.expect_next(r"^\* #dev is registered to your account alice")
    assert first.stop() == 0
    second = make_server("--db", db)
    bob = second.connect("bob")
    bob.send("/rooms")
    bob.expect_next(r"^\* 2 rooms:$")
    bob.expect_next(r"^\*   #dev \(0 members\)$")
    bob.expect_next(r"^\*   #lobby \(1 member\)$")
    bob.send("/join #dev")
    bob.expect_next(r"^\* You are in #dev, alone for now$")
    bob.send("/unregister")
    bob.expect_next(r"^! Only the founder of #dev can do that$")
    alice = second.connect("alice")
    alice.send(f"/login {PASSWORD}")
    alice.expect(r"^\* You are logged in as alice$")
    alice.send("/join #dev")
    alice.expect_next(r"^\* You are in #dev with bob$")
    alice.send("/register #dev")  # refused as already registered, not for want of operator status
    alice.expect_next(r"^! #dev is already registered$")
    alice.send("/unregister #dev")
    alice.expect_next(r"^\* #dev is no longer registered$")


def test_private_history_of_users_not_logged_in_does_not_follow_the_nickname(
    make_server: Start, db: str
) -> None:
    """Issue 14 item 5: whoever holds a nickname next must not read its earlier private conversations, nor
    the next guest with the same number after a restart."""
    server = make_server("--db", db)
    carol, bob = server.connect("carol"), server.connect("bob")
    carol.send("/msg bob the secret is 42")
    bob.expect(r"^\*carol\* the secret is 42$")
    bob.send("/history carol")  # the same session reads its own conversation
    bob.expect_next(r"^\* Last 1 message with carol:$")
    bob.expect_next(rf"^{STAMP} <carol> the secret is 42$")
    bob.send("/quit")
    bob.wait_eof()
    carol.expect(r"^\* bob left")
    carol.send("/history bob")  # carol still finds her conversation with the bob who left
    carol.expect_next(r"^\* Last 1 message with bob:$")
    carol.expect_next(rf"^{STAMP} <carol> the secret is 42$")
    thief = server.connect("bob")  # the nickname again, another session
    thief.send("/history carol")
    thief.expect_next(r"^\* No messages with carol")
    carol.send("/history bob")  # and carol's side: the new bob is someone else
    carol.expect(r"^\* No messages with bob")
    first_guest = server.connect().nick
    server.stop()

    again = make_server("--db", db)
    newcomer = again.connect().nick
    assert newcomer != first_guest and int(newcomer.split("-")[1]) > int(first_guest.split("-")[1])


def test_ctcp_queries_are_relayed_live_but_never_kept_or_replayed(make_server: Start, db: str) -> None:
    """A CTCP query in history would be answered again by every IRC client that joins later, to its sender,
    minutes later: only ACTION is kept."""
    server = make_server("--db", db, "--irc-port", "auto")
    asker = server.irc("asker")
    asker.send("JOIN #lobby")
    asker.expect(r" 366 asker #lobby ")
    live = server.irc("live")
    live.send("JOIN #lobby")
    live.expect(r" 366 live #lobby ")
    asker.send("PRIVMSG #lobby :\x01VERSION\x01")
    asker.send("PRIVMSG live :\x01TIME\x01")
    asker.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    asker.send("PRIVMSG #lobby :plain words")
    live.expect(r"^:asker!\S+ PRIVMSG #lobby :\x01VERSION\x01$")
    live.expect(r"^:asker!\S+ PRIVMSG live :\x01TIME\x01$")
    live.expect(r"^:asker!\S+ PRIVMSG #lobby :plain words$")
    later = server.irc("later")
    later.send("JOIN #lobby")
    later.expect(r" 366 later #lobby ")
    later.send("PING :replayed")
    later.expect(r"^:hubbub PONG hubbub :replayed$")
    replayed = [line.split(" :", 1)[1] for line in later.skipped if " PRIVMSG " in line]
    assert replayed == ["\x01ACTION waves\x01", "plain words"]
    person = Client(server.port)
    server.clients.append(person)
    person.expect(r"^\* Recent messages in #lobby:$")
    person.expect_next(rf"^{STAMP} \* asker waves$")
    person.expect_next(rf"^{STAMP} <asker> plain words$")


def test_back_in_a_room_soon_after_only_what_was_missed_is_replayed(make_server: Start, db: str) -> None:
    server = make_server("--db", db, "--irc-port", "auto")
    alice, bob = server.connect("alice"), server.connect("bob")
    alice.send("before bob left")
    bob.expect(r"^<alice> before bob left$")
    bob.send("/join #elsewhere")
    bob.expect(r"^\* You are in #elsewhere")
    alice.send("while bob was away")
    alice.sync()  # said before bob is back
    bob.send("/join #lobby")
    bob.expect_next(r"^\* You are in #lobby with alice$")
    bob.expect_next(r"^\* Since you left #lobby:$")
    bob.expect_next(rf"^{STAMP} <alice> while bob was away$")
    bob.expect_next(r"^\* --- end of replay ---$")
    irc = server.irc("ircer")  # an IRC client without batch: the replay is marked in words
    irc.send("JOIN #lobby")
    irc.expect(r" 366 ircer #lobby ")
    irc.expect_next(r"^:hubbub NOTICE #lobby :--- last 2 messages ---$")
    irc.expect_next(r"^:alice!\S+ PRIVMSG #lobby :before bob left$")
    irc.expect_next(r"^:alice!\S+ PRIVMSG #lobby :while bob was away$")
    irc.expect_next(r"^:hubbub NOTICE #lobby :--- end of replay ---$")


def test_plain_registrations_and_logins_are_logged_as_irc_ones_are(make_server: Start, db: str) -> None:
    server = make_server("--db", db)
    register(server, "logme").close()
    server.wait_log(r"logme!plain@127\.0\.0\.1 logged in to account logme$")
    again = server.connect()
    again.send(f"/login logme {PASSWORD}")
    again.expect(r"^\* You are logged in as logme$")
    server.wait_lines(r"logged in to account logme$", 2)  # the log is written by its own thread
