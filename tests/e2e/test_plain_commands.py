"""End-to-end: the plain-text commands a person expects, over real sockets: /topic, /away, /whois, /op, /deop,
/voice, /devoice, /invite, /motd, /ignore, /msg #room, /help COMMAND, the aliases, /who's marks, and a room
that lost its last operator giving op to the next to join (plain text and IRC alike)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpers import Client, ServerProcess

IRC = ("--irc-port", "auto")

Start = Callable[..., ServerProcess]


def test_topic_shows_and_sets_the_rooms_topic(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob = server.connect("alice"), server.connect("bob")
    erin = server.irc("erin")
    erin.send("JOIN #lobby")
    erin.expect(r" 366 erin #lobby ")
    alice.send("/topic")
    alice.expect(r"^\* #lobby has no topic; /topic text sets one$")
    alice.send("/topic   Be kind  ")
    alice.expect(r"^\* You set the topic of #lobby: Be kind$")
    bob.expect(r"^\* alice set the topic of #lobby: Be kind$")
    erin.expect(r"^:alice!\S+ TOPIC #lobby :Be kind$")
    bob.send("/topic")
    bob.expect(r"^\* Topic of #lobby: Be kind \(set by alice\)$")
    bob.send("/topic mine now")  # +t: operators only
    bob.expect(r"^! You are not an operator of #lobby$")
    alice.send("/topic Be kind")
    alice.expect(r"^\* The topic of #lobby is already that$")
    erin.send("TOPIC #lobby :from irc")  # erin is no operator either
    erin.expect(r" 482 erin #lobby ")
    alice.send("/part")
    alice.expect(r"^\* You left #lobby")
    alice.send("/topic")
    alice.expect(r"^! You are not in a room: /join #room first$")


def test_away_is_shown_to_those_who_message_you_and_in_whois(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob = server.connect("alice"), server.connect("bob")
    erin = server.irc("erin")
    bob.send("/away")
    bob.expect(r"^\* You are not away; /away message says you are$")
    bob.send("/away lunch")
    bob.expect(r"^\* You are away: lunch$")
    alice.send("/msg bob are you there?")
    alice.expect(r"^-> \*bob\* are you there\?$")
    alice.expect(r"^\* bob is away: lunch$")
    bob.expect(r"^\*alice\* are you there\?$")
    erin.send("PRIVMSG bob :and from irc")
    erin.expect(r" 301 erin bob :lunch$")  # IRC's away reply: the same away, through the core
    alice.send("/whois bob")
    alice.expect(r"^\*   away: lunch$")
    erin.send("AWAY :gone fishing")
    erin.expect(r" 306 erin ")
    alice.send("/msg erin hello")
    alice.expect(r"^-> \*erin\* hello$")
    alice.expect(r"^\* erin is away: gone fishing$")
    bob.send("/away")
    bob.expect(r"^\* You are back$")
    alice.send("/msg bob welcome back")
    alice.expect(r"^-> \*bob\* welcome back$")
    assert not any("away" in line for line in alice.sync())


def test_whois_tells_who_someone_is_without_their_address(make_server: Start, tmp_path: Path) -> None:
    server = make_server(*IRC)
    alice, bob = server.connect("alice"), server.connect("bob")
    bob.send("/register hunter22")
    bob.expect(r"^\* You registered the account bob and are logged in")
    erin = server.irc("erin")  # +i, as every IRC user
    for room in ("#lobby", "#hideout"):
        erin.send(f"JOIN {room}")
        erin.expect(rf" 366 erin {room} ")
    alice.send("/whois bob")
    alice.expect(r"^\* bob$")
    alice.expect_next(r"^\*   logged in as bob$")
    alice.expect_next(r"^\*   in #lobby$")
    alice.expect_next(r"^\*   idle \d+s, connected \d+s ago$")
    alice.send("/whois erin")  # invisible: only the rooms alice shares with her
    alice.expect(r"^\* erin$")
    alice.expect_next(r"^\*   not logged in$")
    alice.expect_next(r"^\*   in #lobby$")
    alice.expect_next(r"^\*   idle \d+s, connected \d+s ago$")
    alice.send("/whois alice")
    alice.expect(r"^\* alice \(you\)$")
    alice.expect_next(r"^\*   not logged in$")
    alice.expect_next(r"^\*   in @#lobby$")  # the first in #lobby: its operator
    alice.send("/whois nobody")
    alice.expect(r"^! No such nickname: nobody$")
    alice.send("/whois")
    alice.expect(r"^! Usage: /whois NICK$")
    assert not any("127.0.0.1" in line for line in alice.seen)
    bob.send("/join #hideout")
    bob.expect(r"^\* You are in #hideout with erin$")
    bob.send("/whois erin")  # bob shares #hideout now (and no longer #lobby)
    bob.expect(r"^\* erin$")
    bob.expect_next(r"^\*   not logged in$")
    bob.expect_next(r"^\*   in @#hideout$")  # erin made #hideout: its operator


def test_room_operators_give_and_take_op_and_voice(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob, carol = server.connect("alice"), server.connect("bob"), server.connect("carol")
    erin = server.irc("erin")
    erin.send("JOIN #lobby")
    erin.expect(r" 366 erin #lobby ")
    carol.send("/op bob")
    carol.expect(r"^! You are not an operator of #lobby$")
    alice.send("/op bob")
    alice.expect(r"^\* You made bob an operator of #lobby$")
    erin.expect(r"^:alice!\S+ MODE #lobby \+o bob$")
    bob.send("/who")
    bob.expect(r"^\* 4 in #lobby: @alice, @bob, carol, erin \(you are an operator here\)$")
    bob.send("/voice carol")
    bob.expect(r"^\* You gave carol voice in #lobby$")
    erin.expect(r"^:bob!\S+ MODE #lobby \+v carol$")
    bob.send("/voice carol")
    bob.expect(r"^! carol already has voice in #lobby$")
    carol.send("/who")
    carol.expect(r"^\* 4 in #lobby: @alice, @bob, \+carol, erin$")
    bob.send("/devoice carol")
    bob.expect(r"^\* You took voice from carol in #lobby$")
    alice.send("/deop bob")
    alice.expect(r"^\* bob is no longer an operator of #lobby$")
    alice.send("/deop bob")
    alice.expect(r"^! bob is not an operator of #lobby$")
    erin.expect(r"^:alice!\S+ MODE #lobby -o bob$")
    bob.send("/voice carol")
    bob.expect(r"^! You are not an operator of #lobby$")
    alice.send("/op nobody")
    alice.expect(r"^! No such nickname: nobody$")
    alice.send("/voice")
    alice.expect(r"^! Usage: /voice NICK$")
    carol.send("/who")
    carol.expect(r"^\* 4 in #lobby: @alice, bob, carol, erin$")


def test_invite_lets_someone_into_an_invite_only_room(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob, carol = server.connect("alice"), server.connect("bob"), server.connect("carol")
    alice.send("/join #club")
    alice.expect(r"^\* You are in #club, alone for now$")
    erin = server.irc("erin")
    erin.send("JOIN #club")
    erin.expect(r" 366 erin #club ")
    alice.send("/op erin")
    alice.expect(r"^\* You made erin an operator of #club$")
    erin.send("MODE #club +i")
    erin.expect(r"^:erin!\S+ MODE #club \+i$")
    carol.send("/join #club")
    carol.expect(r"^! .*#club.*invit")
    alice.send("/invite bob")
    alice.expect(r"^\* You invited bob to #club$")
    bob.expect(r"^\* alice invited bob to #club \(/join #club\)$")
    bob.send("/join #club")
    bob.expect(r"^\* You are in #club with alice, erin$")
    bob.send("/invite carol")  # +i: operators only
    bob.expect(r"^! You are not an operator of #club$")
    alice.send("/invite bob #club")
    alice.expect(r"^! bob is already in #club$")
    carol.send("/invite erin lobby")  # the # is optional
    carol.expect(r"^\* You invited erin to #lobby$")
    erin.expect(r"^:carol!\S+ INVITE erin :?#lobby$")
    carol.send("/invite")
    carol.expect(r"^! Usage: /invite NICK \[#room\]$")


def test_the_motd_is_shown_on_arrival_and_with_motd(make_server: Start, tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("Welcome to the test server.\n\nBe kind.\n", encoding="utf-8")
    server = make_server("--motd", str(motd))
    client = Client(server.port)
    server.clients.append(client)
    client.expect_next(r"^\* Welcome to hubbub, guest-\d+! Type /help for commands\.$")
    client.expect_next(r"^\* Message of the day of hubbub:$")
    client.expect_next(r"^\*   Welcome to the test server\.$")
    client.expect_next(r"^\*   $")
    client.expect_next(r"^\*   Be kind\.$")
    client.expect_next(r"^\* You are in #lobby, alone for now$")
    client.send("/motd")
    client.expect_next(r"^\* Message of the day of hubbub:$")
    client.expect_next(r"^\*   Welcome to the test server\.$")


def test_no_motd_means_no_motd_lines(server: ServerProcess) -> None:
    client = Client(server.port)
    server.clients.append(client)
    client.expect_next(r"^\* Welcome to hubbub, ")
    client.expect_next(r"^\* You are in #lobby, alone for now$")
    client.send("/motd")
    client.expect_next(r"^\* hubbub has no message of the day$")


def test_the_example_motd_is_a_file_the_server_reads(make_server: Start) -> None:
    sample = Path(__file__).resolve().parents[2] / "motd.example.txt"
    first = sample.read_text(encoding="utf-8").splitlines()[0]
    server = make_server("--motd", str(sample))
    client = Client(server.port)
    server.clients.append(client)
    client.expect(r"^\* Message of the day of hubbub:$")
    client.expect_next(rf"^\*   {re.escape(first)}$")


def test_ignore_hides_someones_lines_and_messages_for_this_connection(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob, carol = server.connect("alice"), server.connect("bob"), server.connect("carol")
    erin = server.irc("erin")
    erin.send("JOIN #lobby")
    erin.expect(r" 366 erin #lobby ")
    alice.send("/ignore")
    alice.expect(r"^\* You ignore nobody$")
    alice.send("/ignore Bob")
    alice.expect(r"^\* You ignore Bob: you will not see their lines or messages \(/unignore Bob to stop\)$")
    alice.send("/ignore erin")
    alice.expect(r"^\* You ignore erin: ")
    alice.send("/ignore")
    alice.expect(r"^\* You ignore bob, erin$")
    bob.send("spam spam spam")
    carol.expect(r"^<bob> spam spam spam$")
    bob.send("/msg alice more spam")
    bob.send("/me spams")
    carol.expect(r"^\* bob spams$")
    erin.send("PRIVMSG #lobby :irc spam")
    carol.expect(r"^<erin> irc spam$")
    erin.send("PRIVMSG alice :private irc spam")
    erin.send("PING :sync")
    erin.expect(r"PONG .*sync$")
    carol.send("hello all")
    alice.expect(r"^<carol> hello all$")
    assert not any("spam" in line for line in alice.skipped + alice.sync())
    alice.send("/unignore bob")
    alice.expect(r"^\* You see bob again$")
    alice.send("/unignore bob")
    alice.expect(r"^! You do not ignore bob$")
    alice.send("/ignore alice")
    alice.expect(r"^! You cannot ignore yourself$")
    bob.send("am I back?")
    alice.expect(r"^<bob> am I back\?$")
    bob.send("/msg alice psst")
    alice.expect(r"^\*bob\* psst$")
    erin.send("PRIVMSG #lobby :still ignored")
    carol.expect(r"^<erin> still ignored$")
    carol.send("after erin")
    alice.expect(r"^<carol> after erin$")
    assert not any("still ignored" in line for line in alice.skipped)
    alice.send("/history")  # their stored lines are left out too
    alice.expect(r"^\[\d\d:\d\d\] <carol> after erin$")
    assert not any("erin" in line and "spam" in line for line in alice.skipped), alice.skipped
    assert any("<bob> spam spam spam" in line for line in alice.skipped), alice.skipped


def test_msg_to_a_room_posts_there_if_you_may(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob = server.connect("alice"), server.connect("bob")
    erin = server.irc("erin")
    erin.send("JOIN #open")
    erin.expect(r" 366 erin #open ")
    erin.send("MODE #open -n")
    erin.expect(r"^:erin!\S+ MODE #open -n$")
    alice.send("/msg #open hello from outside")
    alice.expect(r"^-> #open <alice> hello from outside$")
    erin.expect(r"^:alice!\S+ PRIVMSG #open :hello from outside$")
    bob.send("/join #dev")
    bob.expect(r"^\* You are in #dev, alone for now$")
    alice.send("/msg #dev hello?")  # +n: members only
    alice.expect(r"^! You are not in #dev$")
    alice.send("/msg #lobby to my own room")
    alice.expect(r"^-> #lobby <alice> to my own room$")
    erin.send("JOIN #secret")
    erin.expect(r" 366 erin #secret ")
    erin.send("MODE #secret +s-n")
    erin.expect(r"^:erin!\S+ MODE #secret ")
    alice.send("/msg #secret knock knock")  # secret: no such room to outsiders
    alice.expect(r"^! No such room: #secret$")
    alice.send("/msg #nowhere hi")
    alice.expect(r"^! No such room: #nowhere$")


def test_help_for_one_command_and_the_readme_aliases(server: ServerProcess) -> None:
    alice = server.connect("alice")
    alice.send("/help topic")
    alice.expect(r"^  /topic \[text\] +show the topic of this room, or set it")
    alice.send("/help /names")
    alice.expect(r"^  /who \[#room\] +list the members of the current room")
    alice.expect_next(r"^ +@ marks its operators, \+ those with voice$")
    alice.expect_next(r"^  also: /names$")
    alice.send("/help register")
    alice.expect(r"^  /register PASSWORD +register your nickname")
    alice.expect_next(r"^  /register #room +register the room you are in")
    alice.send("/help kill")
    alice.expect(r"^  /kill NICK \[reason\] +disconnect someone")
    alice.expect_next(r"^  \(server operators only\)$")
    alice.send("/help frobnicate")
    alice.expect(r"^! No command frobnicate; type /help for the list$")
    alice.send("/list")
    alice.expect(r"^\* 1 room:$")
    alice.expect_next(r"^\*   #lobby \(1 member\)$")
    alice.send("/names")
    alice.expect(r"^\* 1 in #lobby: @alice \(you are an operator here\)$")
    alice.send("/register hunter22")
    alice.expect(r"^\* You registered the account alice and are logged in")
    alice.send("/logout")
    alice.expect(r"^\* You are logged out of alice$")
    alice.send("/identify hunter22")
    alice.expect(r"^\* You are logged in as alice$")


def test_a_room_that_lost_its_operator_gives_op_to_the_next_to_join(make_server: Start) -> None:
    server = make_server(*IRC)
    alice, bob = server.connect("alice"), server.connect("bob")
    alice.send("/quit")
    bob.expect(r"^\* alice left")
    bob.send("/who")
    bob.expect(r"^\* 1 in #lobby: bob$")  # #lobby never empties: no operator left
    carol = server.connect("carol")
    carol.send("/who")
    carol.expect(r"^\* 2 in #lobby: bob, @carol \(you are an operator here\)$")
    carol.send("/op bob")
    carol.expect(r"^\* You made bob an operator of #lobby$")
    dave = server.connect("dave")  # #lobby has operators: none for dave
    dave.send("/who")
    dave.expect(r"^\* 3 in #lobby: @bob, @carol, dave$")

    # IRC users get it the same way, from the core
    erin = server.irc("erin")
    erin.send("JOIN #irc")
    erin.expect(r" 353 erin = #irc :@erin$")
    frank = server.irc("frank")
    frank.send("JOIN #irc")
    frank.expect(r" 353 frank = #irc :(@erin frank|frank @erin)$")
    erin.send("PART #irc")
    frank.expect(r"^:erin!\S+ PART #irc")
    gwen = server.irc("gwen")
    gwen.send("JOIN #irc")
    gwen.expect(r" 353 gwen = #irc :(@gwen frank|frank @gwen)$")
    bob.send("/join #irc")
    bob.expect(r"^\* You are in #irc with frank, gwen$")
    bob.send("/who")
    bob.expect(r"^\* 3 in #irc: bob, frank, @gwen$")
