"""IRC queries in memory: WHO/WHOX, WHOIS, WHOWAS, ISON, USERHOST, MONITOR, AWAY, SETNAME, VERSION, TIME,
INFO, LINKS, ADMIN and HELP, with IRC and plain-text users side by side."""

from __future__ import annotations

import re
import time

import pytest

from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.protocols.irc.options import MONITOR_MAX

from .irc_harness import IrcClient, PlainClient, make_world

PLAIN = "guest-1!plain@198.51.100.7"


def user_of(hub: Hub, nick: str) -> User:
    user = hub.find_user(nick)
    assert user is not None
    return user


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> float:
    """A fixed clock, for idle times."""
    now = 1_700_000_100.0
    monkeypatch.setattr(time, "time", lambda: now)
    return now


# -- WHO -----------------------------------------------------------------------------------------------------


def test_who_channel_lists_members_with_prefixes() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob", "multi-prefix")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    user_of(hub, "bob").modes.discard("i")
    hub.find_room("#room").members[user_of(hub, "alice")] = "ov"  # type: ignore[union-attr]
    assert alice.send("WHO #room") == [
        ":irc.test 352 alice #room ~u 192.0.2.1 irc.test alice H@ :0 Real Name",
        ":irc.test 352 alice #room ~u 192.0.2.1 irc.test bob H :0 Real Name",
        ":irc.test 315 alice #room :End of WHO list",
    ]
    assert bob.send("WHO #ROOM")[0] == ":irc.test 352 bob #room ~u 192.0.2.1 irc.test alice H@+ :0 Real Name"
    assert alice.send("WHO #nowhere") == [":irc.test 315 alice #nowhere :End of WHO list"]
    assert alice.send("WHO") == [":irc.test 461 alice WHO :Not enough parameters"]


def test_who_shows_plain_users_with_their_hostmask() -> None:
    hub, _, connect = make_world()
    plain = PlainClient(hub)
    alice = connect("alice")
    assert plain.session.user is not None and plain.session.user.hostmask == PLAIN
    assert alice.send("WHO #lobby") == [
        ":irc.test 352 alice #lobby plain 198.51.100.7 irc.test guest-1 H@ :0 plain-text user",
        ":irc.test 315 alice #lobby :End of WHO list",
    ]
    assert alice.send("WHO *!plain@*") == [
        ":irc.test 352 alice * plain 198.51.100.7 irc.test guest-1 H :0 plain-text user",
        ":irc.test 315 alice *!plain@* :End of WHO list",
    ]
    # NAMES too: the plain-text user is the channel's operator, with a full hostmask for userhost-in-names.
    bob = connect("bob", "userhost-in-names")
    assert bob.send("NAMES #lobby") == [
        f":irc.test 353 bob = #lobby :@{PLAIN}",
        ":irc.test 366 bob #lobby :End of /NAMES list.",
    ]


def test_who_hides_invisible_users_from_outsiders() -> None:
    hub, _, connect = make_world()
    PlainClient(hub)
    alice = connect("alice")  # IRC users are +i
    bob = connect("bob")
    carol = connect("carol")
    alice.send("JOIN #lobby")
    bob.send("JOIN #lobby")
    user_of(hub, "bob").modes.discard("i")
    # carol shares no channel: she sees the plain-text user and bob (-i), not alice.
    assert carol.send("WHO #lobby") == [
        ":irc.test 352 carol #lobby plain 198.51.100.7 irc.test guest-1 H@ :0 plain-text user",
        ":irc.test 352 carol #lobby ~u 192.0.2.1 irc.test bob H :0 Real Name",
        ":irc.test 315 carol #lobby :End of WHO list",
    ]
    assert [line.split()[7] for line in carol.send("WHO *")[:-1]] == ["guest-1", "bob", "carol"]
    # An exact nickname is always answered.
    assert carol.send("WHO alice") == [
        ":irc.test 352 carol * ~u 192.0.2.1 irc.test alice H :0 Real Name",
        ":irc.test 315 carol alice :End of WHO list",
    ]
    # A member sees every member; a mask matches whoever shares a channel.
    assert len(bob.send("WHO #lobby")) == 4
    assert [line.split()[7] for line in bob.send("WHO a*")[:-1]] == ["alice"]
    assert carol.send("WHO a*") == [":irc.test 315 carol a* :End of WHO list"]
    # "o" asks for operators only: nobody is listed, as in ergo.
    assert carol.send("WHO #lobby o") == [":irc.test 315 carol #lobby :End of WHO list"]


