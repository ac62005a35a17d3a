"""End-to-end: plain-text users read words, not IRC jargon (mode changes, kicks, notices, disconnections), and
a paste is passed on at the flood budget's pace instead of disconnecting its author; IRC clients keep the IRC
forms, side by side."""

from __future__ import annotations

import re
from collections.abc import Callable

from helpers import Client, ServerProcess

Start = Callable[..., ServerProcess]

IRC = ("--irc-port", "auto")
NOT_EXEMPT = ("--limit-exempt", "none")


def irc_sync(client: Client, token: str) -> list[str]:
    """Round-trip a PING: every line the server sent before it is returned."""
    client.send(f"PING {token}")
    client.expect(rf"PONG \S+ :{token}$")
    return client.skipped


def test_room_modes_in_words_for_plain_users_and_as_modes_for_irc(make_server: Start) -> None:
    server = make_server(*IRC)
    alice = server.irc("alice")
    alice.send("JOIN #irc")
    alice.expect(r" 366 alice #irc ")
    watch = server.irc("watch")
    watch.send("JOIN #irc")
    watch.expect(r" 366 watch #irc ")
    bob = server.connect("bob")
    bob.send("/join #irc")
    bob.expect(r"^\* You are in #irc with alice, watch$")
    irc_sync(alice, "joined")
    irc_sync(watch, "joined")
    # What alice sends, the IRC line the IRC watcher reads, and the line the plain-text user reads.
    cases = [
        ("+v bob", r"\+v bob", r"alice gave bob voice in #irc"),
        ("-v bob", r"-v bob", r"alice took voice from bob in #irc"),
        ("+o bob", r"\+o bob", r"alice made bob an operator of #irc"),
        ("-o bob", r"-o bob", r"alice took operator status from bob in #irc"),
        ("+m", r"\+m", r"#irc is now moderated: only voiced users may talk \(changed by alice\)"),
        ("-m", r"-m", r"#irc is no longer moderated: everyone may talk \(changed by alice\)"),
        ("+i", r"\+i", r"#irc is now invite-only: /invite lets people in \(changed by alice\)"),
        ("-i", r"-i", r"#irc is no longer invite-only \(changed by alice\)"),
        ("+k sesame", r"\+k sesame", r"#irc now needs a key to join: /join #irc sesame \(changed by alice\)"),
        ("-k sesame", r"-k \S+", r"#irc no longer needs a key to join \(changed by alice\)"),
        ("+l 10", r"\+l 10", r"#irc is now limited to 10 members \(changed by alice\)"),
        ("-l", r"-l", r"#irc no longer has a member limit \(changed by alice\)"),
        ("+s", r"\+s", r"#irc is now secret: it is hidden from /rooms and /who \(changed by alice\)"),
        ("-s", r"-s", r"#irc is no longer secret \(changed by alice\)"),
        ("-t", r"-t", r"#irc now lets everyone in it change the topic \(changed by alice\)"),
        ("+t", r"\+t", r"#irc now lets only its operators change the topic \(changed by alice\)"),
        ("-n", r"-n", r"#irc now takes messages from people outside it too \(changed by alice\)"),
        ("+n", r"\+n", r"#irc now takes messages from its members only \(changed by alice\)"),
        ("+b *!*@bad.example", r"\+b \*!\*@bad\.example", r"alice banned \*!\*@bad\.example from #irc"),
        ("-b *!*@bad.example", r"-b \*!\*@bad\.example", r"alice lifted the ban on \*!\*@bad\.example in #"),
        ("+e *!*@ok.example", r"\+e \*!\*@ok\.example", r"alice let \*!\*@ok\.example into #irc whatever"),
        ("-e *!*@ok.example", r"-e \*!\*@ok\.example", r"alice took back the ban exception of \*!\*@ok\."),
        ("+I *!*@in.example", r"\+I \*!\*@in\.example", r"alice let \*!\*@in\.example into #irc without an"),
        ("-I *!*@in.example", r"-I \*!\*@in\.example", r"alice took back the invite exception of \*!\*@in\."),
    ]
    for sent, irc_form, words in cases:
        alice.send(f"MODE #irc {sent}")
        watch.expect_next(rf"^:alice!\S+ MODE #irc {irc_form}$")
        bob.expect_next(rf"^\* {words}")
    # Several changes in one MODE: one line each, in order.
    alice.send("MODE #irc +mv bob")
    watch.expect_next(r"^:alice!\S+ MODE #irc \+mv bob$")
    bob.expect_next(r"^\* #irc is now moderated: only voiced users may talk \(changed by alice\)$")
    bob.expect_next(r"^\* alice gave bob voice in #irc$")
    assert not [line for line in bob.sync() if "set mode" in line]


