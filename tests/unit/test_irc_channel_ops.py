"""KICK, INVITE, LIST, OPER, KILL and WALLOPS in memory, with plain-text users where they take part."""

from __future__ import annotations

from hubbub.core.hub import Hub
from hubbub.core.rooms import Listings

from .irc_harness import IrcClient, PlainClient, make_world

ALICE = "alice!~u@192.0.2.1"
NOT_OPER = ":Permission Denied- You're not an IRC operator"


def two_in_room() -> tuple[Hub, IrcClient, IrcClient, IrcClient]:
    """alice (operator of #x), bob (member) and carol (elsewhere), their output so far discarded."""
    hub, _, connect = make_world(opers={"admin": "secret"})
    alice = connect("alice")
    bob = connect("bob")
    carol = connect("carol")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    alice.take()
    return hub, alice, bob, carol


# -- KICK --------------------------------------------------------------------------------------------------


def test_kick() -> None:
    hub, alice, bob, _ = two_in_room()
    assert alice.send("KICK #x bob :behave") == [f":{ALICE} KICK #x bob :behave"]
    assert bob.take() == [f":{ALICE} KICK #x bob :behave"]
    room = hub.find_room("#x")
    assert room is not None and bob.session.user not in room.members
    assert bob.send("PRIVMSG #x :hi") == [":irc.test 404 bob #x :Cannot send to channel"]
    assert bob.send("KICK #x alice") == [":irc.test 442 bob #x :You're not on that channel"]


def test_kick_default_reason_and_several_nicks() -> None:
    _, alice, bob, carol = two_in_room()
    carol.send("JOIN #x")
    alice.take()
    bob.take()
    assert alice.send("KICK #x bob,carol") == [
        f":{ALICE} KICK #x bob :alice",
        f":{ALICE} KICK #x carol :alice",
    ]
    assert bob.take() == [f":{ALICE} KICK #x bob :alice"]
    assert carol.take() == [f":{ALICE} KICK #x bob :alice", f":{ALICE} KICK #x carol :alice"]


def test_kick_errors() -> None:
    _, alice, bob, carol = two_in_room()
    assert alice.send("KICK #nowhere bob") == [":irc.test 403 alice #nowhere :No such channel"]
    assert alice.send("KICK #x nobody") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("KICK #x carol") == [":irc.test 441 alice carol #x :They aren't on that channel"]
    assert bob.send("KICK #x alice") == [":irc.test 482 bob #x :You're not channel operator"]
    assert carol.send("KICK #x bob") == [":irc.test 442 carol #x :You're not on that channel"]
    assert alice.send("KICK #x") == [":irc.test 461 alice KICK :Not enough parameters"]
    assert alice.send("KICK #x,#y,#z bob,carol") == [":irc.test 461 alice KICK :Not enough parameters"]
    assert bob.take() == []


def test_plain_member_sees_kick_and_kicked_plain_user_is_told() -> None:
    hub, alice, _, _ = two_in_room()
    plain = PlainClient(hub)
    plain.send("/join #x")
    plain.take()
    alice.send("KICK #x bob :spamming")
    assert plain.take() == ["* bob was kicked from #x by alice (spamming)"]
    nick = plain.session.user.nick  # type: ignore[union-attr]
    alice.take()
    assert alice.send(f"KICK #x {nick} :you too") == [f":{ALICE} KICK #x {nick} :you too"]
    assert plain.take() == ["* You were kicked from #x by alice (you too)"]
    assert plain.send("anyone there?") == ["! You are not in a room: /join #room first"]
    assert alice.take() == []


def test_plain_operator_kicks_irc_user() -> None:
    hub, _, connect = make_world()
    plain = PlainClient(hub)  # makes #lobby, so it is the operator there
    assert plain.session.user is not None
    nick = plain.session.user.nick
    dave = connect("dave")
    dave.send("JOIN #lobby")
    room = hub.find_room("#lobby")
    assert room is not None
    hub.kick(plain.session.user, room, "dave", "bye")
    assert dave.take() == [f":{nick}!plain@198.51.100.7 KICK #lobby dave :bye"]
    assert dave.send("PRIVMSG #lobby :hello?") == [":irc.test 404 dave #lobby :Cannot send to channel"]


# -- INVITE ------------------------------------------------------------------------------------------------


def test_invite() -> None:
    hub, alice, _, carol = two_in_room()
    assert alice.send("INVITE carol #x") == [":irc.test 341 alice carol :#x"]
    assert carol.take() == [f":{ALICE} INVITE carol #x"]
    assert carol.send("INVITE") == [":irc.test 336 carol #x", ":irc.test 337 carol :End of /INVITE list"]
    # An invitation lets carol past +i and a key, once.
    alice.send("MODE #x +ik sesame")
    assert carol.send("JOIN #x")[0] == ":carol!~u@192.0.2.1 JOIN #x"
    assert carol.send("INVITE") == [":irc.test 337 carol :End of /INVITE list"]
    room = hub.find_room("#x")
    assert room is not None and carol.session.user in room.members


