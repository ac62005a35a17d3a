"""MODE in memory: channel modes (324/329, mask lists, changes and their errors) and user modes."""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.hub import Hub
from hubbub.core.model import Room

from .irc_harness import IrcClient, PlainClient, make_world

ALICE = "alice!~u@192.0.2.1"
BOB = "bob!~u@192.0.2.1"


def room_world() -> tuple[Hub, IrcClient, IrcClient, Room]:
    """alice (operator of #x) and bob (a plain member), their output so far discarded."""
    hub, _, connect = make_world()
    alice = connect("alice")
    bob = connect("bob")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    alice.take()
    room = hub.find_room("#x")
    assert room is not None
    room.created = 1700000000.0
    return hub, alice, bob, room


# -- showing channel modes ---------------------------------------------------------------------------------


def test_channel_modes_and_creation_time() -> None:
    _, alice, _, _ = room_world()
    assert alice.send("MODE #x") == [
        ":irc.test 324 alice #x :+nt",
        ":irc.test 329 alice #x :1700000000",
    ]
    assert alice.send("MODE #X") == [
        ":irc.test 324 alice #x :+nt",
        ":irc.test 329 alice #x :1700000000",
    ]


def test_key_and_limit_values_only_for_members() -> None:
    hub, alice, bob, _ = room_world()
    alice.send("MODE #x +skl sesame 10")
    assert bob.send("MODE #x") == [
        ":irc.test 324 bob #x +nstkl sesame :10",
        ":irc.test 329 bob #x :1700000000",
    ]
    outsider = IrcClient(hub, alice.session.options)
    outsider.register("carol")
    assert outsider.send("MODE #x") == [
        ":irc.test 324 carol #x :+nstkl",
        ":irc.test 329 carol #x :1700000000",
    ]


def test_mode_of_missing_channel() -> None:
    _, alice, _, _ = room_world()
    assert alice.send("MODE #nowhere") == [":irc.test 403 alice #nowhere :No such channel"]
    assert alice.send("MODE #nowhere +m") == [":irc.test 403 alice #nowhere :No such channel"]


# -- mask lists --------------------------------------------------------------------------------------------


def test_ban_list() -> None:
    _, alice, bob, room = room_world()
    assert alice.send("MODE #x +b") == [":irc.test 368 alice #x :End of channel ban list"]
    assert alice.send("MODE #x +b mallory") == [f":{ALICE} MODE #x +b mallory!*@*"]
    assert alice.send("MODE #x +b *@bad.example") == [f":{ALICE} MODE #x +b *!*@bad.example"]
    first, second = (str(int(entry.set_at)) for entry in room.lists["b"])
    expected = [
        f":irc.test 367 alice #x mallory!*@* {ALICE} :{first}",
        f":irc.test 367 alice #x *!*@bad.example {ALICE} :{second}",
        ":irc.test 368 alice #x :End of channel ban list",
    ]
    assert alice.send("MODE #x b") == expected
    assert alice.send("MODE #x -b") == expected
    # Anyone who can see the channel may list, operator or not.
    bob.take()
    assert bob.send("MODE #x +b") == [line.replace(" alice ", " bob ", 1) for line in expected]


def test_exception_and_invite_exception_lists() -> None:
    _, alice, _, room = room_world()
    assert alice.send("MODE #x +e") == [":irc.test 349 alice #x :End of channel exception list"]
    assert alice.send("MODE #x +I") == [":irc.test 347 alice #x :End of channel invite list"]
    assert alice.send("MODE #x +eI friend!*@* *!*@trusted") == [
        f":{ALICE} MODE #x +eI friend!*@* *!*@trusted"
    ]
    (e_time,) = (str(int(entry.set_at)) for entry in room.lists["e"])
    (i_time,) = (str(int(entry.set_at)) for entry in room.lists["I"])
    assert alice.send("MODE #x e") == [
        f":irc.test 348 alice #x friend!*@* {ALICE} :{e_time}",
        ":irc.test 349 alice #x :End of channel exception list",
    ]
    assert alice.send("MODE #x I") == [
        f":irc.test 346 alice #x *!*@trusted {ALICE} :{i_time}",
        ":irc.test 347 alice #x :End of channel invite list",
    ]


