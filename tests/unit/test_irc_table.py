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
