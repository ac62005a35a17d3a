"""The IRC session in memory: registration, CAP, dispatch errors, messaging, labeled-response."""

from __future__ import annotations

from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions

from .irc_harness import IrcClient, PlainClient, make_world


def numerics(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith(":irc.test ")]


def test_registration_burst() -> None:
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    assert client.send("NICK alice") == []
    out = client.send("USER alice 0 * :Alice Liddell")
    assert numerics(out)[:5] == ["001", "002", "003", "004", "005"]
    assert out[0] == ":irc.test 001 alice :Welcome to the TestNet IRC Network alice!~alice@192.0.2.1"
    assert "422" in numerics(out)
    isupport = " ".join(line for line in out if " 005 " in line)
    for token in (
        "CASEMAPPING=ascii",
        "CHANTYPES=#",
        "CHANMODES=beI,k,l,imnst",
        "PREFIX=(ov)@+",
        "NICKLEN=32",
    ):
        assert token in isupport


def test_commands_before_registration() -> None:
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    assert client.send("JOIN #x") == [":irc.test 451 * :You have not registered"]
    assert client.send("FOO") == [":irc.test 451 * :You have not registered"]
    assert client.send("USER a") == [":irc.test 461 * USER :Not enough parameters"]
    assert client.send("NICK") == [":irc.test 431 * :No nickname given"]
    assert client.send("NICK 1abc") == [":irc.test 432 * 1abc :Erroneous nickname"]


def test_nick_in_use_and_quit_before_registration() -> None:
    hub, options, connect = make_world()
    connect("alice")
    client = IrcClient(hub, options)
    assert client.send("NICK ALICE") == [":irc.test 433 * ALICE :Nickname is already in use"]
    assert client.send("QUIT") == ["ERROR :Closing Link: 192.0.2.1 (Quit)"]
    assert client.link.closed == "Quit"


def test_cap_negotiation_holds_registration() -> None:
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    ls = client.send("CAP LS 302", "NICK bob", "USER b 0 * :B")
    assert ls[0].startswith(":irc.test CAP * LS :") and "message-tags" in ls[0]
    assert client.send("CAP REQ :server-time bogus") == [":irc.test CAP bob NAK :server-time bogus"]
    assert client.send("CAP REQ :server-time echo-message") == [
        ":irc.test CAP bob ACK :server-time echo-message"
    ]
    out = client.send("CAP END")
    assert numerics(out)[0] == "001"
    assert client.send("CAP LIST") == [":irc.test CAP bob LIST :cap-notify echo-message server-time"]


def test_unknown_command_and_missing_params() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    assert alice.send("FROB x") == [":irc.test 421 alice FROB :Unknown command"]
    assert alice.send("JOIN") == [":irc.test 461 alice JOIN :Not enough parameters"]
    assert alice.send("PRIVMSG") == [":irc.test 411 alice :No recipient given (PRIVMSG)"]
    assert alice.send("PRIVMSG #x") == [":irc.test 412 alice :No text to send"]
    assert alice.send("PRIVMSG nobody :hi") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("PRIVMSG #nowhere :hi") == [":irc.test 403 alice #nowhere :No such channel"]
    assert alice.send("NOTICE nobody :hi") == []


def test_join_privmsg_and_first_member_is_operator() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    out = alice.send("JOIN #room")
    assert out == [
        ":alice!~u@192.0.2.1 JOIN #room",
        ":irc.test 353 alice = #room :@alice",
        ":irc.test 366 alice #room :End of /NAMES list.",
    ]
    out = bob.send("JOIN #room")
    assert out[1] == ":irc.test 353 bob = #room :@alice bob"
    assert alice.take() == [":bob!~u@192.0.2.1 JOIN #room"]
    assert bob.send("PRIVMSG #room :hello there") == []
    assert alice.take() == [":bob!~u@192.0.2.1 PRIVMSG #room :hello there"]
    bob.send("PRIVMSG #room :\x01ACTION waves\x01")
    assert alice.take() == [":bob!~u@192.0.2.1 PRIVMSG #room :\x01ACTION waves\x01"]


def test_echo_message_and_tags() -> None:
    _, _, connect = make_world()
    alice = connect("alice", "echo-message", "message-tags", "server-time")
    bob = connect("bob", "message-tags")
    alice.send("JOIN #t")
    bob.send("JOIN #t")
    alice.take()
    out = alice.send("@+draft/reply=abc PRIVMSG #t :hi")
    assert (
        len(out) == 1 and out[0].startswith("@time=") and ";msgid=" in out[0] and "+draft/reply=abc" in out[0]
    )
    got = bob.take()
    assert len(got) == 1 and got[0].startswith("@msgid=") and got[0].endswith(" PRIVMSG #t :hi")
    assert "time=" not in got[0]


