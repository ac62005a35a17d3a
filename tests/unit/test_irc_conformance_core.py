"""The expectations of the irctest server suite (github.com/progval/irctest, irctest/server_tests/) for
connection registration, CAP, PING, QUIT, PRIVMSG/NOTICE, echo-message, message-tags, labeled-response,
server-time, STATUSMSG, away and away-notify, setname, extended-join, ISUPPORT, LUSERS, HELP, INFO, LINKS and
the matching regression tests, restated with the in-memory harness.

Each test is named after the irctest case it mirrors; where irctest accepts several behaviours, so does the
test. "My.Little.Server" (irctest's server name) is ``irc.test`` here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions
from hubbub.wire import numerics as n
from hubbub.wire.irc import Message, parse

from .irc_harness import IrcClient, make_world

SERVER = "irc.test"
#: Parse what the server sends without the codec's input limits (those are for what clients send).
BIG = 1 << 20


# -- helpers -------------------------------------------------------------------------------------------------


def msgs(lines: Iterable[str]) -> list[Message]:
    return [parse(text, max_body=BIG, max_tags=BIG) for text in lines]


def verbs(lines: Iterable[str]) -> list[str]:
    return [msg.verb for msg in msgs(lines)]


def registration_messages(lines: Iterable[str]) -> list[Message]:
    """What irctest's getRegistrationMessage sees: everything but NOTICEs."""
    return [msg for msg in msgs(lines) if msg.verb != "NOTICE"]


def only(lines: list[str], verb: str) -> list[Message]:
    return [msg for msg in msgs(lines) if msg.verb == verb]


def tags_of(msg: Message) -> dict[str, str]:
    return dict(msg.tags or {})


def full(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def isupport(lines: Iterable[str]) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {}
    for msg in msgs(lines):
        if msg.verb == n.RPL_ISUPPORT:
            for token in msg.params[1:-1]:
                key, eq, value = token.partition("=")
                tokens[key] = value if eq else None
    return tokens


def connect_raw(
    hub: Hub, options: IrcOptions, nick: str, *caps: str, user: str = "username", realname: str = "Realname"
) -> tuple[IrcClient, list[str]]:
    """irctest's connectClient: optional CAP LS 302 + REQ, NICK, ``USER <user> * * :Realname``, CAP END."""
    client = IrcClient(hub, options)
    lines = []
    if caps:
        lines += ["CAP LS 302", f"CAP REQ :{' '.join(caps)}"]
    lines += [f"NICK {nick}", f"USER {user} * * :{realname}"]
    if caps:
        lines.append("CAP END")
    out = client.send(*lines)
    assert n.RPL_WELCOME in verbs(out), out
    return client, out


# -- connection_registration.py ------------------------------------------------------------------------------


def test_pass_before_nickuser() -> None:
    """connection_registration.py PasswordedConnectionRegistrationTestCase.testPassBeforeNickuser."""
    hub, options, _ = make_world(password="testpassword")
    client = IrcClient(hub, options)
    out = client.send("PASS testpassword", "NICK foo", "USER username * * :Realname")
    assert registration_messages(out)[0].verb == n.RPL_WELCOME


def test_no_password() -> None:
    """connection_registration.py PasswordedConnectionRegistrationTestCase.testNoPassword."""
    hub, options, _ = make_world(password="testpassword")
    client = IrcClient(hub, options)
    out = client.send("NICK foo", "USER username * * :Realname")
    assert registration_messages(out)[0].verb != n.RPL_WELCOME


def test_wrong_password() -> None:
    """connection_registration.py PasswordedConnectionRegistrationTestCase.testWrongPassword."""
    hub, options, _ = make_world(password="testpassword")
    client = IrcClient(hub, options)
    out = registration_messages(client.send("PASS testpasswordgarbage", "NICK foo", "USER username * * :R"))
    assert out[0].verb in (n.ERR_PASSWDMISMATCH, "ERROR")
    if out[0].verb == n.ERR_PASSWDMISMATCH:
        assert out[1].verb == "ERROR"
    assert client.link.closed is not None


def test_pass_after_nickuser() -> None:
    """connection_registration.py PasswordedConnectionRegistrationTestCase.testPassAfterNickuser."""
    hub, options, _ = make_world(password="testpassword")
    client = IrcClient(hub, options)
    out = client.send("NICK foo", "USER username * * :Realname", "PASS testpassword")
    assert registration_messages(out)[0].verb != n.RPL_WELCOME


def test_connection_registration() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testConnectionRegistration."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    out = iter(registration_messages(client.send("NICK foo", "USER foo * * :foo")))
    for code in ("001", "002", "003"):
        m = next(out)
        assert m.verb == code and len(m.params) == 2 and m.params[0] == "foo"
    m = next(out)
    assert m.verb == n.RPL_MYINFO and m.params[:2] == ["foo", SERVER]
    assert len(m.params) in (5, 6)
    assert full("[a-zA-Z]+", m.params[3]) and full("[a-zA-Z]+", m.params[4])
    assert len(m.params) == 5 or full("[a-zA-Z]*", m.params[5])
    m = next(out)
    assert m.verb == n.RPL_ISUPPORT
    while m.verb == n.RPL_ISUPPORT:
        assert m.params[0] == "foo"
        m = next(out)
    if m.verb == "396":
        m = next(out)
    while m.verb in ("250", "251", "252", "253", "254", "255", "265", "266"):
        m = next(out)
    if m.verb in ("MODE", n.RPL_UMODEIS):
        assert m.params[0] == "foo" and len(m.params) >= 2
        m = next(out)
    if m.verb == n.RPL_MOTDSTART:
        assert m.params[0] == "foo" and len(m.params) == 2
        m = next(out)
        while m.verb == n.RPL_MOTD:
            assert m.params[0] == "foo" and len(m.params) == 2
            m = next(out)
        assert m.verb == n.RPL_ENDOFMOTD and m.params[0] == "foo" and len(m.params) == 2
    else:
        assert m.verb == n.ERR_NOMOTD and m.params[0] == "foo" and len(m.params) == 2


def test_connection_registration_with_motd() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testConnectionRegistration (with a MOTD)."""
    hub, options, _ = make_world(motd=["line one", "line two"])
    client = IrcClient(hub, options)
    out = registration_messages(client.send("NICK foo", "USER foo * * :foo"))
    motd = [m for m in out if m.verb in (n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_ENDOFMOTD)]
    assert [m.verb for m in motd] == [n.RPL_MOTDSTART, n.RPL_MOTD, n.RPL_MOTD, n.RPL_ENDOFMOTD]
    assert all(m.params[0] == "foo" and len(m.params) == 2 for m in motd)


def test_quit_disconnects() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testQuitDisconnects."""
    _, _, connect = make_world()
    foo = connect("foo")
    foo.send("QUIT")
    assert foo.link.closed is not None


def test_quit_errors() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testQuitErrors."""
    _, _, connect = make_world()
    foo = connect("foo")
    assert "ERROR" in verbs(foo.send("QUIT"))


def test_nick_collision() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testNickCollision."""
    hub, options, connect = make_world()
    connect("foo")
    client = IrcClient(hub, options)
    out = client.send("NICK foo", "USER username * * :Realname")
    assert registration_messages(out)[0].verb != n.RPL_WELCOME


def test_early_nick_collision() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testEarlyNickCollision."""
    hub, options, _ = make_world()
    one = IrcClient(hub, options)
    two = IrcClient(hub, options)
    out1 = one.send("NICK foo")
    out2 = two.send("NICK foo")
    out1 += one.send("USER username * * :Realname")
    out2 += two.send("USER username * * :Realname")
    first1 = registration_messages(out1)[0].verb if out1 else None
    first2 = registration_messages(out2)[0].verb if out2 else None
    assert (first1, first2) != ("001", "001")
    assert "001" in (first1, first2)


def test_empty_realname() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testEmptyRealname."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    m = registration_messages(client.send("NICK foo", "USER username * * :"))[0]
    assert m.verb == n.ERR_NEEDMOREPARAMS
    assert m.params[0] in ("*", "foo") and m.params[1] == "USER" and len(m.params) == 3


def test_nonutf8_realname() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testNonutf8Realname."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    client.send("NICK foo")
    client.session.data_received(b"USER username * * :i\xe8rc\xe9\r\n")
    out = client.take()
    if not any(" 001 " in text for text in out):
        assert any(text.startswith("ERROR ") or " FAIL " in text for text in out)
        return
    assert "username" in "\n".join(client.send("WHOIS foo"))


def test_nonutf8_username() -> None:
    """connection_registration.py ConnectionRegistrationTestCase.testNonutf8Username."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    out = client.send("NICK foo", "USER " + "\U0001f60a" * 10 + " * * :realname")
    if not any(" 001 " in text for text in out):
        assert any(" 468" in text or text.startswith("ERROR ") for text in out)
        return
    assert "realname" in "\n".join(client.send("WHOIS foo"))


def test_irc301_cap_ls() -> None:
    """cap.py / connection_registration.py: CapTestCase / ConnectionRegistrationTestCase.testIrc301CapLs."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    m = registration_messages(client.send("CAP LS"))[0]
    assert m.verb == "CAP" and m.params[1] == "LS"
    assert m.params[2] != "*"
    assert not any("=" in cap for cap in m.params[2].split())


def test_empty_cap_list() -> None:
    """cap.py / connection_registration.py: CapTestCase / ConnectionRegistrationTestCase.testEmptyCapList."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    m = registration_messages(client.send("CAP LIST"))[0]
    assert m.verb == "CAP" and m.params == ["*", "LIST", ""]


# -- cap.py --------------------------------------------------------------------------------------------------


def cap_ls(out: list[str]) -> list[str]:
    """The capabilities of a (possibly multi-line) CAP LS reply."""
    caps: list[str] = []
    for m in registration_messages(out):
        assert m.verb == "CAP" and m.params[1] == "LS", m
        if m.params[2] == "*":
            caps += m.params[3].split()
        else:
            caps += m.params[2].split()
            return [cap.partition("=")[0] for cap in caps]
    raise AssertionError(f"unfinished CAP LS: {out}")


def test_invalid_cap_subcommand() -> None:
    """cap.py CapTestCase.testInvalidCapSubcommand."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    m = registration_messages(client.send("CAP NOTACOMMAND", "PING test123"))[0]
    assert m.verb == "410" and m.params[:2] == ["*", "NOTACOMMAND"] and len(m.params) == 3


def test_no_req() -> None:
    """cap.py CapTestCase.testNoReq."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS 302"))
    assert client.send("USER foo foo foo :foo", "NICK foo") == []
    cap_ls(client.send("CAP LS 302"))  # nothing else was sent meanwhile
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME


def _ack(out: list[str], pattern: str, sub: str = "ACK") -> None:
    m = registration_messages(out)[0]
    assert m.verb == "CAP" and m.params[1] == sub and full(pattern, m.params[2]), m


def test_req_one() -> None:
    """cap.py CapTestCase.testReqOne."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS"))
    client.send("USER foo foo foo :foo", "NICK foo")
    _ack(client.send("CAP REQ :multi-prefix"), "multi-prefix ?")
    _ack(client.send("CAP LIST"), "multi-prefix ?", "LIST")
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME


BOTH = "(multi-prefix userhost-in-names|userhost-in-names multi-prefix) ?"


def test_req_two() -> None:
    """cap.py CapTestCase.testReqTwo."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS"))
    client.send("USER foo foo foo :foo", "NICK foo")
    _ack(client.send("CAP REQ :multi-prefix userhost-in-names"), "multi-prefix userhost-in-names ?")
    _ack(client.send("CAP LIST"), BOTH, "LIST")
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME


def test_req_one_then_one() -> None:
    """cap.py CapTestCase.testReqOneThenOne."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS"))
    client.send("USER foo foo foo :foo", "NICK foo")
    _ack(client.send("CAP REQ :multi-prefix"), "multi-prefix ?")
    _ack(client.send("CAP REQ :userhost-in-names"), "userhost-in-names ?")
    _ack(client.send("CAP LIST"), BOTH, "LIST")
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME


def test_req_post_registration() -> None:
    """cap.py CapTestCase.testReqPostRegistration."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS"))
    client.send("USER foo foo foo :foo", "NICK foo")
    _ack(client.send("CAP REQ :multi-prefix"), "multi-prefix ?")
    _ack(client.send("CAP LIST"), "multi-prefix ?", "LIST")
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME
    _ack(client.send("CAP REQ :userhost-in-names"), "userhost-in-names ?")
    _ack(client.send("CAP LIST"), BOTH, "LIST")


def test_req_unavailable() -> None:
    """cap.py CapTestCase.testReqUnavailable."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS 302"))
    client.send("USER foo foo foo :foo", "NICK foo")
    _ack(client.send("CAP REQ :foo"), "foo ?", "NAK")
    assert registration_messages(client.send("CAP END"))[0].verb == n.RPL_WELCOME


def test_nak_exact_string() -> None:
    """cap.py CapTestCase.testNakExactString."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    cap_ls(client.send("CAP LS 302"))
    m = registration_messages(client.send("CAP REQ :foo qux bar baz qux quux"))[0]
    assert m.verb == "CAP" and m.params[1:] == ["NAK", "foo qux bar baz qux quux"]


def test_nak_whole() -> None:
    """cap.py CapTestCase.testNakWhole."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    assert "multi-prefix" in cap_ls(client.send("CAP LS 302"))
    for request in ("foo multi-prefix bar", "multi-prefix bar", "foo multi-prefix"):
        m = registration_messages(client.send(f"CAP REQ :{request}"))[0]
        assert m.verb == "CAP" and m.params[1:] == ["NAK", request]
    assert "multi-prefix" not in msgs(client.send("CAP LIST"))[0].params[2].split()
    _ack(client.send("CAP REQ :multi-prefix"), "multi-prefix ?")


def test_cap_removal_by_client() -> None:
    """cap.py CapTestCase.testCapRemovalByClient."""
    hub, options, connect = make_world()
    sender = connect("sender")
    client = IrcClient(hub, options)
    assert {"echo-message", "server-time"} <= set(cap_ls(client.send("CAP LS 302")))
    out = registration_messages(
        client.send("CAP REQ :echo-message server-time", "nick bar", "user user 0 * realname", "CAP END")
    )
    assert out[0].verb == "CAP" and out[0].params[1] == "ACK"
    assert set(out[0].params[2].split()) == {"echo-message", "server-time"}
    assert n.RPL_WELCOME in [m.verb for m in out]

    cap_list = only(client.send("CAP LIST"), "CAP")[0]
    assert set(cap_list.params[2].split()) - {"cap-notify"} == {"echo-message", "server-time"}

    sender.send("PRIVMSG bar :hi")
    assert "time" in tags_of(msgs(client.take())[0])

    m = registration_messages(client.send("CAP REQ :-server-time"))[0]
    # Either ACK or NAK; ergo (and hubbub) ACK.
    assert m.verb == "CAP" and full("-server-time ?", m.params[2]) and m.params[1] in ("ACK", "NAK")
    if m.params[1] == "NAK":
        return
    cap_list = only(client.send("CAP LIST"), "CAP")[0]
    assert set(cap_list.params[2].split()) - {"cap-notify"} == {"echo-message"}
    assert "time" not in tags_of(cap_list)


@pytest.mark.parametrize(("nick", "ls"), [("bar", "CAP LS"), ("qux", "CAP LS 301")])
def test_no_multiline301_response_pre_registration(nick: str, ls: str) -> None:
    """cap.py CapTestCase.testNoMultiline301Response (before registration)."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    out = client.send(ls, f"NICK {nick}", "USER u s e r", "CAP END")
    assert n.RPL_WELCOME in verbs(out)
    assert len(only(out, "CAP")) <= 1


@pytest.mark.parametrize(("nick", "ls"), [("baz", "CAP LS"), ("bat", "CAP LS 301")])
def test_no_multiline301_response_post_registration(nick: str, ls: str) -> None:
    """cap.py CapTestCase.testNoMultiline301Response (after registration)."""
    _, _, connect = make_world()
    client = connect(nick)
    assert len(only(client.send(ls), "CAP")) <= 1