def test_who_secret_channel_and_operators() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    carol = connect("carol")
    alice.send("JOIN #secret")
    room = hub.find_room("#secret")
    assert room is not None
    room.flags.add("s")
    user_of(hub, "alice").modes.discard("i")
    assert carol.send("WHO #secret") == [":irc.test 315 carol #secret :End of WHO list"]
    hub.make_oper(user_of(hub, "carol"), "admin")
    assert carol.send("WHO #secret") == [
        ":irc.test 352 carol #secret ~u 192.0.2.1 irc.test alice H@ :0 Real Name",
        ":irc.test 315 carol #secret :End of WHO list",
    ]
    # Away and operator flags.
    alice.send("AWAY :lunch")
    assert carol.send("WHO carol")[0] == ":irc.test 352 carol * ~u 192.0.2.1 irc.test carol H* :0 Real Name"
    assert carol.send("WHO alice")[0] == ":irc.test 352 carol * ~u 192.0.2.1 irc.test alice G :0 Real Name"


def test_whox_fields_and_token(frozen: float) -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    bob_user = user_of(hub, "bob")
    bob_user.account = "bobby"
    bob_user.last_active = frozen - 42
    user_of(hub, "alice").last_active = frozen
    assert alice.send("WHO #x %tcuihsnfdlaor,42") == [
        ":irc.test 354 alice 42 #x ~u 192.0.2.1 192.0.2.1 irc.test alice H@ 0 0 0 * :Real Name",
        # bob's address (i) is for bob and the operators only, as in ergo
        ":irc.test 354 alice 42 #x ~u 255.255.255.255 192.0.2.1 irc.test bob H 0 42 bobby * :Real Name",
        ":irc.test 315 alice #x :End of WHO list",
    ]
    hub.make_oper(user_of(hub, "alice"), "admin")
    assert alice.send("WHO bob %ni")[0] == ":irc.test 354 alice 192.0.2.1 bob"
    # Only what is asked for, in the standard order whatever the order asked; a realname is always trailing.
    assert alice.send("WHO bob %na") == [
        ":irc.test 354 alice bob bobby",
        ":irc.test 315 alice bob :End of WHO list",
    ]
    assert alice.send("WHO bob %rn") == [
        ":irc.test 354 alice bob :Real Name",
        ":irc.test 315 alice bob :End of WHO list",
    ]
    # No token given: "t" gives 0 (as ergo does); the channel of a nickname query is "*".
    assert alice.send("WHO alice %tcn")[0] == ":irc.test 354 alice 0 * alice"


# -- WHOIS ---------------------------------------------------------------------------------------------------


def test_whois_plain_user(frozen: float) -> None:
    hub, _, connect = make_world()
    PlainClient(hub)
    alice = connect("alice")
    guest = user_of(hub, "guest-1")
    guest.signon = frozen - 100
    guest.last_active = frozen - 7
    assert alice.send("WHOIS guest-1") == [
        ":irc.test 311 alice guest-1 plain 198.51.100.7 * :plain-text user",
        ":irc.test 319 alice guest-1 :@#lobby",
        ":irc.test 312 alice guest-1 irc.test :hubbub chat server",
        f":irc.test 317 alice guest-1 7 {int(frozen) - 100} :seconds idle, signon time",
        ":irc.test 318 alice guest-1 :End of /WHOIS list",
    ]
    # WHOIS <server> <nick>: the second parameter is the nickname.
    assert alice.send("WHOIS irc.test GUEST-1")[0].startswith(":irc.test 311 alice guest-1 plain ")
    assert alice.send("WHOIS irc.test GUEST-1")[-1] == ":irc.test 318 alice GUEST-1 :End of /WHOIS list"


def test_whois_self_operator_away_account(frozen: float) -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    me = user_of(hub, "alice")
    me.signon = me.last_active = frozen
    hub.make_oper(me, "admin")
    me.account = "alice"
    alice.send("AWAY :out for lunch")
    assert alice.send("WHOIS alice") == [
        ":irc.test 311 alice alice ~u 192.0.2.1 * :Real Name",
        ":irc.test 312 alice alice irc.test :hubbub chat server",
        ":irc.test 313 alice alice :is an IRC operator",
        ":irc.test 338 alice alice ~u@192.0.2.1 192.0.2.1 :Actual user@host, Actual IP",
        ":irc.test 379 alice alice :is using modes +io",
        ":irc.test 330 alice alice alice :is logged in as",
        f":irc.test 317 alice alice 0 {int(frozen)} :seconds idle, signon time",
        ":irc.test 301 alice alice :out for lunch",
        ":irc.test 318 alice alice :End of /WHOIS list",
    ]