def test_lists_of_a_secret_channel_are_for_members() -> None:
    hub, alice, _, _ = room_world()
    alice.send("MODE #x +s")
    outsider = IrcClient(hub, alice.session.options)
    outsider.register("carol")
    assert outsider.send("MODE #x +b") == [":irc.test 442 carol #x :You're not on that channel"]
    alice.send("MODE #x -s")
    assert outsider.send("MODE #x +b") == [":irc.test 368 carol #x :End of channel ban list"]


def test_ban_list_full() -> None:
    hub, alice, _, room = room_world()
    hub.limits = replace(hub.limits, list_max=2)
    alice.send("MODE #x +bb a b")
    assert alice.send("MODE #x +b c") == [":irc.test 478 alice #x b :Channel list is full"]
    assert len(room.lists["b"]) == 2


# -- changes -----------------------------------------------------------------------------------------------


def test_change_is_echoed_and_told_to_members() -> None:
    _, alice, bob, room = room_world()
    assert alice.send("MODE #x +m") == [f":{ALICE} MODE #x +m"]
    assert bob.take() == [f":{ALICE} MODE #x +m"]
    assert "m" in room.flags
    assert alice.send("MODE #x +o-m bob") == [f":{ALICE} MODE #x +o-m bob"]
    assert bob.take() == [f":{ALICE} MODE #x +o-m bob"]
    assert room.members[bob.session.user] == "o"  # type: ignore[index]
    assert alice.send("MODE #x +v-o bob bob") == [f":{ALICE} MODE #x +v-o bob bob"]
    assert room.members[bob.session.user] == "v"  # type: ignore[index]


def test_key_and_limit_changes() -> None:
    _, alice, bob, room = room_world()
    assert alice.send("MODE #x +kl sesame 5") == [f":{ALICE} MODE #x +kl sesame 5"]
    assert (room.password, room.limit) == ("sesame", 5)
    assert alice.send("MODE #x -k") == [f":{ALICE} MODE #x -k *"]
    assert alice.send("MODE #x -l") == [f":{ALICE} MODE #x -l"]
    assert (room.password, room.limit) == ("", 0)
    assert bob.take()[-2:] == [f":{ALICE} MODE #x -k *", f":{ALICE} MODE #x -l"]


def test_invalid_mode_parameters_get_696() -> None:
    _, alice, _, room = room_world()
    assert alice.send("MODE #x +l many") == [
        ":irc.test 696 alice #x l many :Invalid limit: a positive number is needed"
    ]
    assert alice.send("MODE #x +l 0") == [
        ":irc.test 696 alice #x l 0 :Invalid limit: a positive number is needed"
    ]
    assert alice.send("MODE #x +k :two words") == [
        ":irc.test 696 alice #x k * :Invalid key: 1-23 characters, no spaces, commas or control characters"
    ]
    # A rejected key is never echoed back.
    assert alice.send("MODE #x +k a,b") == [
        ":irc.test 696 alice #x k * :Invalid key: 1-23 characters, no spaces, commas or control characters"
    ]
    # The valid part of a request still applies.
    assert alice.send("MODE #x +ml x") == [
        ":irc.test 696 alice #x l x :Invalid limit: a positive number is needed",
        f":{ALICE} MODE #x +m",
    ]
    assert alice.send("MODE #x +b :bad mask") == [
        ":irc.test 696 alice #x b * :Invalid mask: no spaces, control or invisible characters,"
        " not starting with a colon"
    ]
    assert (room.password, room.limit, room.lists["b"]) == ("", 0, [])


def test_unknown_mode_letters() -> None:
    _, alice, _, _ = room_world()
    assert alice.send("MODE #x +Z") == [":irc.test 472 alice Z :is unknown mode char to me"]
    assert alice.send("MODE #x +ZmZY") == [
        ":irc.test 472 alice Z :is unknown mode char to me",
        ":irc.test 472 alice Y :is unknown mode char to me",
        f":{ALICE} MODE #x +m",
    ]


def test_missing_parameter_is_461() -> None:
    _, alice, _, room = room_world()
    assert alice.send("MODE #x +o") == [":irc.test 461 alice MODE :Not enough parameters"]
    assert alice.send("MODE #x +k") == [":irc.test 461 alice MODE :Not enough parameters"]
    assert alice.send("MODE #x +ml") == [
        ":irc.test 461 alice MODE :Not enough parameters",
        f":{ALICE} MODE #x +m",
    ]
    assert room.limit == 0