# -- pingpong.py ---------------------------------------------------------------------------------------------


def test_ping() -> None:
    """pingpong.py PingPongTestCase.testPing."""
    _, _, connect = make_world()
    foo = connect("foo")
    m = msgs(foo.send("PING abcdef"))[0]
    assert m.verb == "PONG" and m.params == [SERVER, "abcdef"]


def test_ping_no_token() -> None:
    """pingpong.py PingPongTestCase.testPingNoToken."""
    _, _, connect = make_world()
    foo = connect("foo")
    m = msgs(foo.send("PING"))[0]
    if m.verb == n.ERR_NOORIGIN:
        assert m.params[0] == "foo" and len(m.params) == 2
    else:
        assert m.verb == n.ERR_NEEDMOREPARAMS and m.params[:2] == ["foo", "PING"] and len(m.params) == 3


def test_ping_empty_token() -> None:
    """pingpong.py PingPongTestCase.testPingEmptyToken."""
    _, _, connect = make_world()
    foo = connect("foo")
    m = msgs(foo.send("PING :"))[0]
    if m.verb == "PONG":
        assert m.params == [SERVER, ""]
    elif m.verb == n.ERR_NOORIGIN:
        assert m.params[0] == "foo" and len(m.params) == 2
    else:
        assert m.verb == n.ERR_NEEDMOREPARAMS and m.params[:2] == ["foo", "PING"] and len(m.params) == 3


# -- quit.py -------------------------------------------------------------------------------------------------


def test_quit() -> None:
    """quit.py ChannelQuitTestCase.testQuit."""
    _, _, connect = make_world()
    bar = connect("bar")
    bar.send("JOIN #chan")
    qux = connect("qux")
    qux.send("JOIN #chan")
    bar.take()
    qux.send("QUIT :qux out")
    m = msgs(bar.take())[0]
    assert m.verb == "QUIT" and full(".*qux out.*", m.params[0])
    assert m.source is not None and m.source.startswith("qux")


# -- messages.py ---------------------------------------------------------------------------------------------


def test_privmsg() -> None:
    """messages.py PrivmsgTestCase.testPrivmsg."""
    _, _, connect = make_world()
    foo = connect("foo")
    foo.send("JOIN #chan")
    bar = connect("bar")
    bar.send("JOIN #chan")
    foo.send("PRIVMSG #chan :hello there")
    pms = only(bar.take(), "PRIVMSG")
    assert len(pms) == 1 and pms[0].params == ["#chan", "hello there"]


def test_privmsg_nonexistent_channel() -> None:
    """messages.py PrivmsgTestCase.testPrivmsgNonexistentChannel."""
    _, _, connect = make_world()
    foo = connect("foo")
    assert msgs(foo.send("PRIVMSG #nonexistent :hello there"))[0].verb in ("401", "403", "404")


def test_privmsg_to_user() -> None:
    """messages.py PrivmsgTestCase.testPrivmsgToUser."""
    _, _, connect = make_world()
    foo = connect("foo")
    bar = connect("bar")
    foo.send("PRIVMSG bar :hey there!")
    pms = only(bar.take(), "PRIVMSG")
    assert len(pms) == 1 and pms[0].params == ["bar", "hey there!"]


def test_privmsg_nonexistent_user() -> None:
    """messages.py PrivmsgTestCase.testPrivmsgNonexistentUser."""
    _, _, connect = make_world()
    foo = connect("foo")
    m = msgs(foo.send("PRIVMSG bar :hey there!"))[0]
    assert m.verb == n.ERR_NOSUCHNICK and m.params[:2] == ["foo", "bar"] and len(m.params) == 3


def test_empty_privmsg() -> None:
    """messages.py PrivmsgTestCase.testEmptyPrivmsg."""
    _, _, connect = make_world()
    foo = connect("foo")
    foo.send("JOIN #chan")
    bar = connect("bar")
    bar.send("JOIN #chan")
    foo.take()
    m = msgs(foo.send("PRIVMSG #chan :"))[0]
    assert m.verb == n.ERR_NOTEXTTOSEND and m.params[0] == "foo" and len(m.params) == 2
    assert bar.take() == []


def test_notice() -> None:
    """messages.py NoticeTestCase.testNotice."""
    _, _, connect = make_world()
    foo = connect("foo")
    foo.send("JOIN #chan")
    bar = connect("bar")
    bar.send("JOIN #chan")
    foo.send("NOTICE #chan :hello there")
    notices = only(bar.take(), "NOTICE")
    assert len(notices) == 1 and notices[0].params == ["#chan", "hello there"]


def test_notice_nonexistent_channel() -> None:
    """messages.py NoticeTestCase.testNoticeNonexistentChannel."""
    _, _, connect = make_world()
    foo = connect("foo")
    assert foo.send("NOTICE #nonexistent :hello there") == []


def test_line_too_long() -> None:
    """messages.py TagsTestCase.testLineTooLong."""
    _, _, connect = make_world()
    bar = connect("bar", "message-tags")
    recver = connect("recver", "message-tags")
    bar.send("JOIN #xyz")
    recver.send("JOIN #xyz")
    bar.take()
    out = bar.send("@+clientOnlyTagExample=" + "a" * 4096 + " PRIVMSG #xyz hi!")
    assert recver.take() == []
    assert n.ERR_INPUTTOOLONG in verbs(out)


def test_line_at_limit() -> None:
    """messages.py LengthLimitTestCase.testLineAtLimit."""
    _, _, connect = make_world()
    bar = connect("bar")
    line = "PING " + "x" * (512 - 7)
    assert len(line) == 510
    m = msgs(bar.send(line))[0]
    assert m.verb == "PONG" and "x" * 450 in m.params[-1]


def test_line_beyond_limit() -> None:
    """messages.py LengthLimitTestCase.testLineBeyondLimit."""
    _, _, connect = make_world()
    bar = connect("bar")
    line = "PING " + "x" * (512 - 6)
    assert len(line) == 511
    assert msgs(bar.send(line))[0].verb == n.ERR_INPUTTOOLONG
    assert msgs(bar.send("JOIN #test_channel"))[0].verb == "JOIN"


# -- echo_message.py -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "solo", "server_time"),
    [("PRIVMSG", False, False), ("PRIVMSG", True, True), ("PRIVMSG", False, True), ("NOTICE", False, True)],
)
def test_echo_message(command: str, solo: bool, server_time: bool) -> None:
    """echo_message.py EchoMessageTestCase.testEchoMessage."""
    hub, options, _ = make_world()
    caps = ["server-time"] if server_time else []
    baz, _ = connect_raw(hub, options, "baz", "echo-message", *caps)
    baz.send("JOIN #chan")
    qux = None
    if not solo:
        qux, _ = connect_raw(hub, options, "qux", *caps)
        qux.send("JOIN #chan")
        baz.take()
    m1 = msgs(baz.send(f"{command} #chan :hello everyone"))[0]
    assert m1.verb == command and m1.params == ["#chan", "hello everyone"]
    if qux is not None:
        m2 = msgs(qux.take())[0]
        assert m2.verb == command and m2.params == ["#chan", "hello everyone"]
        assert m1.params == m2.params
        if server_time:
            assert "time" in tags_of(m1) and "time" in tags_of(m2)


def test_direct_message_echo() -> None:
    """echo_message.py EchoMessageTestCase.testDirectMessageEcho."""
    _, _, connect = make_world()
    caps = ("batch", "labeled-response", "echo-message", "message-tags")
    bar = connect("bar", *caps)
    qux = connect("qux", *caps)
    echo = msgs(bar.send("@label=xyz;+example-client-tag=example-value PRIVMSG qux :hi there"))[0]
    delivery = msgs(qux.take())[0]
    assert echo.verb == "PRIVMSG" and echo.params == ["qux", "hi there"]
    assert tags_of(echo)["label"] == "xyz" and tags_of(echo)["+example-client-tag"] == "example-value"
    assert delivery.verb == "PRIVMSG" and delivery.params == ["qux", "hi there"]
    assert tags_of(delivery)["+example-client-tag"] == "example-value"
    assert tags_of(delivery).get("msgid") == tags_of(echo).get("msgid")