def test_whois_channel_visibility() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob", "multi-prefix")
    carol = connect("carol")
    alice.send("JOIN #open", "JOIN #secret")
    room = hub.find_room("#secret")
    assert room is not None
    room.flags.add("s")

    def channels(client: IrcClient) -> list[str]:
        return [line for line in client.send("WHOIS alice") if " 319 " in line]

    # alice is invisible (+i) and shares nothing with bob: no channels.
    assert channels(bob) == []
    bob.send("JOIN #open")
    assert channels(bob) == [":irc.test 319 bob alice :@#open"]
    # Visible (-i): public channels show, secret ones only to their members.
    user_of(hub, "alice").modes.discard("i")
    assert channels(carol) == [":irc.test 319 carol alice :@#open"]
    bob.send("JOIN #secret")
    room.members[user_of(hub, "alice")] = "ov"
    assert channels(bob) == [":irc.test 319 bob alice :@#open @+#secret"]
    hub.make_oper(user_of(hub, "carol"), "admin")
    assert channels(carol) == [":irc.test 319 carol alice :@#open @#secret"]
    assert channels(alice) == [":irc.test 319 alice alice :@#open @#secret"]


def test_whois_errors() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    assert alice.send("WHOIS nobody") == [
        ":irc.test 401 alice nobody :No such nick/channel",
        ":irc.test 318 alice nobody :End of /WHOIS list",
    ]
    assert alice.send("WHOIS") == [":irc.test 431 alice :No nickname given"]
    assert alice.send("WHOIS nobody,alice")[-1] == ":irc.test 318 alice nobody,alice :End of /WHOIS list"


# -- WHOWAS --------------------------------------------------------------------------------------------------


def test_whowas_after_quit_and_rename() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    bob.send("NICK robert")
    robert2 = connect("bob2")
    robert2.send("NICK bob")
    robert2.send("QUIT :bye")
    assert alice.send("WHOWAS bob") == [
        ":irc.test 314 alice bob ~u 192.0.2.1 * :Real Name",
        ":irc.test 314 alice bob ~u 192.0.2.1 * :Real Name",
        ":irc.test 369 alice bob :End of WHOWAS",
    ]
    assert alice.send("WHOWAS bob 1") == [
        ":irc.test 314 alice bob ~u 192.0.2.1 * :Real Name",
        ":irc.test 369 alice bob :End of WHOWAS",
    ]
    plain = PlainClient(hub)
    plain.send("/nick zed")
    assert alice.send("WHOWAS guest-1,nobody") == [
        ":irc.test 314 alice guest-1 plain 198.51.100.7 * :plain-text user",
        ":irc.test 369 alice guest-1 :End of WHOWAS",
        ":irc.test 406 alice nobody :There was no such nickname",
        ":irc.test 369 alice nobody :End of WHOWAS",
    ]
    assert alice.send("WHOWAS") == [":irc.test 431 alice :No nickname given"]


# -- ISON, USERHOST ------------------------------------------------------------------------------------------


def test_ison_and_userhost() -> None:
    hub, _, connect = make_world()
    PlainClient(hub)
    alice = connect("alice")
    connect("bob")
    assert alice.send("ISON BOB nobody guest-1") == [":irc.test 303 alice :bob guest-1"]
    assert alice.send("ISON :alice bob") == [":irc.test 303 alice :alice bob"]
    assert alice.send("ISON nobody") == [":irc.test 303 alice :"]
    assert alice.send("ISON") == [":irc.test 461 alice ISON :Not enough parameters"]
    hub.make_oper(user_of(hub, "bob"), "admin")
    user_of(hub, "guest-1").away = "brb"
    assert alice.send("USERHOST bob guest-1 nobody bob") == [
        ":irc.test 302 alice :bob*=+~u@192.0.2.1 guest-1=-plain@198.51.100.7"
    ]
    # At most five nicknames are looked up.
    assert alice.send("USERHOST a b c d e bob") == [":irc.test 302 alice :"]


# -- MONITOR -------------------------------------------------------------------------------------------------


