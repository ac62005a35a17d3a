"""Plain-text accounts and registered rooms, driven in memory (password hashing runs inline unless a test
defers it, and nickname-protection timers fire with ``hub.timers.run()``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from hubbub.core.hub import Hub
from hubbub.protocols.plain import PlainOptions

from .irc_harness import PlainClient, make_world

PASSWORD = "s3cret-pass"


@pytest.fixture
def hub() -> Hub:
    return make_world()[0]


def plain(hub: Hub, nick: str | None = None, **options: Any) -> PlainClient:
    client = PlainClient(hub, PlainOptions(**options))
    if nick is not None:
        assert client.send(f"/nick {nick}")[0] == f"* You are now known as {nick}"
    client.take()
    return client


def registered(hub: Hub, nick: str, password: str = PASSWORD) -> PlainClient:
    client = plain(hub, nick)
    assert client.send(f"/register {password}") == [
        f"* You registered the account {nick} and are logged in. Next time: /login PASSWORD as {nick},"
        f" or /login {nick} PASSWORD"
    ]
    return client


def user_of(client: PlainClient) -> Any:
    user = client.session.user
    assert user is not None
    return user


class Deferred:
    """A run_blocking that keeps the jobs until ``finish()``, as a worker thread answers later."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def __call__(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.jobs.append((job, done))

    def finish(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job, done in jobs:
            done(job())


# -- /register PASSWORD ------------------------------------------------------------------------------------


def test_register_logs_in_and_stores_only_a_hash(hub: Hub) -> None:
    alice = registered(hub, "alice")
    assert user_of(alice).account == "alice"
    record = hub.store.get_account("alice")
    assert record is not None and record.name == "alice"
    assert PASSWORD not in record.password_hash and record.password_hash.startswith("scrypt$")


def test_register_failures_are_one_line_each(hub: Hub) -> None:
    guest = plain(hub)
    assert guest.send("/register") == ["! Usage: /register PASSWORD (for your nickname) or /register #room"]
    assert guest.send(f"/register {PASSWORD}") == [
        "! Choose your nickname first (/nick NAME): a guest nickname cannot be registered"
    ]
    guest.send("/nick alice")
    assert guest.send("/register short") == ["! Choose a password of 6 to 300 characters"]
    assert guest.send("/register two words here") == ["! A password cannot contain spaces"]
    assert guest.send(f"/register {PASSWORD}")[0].startswith("* You registered the account alice")
    assert guest.send(f"/register {PASSWORD}") == ["! You are already logged in as alice"]
    guest.send("/logout")
    assert guest.send(f"/register {PASSWORD}") == ["! The account alice already exists"]


def test_passwords_are_never_echoed(hub: Hub) -> None:
    alice = plain(hub, "alice")
    seen = alice.send(
        f"/register {PASSWORD}",
        f"/register {PASSWORD}",
        "/password #no-good-0",
        f"/password {PASSWORD}x",
        "/logout",
        f"/login {PASSWORD}wrong",
        f"/login nobody {PASSWORD}",
        f"/login {PASSWORD}x",
        "/logout",
        "/register #hunter2-secret",
    )
    assert len(seen) == 12  # each logout also warns about the registered nickname
    for secret in (PASSWORD, "#no-good-0", "hunter2"):
        assert not any(secret in line for line in seen), seen


def test_callbacks_arrive_later_and_one_request_runs_at_a_time(hub: Hub) -> None:
    deferred = Deferred()
    hub.run_blocking = deferred
    alice = plain(hub, "alice")
    assert alice.send(f"/register {PASSWORD}") == []
    assert alice.send(f"/login {PASSWORD}") == ["! Wait: your last account request is still being checked"]
    assert alice.send(f"/register {PASSWORD}") == ["! Wait: your last account request is still being checked"]
    deferred.finish()
    assert alice.take()[0].startswith("* You registered the account alice")
    assert user_of(alice).account == "alice"


def test_a_callback_for_a_closed_session_does_nothing(hub: Hub) -> None:
    deferred = Deferred()
    hub.run_blocking = deferred
    alice = plain(hub, "alice")
    alice.send(f"/register {PASSWORD}")
    alice.session.connection_lost("gone")
    bob = plain(hub, "alice")  # someone else takes the nickname meanwhile
    deferred.finish()  # the account is created; nothing is sent to the closed session, nobody logs in
    assert alice.take() == []
    assert user_of(bob).account == "" and bob.take() == []
    assert hub.accounts.exists("alice")
    assert bob.send(f"/login {PASSWORD}") == []
    deferred.finish()
    assert bob.take() == ["* You are logged in as alice"]


# -- /login, /logout, /password ----------------------------------------------------------------------------


def test_login_logout_and_wrong_passwords(hub: Hub) -> None:
    registered(hub, "alice").send("/quit")
    client = plain(hub, "bob")
    assert client.send("/login") == ["! Usage: /login PASSWORD or /login NAME PASSWORD"]
    assert client.send("/login a b c") == ["! Usage: /login PASSWORD or /login NAME PASSWORD"]
    assert client.send(f"/login {PASSWORD}") == ["! Login failed: wrong password, or no account named bob"]
    assert client.send("/login alice wrong-password") == [
        "! Login failed: wrong password, or no account named alice"
    ]
    assert client.send("/logout") == ["! You are not logged in"]
    # Logged in, you go by your account's nickname.
    assert client.send(f"/login ALICE {PASSWORD}") == [
        "* You are logged in as alice",
        "* You are now known as alice",
    ]
    assert user_of(client).account == "alice"
    assert client.send(f"/login alice {PASSWORD}") == ["! You are already logged in as alice; /logout first"]
    assert client.send("/logout") == [
        "* You are logged out of alice",
        "* The nickname alice is registered. Log in to it within 30 seconds or you will be renamed."
        " Type /login PASSWORD (or /nick to choose another name).",
    ]
    assert user_of(client).account == ""
    client.send("/nick alice")
    assert client.send(f"/login {PASSWORD}") == ["* You are logged in as alice"]


def test_password_change(hub: Hub) -> None:
    alice = registered(hub, "alice")
    assert alice.send("/password") == ["! Usage: /password NEW"]
    assert alice.send("/password tiny") == ["! Choose a password of 6 to 300 characters, without spaces"]
    assert alice.send("/password brand-new-1") == ["* The password of alice is changed"]
    alice.send("/logout")
    assert alice.send(f"/login {PASSWORD}") == ["! Login failed: wrong password, or no account named alice"]
    assert alice.send("/login brand-new-1") == ["* You are logged in as alice"]
    alice.send("/logout")
    assert alice.send("/password brand-new-2") == ["! You are not logged in: /login first"]


def test_logging_in_is_quiet_for_others(hub: Hub) -> None:
    alice = registered(hub, "alice")
    bob = plain(hub, "bob")
    alice.take()
    alice.send("/logout")
    alice.send(f"/login {PASSWORD}")
    assert bob.take() == []


# -- nickname protection -----------------------------------------------------------------------------------


def test_a_registered_nickname_is_taken_back_after_the_grace(hub: Hub) -> None:
    registered(hub, "alice").send("/quit")
    carol = plain(hub, "carol")
    bob = plain(hub, "bob")
    carol.take()
    assert bob.send("/nick alice") == [
        "* You are now known as alice",
        "* The nickname alice is registered. Log in to it within 30 seconds or you will be renamed."
        " Type /login PASSWORD (or /nick to choose another name).",
    ]
    assert hub.timers.run() == 1
    renamed = bob.take()
    guest = user_of(bob).nick
    assert guest.startswith("guest-")
    assert renamed == [
        f"* You are now known as {guest}",
        "* You were renamed: alice is registered and you did not log in to it.",
    ]
    assert carol.take() == ["* bob is now known as alice", f"* alice is now known as {guest}"]


def test_logging_in_to_another_account_does_not_keep_a_registered_nickname(hub: Hub) -> None:
    # regression: log_in used to cancel the grace whatever the account
    registered(hub, "alice").send("/quit")
    registered(hub, "mallory").send("/quit")
    bob = plain(hub, "bob")
    bob.send("/nick alice")
    assert bob.send(f"/login mallory {PASSWORD}") == [
        "* You are logged in as mallory",
        "* You are now known as mallory",  # out of alice's nickname, into its own
    ]
    hub.timers.run()
    assert user_of(bob).nick == "mallory"


def test_logging_in_within_the_grace_keeps_the_nickname(hub: Hub) -> None:
    registered(hub, "alice").send("/quit")
    bob = plain(hub, "bob")
    bob.send("/nick alice")
    assert bob.send(f"/login {PASSWORD}") == ["* You are logged in as alice"]
    assert hub.timers.run() == 0
    assert user_of(bob).nick == "alice" and bob.take() == []
    # logging out of it starts the grace again
    assert bob.send("/logout") == [
        "* You are logged out of alice",
        "* The nickname alice is registered. Log in to it within 30 seconds or you will be renamed."
        " Type /login PASSWORD (or /nick to choose another name).",
    ]
    assert hub.timers.run() == 1
    assert user_of(bob).nick.startswith("guest-")


# -- /replay -----------------------------------------------------------------------------------------------


def test_replay_setting(hub: Hub) -> None:
    guest = plain(hub)
    assert guest.send("/replay") == [
        "* Recent messages are shown when you join a room: on. Usage: /replay on|off"
    ]
    assert guest.send("/replay off") == ["! Log in to keep settings: /register PASSWORD or /login"]
    alice = registered(hub, "alice")
    assert alice.send("/replay maybe") == ["! Usage: /replay on|off"]
    assert alice.send("/replay OFF") == ["* Recent messages are shown when you join a room: off"]
    assert hub.accounts.setting("alice", "replay") == "off"
    guest.send("something to replay")
    assert alice.send("/join #x", "/join #lobby") == [
        "* You are in #x, alone for now",
        f"* You are in #lobby with {user_of(guest).nick}",
    ]
    assert alice.send("/replay on") == ["* Recent messages are shown when you join a room: on"]
    hub.limits = replace(hub.limits, replay_window=0)  # what alice saw is replayed again: the setting alone
    assert hub.accounts.setting("alice", "replay", "unset") == "unset"
    lines = alice.send("/join #x", "/join #lobby")
    assert lines[2] == "* Recent messages in #lobby:"
    assert lines[3].endswith(f"<{user_of(guest).nick}> something to replay")


# -- registered rooms --------------------------------------------------------------------------------------


def test_room_registration_rules(hub: Hub) -> None:
    bob = plain(hub, "bob")  # first in #lobby: its operator
    alice = registered(hub, "alice")
    assert bob.send("/register #lobby") == ["! Log in to an account to register a room"]
    assert alice.send("/register #lobby") == ["! You are not an operator of #lobby"]
    assert alice.send("/join #dev") == ["* You are in #dev, alone for now"]
    assert alice.send("/register #elsewhere") == [
        "! You can only register the room you are in (#dev); a password cannot start with #"
    ]
    assert alice.send("/register #DEV") == [
        "* #dev is registered to your account alice: it keeps its settings when empty and across restarts,"
        " and you are its operator when you join it"
    ]
    assert hub.store.load_rooms()[0].founder == "alice"
    assert alice.send("/register #dev") == ["! #dev is already registered"]
    assert bob.send("/unregister #dev") == ["! Only the founder of #dev can do that"]
    assert bob.send("/unregister #lobby") == ["! #lobby is not registered"]
    assert bob.send("/unregister #nowhere") == ["! No such room: #nowhere"]
    alice.send("/part")
    assert alice.send("/unregister") == ["! Usage: /unregister #room"]
    # an empty registered room stays
    assert "#dev (0 members)" in " ".join(bob.send("/rooms"))
    assert alice.send("/unregister dev") == ["* #dev is no longer registered"]
    assert hub.find_room("#dev") is None and hub.store.load_rooms() == []


def test_a_registered_room_survives_a_restart_and_its_founder_is_its_operator(hub: Hub) -> None:
    alice = registered(hub, "alice")
    alice.send("/join #dev", "/register #dev", "/quit")
    again = Hub(store=hub.store)  # a new hub on the same store: a restart
    room = again.find_room("#dev")
    assert room is not None and room.founder == "alice" and not room.members
    bob = plain(again, "bob")
    bob.send("/join #dev")
    alice = plain(again, "alice")
    assert alice.send(f"/login {PASSWORD}") == ["* You are logged in as alice"]
    assert alice.send("/join #dev")[0] == "* You are in #dev with bob"
    assert room.members[user_of(alice)] == "o" and room.members[user_of(bob)] == ""
    assert bob.send("/register #dev") == ["! Log in to an account to register a room"]
    assert alice.send("/register #dev") == ["! #dev is already registered"]


def test_help_lists_the_account_commands() -> None:
    hub = make_world()[0]
    text = "\n".join(plain(hub).send("/help"))
    for command in ("/register PASSWORD", "/login", "/logout", "/password", "/replay", "/unregister",
                    "/history", "/search"):  # fmt: skip
        assert command in text


def test_render_for_own_nick_change_does_not_leak_to_others(hub: Hub) -> None:
    """A forced rename renders "You are now known as" for the renamed session only."""
    registered(hub, "alice").send("/quit")
    watchers = [plain(hub) for _ in range(6)]  # a room big enough for shared fan-out batches
    bob = plain(hub, "bob")
    bob.send("/nick alice")
    for watcher in watchers:
        watcher.take()
    hub.timers.run()
    guest = user_of(bob).nick
    assert bob.take()[0] == f"* You are now known as {guest}"
    for watcher in watchers:
        assert watcher.take() == [f"* alice is now known as {guest}"]


def test_logging_in_takes_the_accounts_nickname_from_a_squatter_but_not_from_another_device(hub: Hub) -> None:
    registered(hub, "carol").send("/quit")
    squatter = plain(hub, "squatter")
    squatter.send("/nick carol")
    carol = plain(hub, "guest")
    assert carol.send(f"/login carol {PASSWORD}") == [
        "* You are logged in as carol",
        "* carol left (GHOST command used by guest)",
        "* You are now known as carol",
    ]
    assert squatter.link.closed is not None  # disconnected, as GHOST does
    other_device = plain(hub, "phone")
    assert other_device.send(f"/login carol {PASSWORD}") == [
        "* You are logged in as carol",
        "* carol is logged in to carol too: you stay phone",
    ]