def test_invite_tells_the_inviter_when_the_target_is_away() -> None:
    _, alice, _, carol = two_in_room()
    user = carol.session.user
    assert user is not None
    user.away = "lunch"
    assert alice.send("INVITE carol #x") == [
        ":irc.test 341 alice carol :#x",
        ":irc.test 301 alice carol :lunch",
    ]


def test_invite_notify_for_channel_operators() -> None:
    _, _, connect = make_world()
    alice = connect("alice", "invite-notify")
    op2 = connect("dora", "invite-notify")
    bob = connect("bob")
    connect("carol")
    alice.send("JOIN #x")
    op2.send("JOIN #x")
    bob.send("JOIN #x")
    alice.send("MODE #x +o dora")
    op2.take()
    bob.take()
    alice.send("INVITE carol #x")
    assert op2.take() == [f":{ALICE} INVITE carol #x"]
    assert bob.take() == []


def test_invite_errors() -> None:
    _, alice, bob, carol = two_in_room()
    assert alice.send("INVITE nobody #x") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("INVITE carol #nowhere") == [":irc.test 403 alice #nowhere :No such channel"]
    assert carol.send("INVITE bob #x") == [":irc.test 442 carol #x :You're not on that channel"]
    assert alice.send("INVITE bob #x") == [":irc.test 443 alice bob #x :is already on channel"]
    assert alice.send("INVITE carol") == [":irc.test 461 alice INVITE :Not enough parameters"]
    # Any member may invite, unless the channel is invite only.
    assert bob.send("INVITE carol #x") == [":irc.test 341 bob carol :#x"]
    alice.send("MODE #x +i")
    assert bob.send("INVITE carol #x") == [":irc.test 482 bob #x :You're not channel operator"]


def test_plain_user_receives_invite() -> None:
    hub, alice, _, _ = two_in_room()
    plain = PlainClient(hub)
    plain.take()
    nick = plain.session.user.nick  # type: ignore[union-attr]
    assert alice.send(f"INVITE {nick} #x") == [f":irc.test 341 alice {nick} :#x"]
    assert plain.take() == [f"* alice invited {nick} to #x (/join #x)"]


# -- LIST --------------------------------------------------------------------------------------------------


def list_world() -> tuple[Hub, IrcClient, IrcClient]:
    """#hello (alice, bob; topic), #help (alice), #other (bob), #secret (bob, +s)."""
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    alice.send("JOIN #hello,#help", "TOPIC #hello :Say hi")
    bob.send("JOIN #hello,#other,#secret", "MODE #secret +s")
    alice.take()
    bob.take()
    return hub, alice, bob