def test_labeled_response() -> None:
    _, _, connect = make_world()
    alice = connect("alice", "labeled-response", "batch")
    assert alice.send("@label=a1 PING x") == ["@label=a1 :irc.test PONG irc.test :x"]
    out = alice.send("@label=a2 JOIN #l")
    assert out[0].startswith("@label=a2 :irc.test BATCH +") and out[0].endswith(" labeled-response")
    assert all(line.startswith("@batch=") for line in out[1:-1])
    assert out[-1].startswith(":irc.test BATCH -")
    assert alice.send("@label=a3 PONG x") == ["@label=a3 :irc.test ACK"]


def test_a_label_is_echoed_escaped() -> None:
    _, _, connect = make_world()
    alice = connect("alice", "labeled-response", "batch")
    evil = r"a\r\n:evil\sPRIVMSG\salice\s\:forged\\x"
    assert alice.send(f"@label={evil} PING x") == [f"@label={evil} :irc.test PONG irc.test :x"]
    assert alice.send(r"@label=\s PONG x") == [r"@label=\s :irc.test ACK"]
    out = alice.send(f"@label={evil} JOIN #l")
    assert out[0].startswith(f"@label={evil} :irc.test BATCH +")


def test_over_long_lines_get_417() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    assert alice.send("PRIVMSG alice :" + "x" * 600) == [":irc.test 417 alice :Input line was too long"]
    assert alice.send("PING ok") == [":irc.test PONG irc.test :ok"]


def test_plain_and_irc_users_share_rooms() -> None:
    hub, _, connect = make_world()
    plain = PlainClient(hub)
    plain.take()
    alice = connect("alice")
    alice.send("JOIN #lobby")
    assert plain.take() == ["* alice joined #lobby"]
    plain.send("hello irc")
    assert alice.take() == [f":{plain.session.user.nick}!plain@198.51.100.7 PRIVMSG #lobby :hello irc"]  # type: ignore[union-attr]
    alice.send("PRIVMSG #lobby :\x02hello\x02 plain")
    assert plain.take() == ["<alice> hello plain"]
    alice.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    assert plain.take() == ["* alice waves"]
    # The plain-text user made #lobby, so it is the operator and the topic is protected (+t).
    assert alice.send("TOPIC #lobby :new topic") == [
        ":irc.test 482 alice #lobby :You're not channel operator"
    ]
    alice.send("JOIN #dev", "TOPIC #dev :dev talk")
    assert "* Topic: dev talk" in plain.send("/join #dev")
    assert alice.take()[-1].endswith(" JOIN #dev")
    alice.send("QUIT :gone")
    assert plain.take() == ["* alice left (Quit: gone)"]


def test_registration_timeout_and_ping() -> None:
    hub = Hub()
    options = IrcOptions(server_name="irc.test", registration_timeout=10, ping_interval=30, ping_timeout=20)
    client = IrcClient(hub, options)
    client.session.tick(client.session.connected_at + 5)
    assert client.take() == []
    client.session.tick(client.session.connected_at + 11)
    assert client.take() == ["ERROR :Closing Link: registration timed out"]
    assert client.link.closed == "Registration timed out"

    registered = IrcClient(hub, options)
    registered.register("pinged")
    start = registered.session.idle_since
    registered.session.active = False
    registered.session.tick(start + 31)
    assert registered.take() == ["PING :irc.test"]
    registered.session.tick(start + 40)
    assert registered.take() == []
    registered.session.tick(start + 52)
    assert registered.link.closed is not None and registered.link.closed.startswith("Ping timeout")


def test_utf8only_refuses_a_registered_clients_invalid_utf8_to_it_alone() -> None:
    """UTF8ONLY, as ergo: a line that is not UTF-8 is refused to its sender (FAIL INVALID_UTF8, labeled when
    it was), instead of reaching the others with U+FFFD in it (or as text a WebSocket could not carry)."""
    hub, _, connect = make_world()
    alice = connect("alice", "labeled-response", "batch")
    bob = connect("bob")
    assert any("UTF8ONLY" in line for line in alice.send("VERSION"))
    refused = ":irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected for containing invalid UTF-8"
    alice.session.data_received(b"PRIVMSG bob :caf\xe9\r\n")
    assert alice.take() == [refused]
    alice.session.data_received(b"@label=x1 PRIVMSG bob :caf\xe9\r\n")
    assert alice.take() == ["@label=x1 " + refused]
    alice.session.data_received("PRIVMSG bob :caf\u00e9\r\n".encode())
    assert bob.take() == [":alice!~u@192.0.2.1 PRIVMSG bob :caf\u00e9"]
    # Before registration it is let through as before, so that an old client with a Latin-1 real name gets in.
    carol = IrcClient(hub, alice.session.options)
    carol.send("NICK carol")
    carol.session.data_received(b"USER c 0 * :Ren\xe9\r\n")
    assert any(" 001 carol " in line for line in carol.take())
