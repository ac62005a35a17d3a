"""End-to-end: what IRC users put in topics, modes and room names never drives a netcat user's terminal.

The attack (issue 14): an IRC user sets a topic holding ESC [2J (clear the screen), OSC 0 (the window title),
OSC 8 (a hyperlink), OSC 52 (writes the reader's clipboard) and raw C1 controls; every netcat user joining the
room was sent those bytes. Ban masks and keys were rendered raw too, and room names could hold C1 controls,
bidi overrides, zero-width characters and look-alike letters. Assertions are on the raw bytes received.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from helpers import Client, ServerProcess

ESC = "\x1b"
#: A topic an attacker would set: clear the screen, set the title, a hyperlink, the clipboard, C1 CSI and OSC.
EVIL = (
    f"hi{ESC}[2J{ESC}]0;pwned\x07{ESC}]8;;https://evil.example/{ESC}\\click{ESC}]8;;{ESC}\\"
    f"{ESC}]52;c;cm0gLXJmIH4=\x07\x9b2J\x9d0;t\x9c\u202eesrever\u200bend"
)
#: The bytes no terminal line to a netcat user may hold: C0 but CR and LF, DEL, C1 and bidi/format characters
#: (as their UTF-8 encodings).
FORBIDDEN = re.compile(
    rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c"
)
#: The four room names of the report: C1 CSI, a right-to-left override, a zero-width space, a Cyrillic o.
BAD_ROOMS = ("#\u009b2J", "#\u202eybbol", "#lobby\u200b", "#l\u043ebby")


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server("--irc-port", "auto")


def assert_clean(client: Client) -> None:
    found = FORBIDDEN.search(bytes(client.raw))
    assert found is None, (found, bytes(client.raw)[max(0, found.start() - 40) : found.end() + 40])
    assert re.search(rb"\r\n|\n", bytes(client.raw))  # it did receive lines


def test_a_topic_with_escape_sequences_reaches_a_netcat_user_clean(server: ServerProcess) -> None:
    mallory = server.irc("mallory")
    mallory.send("JOIN #trap")
    mallory.expect(r" 366 mallory #trap ")
    mallory.send(f"TOPIC #trap :{EVIL}")
    mallory.expect(r"^:mallory!\S+ TOPIC #trap :hi")
    watcher = server.connect("watcher")
    watcher.send("/join #trap")
    topic = watcher.expect(r"^\* Topic: (.*)$")
    assert topic.group(1) == "hiclickesreverend"
    mallory.send(f"TOPIC #trap :{EVIL}!")  # the change itself, seen live
    watcher.expect(r"^\* mallory set the topic of #trap: hiclickesreverend!$")
    mallory.send(f"PART #trap :{EVIL}")
    watcher.expect(r"^\* mallory left #trap \(hiclickesreverend\)$")
    watcher.sync()
    assert_clean(watcher)


def test_masks_and_keys_with_control_or_format_characters_are_refused(server: ServerProcess) -> None:
    mallory = server.irc("mallory")
    mallory.send("JOIN #modes")
    mallory.expect(r" 366 mallory #modes ")
    watcher = server.connect("watcher")
    watcher.send("/join #modes")
    watcher.expect(r"^\* You are in #modes")
    for arg in (
        f"+b x{ESC}[2J",
        "+b \x9b2J!*@*",
        "+b a\u202e!*@*",
        "+k k\u200bey",
        f"+k {ESC}]52;c;eA==\x07",
    ):
        mallory.send(f"MODE #modes {arg}")
        mallory.expect(r" 696 mallory #modes [bk] \* :Invalid (mask|key)")
    # a clean mask and key are still taken, and shown
    mallory.send("MODE #modes +b bad!*@*")
    mallory.expect(r"^:mallory!\S+ MODE #modes \+b bad!\*@\*$")
    watcher.expect(r"^\* mallory banned bad!\*@\* from #modes$")
    watcher.sync()
    assert_clean(watcher)


#: Look-alikes beyond Latin, Greek and Cyrillic: fullwidth and mathematical letters, the Kelvin sign, and
#: mixes of scripts not written together (Latin and Hebrew, Latin with an Arabic-Indic digit, Korean with
#: Japanese kana).
LOOK_ALIKE_ROOMS = (
    "#\uff4c\uff4f\uff42\uff42\uff59",
    "#\U0001d425obby",
    "#\u212aitchen",
    "#\u05e2\u05d1\u05e8\u05d9\u05ea-chat",
    "#lobby\u0663",
    "#\ud55c\uad6d\u3072\u3089",
)
#: Accepted: one script, or scripts written together (Japanese, Chinese with Bopomofo, Korean, with Latin).
GOOD_ROOMS = (
    "#caf\u00e9",
    "#\u05e2\u05d1\u05e8\u05d9\u05ea",
    "#\u65e5\u672c\u8a9echat",
    "#\u3072\u3089\u30ab\u30bf\u6f22\u5b57",
    "#\ud55c\uad6d\uc5b4-chat",
    "#\u0627\u0644\u0639\u0631\u0628\u064a\u0629\u0661",
)


@pytest.mark.parametrize("name", LOOK_ALIKE_ROOMS)
def test_look_alike_room_names_of_any_script_are_refused_to_both_protocols(
    server: ServerProcess, name: str
) -> None:
    irc = server.irc("ircuser")
    irc.send(f"JOIN {name}")
    irc.expect(r"^:\S+ (479|403) ircuser ")
    plain = server.connect("plainuser")
    plain.send(f"/join {name}")
    plain.expect(r"^! Invalid room name .*look-alike letters or mixed scripts$")
    plain.send("/rooms")
    plain.expect(r"^\* 1 room:$")
    plain.expect_next(r"^\*   #lobby ")


def test_room_names_of_one_script_or_of_scripts_written_together_are_accepted(server: ServerProcess) -> None:
    irc = server.irc("ircuser")
    plain = server.connect("plainuser")
    for name in GOOD_ROOMS:
        irc.send(f"JOIN {name}")
        irc.expect(rf"^:ircuser!\S+ JOIN {re.escape(name)}$")
        plain.send(f"/join {name}")
        plain.expect(rf"^\* You are in {re.escape(name)}")


@pytest.mark.parametrize("name", BAD_ROOMS)
def test_unsafe_and_look_alike_room_names_are_refused_to_both_protocols(
    server: ServerProcess, name: str
) -> None:
    irc = server.irc("ircuser")
    irc.send(f"JOIN {name}")
    irc.expect(r"^:\S+ (479|403) ircuser ")
    plain = server.connect("plainuser")
    plain.send(f"/join {name}")
    if "\x9b" in name:  # a terminal's input is cleaned of controls first: the name asked for is #2J
        plain.expect(r"^\* You are in #2J, alone for now$")
    else:
        plain.expect(r"^! Invalid room name ")
    plain.send("/rooms")
    plain.expect(r"^\* \d+ rooms?:$")
    listed = [line for line in plain.sync() if line.startswith("*   ")]
    assert {line.split()[1] for line in listed} <= {"#lobby", "#2J"}, listed  # no room of the bad name
    assert_clean(plain)
