"""The declarative IRC command table: every command has help, and dispatch checks what commands declare."""

from __future__ import annotations

import hubbub.protocols.irc.commands  # noqa: F401 - fills the table
from hubbub.protocols.irc.table import COMMANDS

from .irc_harness import IrcClient, make_world

NOT_OPER = ":Permission Denied- You're not an IRC operator"

OPER_ONLY = {"KILL", "WALLOPS", "KLINE", "UNKLINE", "REHASH"}


def test_every_command_has_help() -> None:
    missing = sorted(verb for verb, spec in COMMANDS.items() if not spec.help)
    assert missing == []


def test_every_help_starts_with_its_verb() -> None:
    for verb, spec in COMMANDS.items():
        first = spec.help.split()[0].rstrip(":")
        # NS/CS and HELPOP share their handler's help with NICKSERV/CHANSERV and HELP.
        assert first in (verb, "NS", "CS", "HELP"), (verb, spec.help)


def test_each_command_has_one_kind_of_handler() -> None:
    for spec in COMMANDS.values():
        assert (spec.handler is None) != (spec.open is None), spec.verb
        assert not (spec.oper and spec.pre_registration), spec.verb


def test_operator_commands_are_declared() -> None:
    assert {verb for verb, spec in COMMANDS.items() if spec.oper} == OPER_ONLY


def test_checks_come_in_order_registration_params_oper() -> None:
    hub, options, connect = make_world()
    stranger = IrcClient(hub, options)
    assert stranger.send("KILL bob :x") == [":irc.test 451 * :You have not registered"]
    alice = connect("alice")
    assert alice.send("KILL") == [":irc.test 461 alice KILL :Not enough parameters"]
    assert alice.send("KILL bob") == [f":irc.test 481 alice {NOT_OPER}"]
    assert alice.send("REHASH") == [f":irc.test 481 alice {NOT_OPER}"]
    assert alice.send("UNKLINE x@y") == [f":irc.test 481 alice {NOT_OPER}"]
    assert alice.send("KLINE x@y :go") == [f":irc.test 481 alice {NOT_OPER}"]
    assert alice.send("NOSUCH") == [":irc.test 421 alice NOSUCH :Unknown command"]


def test_service_help_lists_every_declared_command_in_order() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    ns = ":NickServ!NickServ@services.hubbub NOTICE alice :"
    assert alice.send("NS HELP") == [
        ns + "NickServ registers accounts and logs you in to them. Commands:",
        ns + "REGISTER <password> [email] - register your current nickname as an account",
        ns + "IDENTIFY [account] <password> - log in to an account (your nickname's if none is given)",
        ns + "LOGOUT - log out of your account",
        ns + "PASSWD <new password> - change your account's password (PASSWD <old> <new> <new> also works)",
        ns + "SET REPLAY ON|OFF - whether joining a channel replays its recent history to you",
        ns + "INFO [account] - about an account (yours if none is given)",
        ns + "GHOST <nickname> - disconnect whoever holds your account's nickname",
        ns + "REGAIN <nickname> - disconnect whoever holds your account's nickname, and take it",
        ns + "HELP - this list",
    ]
    cs = ":ChanServ!ChanServ@services.hubbub NOTICE alice :"
    assert alice.send("CS HELP") == [
        cs + "ChanServ registers channels: a registered channel keeps its topic, modes and lists across"
        " restarts, and its founder gets operator status on joining. Commands:",
        cs + "REGISTER <#channel> - register a channel you are an operator of (you must be logged in)",
        cs + "DROP <#channel> - unregister a channel you founded",
        cs + "INFO <#channel> - whether a channel is registered, and by whom",
        cs + "HELP - this list",
    ]
    # Commands that need an account say so before they look at their arguments.
    for text in ("NS LOGOUT", "NS PASSWD", "NS SET", "NS SET REPLAY ON"):
        assert alice.send(text) == [ns + "You're not logged into an account"]