def kick_world(server: ServerProcess) -> tuple[Client, Client, Client, Client]:
    """alice (IRC, the operator of #k), watch (IRC), pat and carol (plain) in #k."""
    alice = server.irc("alice")
    alice.send("JOIN #k")
    alice.expect(r" 366 alice #k ")
    watch = server.irc("watch")
    watch.send("JOIN #k")
    watch.expect(r" 366 watch #k ")
    pat = server.connect("pat")
    pat.send("/join #k")
    pat.expect(r"^\* You are in #k")
    carol = server.connect("carol")
    carol.send("/join #k")
    carol.expect(r"^\* You are in #k")
    pat.expect(r"^\* carol joined #k$")
    irc_sync(alice, "ready")
    irc_sync(watch, "ready")
    return alice, watch, pat, carol


def test_a_kick_reads_you_were_kicked_to_the_kicked_plain_user(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, watch, pat, carol = kick_world(server)
    alice.send("KICK #k pat :go away")
    pat.expect_next(r"^\* You were kicked from #k by alice \(go away\)$")
    carol.expect_next(r"^\* pat was kicked from #k by alice \(go away\)$")
    watch.expect_next(r"^:alice!\S+ KICK #k pat :go away$")
    alice.expect_next(r"^:alice!\S+ KICK #k pat :go away$")
    pat.send("still here?")
    pat.expect_next(r"^! You are not in a room")
    # No reason given: none shown to plain users (IRC shows the kicker's nickname, as servers do).
    pat.send("/join #k")
    pat.expect(r"^\* You are in #k")
    carol.expect(r"^\* pat joined #k$")
    alice.send("KICK #k pat")
    pat.expect_next(r"^\* You were kicked from #k by alice$")
    carol.expect_next(r"^\* pat was kicked from #k by alice$")
    watch.expect(r"^:alice!\S+ KICK #k pat :alice$")


def test_a_kicked_irc_user_keeps_the_irc_kick(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, watch, pat, _ = kick_world(server)
    alice.send("KICK #k watch :out")
    watch.expect_next(r"^:alice!\S+ KICK #k watch :out$")
    pat.expect_next(r"^\* watch was kicked from #k by alice \(out\)$")
    watch.send("PRIVMSG #k :back?")
    watch.expect(r" 404 watch #k ")


def test_notices_read_dash_nick_dash_live_and_in_history(make_server: Start) -> None:
    server = make_server(*IRC)
    alice = server.irc("alice")
    alice.send("JOIN #lobby")
    alice.expect(r" 366 alice #lobby ")
    pat = server.connect("pat")
    alice.send("NOTICE #lobby :to the room")
    pat.expect(r"^-alice- to the room$")
    alice.send("NOTICE pat :to you alone")
    pat.expect_next(r"^-alice- to you alone$")
    pat.send("/history 5")
    pat.expect(r"^\[\d\d:\d\d\] -alice- to the room$")


def test_a_flooding_plain_user_reads_words_and_an_irc_user_the_error(make_server: Start) -> None:
    server = make_server(
        *IRC,
        *NOT_EXEMPT,
        "--flood-lines",
        "5",
        "--flood-burst",
        "5",
        "--flood-kill",
        "2",
        "--flood-paste",
        "0",
    )
    watcher = server.connect("watcher")
    flooder = server.connect("flooder")
    watcher.expect(r"is now known as flooder$")
    flooder.send_raw(b"".join(f"flood {i:04d}\n".encode() for i in range(100)))
    lines = flooder.wait_eof()
    assert lines[-1:] == ["! You were disconnected for flooding (more than 5 lines a second)"], lines[-3:]
    assert not any("Closing Link" in line for line in lines)
    watcher.expect(r"^\* flooder left \(Excess Flood\)$")
    ircflood = server.irc("ircflood")
    ircflood.send("JOIN #lobby")
    watcher.expect(r"^\* ircflood joined #lobby$")
    ircflood.send_raw(b"".join(f"PRIVMSG #lobby :flood {i}\r\n".encode() for i in range(100)))
    lines = ircflood.wait_eof()
    assert lines[-1:] == ["ERROR :Closing Link: 127.0.0.1 (Excess Flood)"], lines[-3:]
    assert not any("slow down" in line or "behind" in line for line in lines)


# -- pasting -------------------------------------------------------------------------------------------------

#: 100 lines a second, a burst of 20, 2 seconds of lag, and 200 lines of paste (2 more seconds): a paste of up
#: to 220 lines passes quietly, up to 420 with a warning, and more disconnects (200: --flood-paste's default).
PASTE = (*NOT_EXEMPT, "--flood-lines", "100", "--flood-burst", "20", "--flood-kill", "2")


def test_a_200_line_paste_arrives_in_order_with_one_notice(make_server: Start) -> None:
    server = make_server(*PASTE)
    reader = server.connect("reader")
    paster = server.connect("paster")
    reader.expect(r"is now known as paster$")
    paster.send_raw(b"".join(f"pasted line {i:03d}\n".encode() for i in range(200)))
    for i in range(200):
        reader.expect_next(rf"^<paster> pasted line {i:03d}$")
    told = paster.sync()
    assert len(told) == 1 and re.fullmatch(r"\* slow down: 18[01] lines queued", told[0]), told
    assert not server.find_log("excess flood")


def test_a_paste_past_the_bound_is_warned_then_still_passed_on(make_server: Start) -> None:
    server = make_server(*PASTE)
    reader = server.connect("reader")
    paster = server.connect("paster")
    reader.expect(r"is now known as paster$")
    paster.send_raw(b"".join(f"long paste {i:03d}\n".encode() for i in range(300)))
    for i in range(300):
        reader.expect_next(rf"^<paster> long paste {i:03d}$")
    told = paster.sync()
    assert len(told) == 2, told
    assert re.fullmatch(r"\* slow down: 28[01] lines queued", told[0]), told
    assert told[1] == "* you are 3 seconds behind; past 4 you will be disconnected", told


def test_a_paste_far_past_the_bound_is_warned_then_disconnected(make_server: Start) -> None:
    server = make_server(*IRC, *PASTE)
    reader = server.connect("reader")
    irc_reader = server.irc("ircreader")
    irc_reader.send("JOIN #lobby")
    reader.expect(r"^\* ircreader joined #lobby$")
    paster = server.connect("paster")
    reader.expect(r"is now known as paster$")
    paster.send_raw(b"".join(f"too much {i:04d}\n".encode() for i in range(1000)))
    lines = paster.wait_eof()
    assert re.fullmatch(r"\* slow down: 98[01] lines queued", lines[-3]), lines[-5:]
    assert lines[-2:] == [
        "* you are 10 seconds behind; past 4 you will be disconnected",
        "! You were disconnected for flooding (more than 100 lines a second)",
    ], lines[-5:]
    reader.expect(r"^\* paster left \(Excess Flood\)$")
    irc_reader.expect(r"^:paster!\S+ QUIT :Excess Flood$")
    assert not [line for line in reader.skipped if re.search(r"too much", line)]


def test_a_paste_as_the_very_first_input_is_tolerated_too(make_server: Start) -> None:
    """``nc HOST PORT < notes.txt``: the first read is the paste, before the protocol is known."""
    server = make_server(*PASTE)
    reader = server.connect("reader")
    piped = Client(server.port)
    server.clients.append(piped)
    # 300 lines: past --flood-kill (2.8 seconds behind), within the paste allowance.
    piped.send_raw(b"".join(f"from a file {i:03d}\n".encode() for i in range(300)))
    reader.expect(r"^\* guest-\d+ joined #lobby$")
    for i in range(300):
        reader.expect_next(rf"^<guest-\d+> from a file {i:03d}$")
    assert not server.find_log("excess flood")
