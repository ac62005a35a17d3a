"""IRC accounts in memory: capabilities, SASL PLAIN, REGISTER, NickServ and ChanServ, nickname protection, and
how accounts show (account-notify, account-tag, extended-join, WHOIS, WHOX)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions

from .irc_harness import IrcClient, make_world

SERVER = ":irc.test"
NS = ":NickServ!NickServ@services.hubbub NOTICE"
CS = ":ChanServ!ChanServ@services.hubbub NOTICE"


def create(hub: Hub, name: str, password: str = "secret-1") -> None:
    errors: list[object] = []
    hub.accounts.create(name, password, errors.append)
    assert errors == [None]


def plain(authcid: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()


def codes(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith(SERVER + " ")]


def negotiating(hub: Hub, options: IrcOptions, nick: str = "alice", *caps: str) -> IrcClient:
    """A client in the middle of capability negotiation, with NICK and USER sent."""
    client = IrcClient(hub, options)
    client.send("CAP LS 302", f"CAP REQ :{' '.join(('sasl', *caps))}", f"NICK {nick}", f"USER {nick} 0 * :R")
    return client


class Deferred:
    """A run_blocking that keeps jobs until ``run()``, as a worker thread would answer later."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def __call__(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.jobs.append((job, done))

    def run(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job, done in jobs:
            done(job())


# -- capabilities --------------------------------------------------------------------------------------------


def test_account_and_history_capabilities_and_isupport_are_advertised() -> None:
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    ls = client.send("CAP LS 302")
    assert len(ls) == 1
    tokens = ls[0].split(" :", 1)[1].split()
    for token in (
        "sasl=PLAIN",
        "account-tag",
        "account-notify",
        "draft/account-registration=before-connect",
        "draft/chathistory",
    ):
        assert token in tokens
    assert "sasl" in client.send("CAP LS")[0].split(" :", 1)[1].split()  # 3.1: no values
    out = client.send("NICK alice", "USER a 0 * :A", "CAP END")
    isupport = " ".join(line for line in out if " 005 " in line)
    assert "CHATHISTORY=1000" in isupport.split()
    assert "MSGREFTYPES=msgid,timestamp" in isupport.split()


# -- SASL ----------------------------------------------------------------------------------------------------


def test_sasl_plain_before_registration() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    client = negotiating(hub, options)
    assert client.send("AUTHENTICATE PLAIN") == [f"{SERVER} AUTHENTICATE +"]
    assert client.send("AUTHENTICATE " + plain("alice", "secret-1")) == [
        f"{SERVER} 900 alice alice!~alice@192.0.2.1 alice :You are now logged in as alice",
        f"{SERVER} 903 alice :SASL authentication successful",
    ]
    out = client.send("CAP END")
    assert codes(out)[0] == "001"
    assert not any(" NOTICE " in line for line in out)  # no nickname protection warning
    user = hub.find_user("alice")
    assert user is not None and user.account == "alice"
    assert hub.timers.run() == 0


def test_sasl_with_authzid_and_any_case() -> None:
    hub, options, _ = make_world()
    create(hub, "Alice")
    client = negotiating(hub, options, "someone")
    client.send("AUTHENTICATE plain")
    out = client.send("AUTHENTICATE " + plain("ALICE", "secret-1", authzid="alice"))
    assert codes(out) == ["900", "903"]
    assert out[0].split()[4] == "Alice"  # the account's own spelling


def test_sasl_wrong_password_then_registration_without_account() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE " + plain("alice", "wrong-password")) == [
        f"{SERVER} 904 alice :SASL authentication failed: Invalid account credentials"
    ]
    assert client.send("AUTHENTICATE PLAIN") == [f"{SERVER} AUTHENTICATE +"]
    assert codes(client.send("AUTHENTICATE " + plain("nobody", "secret-1"))) == ["904"]
    out = client.send("CAP END")
    assert codes(out)[0] == "001"
    user = hub.find_user("alice")
    assert user is not None and user.account == ""
    assert f"{SERVER} NOTICE alice :The nickname alice is registered." in " ".join(out)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("+", "Invalid auth blob"),
        ("!!!notbase64", "Invalid b64 encoding"),
        (base64.b64encode(b"alice\0secret-1").decode(), "Invalid auth blob"),
        (plain("alice", "secret-1", authzid="bob"), "authcid and authzid should be the same"),
    ],
)
def test_sasl_bad_payloads(payload: str, reason: str) -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE " + payload) == [
        f"{SERVER} 904 alice :SASL authentication failed: {reason}"
    ]