# -- message_tags.py -----------------------------------------------------------------------------------------


def test_basic() -> None:
    """message_tags.py MessageTagsTestCase.testBasic."""
    _, _, connect = make_world()
    alice = connect("alice", "message-tags")
    bob = connect("bob", "message-tags", "echo-message")
    carol = connect("carol")
    dave = connect("dave", "server-time")
    everyone = (alice, bob, carol, dave)
    for client in everyone:
        client.send("JOIN #test")
    for client in everyone:
        client.take()

    alice.send("@+baz=bat;fizz=buzz PRIVMSG #test hi")
    bob_msg = msgs(bob.take())[0]
    assert bob_msg.verb == "PRIVMSG" and bob_msg.params == ["#test", "hi"]
    assert tags_of(bob_msg)["+baz"] == "bat" and tags_of(bob_msg)["msgid"]
    assert "fizz" not in tags_of(bob_msg)
    carol_line = carol.take()[0]
    assert carol_line[0] == ":" and msgs([carol_line])[0].tags is None
    assert msgs([carol_line])[0].params == ["#test", "hi"]
    dave_msg = msgs(dave.take())[0]
    assert dave_msg.params == ["#test", "hi"] and "time" in tags_of(dave_msg)
    assert "+baz" not in tags_of(dave_msg)

    bob_echo = msgs(bob.send("@+bat=baz;+fizz=buzz PRIVMSG #test :hi yourself"))[0]
    alice_msg = msgs(alice.take())[0]
    carol_line = carol.take()[0]
    assert carol_line[0] == ":" and msgs([carol_line])[0].tags is None
    assert msgs([carol_line])[0].params == ["#test", "hi yourself"]
    for msg in (alice_msg, bob_echo):
        assert msg.verb == "PRIVMSG" and msg.params == ["#test", "hi yourself"]
        assert tags_of(msg)["+bat"] == "baz" and tags_of(msg)["+fizz"] == "buzz" and tags_of(msg)["msgid"]
    assert tags_of(alice_msg)["msgid"] == tags_of(bob_echo)["msgid"]
    dave.take()

    bob_echo = msgs(bob.send(r"@+buzz=fizz\:buzz;cat=dog;+steel=wootz TAGMSG #test"))[0]
    alice_msg = msgs(alice.take())[0]
    assert carol.take() == []
    assert dave.take() == []
    for msg in (alice_msg, bob_echo):
        assert msg.verb == "TAGMSG" and msg.params == ["#test"]
        assert tags_of(msg)["+buzz"] == "fizz;buzz" and tags_of(msg)["+steel"] == "wootz"
        assert tags_of(msg)["msgid"] and "cat" not in tags_of(msg)
    assert tags_of(alice_msg)["msgid"] == tags_of(bob_echo)["msgid"]


def test_length_limits() -> None:
    """message_tags.py MessageTagsTestCase.testLengthLimits."""
    _, _, connect = make_world()
    alice = connect("alice", "message-tags", "echo-message")
    bob = connect("bob", "message-tags")
    alice.send("JOIN #test")
    bob.send("JOIN #test")
    alice.take()

    max_tagmsg = "@foo=bar;+baz={} TAGMSG #test".format("a" * 4081)
    assert max_tagmsg.index("TAGMSG") == 4096
    echo = msgs(alice.send(max_tagmsg))[0]
    relay = msgs(bob.take())[0]
    for msg in (echo, relay):
        assert msg.verb == "TAGMSG" and msg.params == ["#test"]
        assert tags_of(msg)["+baz"] == "a" * 4081 and tags_of(msg)["msgid"]
    assert tags_of(echo)["msgid"] == tags_of(relay)["msgid"]

    excess_tagmsg = "@foo=bar;+baz={} TAGMSG #test".format("a" * 4082)
    assert excess_tagmsg.index("TAGMSG") == 4097
    assert msgs(alice.send(excess_tagmsg))[0].verb == n.ERR_INPUTTOOLONG
    assert bob.take() == []

    max_privmsg = "@foo=bar;+baz={} PRIVMSG #test {}".format("a" * 4081, "b" * 496)
    assert len(max_privmsg) == 4096 + (512 - 2)
    out = alice.send(max_privmsg)
    relayed = bob.take()
    echo = msgs(out)[0]
    if echo.verb != n.ERR_INPUTTOOLONG:
        # Accepted: one line each (truncated if need be), the tags intact.
        assert len(out) == 1 and len(relayed) == 1
        relay = msgs(relayed)[0]
        for msg in (echo, relay):
            assert msg.verb == "PRIVMSG" and msg.params[0] == "#test"
            assert full("b{400,496}", msg.params[1])
            assert tags_of(msg)["+baz"] == "a" * 4081 and tags_of(msg)["msgid"]
        assert tags_of(echo)["msgid"] == tags_of(relay)["msgid"]

    excess_privmsg = "@foo=bar;+baz={} PRIVMSG #test {}".format("a" * 4082, "b" * 495)
    assert excess_privmsg.index("PRIVMSG") == 4097
    assert len(excess_privmsg) == 4096 + (512 - 2)
    assert msgs(alice.send(excess_privmsg))[0].verb == n.ERR_INPUTTOOLONG
    assert bob.take() == []


# -- labeled_responses.py ------------------------------------------------------------------------------------

LABELED = ("echo-message", "batch", "labeled-response")
LABELED_TAGS = (*LABELED, "message-tags")


def test_labeled_privmsg_responses_to_multiple_clients() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testLabeledPrivmsgResponsesToMultipleClients."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED)
    others = [connect(nick, *LABELED) for nick in ("bar", "carl", "alice")]
    m = msgs(foo.send("@label=12345 PRIVMSG bar,carl,alice :hi"))[0]
    for other in others:
        got = msgs(other.take())[0]
        assert got.verb == "PRIVMSG" and got.tags is None
    assert m.verb == "BATCH"


@pytest.mark.parametrize("verb", ["PRIVMSG", "NOTICE"])
def test_labeled_privmsg_and_notice_responses_to_client(verb: str) -> None:
    """labeled_responses.py testLabeledPrivmsgResponsesToClient and testLabeledNoticeResponsesToClient."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED)
    bar = connect("bar", *LABELED)
    m = msgs(foo.send(f"@label=12345 {verb} bar :hi"))[0]
    m2 = msgs(bar.take())[0]
    assert m2.verb == verb and m2.tags is None
    assert m.verb == verb and m.tags == {"label": "12345"}


@pytest.mark.parametrize("verb", ["PRIVMSG", "NOTICE"])
def test_labeled_privmsg_and_notice_responses_to_channel(verb: str) -> None:
    """labeled_responses.py testLabeledPrivmsgResponsesToChannel and testLabeledNoticeResponsesToChannel."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED)
    bar = connect("bar", *LABELED)
    foo.send("JOIN #test")
    bar.send("JOIN #test")
    foo.take()
    ms = msgs(foo.send(f"@label=12345;+draft/reply=123;+draft/react=l\U0001f603l {verb} #test :hi"))[0]
    mt = msgs(bar.take())[0]
    assert mt.verb == verb and mt.tags is None
    assert ms.verb == verb and ms.tags == {"label": "12345"}


