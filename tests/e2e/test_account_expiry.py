"""End-to-end: accounts nobody logs in to expire (--account-expire), over real sockets. An expired account
is gone with its settings, the registration of the rooms it founded and its private history; its nickname
is free. An account logged in to now, or recently, stays."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess
from hubbub.store import RoomRecord, StoredMessage
from hubbub.store.passwords import hash_password
from hubbub.store.sqlite import SqliteStore

Start = Callable[..., ServerProcess]
PASSWORD = "correct-horse"
DAY = 86400.0


def plain_register(server: ServerProcess, nick: str) -> Client:
    client = server.connect(nick)
    client.send(f"/register {PASSWORD}")
    client.expect(rf"^\* You registered the account {nick} and are logged in\.")
    return client


def old_database(path: Path) -> None:
    """Bob and Dave last logged in 30 days ago, Carol an hour ago; Bob founded #bobs and talked with Carol."""
    now = time.time()
    digest = hash_password(PASSWORD)
    store = SqliteStore(path)
    for key, name in (("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave")):
        store.create_account(key, name, digest, now - 30 * DAY)
    store.touch_account("carol", now - 3600)
    store.set_account_setting("bob", "replay", "off")
    parties = ("a:bob", "a:carol")
    store.append(
        StoredMessage(
            0, "p1", now - 31 * DAY, "a:bob a:carol", "Carol", "Bob!b@h", "Bob", "PRIVMSG", "psst", parties
        )
    )
    store.save_room(RoomRecord("#bobs", "#bobs", "Bob", now - 30 * DAY, topic="Bob's place"))
    store.close()


def test_accounts_idle_too_long_expire_at_start_with_what_was_kept_for_them(
    make_server: Start, tmp_path: Path
) -> None:
    path = tmp_path / "hubbub.db"
    old_database(path)
    server = make_server("--db", str(path), "--account-expire", "7")
    # The sweep at start: one line per account, at info level.
    server.wait_log(
        r"INFO .*account Bob expired: not logged in to since \S+ \S+ UTC \(--account-expire 7 days\)"
    )
    server.wait_log(r"account Dave expired")
    assert not server.find_log("account Carol expired")

    # Bob's nickname is free: nobody is warned or renamed; the account is gone.
    newcomer = server.connect("bob")
    newcomer.send(f"/login bob {PASSWORD}")
    newcomer.expect(r"^! Login failed: wrong password, or no account named bob$")
    assert not [line for line in newcomer.seen if "is registered" in line]
    newcomer.send(f"/register {PASSWORD}x")
    newcomer.expect(r"^\* You registered the account bob and are logged in\.")
    # Carol, logged in to an hour ago, stays; her conversation with Bob is forgotten (the new bob must not
    # read it, and neither does she).
    carol = server.connect("carol")
    carol.send(f"/login carol {PASSWORD}")
    carol.expect(r"^\* You are logged in as Carol$")
    carol.send("/history bob")
    carol.expect(r"^\* No messages with bob yet$")
    newcomer.send("/history carol")
    newcomer.expect(r"^\* No messages with carol yet$")
    assert not [line for line in newcomer.seen + carol.seen if "psst" in line]
    # #bobs is no longer registered: joining it makes a new room, without Bob's topic.
    carol.send("/join #bobs")
    carol.expect(r"^\* You are in #bobs")
    carol.sync()
    assert not [line for line in carol.seen if "Bob's place" in line]

    newcomer.close()
    carol.close()
    assert server.stop() == 0
    store = SqliteStore(path)
    try:
        assert sorted(store.all_accounts()) == ["bob", "carol"]
        account = store.get_account("bob")
        assert account is not None and account.settings == {}  # the new bob's: nothing of the old one's
        assert store.load_rooms() == []
        assert store.latest("a:bob a:carol", 10) == []
    finally:
        store.close()


def test_an_account_logged_in_to_now_stays_while_an_unused_one_expires(make_server: Start) -> None:
    # 0.00005 days: about 4.3 s, swept about every second.
    server = make_server("--account-expire", "0.00005")
    alice = plain_register(server, "alice")
    dave = plain_register(server, "dave")
    dave.send("/quit")
    dave.wait_eof()
    server.wait_log(r"account dave expired")
    # Alice registered before Dave, and is still logged in: never expired.
    assert not server.find_log("account alice expired")
    alice.send("/nick alice2")
    alice.expect(r"^\* You are now known as alice2$")
    again = server.connect("dave")  # free: no warning, no renaming
    again.send(f"/login dave {PASSWORD}")
    again.expect(r"^! Login failed: wrong password, or no account named dave$")
    other = server.connect("someone")
    other.send(f"/login alice {PASSWORD}")
    other.expect(r"^\* You are logged in as alice$")
    assert not [line for line in again.seen if "is registered" in line]