def test_monitor_add_list_status_remove_clear() -> None:
    hub, _, connect = make_world()
    PlainClient(hub)
    alice = connect("alice")
    assert alice.send("MONITOR + Guest-1,zed,1bad,,") == [
        f":irc.test 730 alice :{PLAIN}",
        ":irc.test 731 alice :zed",
    ]
    assert alice.send("MONITOR L") == [
        ":irc.test 732 alice :guest-1,zed",
        ":irc.test 733 alice :End of MONITOR list",
    ]
    assert alice.send("MONITOR s") == [f":irc.test 730 alice :{PLAIN}", ":irc.test 731 alice :zed"]
    assert alice.send("MONITOR - ZED") == []
    assert alice.send("MONITOR L") == [
        ":irc.test 732 alice :guest-1",
        ":irc.test 733 alice :End of MONITOR list",
    ]
    assert alice.send("MONITOR C") == []
    assert alice.send("MONITOR L") == [":irc.test 733 alice :End of MONITOR list"]
    assert hub.monitor.watchers == {}
    assert alice.send("MONITOR +") == [":irc.test 461 alice MONITOR :Not enough parameters"]
    assert alice.send("MONITOR") == [":irc.test 461 alice MONITOR :Not enough parameters"]
    assert alice.send("MONITOR X") == [":irc.test 400 alice MONITOR X :Unknown subcommand"]


def test_monitor_limit() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    first = [f"n{i}" for i in range(60)]
    rest = [f"n{i}" for i in range(60, MONITOR_MAX + 5)]
    alice.send("MONITOR + " + ",".join(first))
    out = alice.send("MONITOR + n0," + ",".join(rest))
    over = ",".join(rest[MONITOR_MAX - 60 :])
    assert out[0] == f":irc.test 734 alice {MONITOR_MAX} {over} :Monitor list is full."
    assert out[1].startswith(":irc.test 731 alice :n0,n60,n61,")
    assert len(hub.monitor.watched(user_of(hub, "alice"))) == MONITOR_MAX


def test_monitor_notifications_across_protocols() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    alice.send("MONITOR + guest-1,zed,bob")
    plain = PlainClient(hub)
    assert alice.take() == [f":irc.test 730 alice :{PLAIN}"]
    plain.send("/nick zed")
    assert alice.take() == [
        ":irc.test 731 alice :guest-1",
        ":irc.test 730 alice :zed!plain@198.51.100.7",
    ]
    plain.send("/quit")
    assert alice.take() == [":irc.test 731 alice :zed"]
    bob = connect("bob")
    assert alice.take() == [":irc.test 730 alice :bob!~u@192.0.2.1"]
    bob.send("NICK bobby")
    assert alice.take() == [":irc.test 731 alice :bob"]
    bob.send("NICK bob")
    assert alice.take() == [":irc.test 730 alice :bob!~u@192.0.2.1"]
    bob.send("QUIT")
    assert alice.take() == [":irc.test 731 alice :bob"]
    # A watcher that leaves stops watching.
    alice.send("QUIT")
    assert hub.monitor.watchers == {}


# -- AWAY ----------------------------------------------------------------------------------------------------


def test_away_replies_notify_and_301() -> None:
    hub, _, connect = make_world()
    plain = PlainClient(hub)
    alice = connect("alice")
    bob = connect("bob", "away-notify")
    carol = connect("carol")
    for client in (alice, bob, carol):
        client.send("JOIN #lobby")
    plain.take()
    bob.take()
    carol.take()
    assert alice.send("AWAY :gone fishing") == [":irc.test 306 alice :You have been marked as being away"]
    assert bob.take() == [":alice!~u@192.0.2.1 AWAY :gone fishing"]
    assert carol.take() == []
    assert plain.take() == []
    assert user_of(hub, "alice").away == "gone fishing"
    assert bob.send("PRIVMSG alice :hi") == [":irc.test 301 bob alice :gone fishing"]
    assert bob.send("NOTICE alice :hi") == []
    assert alice.send("AWAY") == [":irc.test 305 alice :You are no longer marked as being away"]
    assert bob.take() == [":alice!~u@192.0.2.1 AWAY"]
    assert bob.send("PRIVMSG alice :hi again") == []
    assert alice.send("AWAY :") == [":irc.test 305 alice :You are no longer marked as being away"]
    assert bob.take() == []


# -- SETNAME -------------------------------------------------------------------------------------------------