@pytest.mark.parametrize("verb", ["PRIVMSG", "NOTICE"])
def test_labeled_privmsg_and_notice_responses_to_self(verb: str) -> None:
    """labeled_responses.py testLabeledPrivmsgResponsesToSelf and testLabeledNoticeResponsesToSelf."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED)
    got = msgs(foo.send(f"@label=12345 {verb} foo :hi"))
    assert len(got) >= 2
    labels = 0
    for m in got[:2]:
        assert m.verb == verb
        if "label" in tags_of(m):
            labels += 1
            assert tags_of(m)["label"] == "12345"
    assert labels == 1


def test_labeled_tag_msg_responses_to_client() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testLabeledTagMsgResponsesToClient."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED_TAGS)
    bar = connect("bar", *LABELED_TAGS)
    msgid = tags_of(msgs(foo.send("PRIVMSG bar :hi"))[0])["msgid"]
    assert msgid == tags_of(msgs(bar.take())[0])["msgid"]
    m = msgs(foo.send(f"@label=12345;+draft/reply={msgid};+draft/react=l\U0001f603l TAGMSG bar"))[0]
    m2 = msgs(bar.take())[0]
    assert m2.verb == "TAGMSG" and "label" not in tags_of(m2)
    assert tags_of(m2)["+draft/reply"] == msgid and tags_of(m2)["+draft/react"] == "l\U0001f603l"
    assert m.verb == "TAGMSG" and tags_of(m)["label"] == "12345"
    assert tags_of(m)["+draft/reply"] == msgid and tags_of(m)["+draft/react"] == "l\U0001f603l"


def test_labeled_tag_msg_responses_to_channel() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testLabeledTagMsgResponsesToChannel."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED_TAGS)
    bar = connect("bar", *LABELED_TAGS)
    foo.send("JOIN #test")
    bar.send("JOIN #test")
    foo.take()
    msgid = tags_of(msgs(foo.send("PRIVMSG #test :hi"))[0])["msgid"]
    assert msgid == tags_of(msgs(bar.take())[0])["msgid"]
    ms = msgs(foo.send(f"@label=12345;+draft/reply={msgid};+draft/react=l\U0001f603l TAGMSG #test"))[0]
    mt = msgs(bar.take())[0]
    assert mt.verb == "TAGMSG" and "label" not in tags_of(mt)
    assert tags_of(mt)["+draft/reply"] == msgid and tags_of(mt)["+draft/react"] == "l\U0001f603l"
    assert ms.verb == "TAGMSG" and tags_of(ms)["label"] == "12345" and tags_of(ms)["+draft/reply"] == msgid


def test_labeled_tag_msg_responses_to_self() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testLabeledTagMsgResponsesToSelf."""
    _, _, connect = make_world()
    foo = connect("foo", *LABELED_TAGS)
    got = msgs(foo.send("@label=12345;+draft/reply=123;+draft/react=l\U0001f603l TAGMSG foo"))
    assert len(got) >= 2
    labels = 0
    for m in got[:2]:
        assert m.verb == "TAGMSG"
        if "label" in tags_of(m):
            labels += 1
            assert tags_of(m)["label"] == "12345"
    assert labels == 1


def test_batched_join_messages() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testBatchedJoinMessages."""
    _, _, connect = make_world()
    bar = connect("bar", "batch", "labeled-response", "message-tags", "server-time")
    m = msgs(bar.send("@label=12345 JOIN #xyz"))
    assert len(m) >= 3
    start = m[0]
    assert start.verb == "BATCH" and len(start.params) == 2
    assert start.params[0].startswith("+") and start.params[1] == "labeled-response"
    batch_id = start.params[0][1:]
    assert full(r"[A-Za-z0-9\-]+", batch_id)
    assert tags_of(start).get("label") == "12345"
    assert m[-1].verb == "BATCH" and m[-1].params == ["-" + batch_id]
    for message in m[1:-1]:
        assert tags_of(message).get("batch") == batch_id


def test_no_batch_for_single_message() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testNoBatchForSingleMessage."""
    _, _, connect = make_world()
    bar = connect("bar", "batch", "labeled-response")
    m = msgs(bar.send("@label=98765 PING adhoctestline"))[0]
    assert m.verb == "PONG" and m.tags == {"label": "98765"} and m.params[-1] == "adhoctestline"


