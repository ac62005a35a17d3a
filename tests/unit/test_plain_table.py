"""The plain-text command table: /help is generated from it, and dispatch checks what commands declare."""

from __future__ import annotations

import re
from pathlib import Path

from hubbub.core.hub import Hub
from hubbub.protocols.plain.session import COMMANDS, help_text
from hubbub.protocols.plain.table import DECLARED, SECTIONS

from .irc_harness import PlainClient

#: /help as it is meant to read: the generated text must stay the same.
EXPECTED_HELP = """\
Commands:
  /nick NAME              change your nickname
  /join #room [key]       go to a room (created if it does not exist; a room with a key needs it)
  /part                   leave the current room
  /rooms [pattern]        list the rooms (those whose name holds the pattern) and how many are in each
  /who [#room]            list the members of the current room (or of #room);
                          @ marks its operators, + those with voice
  /msg NICK text          send a private message
  /msg #room text         post to a room (one you are in, or one open to outsiders)
  /me action              describe an action (* you wave)
  /quit [reason]          leave the server
  /help                   this text
  /help COMMAND           the help of one command
Rooms:
  /topic [text]           show the topic of this room, or set it (its operators only when the room says so)
  /invite NICK [#room]    invite someone to this room (or to #room): they may join it even if it is closed
  /op NICK                make someone an operator of this room (room operators)
  /deop NICK              take a room operator's status away (room operators)
  /voice NICK             let someone talk in this room when it is moderated (room operators)
  /devoice NICK           take voice away (room operators)
People and the server:
  /whois NICK             who someone is: account, rooms, how long idle, away
  /away [message]         say you are away (shown to those who message you); alone: you are back
  /ignore [NICK]          hide NICK's lines and private messages from you (until you leave);
                          alone: list whom you ignore
  /unignore NICK          see NICK's lines again
  /motd                   the server's message of the day
  /set                    show your settings (kept for your account when logged in)
  /set timestamps ZONE|off
                          timestamps on chat lines, in a time zone (on: UTC; Europe/Paris...)
  /set bell on|off        ring the terminal on a private message or your name
  /set colors on|off      colour nicknames, notices and errors
History (times are UTC):
  /history [N]            the last N lines of this room (default 20, at most 500)
  /history NICK [N]       your private conversation with NICK
  /search WORDS           lines of this room holding every word (newest first)
Accounts:
  /register PASSWORD      register your nickname as an account and log in to it
  /login [NAME] PASSWORD  log in (NAME is your nickname if left out)
  /ghost NICK             disconnect whoever holds your account's nickname (logged in)
  /regain NICK            the same, and take the nickname (logged in)
  /logout                 log out
  /password NEW           change your password (logged in)
  /replay on|off          show a room's recent lines when you join it, or not (logged in)
  /register #room         register the room you are in (its operator, logged in): it keeps its
                          settings when empty and across restarts, and you are its operator
  /unregister [#room]     drop a room's registration (its founder)
Operators:
  /kick NICK [reason]     remove someone from this room (room operators)
  /ban [MASK]             ban nick!user@host (or a nickname) from this room; alone: list the bans
  /unban MASK             lift a ban on this room
  /oper NAME PASSWORD     become a server operator
  /kill NICK [reason]     disconnect someone (server operators)
  /kline [TIME] MASK [reason]
                          ban user@host from the server for TIME minutes (or 2h, 1d; none: for good);
                          /kline alone lists the server bans (server operators)
  /unkline MASK           lift a server ban (server operators)
  /wallops text           a message to every operator (server operators)
A password has 6 to 300 characters, no spaces, and does not start with #.
A line that starts with / is a command; start it with // to say it as text."""


def test_help_is_generated_identical_to_the_written_text() -> None:
    assert help_text() == EXPECTED_HELP


def test_every_command_has_help_and_a_known_section() -> None:
    for spec in DECLARED:
        assert spec.help and spec.section in SECTIONS, spec.verbs
        assert all(usage.startswith("/" + spec.verbs[0]) for usage in spec.usage), spec.verbs
        assert len(spec.entries()) == len(spec.usage)


def test_aliases_share_their_command() -> None:
    for alias, verb in [("leave", "part"), ("list", "rooms"), ("names", "who"), ("exit", "quit"),
                        ("identify", "login")]:  # fmt: skip
        assert COMMANDS[alias] is COMMANDS[verb]


def test_operator_commands_are_declared() -> None:
    assert {verb for verb, spec in COMMANDS.items() if spec.oper} == {"kill", "kline", "unkline", "wallops"}


def test_operator_check_comes_before_the_usage() -> None:
    alice = PlainClient(Hub())
    alice.take()
    for text in ("/kill", "/kline", "/unkline", "/wallops", "/kill bob", "/wallops hi"):
        assert alice.send(text) == ["! You are not a server operator: /oper NAME PASSWORD first"]


def test_help_over_the_wire() -> None:
    alice = PlainClient(Hub())
    alice.take()
    assert alice.send("/help") == EXPECTED_HELP.split("\n")


def test_every_command_and_alias_the_readme_lists_exists() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    operators = (root / "docs" / "operators.md").read_text(encoding="utf-8")

    def table(text: str) -> tuple[set[str], set[str]]:
        rows = [row for row in text.splitlines() if row.startswith("| `/")]
        listed = {verb for row in rows for verb in re.findall(r"`/([a-z]+)", row.split(" | ")[0])}
        return listed, {verb for row in rows for verb in re.findall(r"also `/([a-z]+)`", row)}

    listed, aliases = table(readme)
    assert {"list", "names", "identify"} <= aliases
    assert {"topic", "away", "whois", "op", "deop", "voice", "devoice", "invite", "motd", "ignore"} <= listed
    assert not (listed | aliases) - set(COMMANDS)
    documented = listed | table(operators)[0]  # the operator commands have their page
    assert not {spec.verbs[0] for spec in DECLARED} - documented, "commands missing from the docs"