def test_sasl_unknown_mechanism_lists_plain() -> None:
    hub, options, _ = make_world()
    client = negotiating(hub, options)
    assert client.send("AUTHENTICATE EXTERNAL") == [
        f"{SERVER} 908 alice PLAIN :are available SASL mechanisms",
        f"{SERVER} 904 alice :SASL authentication failed",
    ]


def test_sasl_abort_and_too_long() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE *") == [f"{SERVER} 906 alice :SASL authentication aborted"]
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE " + "A" * 401) == [f"{SERVER} 905 alice :SASL message too long"]
    # The exchange is over: the next AUTHENTICATE names a mechanism again.
    assert client.send("AUTHENTICATE PLAIN") == [f"{SERVER} AUTHENTICATE +"]
    assert codes(client.send("AUTHENTICATE " + plain("alice", "secret-1"))) == ["900", "903"]


def test_sasl_chunks_of_400_bytes() -> None:
    hub, options, _ = make_world()
    long_password = "p" * 300
    create(hub, "alice", long_password)
    client = negotiating(hub, options)
    payload = plain("alice", long_password)
    assert len(payload) > 400
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE " + payload[:400]) == []
    assert codes(client.send("AUTHENTICATE " + payload[400:])) == ["900", "903"]


def test_sasl_payload_of_exactly_400_bytes_ends_with_plus() -> None:
    hub, options, _ = make_world()
    password = "q" * (300 - len("\0alice\0"))
    create(hub, "alice", password)
    client = negotiating(hub, options)
    payload = plain("alice", password)
    assert len(payload) == 400
    client.send("AUTHENTICATE PLAIN")
    assert client.send("AUTHENTICATE " + payload) == []
    assert codes(client.send("AUTHENTICATE +")) == ["900", "903"]


def test_sasl_too_many_chunks_fails() -> None:
    hub, options, _ = make_world()
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    for _ in range(4):
        assert client.send("AUTHENTICATE " + "A" * 400) == []
    assert client.send("AUTHENTICATE " + "A" * 400) == [
        f"{SERVER} 904 alice :SASL authentication failed: Passphrase too long"
    ]


def test_sasl_already_authenticated() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    client.send("AUTHENTICATE " + plain("alice", "secret-1"))
    assert client.send("AUTHENTICATE PLAIN") == [
        f"{SERVER} 907 alice :You have already authenticated using SASL"
    ]
    client.send("CAP END")
    assert codes(client.send("AUTHENTICATE PLAIN")) == ["907"]


def test_cap_end_aborts_an_unfinished_exchange() -> None:
    hub, options, _ = make_world()
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    out = client.send("CAP END")
    assert out[0] == f"{SERVER} 906 alice :SASL authentication aborted"
    assert codes(out)[1] == "001"


def test_registration_waits_for_a_password_check_in_flight() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    deferred = Deferred()
    hub.run_blocking = deferred
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN")
    # A client sending everything at once: registration must not complete before the answer.
    assert client.send("AUTHENTICATE " + plain("alice", "secret-1"), "CAP END") == []
    assert hub.find_user("alice") is None
    assert codes(client.send("AUTHENTICATE PLAIN")) == ["904"]  # one attempt at a time
    deferred.run()
    out = client.take()
    assert codes(out)[:3] == ["900", "903", "001"]
    user = hub.find_user("alice")
    assert user is not None and user.account == "alice"


def test_abort_during_a_password_check_drops_its_answer() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    deferred = Deferred()
    hub.run_blocking = deferred
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + plain("alice", "secret-1"), "CAP END")
    out = client.send("AUTHENTICATE *")
    assert out[0] == f"{SERVER} 906 alice :SASL authentication aborted"
    assert codes(out)[1] == "001"
    deferred.run()
    assert not any(" 900 " in line for line in client.take())
    user = hub.find_user("alice")
    assert user is not None and user.account == ""