def test_empty_batch_for_no_response() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testEmptyBatchForNoResponse."""
    _, _, connect = make_world()
    bar = connect("bar", "batch", "labeled-response")
    ms = msgs(bar.send("@label=98765 PONG adhoctestline"))
    assert len(ms) == 1 and ms[0].verb == "ACK" and ms[0].tags == {"label": "98765"}


def test_unknown_command() -> None:
    """labeled_responses.py LabeledResponsesTestCase.testUnknownCommand."""
    _, _, connect = make_world()
    bar = connect("bar", "batch", "labeled-response")
    ms = msgs(bar.send("@label=deadbeef NONEXISTENT_COMMAND"))
    assert len(ms) == 1 and ms[0].verb == n.ERR_UNKNOWNCOMMAND and ms[0].tags == {"label": "deadbeef"}


# -- regressions.py (server-time and message-tags enabled after registration) --------------------------------


def test_tag_cap() -> None:
    """regressions.py RegressionsTestCase.testTagCap."""
    _, _, connect = make_world()
    alice = connect("alice", "message-tags", "batch", "echo-message", "server-time")
    bob = connect("bob")
    m = msgs(alice.send("@+draft/reply=ct95w3xemz8qj9du2h74wp8pee PRIVMSG bob :hey yourself"))[0]
    assert m.verb == "PRIVMSG" and m.params == ["bob", "hey yourself"]
    assert tags_of(m)["+draft/reply"] == "ct95w3xemz8qj9du2h74wp8pee"
    m = msgs(bob.take())[0]
    assert m.verb == "PRIVMSG" and m.params == ["bob", "hey yourself"] and m.tags is None

    bob.send("CAP REQ :message-tags server-time")
    alice.send("@+draft/reply=tbxqauh9nykrtpa3n6icd9whan PRIVMSG bob :hey again")
    m = msgs(bob.take())[0]
    assert m.verb == "PRIVMSG" and m.params == ["bob", "hey again"]
    assert tags_of(m)["+draft/reply"] == "tbxqauh9nykrtpa3n6icd9whan"


# -- statusmsg.py --------------------------------------------------------------------------------------------


def _statusmsg_world() -> tuple[IrcClient, IrcClient, IrcClient]:
    hub, options, connect = make_world()
    chanop, out = connect_raw(hub, options, "chanop")
    chanop.send("JOIN #chan")
    assert "@" in (isupport(out).get("STATUSMSG") or "")
    joe = connect("joe")
    joe.send("JOIN #chan")
    schmoe = connect("schmoe")
    names: set[str] = set()
    for m in only(schmoe.send("join #chan"), n.RPL_NAMREPLY):
        names.update(m.params[-1].split())
    assert names == {"@chanop", "joe", "schmoe"}
    chanop.take()
    joe.take()
    return chanop, joe, schmoe


def test_statusmsg_from_op() -> None:
    """statusmsg.py StatusmsgTestCase.testStatusmsgFromOp."""
    chanop, joe, schmoe = _statusmsg_world()
    chanop.send("MODE #chan +o schmoe")
    schmoe.take()
    joe.take()
    assert schmoe.send("privmsg @#chan :this message is for operators") == []
    status_msg = only(chanop.take(), "PRIVMSG")[0]
    assert status_msg.params == ["@#chan", "this message is for operators"]
    assert only(joe.take(), "PRIVMSG") == []


def test_statusmsg_from_regular() -> None:
    """statusmsg.py StatusmsgTestCase.testStatusmsgFromRegular."""
    chanop, joe, schmoe = _statusmsg_world()
    if schmoe.send("privmsg @#chan :this message is for operators") != []:
        return  # irctest: an implementation choice (regular users may not send to @#chan)
    status_msg = only(chanop.take(), "PRIVMSG")[0]
    assert status_msg.params == ["@#chan", "this message is for operators"]
    assert only(joe.take(), "PRIVMSG") == []


# -- away.py, away_notify.py ---------------------------------------------------------------------------------


def test_away() -> None:
    """away.py AwayTestCase.testAway."""
    _, _, connect = make_world()
    bar = connect("bar")
    assert n.RPL_NOWAWAY in verbs(bar.send("AWAY :I'm not here right now"))
    qux = connect("qux")
    m = msgs(qux.send("PRIVMSG bar :what's up"))[0]
    assert m.verb == n.RPL_AWAY and m.params == ["qux", "bar", "I'm not here right now"]
    bar.take()
    assert n.RPL_UNAWAY in verbs(bar.send("AWAY"))
    assert qux.send("PRIVMSG bar :what's up") == []


def test_away_ack() -> None:
    """away.py AwayTestCase.testAwayAck."""
    _, _, connect = make_world()
    bar = connect("bar")
    out = msgs(bar.send("AWAY :I'm not here right now"))
    assert len(out) == 1 and out[0].verb == n.RPL_NOWAWAY
    assert out[0].params[0] == "bar" and len(out[0].params) == 2
    out = msgs(bar.send("AWAY"))
    assert len(out) == 1 and out[0].verb == n.RPL_UNAWAY
    assert out[0].params[0] == "bar" and len(out[0].params) == 2


def test_away_privmsg() -> None:
    """away.py AwayTestCase.testAwayPrivmsg."""
    _, _, connect = make_world()
    bar = connect("bar")
    qux = connect("qux")
    assert qux.send("PRIVMSG bar :what's up") == []
    assert n.RPL_NOWAWAY in verbs(bar.send("AWAY :I'm not here right now"))
    m = msgs(qux.send("PRIVMSG bar :what's up"))[0]
    assert m.verb == n.RPL_AWAY and m.params == ["qux", "bar", "I'm not here right now"]


def test_away_whois() -> None:
    """away.py AwayTestCase.testAwayWhois."""
    _, _, connect = make_world()
    bar = connect("bar")
    qux = connect("qux")
    assert only(qux.send("WHOIS bar"), n.RPL_AWAY) == []
    assert n.RPL_NOWAWAY in verbs(bar.send("AWAY :I'm not here right now"))
    away = only(qux.send("WHOIS bar"), n.RPL_AWAY)
    assert len(away) == 1 and away[0].params == ["qux", "bar", "I'm not here right now"]


def test_away_userhost() -> None:
    """away.py AwayTestCase.testAwayUserhost."""
    _, _, connect = make_world()
    bar = connect("bar")
    qux = connect("qux")
    m = msgs(qux.send("USERHOST bar"))[0]
    assert m.verb == n.RPL_USERHOST and m.params[0] == "qux" and full(r"bar=\+.*", m.params[1])
    assert n.RPL_NOWAWAY in verbs(bar.send("AWAY :I'm not here right now"))
    m = msgs(qux.send("USERHOST bar"))[0]
    assert m.verb == n.RPL_USERHOST and m.params[0] == "qux" and full(r"bar=-.*", m.params[1])


def test_away_empty_message() -> None:
    """away.py AwayTestCase.testAwayEmptyMessage."""
    _, _, connect = make_world()
    bar = connect("bar")
    qux = connect("qux")
    assert n.RPL_NOWAWAY in verbs(bar.send("AWAY :I'm not here right now"))
    replies = verbs(qux.send("WHOIS bar"))
    assert n.RPL_WHOISUSER in replies and n.RPL_AWAY in replies
    assert n.RPL_UNAWAY in verbs(bar.send("AWAY :"))
    replies = verbs(qux.send("WHOIS bar"))
    assert n.RPL_WHOISUSER in replies and n.RPL_AWAY not in replies


def test_away_notify() -> None:
    """away_notify.py AwayNotifyTestCase.testAwayNotify."""
    _, _, connect = make_world()
    foo = connect("foo", "away-notify")
    foo.send("JOIN #chan")
    bar = connect("bar")
    bar.send("JOIN #chan")
    foo.take()
    bar.send("AWAY :i'm going away")
    m = msgs(foo.take())[0]
    assert m.verb == "AWAY" and m.params == ["i'm going away"]
    assert m.source is not None and m.source.startswith("bar!")


def test_away_notify_on_join() -> None:
    """away_notify.py AwayNotifyTestCase.testAwayNotifyOnJoin."""
    _, _, connect = make_world()
    foo = connect("foo", "away-notify")
    foo.send("JOIN #chan")
    bar = connect("bar")
    bar.send("AWAY :i'm already away")
    bar.send("JOIN #chan")
    away = only(foo.take(), "AWAY")
    assert len(away) == 1 and away[0].params == ["i'm already away"]
    assert away[0].source is not None and away[0].source.startswith("bar!")


# -- setname.py, extended_join.py ----------------------------------------------------------------------------


def test_setname_message() -> None:
    """setname.py SetnameMessageTestCase.testSetnameMessage."""
    _, _, connect = make_world()
    foo = connect("foo", "setname")
    m = msgs(foo.send("SETNAME bar"))[0]
    assert m.verb == "SETNAME" and m.params == ["bar"]
    assert only(foo.send("WHOIS foo"), n.RPL_WHOISUSER)[0].params[-1] == "bar"


def test_setname_channel() -> None:
    """setname.py SetnameMessageTestCase.testSetnameChannel."""
    _, _, connect = make_world()
    foo = connect("foo", "setname")
    bar = connect("bar", "setname")
    baz = connect("baz")
    for client in (foo, bar, baz):
        client.send("JOIN #chan")
    bar.take()
    baz.take()
    m = msgs(foo.send("SETNAME qux"))[0]
    assert m.verb == "SETNAME" and m.params == ["qux"]
    m = msgs(bar.take())[0]
    assert m.verb == "SETNAME" and m.params == ["qux"]
    assert baz.take() == []


def test_not_logged_in() -> None:
    """extended_join.py MetadataTestCase.testNotLoggedIn."""
    hub, options, _ = make_world()
    foo, _ = connect_raw(hub, options, "foo", "extended-join")
    foo.send("JOIN #chan")
    bar, _ = connect_raw(hub, options, "bar")
    bar.send("JOIN #chan")
    m = msgs(foo.take())[0]
    assert m.verb == "JOIN" and m.params == ["#chan", "*", "Realname"]


# -- isupport.py, isupport_limits.py -------------------------------------------------------------------------


def test_parameters() -> None:
    """isupport.py IsupportTestCase.testParameters."""
    hub, options, _ = make_world()
    _, out = connect_raw(hub, options, "foo")
    welcome_005s = only(out, n.RPL_ISUPPORT)
    assert len(welcome_005s) >= 1
    for msg in welcome_005s:
        assert 3 <= len(msg.params) <= 15
        assert msg.params[0] == "foo"
        assert all(param.isascii() for param in msg.params[1:-1])


def test_prefix() -> None:
    """isupport.py IsupportTestCase.testPrefix."""
    hub, options, _ = make_world()
    _, out = connect_raw(hub, options, "foo")
    prefix = isupport(out)["PREFIX"]
    assert prefix is not None
    if prefix == "":
        return
    m = re.fullmatch(r"\((?P<modes>[a-zA-Z]+)\)(?P<prefixes>\S+)", prefix)
    assert m is not None
    modes, prefixes = m.group("modes"), m.group("prefixes")
    assert len(modes) == len(prefixes)
    assert modes.index("o") < modes.index("v")
    if "h" in modes:
        assert modes.index("o") < modes.index("h") < modes.index("v")
    if "q" in modes:
        assert modes.index("q") < modes.index("o")
    symbol = dict(zip(modes, prefixes, strict=True))
    assert symbol["o"] == "@" and symbol["v"] == "+"
    assert symbol.get("h", "%") == "%" and symbol.get("q", "~") == "~" and symbol.get("a", "&") == "&"


def test_targmax() -> None:
    """isupport.py IsupportTestCase.testTargmax."""
    hub, options, _ = make_world()
    _, out = connect_raw(hub, options, "foo")
    targmax = isupport(out)["TARGMAX"]
    assert targmax
    for part in targmax.split(","):
        assert full("[A-Z]+:[0-9]*", part), part


@pytest.mark.parametrize("prefix", ["#", "&"])
def test_chanlimit(prefix: str) -> None:
    """isupport_limits.py IsupportLimitTestCase.testChanlimit."""
    hub, options, _ = make_world()
    foo, out = connect_raw(hub, options, "foo")
    chanlimit = isupport(out)["CHANLIMIT"]
    assert chanlimit
    limits = {
        key: int(value) if value else None
        for key, _, value in (p.partition(":") for p in chanlimit.split(","))
    }
    limit = limits.get(prefix)
    if limit is None:
        assert prefix == "&"  # irctest: an implementation choice (no limit for & channels: hubbub has none)
        return
    for i in range(limit):
        m = msgs(foo.send(f"JOIN {prefix}chan{i}"))[0]
        assert m.verb == "JOIN" and m.params == [f"{prefix}chan{i}"]
    m = msgs(foo.send(f"JOIN {prefix}chan"))[0]
    assert m.verb == n.ERR_TOOMANYCHANNELS and m.params[:2] == ["foo", f"{prefix}chan"] and len(m.params) == 3


@pytest.mark.parametrize("prefix", ["#", "&"])
def test_channellen(prefix: str) -> None:
    """isupport_limits.py IsupportLimitTestCase.testChannellen."""
    hub, options, _ = make_world()
    foo, out = connect_raw(hub, options, "foo")
    tokens = isupport(out)
    if prefix not in (tokens.get("CHANTYPES") or "#"):
        assert prefix == "&"  # irctest: not implemented by the server (no & channels)
        return
    channellen = int(tokens["CHANNELLEN"] or "0")
    valid = prefix + "a" * (channellen - 1)
    m = msgs(foo.send(f"JOIN {valid}"))[0]
    assert m.verb == "JOIN" and m.params == [valid]
    invalid = prefix + "b" * channellen
    m = msgs(foo.send(f"JOIN {invalid}"))[0]
    assert m.verb in (n.ERR_NOSUCHCHANNEL, "479", "448")
    assert m.params[:2] == ["foo", invalid] and len(m.params) == 3


def test_nicklen() -> None:
    """isupport_limits.py IsupportLimitTestCase.testNicklen."""
    hub, options, _ = make_world()
    foo, out = connect_raw(hub, options, "foo")
    nicklen = int(isupport(out)["NICKLEN"] or "0")
    valid = "a" * nicklen
    m = msgs(foo.send(f"NICK {valid}"))[0]
    assert m.verb == "NICK" and m.params == [valid]
    invalid = "b" * (nicklen + 5)
    m = msgs(foo.send(f"NICK {invalid}"))[0]
    assert m.verb == n.ERR_ERRONEUSNICKNAME and m.params[:2] == [valid, invalid] and len(m.params) == 3


# -- lusers.py -----------------------------------------------------------------------------------------------

_LUSERCLIENT = re.compile(r"^.*( [-0-9]* ).*( [-0-9]* ).*( [-0-9]* ).*$")
_LUSERME = re.compile(r"^.*?( [-0-9]* ).*( [-0-9]* ).*$")


class Lusers:
    """What irctest's getLusers reads from a LUSERS reply."""

    def __init__(self, client: IrcClient, allow_missing_265_266: bool) -> None:
        out = msgs(client.send("LUSERS"))
        by_numeric = {m.verb: m for m in out}
        assert all(m.params[0] == client.nick for m in out)
        luserclient = by_numeric[n.RPL_LUSERCLIENT]
        assert len(luserclient.params) == 2
        match = _LUSERCLIENT.match(luserclient.params[1])
        assert match is not None, luserclient
        self.visible, self.invisible, self.servers = (int(match.group(i)) for i in (1, 2, 3))
        self.opers = int(by_numeric[n.RPL_LUSEROP].params[1]) if n.RPL_LUSEROP in by_numeric else None
        unknown = by_numeric.get(n.RPL_LUSERUNKNOWN)
        self.unregistered = int(unknown.params[1]) if unknown is not None else None
        self.complete = False
        self.local_total = self.local_max = self.global_total = self.global_max = None
        if (
            allow_missing_265_266
            and n.RPL_LOCALUSERS not in by_numeric
            and n.RPL_GLOBALUSERS not in by_numeric
        ):
            return
        local, glob = by_numeric[n.RPL_LOCALUSERS], by_numeric[n.RPL_GLOBALUSERS]
        self.complete = True
        if len(local.params) != 4:
            assert len(local.params) == 2
            return
        self.local_total, self.local_max = int(local.params[1]), int(local.params[2])
        self.global_total, self.global_max = int(glob.params[1]), int(glob.params[2])
        luserme = by_numeric[n.RPL_LUSERME]
        assert len(luserme.params) == 2
        match = _LUSERME.match(luserme.params[1])
        assert match is not None, luserme
        assert self.local_total == int(match.group(1)) and int(match.group(2)) >= 0

    def check(self, unregistered: int, total: int, max_: int) -> None:
        """irctest's assertLusersResult."""
        assert self.unregistered in (unregistered, None)
        assert self.global_total in (total, None) and self.global_max in (max_, None)
        assert 0 <= self.invisible <= total and 0 <= self.visible <= total
        assert self.invisible + self.visible == total
        assert self.local_total in (total, None) and self.local_max in (max_, None)