def test_list_everything_and_secret_channels() -> None:
    _, alice, bob = list_world()
    assert alice.send("LIST") == [
        ":irc.test 322 alice #hello 2 :Say hi",
        ":irc.test 322 alice #help 1 :",
        ":irc.test 322 alice #other 1 :",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert bob.send("LIST")[3] == ":irc.test 322 bob #secret 1 :"
    assert alice.send("LIST #secret") == [":irc.test 323 alice :End of /LIST"]


def test_list_names_and_masks() -> None:
    _, alice, _ = list_world()
    assert alice.send("LIST #HELP,#other,#nowhere") == [
        ":irc.test 322 alice #help 1 :",
        ":irc.test 322 alice #other 1 :",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert alice.send("LIST #h*") == [
        ":irc.test 322 alice #hello 2 :Say hi",
        ":irc.test 322 alice #help 1 :",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert alice.send("LIST #he?p") == [":irc.test 322 alice #help 1 :", ":irc.test 323 alice :End of /LIST"]
    assert alice.send("LIST !#h*") == [":irc.test 322 alice #other 1 :", ":irc.test 323 alice :End of /LIST"]
    assert alice.send("LIST #h*,!#help") == [
        ":irc.test 322 alice #hello 2 :Say hi",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert alice.send("LIST #s*") == [":irc.test 323 alice :End of /LIST"]


def test_list_member_counts() -> None:
    _, alice, _ = list_world()
    assert alice.send("LIST >1") == [
        ":irc.test 322 alice #hello 2 :Say hi",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert alice.send("LIST <2") == [
        ":irc.test 322 alice #help 1 :",
        ":irc.test 322 alice #other 1 :",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert alice.send("LIST #h* <2") == [":irc.test 322 alice #help 1 :", ":irc.test 323 alice :End of /LIST"]
    assert alice.send("LIST >0,<2") == alice.send("LIST <2")
    assert alice.send("LIST >5") == [":irc.test 323 alice :End of /LIST"]
    # Unsupported or malformed conditions are ignored.
    assert len(alice.send("LIST C>10,T<5,>x")) == 4


# -- OPER, KILL, WALLOPS -----------------------------------------------------------------------------------


def test_oper() -> None:
    hub, alice, _, _ = two_in_room()
    assert alice.send("OPER admin wrong") == [":irc.test 464 alice :Password incorrect"]
    assert alice.send("OPER root secret") == [":irc.test 464 alice :Password incorrect"]
    assert alice.send("OPER admin") == [":irc.test 461 alice OPER :Not enough parameters"]
    assert hub.opers == 0
    assert alice.send("OPER admin secret") == [
        ":irc.test 381 alice :You are now an IRC operator",
        ":alice MODE alice :+o",
    ]
    user = alice.session.user
    assert user is not None and user.oper == "admin" and "o" in user.modes and hub.opers == 1
    assert alice.send("OPER admin secret") == [":irc.test 381 alice :You are now an IRC operator"]
    assert hub.opers == 1
    assert alice.send("MODE alice") == [":irc.test 221 alice +io"]


def test_kill() -> None:
    hub, alice, bob, carol = two_in_room()
    assert bob.send("KILL carol :bye") == [f":irc.test 481 bob {NOT_OPER}"]
    assert carol.link.closed is None
    alice.send("OPER admin secret")
    assert alice.send("KILL nobody :bye") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("KILL bob :flooding") == [":bob!~u@192.0.2.1 QUIT :Killed by alice (flooding)"]
    assert bob.take() == ["ERROR :Closing Link: 192.0.2.1 (Killed by alice (flooding))"]
    assert bob.link.closed == "Killed by alice (flooding)"
    assert hub.find_user("bob") is None


def test_kill_plain_user() -> None:
    hub, alice, _, _ = two_in_room()
    plain = PlainClient(hub)
    plain.take()
    nick = plain.session.user.nick  # type: ignore[union-attr]
    alice.send("OPER admin secret")
    alice.send(f"KILL {nick} :go away")
    assert plain.link.closed == "Killed by alice (go away)"
    assert hub.find_user(nick) is None


def test_wallops() -> None:
    hub, alice, bob, carol = two_in_room()
    plain = PlainClient(hub)
    plain.take()
    assert bob.send("WALLOPS :hello") == [f":irc.test 481 bob {NOT_OPER}"]
    assert alice.send("WALLOPS") == [":irc.test 461 alice WALLOPS :Not enough parameters"]
    alice.send("OPER admin secret")
    bob.send("MODE bob +w")
    plain.session.user.modes.add("w")  # type: ignore[union-attr]
    assert alice.send("WALLOPS :server restart soon") == []
    assert bob.take() == [f":{ALICE} WALLOPS :server restart soon"]
    assert carol.take() == []
    assert plain.take() == ["* Wallops from alice: server restart soon"]
    alice.send("MODE alice +w")
    assert alice.send("WALLOPS :me too") == [f":{ALICE} WALLOPS :me too"]


def test_list_and_plain_rooms_charge_the_rooms_they_go_through() -> None:
    hub, _, connect = make_world()
    alice = connect("alice")
    for i in range(30):
        alice.send(f"JOIN #r{i}")
    alice.send("LIST")
    assert alice.link.scanned == 30  # type: ignore[attr-defined]
    alice.send("LIST #r1,#r2")  # by name: two rooms looked up, not a pass
    assert alice.link.scanned == 32  # type: ignore[attr-defined]
    alice.send("LIST *1*")
    assert alice.link.scanned == 62  # type: ignore[attr-defined]
    plain = PlainClient(hub)
    plain.send("/rooms")
    assert plain.link.scanned == 31  # type: ignore[attr-defined]  (and #lobby)


def test_listings_share_one_budget_and_answer_try_again_when_it_is_spent() -> None:
    listings = Listings()
    assert listings.allow(20_000, 100.0)  # fits the full budget
    assert not listings.allow(20_000, 100.0)  # not now: it would stall the loop for everyone
    assert listings.allow(100_000, 101.0)  # the budget is full again: even a longer one runs
    assert not listings.allow(1, 101.0)
    hub, _, connect = make_world()
    alice = connect("alice")
    alice.send("JOIN #a")
    hub.listings.full_at = hub.now() + 60  # spent by others
    assert alice.send("LIST") == [
        ":irc.test 263 alice LIST :Server load is temporarily too heavy. Please wait a while and try again."
    ]
    plain = PlainClient(hub)
    assert plain.send("/rooms") == ["! The server is busy listing rooms; try again in a few seconds"]
    hub.listings.full_at = 0.0
    assert alice.send("LIST")[-1] == ":irc.test 323 alice :End of /LIST"