def test_a_connection_closed_during_a_password_check() -> None:
    hub, options, _ = make_world()
    create(hub, "alice")
    deferred = Deferred()
    hub.run_blocking = deferred
    client = negotiating(hub, options)
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + plain("alice", "secret-1"), "CAP END")
    client.send("QUIT")
    deferred.run()
    assert client.take() == []
    assert hub.find_user("alice") is None
    assert hub.unregistered == 0


def test_sasl_after_registration_notifies_channel_members() -> None:
    hub, _options, connect = make_world()
    create(hub, "alice")
    alice = connect("alice", "sasl", "account-notify")
    watcher = connect("bob", "account-notify")
    plain_irc = connect("carol")
    for client in (alice, watcher, plain_irc):
        client.send("JOIN #room")
    watcher.take()
    alice.send("AUTHENTICATE PLAIN")
    out = alice.send("AUTHENTICATE " + plain("alice", "secret-1"))
    assert out == [
        ":alice!~u@192.0.2.1 ACCOUNT alice",
        f"{SERVER} 900 alice alice!~u@192.0.2.1 alice :You are now logged in as alice",
        f"{SERVER} 903 alice :SASL authentication successful",
    ]
    assert watcher.take() == [":alice!~u@192.0.2.1 ACCOUNT alice"]
    assert plain_irc.take() == []
    assert hub.timers.run() == 0  # logging in cancelled the rename


# -- REGISTER ------------------------------------------------------------------------------------------------


def test_register_before_connect() -> None:
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    client.send("CAP LS 302", "NICK bob")
    assert client.send("REGISTER * * hunter22") == [
        f"{SERVER} REGISTER SUCCESS bob :Account successfully registered",
        f"{SERVER} 900 bob bob!*@192.0.2.1 bob :You are now logged in as bob",
    ]
    out = client.send("USER b 0 * :B", "CAP END")
    assert codes(out)[0] == "001"
    user = hub.find_user("bob")
    assert user is not None and user.account == "bob"
    assert hub.accounts.exists("BOB")
    assert not any("hunter22" in line for line in out)


def test_register_after_connect_with_account_notify() -> None:
    _hub, _options, connect = make_world()
    bob = connect("bob", "account-notify")
    watcher = connect("carol", "account-notify")
    bob.send("JOIN #x")
    watcher.send("JOIN #x")
    assert bob.send("REGISTER bob bob@example.com hunter22") == [
        f"{SERVER} REGISTER SUCCESS bob :Account successfully registered",
        ":bob!~u@192.0.2.1 ACCOUNT bob",
        f"{SERVER} 900 bob bob!~u@192.0.2.1 bob :You are now logged in as bob",
    ]
    assert watcher.take() == [":bob!~u@192.0.2.1 ACCOUNT bob"]


def test_register_failures() -> None:
    hub, options, connect = make_world()
    create(hub, "taken")
    early = IrcClient(hub, options)
    assert early.send("REGISTER * * hunter22") == [
        f"{SERVER} FAIL REGISTER NEED_NICK * :Choose a nickname (NICK) before registering"
    ]
    assert early.send("REGISTER * hunter22") == [f"{SERVER} 461 * REGISTER :Not enough parameters"]
    client = connect("taken")
    out = client.send("REGISTER * * hunter22")
    assert out == [f"{SERVER} FAIL REGISTER ACCOUNT_EXISTS taken :The account taken already exists"]
    client = connect("dave")
    assert client.send("REGISTER other * hunter22") == [
        f"{SERVER} FAIL REGISTER ACCOUNT_NAME_MUST_BE_NICK other"
        " :You may only register your nickname as your account name"
    ]
    assert client.send("REGISTER b@d * hunter22")[0].startswith(
        f"{SERVER} FAIL REGISTER BAD_ACCOUNT_NAME b@d :Account names are 1-32 "
    )
    assert client.send("REGISTER * * abc") == [
        f"{SERVER} FAIL REGISTER WEAK_PASSWORD dave :Choose a password of 6 to 300 characters"
    ]
    out = client.send("REGISTER * * :two words")
    assert out == [f"{SERVER} FAIL REGISTER UNACCEPTABLE_PASSWORD dave :A password cannot contain spaces"]
    assert client.send("REGISTER * * " + "x" * 301)[0].startswith(
        f"{SERVER} FAIL REGISTER UNACCEPTABLE_PASSWORD dave "
    )
    # The nickname in another case is fine; the account is spelt as the nickname.
    assert client.send("REGISTER DAVE * hunter22")[0] == (
        f"{SERVER} REGISTER SUCCESS dave :Account successfully registered"
    )
    assert client.send("REGISTER * * hunter22") == [
        f"{SERVER} FAIL REGISTER ALREADY_AUTHENTICATED dave :You are already logged in to an account"
    ]