def test_lusers() -> None:
    """lusers.py BasicLusersTestCase.testLusers."""
    _, _, connect = make_world()
    bar = connect("bar")
    Lusers(bar, True)
    qux = connect("qux")
    Lusers(qux, True)
    qux.send("QUIT")
    assert qux.link.closed is not None
    Lusers(bar, True)


def test_lusers_full() -> None:
    """lusers.py BasicLusersTestCase.testLusersFull."""
    _, _, connect = make_world()
    bar = connect("bar")
    Lusers(bar, False).check(unregistered=0, total=1, max_=1)
    qux = connect("qux")
    Lusers(qux, False).check(unregistered=0, total=2, max_=2)
    qux.send("QUIT")
    Lusers(bar, False).check(unregistered=0, total=1, max_=2)


def _do_lusers_test(allow_missing_265_266: bool) -> IrcClient:
    """lusers.py LusersUnregisteredTestCase.doLusersTest."""
    hub, options, connect = make_world()
    bar = connect("bar")
    Lusers(bar, allow_missing_265_266).check(unregistered=0, total=1, max_=1)
    qux = IrcClient(hub, options)
    assert set(verbs(qux.send("NICK qux", "PING PARAM"))) & {n.ERR_NOTREGISTERED, "PONG"}
    Lusers(bar, allow_missing_265_266).check(unregistered=1, total=1, max_=1)
    bat = IrcClient(hub, options)
    assert set(verbs(bat.send("NICK bat", "PING PARAM"))) & {n.ERR_NOTREGISTERED, "PONG"}
    Lusers(bar, allow_missing_265_266).check(unregistered=2, total=1, max_=1)
    assert n.RPL_WELCOME in verbs(qux.send("USER u s e r"))
    Lusers(bar, allow_missing_265_266).check(unregistered=1, total=2, max_=2)
    bat.send("QUIT")
    assert bat.link.closed is not None
    Lusers(bar, allow_missing_265_266).check(unregistered=0, total=2, max_=2)
    return bar


def test_lusers_rfc2812() -> None:
    """lusers.py LusersUnregisteredTestCase.testLusersRfc2812."""
    _do_lusers_test(True)


def test_lusers_unregistered_full() -> None:
    """lusers.py LusersUnregisteredTestCase.testLusersFull."""
    _do_lusers_test(False)


def test_lusers_unregistered_default_invisible() -> None:
    """lusers.py LusersUnregisteredDefaultInvisibleTestCase.testLusers (hubbub, like ergo there, makes every
    IRC user +i)."""
    bar = _do_lusers_test(False)
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=2, max_=2)
    assert lusers.invisible == 2 and lusers.visible == 0


def test_luser_opers() -> None:
    """lusers.py LuserOpersTestCase.testLuserOpers."""
    _, _, connect = make_world(opers={"operuser": "operpassword"})
    bar = connect("bar")
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=1, max_=1)
    assert lusers.opers in (0, None)
    assert n.RPL_YOUREOPER in verbs(bar.send("OPER operuser operpassword"))
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=1, max_=1)
    assert lusers.opers == 1
    qux = connect("qux")
    qux.send("OPER operuser operpassword")
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=2, max_=2)
    assert lusers.opers == 2
    assert "MODE" in verbs(bar.send("MODE bar -o"))
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=2, max_=2)
    assert lusers.opers == 1
    qux.send("QUIT")
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=1, max_=2)
    assert lusers.opers == 0


