"""End-to-end: raw-socket clients talking through a real server, as netcat users would."""

from __future__ import annotations

import re
from collections.abc import Callable

from helpers import Client, ServerProcess


def test_greeting_gives_a_guest_nick_in_the_lobby(server: ServerProcess) -> None:
    client = Client(server.port)
    welcome = client.expect_next(r"^\* Welcome to hubbub, (guest-\d+)! Type /help for commands\.$")
    client.expect_next(r"^\* You are in #lobby, alone for now$")
    second = server.connect()
    assert second.nick != welcome.group(1)
    client.expect(rf"^\* {second.nick} joined #lobby$")
    client.close()


def test_a_line_reaches_every_other_member_but_not_the_sender(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    carol = server.connect("carol")
    alice.send("hello, world")
    bob.expect(r"^<alice> hello, world$")
    carol.expect(r"^<alice> hello, world$")
    assert "<alice> hello, world" not in alice.sync() + alice.seen


def test_joins_nick_changes_and_leaves_are_announced(server: ServerProcess) -> None:
    alice = server.connect("alice")
    guest = server.connect()
    alice.expect(rf"^\* {guest.nick} joined #lobby$")
    guest.send("/nick bob")
    guest.expect(r"^\* You are now known as bob$")
    alice.expect(rf"^\* {guest.nick} is now known as bob$")
    guest.close()
    alice.expect(r"^\* bob left \(connection closed\)$")
    guest2 = server.connect()
    guest2.send("/quit see you")
    guest2.expect(r"^\* Goodbye!$")
    assert guest2.wait_eof() == []
    alice.expect(rf"^\* {guest2.nick} left \(see you\)$")


def test_rooms_are_separate_and_listed(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    carol = server.connect("carol")
    bob.send("/join #dev")
    bob.expect(r"^\* You are in #dev, alone for now$")
    alice.expect(r"^\* bob left #lobby$")
    carol.send("/join dev")  # the # is optional
    carol.expect(r"^\* You are in #dev with bob$")
    bob.expect(r"^\* carol joined #dev$")
    carol.send("only for dev")
    bob.expect(r"^<carol> only for dev$")
    assert not any("only for dev" in line for line in alice.sync())
    alice.send("/rooms")
    alice.expect(r"^\* 2 rooms:$")
    alice.expect_next(r"^\*   #dev \(2 members\)$")
    alice.expect_next(r"^\*   #lobby \(1 member\)$")
    bob.send("/who")
    bob.expect(r"^\* 2 in #dev: @bob, carol \(you are an operator here\)$")
    alice.send("/who #dev")
    alice.expect(r"^\* 2 in #dev: @bob, carol$")
    bob.send("/part")
    bob.expect(r"^\* You left #dev\.")
    carol.expect(r"^\* bob left #dev$")
    bob.send("talking to nobody")
    bob.expect(r"^! You are not in a room: /join #room first$")
    bob.send("/join #dev")
    bob.expect(r"^\* You are in #dev with carol$")
    bob.send("/join #DEV")
    bob.expect(r"^! You are already in #dev$")


def test_private_messages(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    carol = server.connect("carol")
    alice.send("/msg BOB psst, over here")
    alice.expect(r"^-> \*bob\* psst, over here$")
    bob.expect(r"^\*alice\* psst, over here$")
    assert not any("psst" in line for line in carol.sync())
    alice.send("/msg nobody hello?")
    alice.expect(r"^! No such nickname: nobody$")
    alice.send("/msg bob")
    alice.expect(r"^! Usage: /msg NICK text, or /msg #room text$")


def test_actions_and_escaped_slashes(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    alice.send("/me waves")
    bob.expect(r"^\* alice waves$")
    alice.send("//etc/passwd is a path")
    bob.expect_next(r"^<alice> /etc/passwd is a path$")


def test_nickname_rules(server: ServerProcess) -> None:
    alice = server.connect("Alice")
    bob = server.connect("bob")
    for taken in ("alice", "ALICE"):
        bob.send(f"/nick {taken}")
        bob.expect(rf"^! Nickname {taken} is already in use$")
    for bad in ("9lives", "-dash", "sp@ce", "x" * 33, "café"):
        bob.send(f"/nick {bad}")
        bob.expect(r"^! Invalid nickname .*: use 1-32 letters, digits")
    bob.send("/nick [x]_`^{|}-")
    bob.expect(r"^\* You are now known as \[x\]_`\^\{\|\}-$")
    alice.expect(r"^\* bob is now known as \[x\]_`\^\{\|\}-$")
    alice.send("/nick alice")  # a change of case is allowed
    alice.expect(r"^\* You are now known as alice$")
    bob.send("still here")
    alice.expect(r"^<\[x\]_`\^\{\|\}-> still here$")


def test_unknown_commands_and_help(server: ServerProcess) -> None:
    alice = server.connect("alice")
    alice.send("/frobnicate now")
    alice.expect(r"^! Unknown command /frobnicate; type /help for the list$")
    alice.send("/help")
    alice.expect(r"^Commands:$")
    help_text = [alice.read_line() for _ in range(13)]
    for command in ("/nick", "/join", "/part", "/rooms", "/who", "/msg", "/me", "/quit", "/help"):
        assert any(line and line.lstrip().startswith(command) for line in help_text), command
    alice.send("/join bad,room")
    alice.expect(r"^! Invalid room name '#bad,room'")


def test_framing_crlf_split_and_merged_lines(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    alice.send_raw(b"one\r\ntwo\nthr")
    bob.expect(r"^<alice> one$")
    bob.expect_next(r"^<alice> two$")
    alice.send_raw(b"ee\r")
    alice.send_raw(b"\n\n\r\n   \nfour\n")
    bob.expect_next(r"^<alice> three$")
    bob.expect_next(r"^<alice> four$")


def test_overlong_line_is_refused_and_the_connection_lives(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server("--max-line", "100")
    alice = server.connect("alice")
    bob = server.connect("bob")
    alice.send("x" * 101)
    alice.expect(r"^! Line too long \(the limit is 100 bytes\); it was not sent$")
    alice.send_raw(b"y" * 5000)
    alice.send_raw(b"y" * 5000 + b"\nafter\n")
    alice.expect(r"^! Line too long")
    alice.send("z" * 100)
    bob.expect(r"^<alice> after$")
    bob.expect(rf"^<alice> {'z' * 100}$")


def test_invalid_utf8_controls_and_telnet_bytes_are_cleaned(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    alice.send_raw(b"caf\xe9 \xc3\xa9t\xc3\xa9\n")
    bob.expect(r"^<alice> caf\ufffd \u00e9t\u00e9$")
    alice.send_raw(b"\x1b[31mred\x1b[0m\x07 and\ttab\x00\n")
    bob.expect_next(r"^<alice> red and tab$")  # escape sequences go whole
    alice.send_raw(b"\xff\xfb\x01\xff\xfd\x03\xff\xfa\x18\x01\xff\xf0telnet\xff\xf4\r\n")
    bob.expect_next(r"^<alice> telnet$")


def test_eof_with_an_unterminated_last_line(server: ServerProcess) -> None:
    alice = server.connect("alice")
    bob = server.connect("bob")
    bob.send("/who")
    bob.expect(r"^\* 2 in #lobby")
    alice.send_raw(b"last words")
    alice.sock.shutdown(1)  # half-close, as `nc -N` does: the answer still arrives
    bob.expect(r"^<alice> last words$")
    bob.expect_next(r"^\* alice left \(connection closed\)$")
    assert not [line for line in alice.wait_eof() if line.startswith("!")]


def test_half_closed_client_still_gets_its_answer(server: ServerProcess) -> None:
    client = server.connect("solo")
    client.send("/rooms")
    client.sock.shutdown(1)
    lines = client.wait_eof()
    assert lines[:2] == ["* 1 room:", "*   #lobby (1 member)"]


def test_connection_reset_ends_the_session_cleanly(server: ServerProcess) -> None:
    import socket
    import struct

    alice = server.connect("alice")
    bob = server.connect("bob")
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    bob.sock.close()  # sends RST
    alice.expect(r"^\* bob left \(connection reset by peer\)$")
    again = server.connect("bob")  # the nickname is free again
    alice.expect(r"^\* guest-\d+ is now known as bob$")
    again.send("back")
    alice.expect_next(r"^<bob> back$")


def test_the_log_has_a_line_per_connection_and_disconnection(server: ServerProcess) -> None:
    alice = server.connect("alice")
    local_port = alice.sock.getsockname()[1]
    found = server.wait_log(rf"#(\d+) connected from 127\.0\.0\.1:{local_port} \(plain text\)")
    alice.send("/quit done for today")
    alice.wait_eof()
    server.wait_log(rf"#{found.group(1)} disconnected 127\.0\.0\.1:{local_port}: done for today")
    assert not server.find_log("done for today.*done for today")
    assert re.search(r"hubbub \S+ started", "\n".join(server.log))


def test_join_with_the_rooms_key_and_a_wrong_key_leaves_you_where_you_were(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server("--irc-port", "auto")
    op = server.irc("keeper")
    op.send("JOIN #vault")
    op.expect(r" 366 keeper #vault ")
    op.send("MODE #vault +k sesame")
    op.expect(r"MODE #vault \+k sesame$")
    plain = server.connect("visitor")
    watcher = server.connect("watcher")
    plain.send("/join #vault")
    plain.expect(r"^! .*#vault")
    plain.send("/join #vault wrong")
    plain.expect(r"^! .*#vault")
    plain.send("still in the lobby")
    watcher.expect(r"^<visitor> still in the lobby$")
    plain.send("/join #vault sesame")
    plain.expect(r"^\* You are in #vault with keeper$")
    op.expect(r"^:visitor!\S+ JOIN #vault$")
    watcher.expect(r"^\* visitor left #lobby")


def test_plain_listings_hide_secret_rooms_and_invisible_users_as_irc_does(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server("--irc-port", "auto")
    hider = server.irc("hider")  # IRC users are +i (invisible) by default
    hider.send("JOIN #hideout")
    hider.expect(r" 366 hider #hideout ")
    hider.send("MODE #hideout +s")
    hider.expect(r"MODE #hideout \+s$")
    hider.send("JOIN #open")
    hider.expect(r" 366 hider #open ")
    seen = server.irc("seen")
    seen.send("MODE seen -i")
    seen.expect(r"MODE seen :?-i$")
    seen.send("JOIN #open")
    seen.expect(r" 366 seen #open ")
    outsider = server.connect("outsider")
    outsider.send("/rooms")
    rows = outsider.sync()
    assert "*   #open (2 members)" in rows and not any("hideout" in row for row in rows), rows
    outsider.send("/who #hideout")
    outsider.expect(r"^! No such room: #hideout$")
    outsider.send("/who #open")
    outsider.expect(r"^\* 1 in #open: seen$")  # hider is invisible to those outside the room
    outsider.send("/join #open")
    outsider.expect(r"^\* You are in #open with hider, seen$")
    outsider.send("/who")
    outsider.expect(r"^\* 3 in #open: @hider, outsider, seen$")  # a member sees everyone


def test_a_closed_connection_reads_the_same_whatever_its_protocol(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server("--irc-port", "auto")
    watcher = server.connect("watcher")
    ircer = server.irc("ircer")
    ircer.send("JOIN #lobby")
    ircer.expect(r" 366 ircer #lobby ")
    ircer.close()
    watcher.expect(r"^\* ircer left \(connection closed\)$")
    plain = server.connect("plainer")
    plain.close()
    watcher.expect(r"^\* plainer left \(connection closed\)$")
    server.wait_log(r"disconnected 127\.0\.0\.1:\d+: connection closed$")
    assert not any("Connection closed" in line for line in server.log)