def test_register_before_connect_needs_the_server_password() -> None:
    hub, options, _ = make_world(password="letmein")
    client = IrcClient(hub, options)
    client.send("NICK bob")
    assert client.send("REGISTER * * hunter22") == [
        f"{SERVER} FAIL REGISTER TEMPORARILY_UNAVAILABLE bob :Send the server password (PASS) first"
    ]
    assert not hub.accounts.exists("bob")
    client.send("PASS letmein")
    assert codes(client.send("REGISTER * * hunter22")) == ["REGISTER", "900"]


def test_register_waits_for_the_account_to_be_created() -> None:
    hub, options, _ = make_world()
    deferred = Deferred()
    hub.run_blocking = deferred
    client = IrcClient(hub, options)
    assert client.send("NICK bob", "REGISTER * * hunter22", "USER b 0 * :B") == []
    assert client.send("REGISTER * * hunter22") == [
        f"{SERVER} FAIL REGISTER TEMPORARILY_UNAVAILABLE bob :Another login or registration is in progress"
    ]
    deferred.run()
    out = client.take()
    assert out[0] == f"{SERVER} REGISTER SUCCESS bob :Account successfully registered"
    assert codes(out)[1:3] == ["900", "001"]
    user = hub.find_user("bob")
    assert user is not None and user.account == "bob"


# -- NickServ ------------------------------------------------------------------------------------------------


def test_nickserv_register_identify_logout() -> None:
    hub, _options, connect = make_world()
    alice = connect("alice", "echo-message")
    out = alice.send("PRIVMSG NickServ :REGISTER secret-1 alice@example.com")
    assert out == [
        f"{NS} alice :Account created: alice",
        f"{SERVER} 900 alice alice!~u@192.0.2.1 alice :You are now logged in as alice",
        f"{NS} alice :You're now logged in as alice",
    ]
    assert alice.send("PRIVMSG NickServ :REGISTER secret-1") == [
        f"{NS} alice :You're already logged into an account"
    ]
    out = alice.send("PRIVMSG nickserv :logout")
    assert out[-2:] == [
        f"{SERVER} 901 alice alice!~u@192.0.2.1 :You are now logged out",
        f"{NS} alice :You're now logged out",
    ]
    assert out[0].startswith(f"{SERVER} NOTICE alice :The nickname alice is registered.")
    assert alice.send("PRIVMSG NickServ :LOGOUT") == [f"{NS} alice :You're not logged into an account"]
    assert alice.send("PRIVMSG NickServ :IDENTIFY wrong-one") == [f"{NS} alice :Invalid account credentials"]
    assert alice.send("NS IDENTIFY secret-1") == [
        f"{SERVER} 900 alice alice!~u@192.0.2.1 alice :You are now logged in as alice",
        f"{NS} alice :You're now logged in as alice",
    ]
    assert hub.timers.run() == 0  # the rename was cancelled
    # Nothing sent to NickServ was recorded.
    assert hub.store.targets([], "a:alice", 0, hub.now() + 60, 10) == []
    user = hub.find_user("alice")
    assert user is not None
    assert hub.store.targets([], f"g:{user.id}.{user.signon!r}", 0, hub.now() + 60, 10) == []