def test_setname() -> None:
    hub, options, connect = make_world()
    alice = connect("alice", "setname")
    bob = connect("bob", "setname")
    carol = connect("carol")
    for client in (alice, bob, carol):
        client.send("JOIN #x")
    bob.take()
    carol.take()
    assert alice.send("SETNAME :Alice Liddell") == [":alice!~u@192.0.2.1 SETNAME :Alice Liddell"]
    assert bob.take() == [":alice!~u@192.0.2.1 SETNAME :Alice Liddell"]
    assert carol.take() == []
    assert bob.send("WHOIS alice")[0] == ":irc.test 311 bob alice ~u 192.0.2.1 * :Alice Liddell"
    # Without the capability the change is made silently.
    assert carol.send("SETNAME :Carol") == []
    assert user_of(hub, "carol").realname == "Carol"
    assert bob.take() == [":carol!~u@192.0.2.1 SETNAME :Carol"]
    # Several parameters: a realname sent without the colon.
    assert alice.send("SETNAME Alice L") == [":alice!~u@192.0.2.1 SETNAME :Alice L"]
    invalid = [":irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid"]
    assert alice.send("SETNAME :") == invalid
    assert alice.send("SETNAME") == invalid
    assert alice.send("SETNAME :" + "x" * (options.limits.realname_max + 1)) == invalid
    assert user_of(hub, "alice").realname == "Alice L"


# -- server information --------------------------------------------------------------------------------------


def test_version_time_info_links_admin() -> None:
    _, options, connect = make_world()
    alice = connect("alice")
    out = alice.send("VERSION")
    assert out[0] == f":irc.test 351 alice {options.version} irc.test :hubbub chat server"
    assert len(out) > 1 and all(line.startswith(":irc.test 005 alice ") for line in out[1:])
    assert all(line.endswith(" :are supported by this server") for line in out[1:])
    tokens = " ".join(out[1:])
    for token in ("MONITOR=100", "WHOX", "NAMELEN=150", "NETWORK=TestNet"):
        assert f" {token} " in tokens
    assert alice.send("VERSION irc.test")[0].startswith(":irc.test 351 ")
    assert alice.send("VERSION elsewhere.test") == [":irc.test 402 alice elsewhere.test :No such server"]
    (reply,) = alice.send("TIME")
    assert re.fullmatch(r":irc\.test 391 alice irc\.test :\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC", reply)
    assert alice.send("TIME *.test")[0].startswith(":irc.test 391 alice irc.test :")
    info = alice.send("INFO")
    assert all(line.startswith(":irc.test 371 alice :") for line in info[:-1])
    assert any(options.version in line for line in info)
    assert info[-1] == ":irc.test 374 alice :End of INFO list"
    assert alice.send("LINKS") == [
        ":irc.test 364 alice irc.test irc.test :0 hubbub chat server",
        ":irc.test 365 alice * :End of /LINKS list",
    ]
    assert alice.send("ADMIN") == [
        ":irc.test 256 alice irc.test :Administrative info",
        f":irc.test 257 alice :irc.test, running {options.version}",
        ":irc.test 258 alice :Part of the TestNet network",
    ]
    assert alice.send("ADMIN nowhere") == [":irc.test 402 alice nowhere :No such server"]


def test_help() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    out = alice.send("HELP")
    assert out[0] == ":irc.test 704 alice * :Commands of irc.test:"
    assert out[-2:] == [
        ":irc.test 705 alice * :HELP <command> tells how to use one.",
        ":irc.test 706 alice * :End of /HELP",
    ]
    listed = " ".join(line.split(" :", 1)[1] for line in out[1:-2]).split()
    for verb in ("AWAY", "HELP", "JOIN", "MONITOR", "PRIVMSG", "WHO", "WHOIS"):
        assert verb in listed
    assert listed == sorted(listed)
    assert alice.send("HELP away") == [
        ":irc.test 704 alice AWAY :AWAY [:<message>]: mark yourself away with a message,"
        " or back without one.",
        ":irc.test 706 alice AWAY :End of /HELP",
    ]
    who = alice.send("HELP WHO")
    assert who[0].startswith(":irc.test 704 alice WHO :WHO <channel|nick|mask> ")
    assert who[-1] == ":irc.test 706 alice WHO :End of /HELP"
    assert alice.send("HELP frobnicate") == [
        ":irc.test 524 alice FROBNICATE :No help available on this topic"
    ]
    assert alice.send("HELP :two words") == [":irc.test 524 alice * :No help available on this topic"]


def test_queries_in_a_labeled_batch() -> None:
    _, _, connect = make_world()
    alice = connect("alice", "labeled-response", "batch")
    out = alice.send("@label=w1 WHO alice")
    assert out[0].startswith("@label=w1 :irc.test BATCH +") and out[0].endswith(" labeled-response")
    assert out[1].startswith("@batch=") and " 352 alice * ~u 192.0.2.1 irc.test alice H " in out[1]
    assert out[2].startswith("@batch=") and " 315 alice alice :End of WHO list" in out[2]
    assert out[3].startswith(":irc.test BATCH -")
    assert alice.send("@label=w2 MONITOR C") == ["@label=w2 :irc.test ACK"]