def test_lusers_invisible_default() -> None:
    """lusers.py ErgoInvisibleDefaultTestCase.testLusers."""
    _, _, connect = make_world()
    bar = connect("bar")
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=1, max_=1)
    assert (lusers.invisible, lusers.visible) == (1, 0)
    qux = connect("qux")
    lusers = Lusers(qux, False)
    lusers.check(unregistered=0, total=2, max_=2)
    assert (lusers.invisible, lusers.visible) == (2, 0)
    assert "MODE" in verbs(bar.send("MODE bar -i"))
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=2, max_=2)
    assert (lusers.invisible, lusers.visible) == (1, 1)
    qux.send("QUIT")
    lusers = Lusers(bar, False)
    lusers.check(unregistered=0, total=1, max_=2)
    assert (lusers.invisible, lusers.visible) == (0, 1)


# -- help.py, info.py, links.py ------------------------------------------------------------------------------


def _assert_valid_help(messages: list[Message], subject: str | None) -> None:
    def subject_ok(value: str) -> bool:
        return subject is None or value.lower() == subject.lower()

    assert messages[0].verb == n.RPL_HELPSTART
    assert messages[-1].verb == n.RPL_ENDOFHELP
    for i, m in enumerate(messages):
        if 0 < i < len(messages) - 1:
            assert m.verb == n.RPL_HELPTXT
        assert len(m.params) == 3 and m.params[0] == "nick" and subject_ok(m.params[1]), m


@pytest.mark.parametrize("command", ["HELP", "HELPOP"])
def test_help_no_arg(command: str) -> None:
    """help.py HelpTestCase.testHelpNoArg."""
    _, _, connect = make_world()
    client = connect("nick")
    _assert_valid_help(msgs(client.send(command)), None)


@pytest.mark.parametrize("command", ["HELP", "HELPOP"])
def test_help_privmsg(command: str) -> None:
    """help.py HelpTestCase.testHelpPrivmsg."""
    _, _, connect = make_world()
    client = connect("nick")
    _assert_valid_help(msgs(client.send(f"{command} PRIVMSG")), "PRIVMSG")


@pytest.mark.parametrize("command", ["HELP", "HELPOP"])
def test_help_unknown_subject(command: str) -> None:
    """help.py HelpTestCase.testHelpUnknownSubject."""
    _, _, connect = make_world()
    client = connect("nick")
    messages = msgs(client.send(f"{command} THISISNOTACOMMAND"))
    if messages[0].verb == n.ERR_HELPNOTFOUND:
        assert len(messages) == 1
        assert messages[0].params[0] == "nick" and messages[0].params[1].upper() == "THISISNOTACOMMAND"
        assert len(messages[0].params) == 3
    else:
        _assert_valid_help(messages, None)


def _oper_world() -> IrcClient:
    _, _, connect = make_world(opers={"operuser": "operpassword"})
    client = connect("nick")
    assert n.RPL_YOUREOPER in verbs(client.send("OPER operuser operpassword"))
    return client


def _assert_info(messages: list[Message]) -> None:
    last = messages.pop()
    assert last.verb == n.RPL_ENDOFINFO and last.params[0] == "nick" and len(last.params) == 2
    for m in messages:
        assert m.verb == n.RPL_INFO and m.params[0] == "nick" and len(m.params) == 2


def test_info() -> None:
    """info.py InfoTestCase.testInfo."""
    _assert_info(msgs(_oper_world().send("INFO")))


@pytest.mark.parametrize("target", [SERVER, "*test*", "nick"])
def test_info_target(target: str) -> None:
    """info.py InfoTestCase.testInfoTarget (irctest always sends the server's name; the others too here)."""
    client = _oper_world()
    _assert_info(msgs(client.send(f"INFO {SERVER}")))
    _assert_info(msgs(client.send(f"INFO {target}")))


@pytest.mark.parametrize("target", ["invalid.server.example", "invalidserver"])
def test_info_nosuchserver(target: str) -> None:
    """info.py InfoTestCase.testInfoNosuchserver."""
    m = msgs(_oper_world().send(f"INFO {target}"))[0]
    assert m.verb == n.ERR_NOSUCHSERVER and m.params[:2] == ["nick", target] and len(m.params) == 3


def test_links_single_server() -> None:
    """links.py LinksTestCase.testLinksSingleServer."""
    _, _, connect = make_world()
    client = connect("nick")
    messages = [m for m in msgs(client.send("LINKS")) if m.verb != "NOTICE"]
    end = messages.pop()
    assert end.verb == n.RPL_ENDOFLINKS and end.params[:2] == ["nick", "*"] and len(end.params) == 3
    if not messages:
        return
    m = messages[0]
    assert m.verb == n.RPL_LINKS and m.params[:3] == ["nick", SERVER, SERVER]
    assert full("0 .+", m.params[3])


# -- regressions.py ------------------------------------------------------------------------------------------


def test_failed_nick_change() -> None:
    """regressions.py RegressionsTestCase.testFailedNickChange."""
    _, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    ms = msgs(bob.send("NICK alice"))
    assert len(ms) == 1 and ms[0].verb == n.ERR_NICKNAMEINUSE
    assert alice.send("PRIVMSG bob hi") == []
    ms = msgs(bob.take())
    assert len(ms) == 1 and ms[0].verb == "PRIVMSG" and ms[0].params == ["bob", "hi"]


def test_case_changes() -> None:
    """regressions.py RegressionsTestCase.testCaseChanges."""
    _, _, connect = make_world()
    alice = connect("alice")
    alice.send("JOIN #test")
    bob = connect("bob")
    bob.send("JOIN #test")
    alice.take()
    ms = msgs(alice.send("NICK Alice"))
    assert len(ms) == 1 and ms[0].verb == "NICK" and ms[0].params == ["Alice"]
    ms = msgs(bob.take())
    assert len(ms) == 1 and ms[0].verb == "NICK" and ms[0].params == ["Alice"]
    assert alice.send("NICK Alice") == []
    assert bob.take() == []


def test_star_nick() -> None:
    """regressions.py RegressionsTestCase.testStarNick."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    replies = set(verbs(client.send("NICK *", "USER u s e r")))
    assert n.ERR_ERRONEUSNICKNAME in replies and n.RPL_WELCOME not in replies
    replies = set(verbs(client.send("NICK valid")))
    assert n.ERR_ERRONEUSNICKNAME not in replies and n.RPL_WELCOME in replies


def test_empty_nick() -> None:
    """regressions.py RegressionsTestCase.testEmptyNick."""
    hub, options, _ = make_world()
    client = IrcClient(hub, options)
    replies = set(verbs(client.send("NICK :", "USER u s e r")))
    assert replies - {"NOTICE"} and n.RPL_WELCOME not in replies


def test_nick_release() -> None:
    """regressions.py RegressionsTestCase.testNickRelease."""
    hub, options, connect = make_world()
    alice = connect("alice")
    nick_msgs = only(alice.send("NICK malice"), "NICK")
    assert len(nick_msgs) == 1 and nick_msgs[0].params == ["malice"]
    client = IrcClient(hub, options)
    assert registration_messages(client.send("NICK alice", "USER u s e r"))[0].verb == n.RPL_WELCOME


def test_nick_release_quit() -> None:
    """regressions.py RegressionsTestCase.testNickReleaseQuit."""
    hub, options, connect = make_world()
    alice = connect("alice")
    alice.send("QUIT")
    assert alice.link.closed is not None
    two = IrcClient(hub, options)
    assert registration_messages(two.send("NICK alice", "USER u s e r"))[0].verb == n.RPL_WELCOME
    two.send("QUIT")
    assert two.link.closed is not None
    three = IrcClient(hub, options)
    assert registration_messages(three.send("NICK ALICE", "USER u s e r"))[0].verb == n.RPL_WELCOME


def test_nick_release_unregistered() -> None:
    """regressions.py RegressionsTestCase.testNickReleaseUnregistered."""
    hub, options, _ = make_world()
    one = IrcClient(hub, options)
    one.send("NICK alice", "QUIT")
    assert one.link.closed is not None
    two = IrcClient(hub, options)
    assert registration_messages(two.send("NICK alice", "USER u s e r"))[0].verb == n.RPL_WELCOME