def test_nickserv_identify_to_another_account() -> None:
    hub, _options, connect = make_world()
    create(hub, "Acct")
    client = connect("zed")
    out = client.send("NICKSERV IDENTIFY acct secret-1")
    assert out[-1] == f"{NS} zed :You're now logged in as Acct"
    whois = client.send("WHOIS zed")
    assert f"{SERVER} 330 zed zed Acct :is logged in as" in whois
    who = client.send("WHO zed %na")
    assert who[0] == f"{SERVER} 354 zed zed Acct"


def test_nickserv_passwd_set_info_help() -> None:
    hub, _options, connect = make_world()
    create(hub, "alice")
    alice = connect("alice")
    assert alice.send("NS PASSWD new-secret") == [f"{NS} alice :You're not logged into an account"]
    alice.send("NS IDENTIFY secret-1")
    assert alice.send("NS PASSWD abc") == [
        f"{NS} alice :Choose a password of 6 to 300 characters, without spaces"
    ]
    assert alice.send("NS PASSWD new-secret") == [f"{NS} alice :Password changed"]
    assert alice.send("NS PASSWD wrong-one newer-secret newer-secret") == [f"{NS} alice :Password incorrect"]
    assert alice.send("NS PASSWD new-secret newer-secret typo") == [f"{NS} alice :Passwords do not match"]
    assert alice.send("NS PASSWD new-secret newer-secret newer-secret") == [f"{NS} alice :Password changed"]
    results: list[str | None] = []
    hub.accounts.verify("alice", "newer-secret", results.append)
    assert results == ["alice"]
    assert alice.send("NS SET REPLAY") == [f"{NS} alice :REPLAY is ON"]
    assert alice.send("NS SET REPLAY OFF") == [
        f"{NS} alice :REPLAY is now OFF: joining a channel does not replay its recent history"
    ]
    assert hub.accounts.setting("alice", "replay") == "off"
    assert alice.send("NS SET REPLAY maybe") == [f"{NS} alice :Syntax: SET REPLAY ON|OFF"]
    info = alice.send("NS INFO")
    assert info[0] == f"{NS} alice :Account: alice"
    assert info[1].startswith(f"{NS} alice :Registered at: ")
    assert info[2] == f"{NS} alice :Replay on join: OFF"
    assert alice.send("NS INFO nobody") == [f"{NS} alice :No such account: nobody"]
    create(hub, "bob")
    assert len(alice.send("NS INFO BOB")) == 2  # someone else's settings are not shown
    help_ = alice.send("NS HELP")
    assert help_[0].startswith(f"{NS} alice :NickServ registers accounts")
    assert any("IDENTIFY" in text for text in help_)
    assert alice.send("PRIVMSG NickServ :") == [f"{SERVER} 412 alice :No text to send"]
    assert alice.send("NS FROB") == [
        f"{NS} alice :Unknown command 'FROB'. To see the available commands, run: /NS HELP"
    ]


def test_services_are_never_relayed_or_echoed() -> None:
    _hub, _options, connect = make_world()
    alice = connect("alice", "echo-message", "labeled-response", "batch")
    out = alice.send("@label=x PRIVMSG NickServ :IDENTIFY not-a-password")
    assert out == [f"@label=x {NS} alice :Invalid account credentials"]
    assert alice.send("NOTICE NickServ :HELP") == []
    assert alice.send("NICK NickServ") == [f"{SERVER} 433 alice NickServ :Nickname is already in use"]
    assert alice.send("ISON nickserv chanserv alice bob") == [f"{SERVER} 303 alice :NickServ ChanServ alice"]
    whois = alice.send("WHOIS chanserv")
    assert codes(whois) == ["311", "312", "313", "318"]
    assert (
        whois[0] == f"{SERVER} 311 alice ChanServ ChanServ services.hubbub * :Channel registration services"
    )


# -- ChanServ ------------------------------------------------------------------------------------------------