def test_no_op_flag_change_shows_modes() -> None:
    _, alice, _, _ = room_world()
    assert alice.send("MODE #x +n") == [
        ":irc.test 324 alice #x :+nt",
        ":irc.test 329 alice #x :1700000000",
    ]
    assert alice.send("MODE #x -v bob") == []


def test_change_errors() -> None:
    hub, alice, bob, _ = room_world()
    assert bob.send("MODE #x +m") == [":irc.test 482 bob #x :You're not channel operator"]
    assert bob.send("MODE #x +o bob") == [":irc.test 482 bob #x :You're not channel operator"]
    assert bob.send("MODE #x +l :zero") == [":irc.test 482 bob #x :You're not channel operator"]
    outsider = IrcClient(hub, alice.session.options)
    outsider.register("carol")
    assert outsider.send("MODE #x +m") == [":irc.test 482 carol #x :You're not channel operator"]
    assert alice.send("MODE #x +o carol") == [":irc.test 441 alice carol #x :They aren't on that channel"]
    assert alice.send("MODE #x +o nobody") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("MODE #x +vo nobody bob") == [
        ":irc.test 401 alice nobody :No such nick/channel",
        f":{ALICE} MODE #x +o bob",
    ]


def test_plain_member_sees_mode_changes() -> None:
    hub, alice, _, _ = room_world()
    plain = PlainClient(hub)
    plain.send("/join #x")
    plain.take()
    alice.send("MODE #x +m")
    assert plain.take() == ["* #x is now moderated: only voiced users may talk (changed by alice)"]
    alice.send("MODE #x +kb sesame spam")
    assert plain.take() == [
        "* #x now needs a key to join: /join #x sesame (changed by alice)",
        "* alice banned spam!*@* from #x",
    ]
    # Moderated: the plain-text member (no voice) cannot speak until voiced.
    assert plain.send("hello") == ["! You cannot send to #x (moderated or banned)"]
    nick = plain.session.user.nick  # type: ignore[union-attr]
    alice.send(f"MODE #x +v {nick}")
    assert plain.take() == [f"* alice gave {nick} voice in #x"]
    assert plain.send("hello") == []
    assert alice.take() == [f":{nick}!plain@198.51.100.7 PRIVMSG #x :hello"]


# -- user modes --------------------------------------------------------------------------------------------


def test_user_modes_show_and_change() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    user = alice.session.user
    assert user is not None
    assert alice.send("MODE alice") == [":irc.test 221 alice +i"]
    assert alice.send("MODE Alice +w-i") == [":alice MODE alice :+w-i"]
    assert user.modes == {"w"}
    assert alice.send("MODE alice") == [":irc.test 221 alice +w"]
    assert alice.send("MODE alice +i") == [":alice MODE alice :+i"]
    assert alice.send("MODE alice +i") == [":irc.test 221 alice +iw"]  # nothing changed
    assert alice.send("MODE alice +o") == [":irc.test 221 alice +iw"]  # +o only through OPER
    assert not user.oper and "o" not in user.modes


def test_user_mode_errors() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    connect("bob")
    assert alice.send("MODE alice +x") == [":irc.test 501 alice :Unknown MODE flag"]
    assert alice.send("MODE alice +xw") == [
        ":irc.test 501 alice :Unknown MODE flag",
        ":alice MODE alice :+w",
    ]
    assert alice.send("MODE bob +i") == [":irc.test 502 alice :Cant change mode for other users"]
    assert alice.send("MODE bob") == [":irc.test 502 alice :Can't view modes for other users"]
    assert alice.send("MODE nobody") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert alice.send("MODE") == [":irc.test 461 alice MODE :Not enough parameters"]


def test_deoper_with_user_mode() -> None:
    hub, _, connect = make_world(opers={"admin": "secret"})
    alice = connect("alice")
    alice.send("OPER admin secret")
    assert hub.opers == 1
    assert alice.send("MODE alice -o") == [":alice MODE alice :-o"]
    user = alice.session.user
    assert user is not None and not user.oper and hub.opers == 0
    assert alice.send("WALLOPS :hi") == [":irc.test 481 alice :Permission Denied- You're not an IRC operator"]