def test_chanserv_register_info_drop() -> None:
    hub, _options, connect = make_world()
    create(hub, "alice")
    create(hub, "bob")
    alice = connect("alice")
    bob = connect("bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    assert alice.send("CS REGISTER #room") == [f"{CS} alice :Log in to an account to register a room"]
    alice.send("NS IDENTIFY secret-1")
    bob.send("NS IDENTIFY secret-1")
    assert bob.send("CS REGISTER #room") == [f"{CS} bob :You are not an operator of #room"]
    assert alice.send("CS REGISTER #nowhere") == [f"{CS} alice :No such room: #nowhere"]
    assert alice.send("PRIVMSG ChanServ :REGISTER #ROOM") == [
        f"{CS} alice :Channel #room successfully registered"
    ]
    assert alice.send("CS REGISTER #room") == [f"{CS} alice :#room is already registered"]
    assert [record.key for record in hub.store.load_rooms()] == ["#room"]
    info = bob.send("CS INFO #room")
    assert info[:2] == [f"{CS} bob :Channel: #room", f"{CS} bob :Founder: alice"]
    # The registered room outlives its members, and its founder gets op on joining.
    alice.send("PART #room")
    bob.send("PART #room")
    assert hub.find_room("#room") is not None
    out = alice.send("JOIN #room")
    assert f"{SERVER} 353 alice = #room :@alice" in out
    assert bob.send("CS DROP #room") == [f"{CS} bob :Only the founder of #room can do that"]
    assert alice.send("CHANSERV DROP #room") == [f"{CS} alice :Channel #room is no longer registered"]
    assert hub.store.load_rooms() == []
    assert bob.send("CS INFO #room") == [f"{CS} bob :Channel #room is not registered"]
    assert bob.send("CS HELP")[0].startswith(f"{CS} bob :ChanServ registers channels")


# -- nickname protection -------------------------------------------------------------------------------------


def test_a_registered_nickname_is_taken_back_after_the_grace_period() -> None:
    hub, options, connect = make_world()
    create(hub, "alice")
    other = connect("bob")
    other.send("JOIN #x")
    client = IrcClient(hub, options)
    out = client.send("NICK alice", "USER a 0 * :A")
    assert (
        f"{SERVER} NOTICE alice :The nickname alice is registered. Log in to it within 30 seconds"
        " or you will be renamed. Use /msg NickServ IDENTIFY <password>, or SASL."
    ) in out
    client.send("JOIN #x")
    other.take()
    assert hub.timers.run() == 1
    assert client.take() == [
        ":alice!~a@192.0.2.1 NICK guest-1",
        f"{SERVER} NOTICE guest-1 :You were renamed: alice is registered and you did not log in to it.",
    ]
    assert other.take() == [":alice!~a@192.0.2.1 NICK guest-1"]
    # Renamed away, the nickname is held for its owner: taking it again is refused until one logs in.
    assert client.send("NICK alice")[-1].startswith(f"{SERVER} 433 guest-1 alice ")
    assert client.send("NS IDENTIFY alice secret-1")[-1] == f"{NS} guest-1 :You're now logged in as alice"
    client.send("NICK alice")
    assert hub.timers.run() == 0
    assert client.nick == "alice"


# -- how accounts show ---------------------------------------------------------------------------------------


def test_account_tag_extended_join_and_account_notify() -> None:
    hub, _options, connect = make_world()
    create(hub, "alice")
    full = connect("bob", "account-tag", "extended-join", "account-notify")
    bare = connect("carol")
    full.send("JOIN #x")
    bare.send("JOIN #x")
    full.take()
    alice = connect("alice")
    alice.send("NS IDENTIFY secret-1")
    alice.send("JOIN #x")
    assert full.take() == ["@account=alice :alice!~u@192.0.2.1 JOIN #x alice :Real Name"]
    assert bare.take() == [":alice!~u@192.0.2.1 JOIN #x"]
    alice.send("PRIVMSG #x :hello")
    assert full.take() == ["@account=alice :alice!~u@192.0.2.1 PRIVMSG #x :hello"]
    assert bare.take() == [":alice!~u@192.0.2.1 PRIVMSG #x :hello"]
    alice.send("NS LOGOUT")
    assert full.take() == [":alice!~u@192.0.2.1 ACCOUNT *"]
    assert bare.take() == []
    guest = connect("dave")
    guest.send("JOIN #x")
    assert full.take() == [":dave!~u@192.0.2.1 JOIN #x * :Real Name"]
