"""A person at a terminal, over real sockets: telnet's Ctrl-C (IAC IP, IAC DO TIMING-MARK) answered so the
terminal keeps showing the chat, telnet options refused, and the editing keys a terminal sends (arrows,
Backspace, DEL) applied or dropped rather than shown to others. Debian's real telnet is driven in tmux."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from helpers import TIMEOUT, Client, ServerProcess
from realclients import require_binary

IAC, DO, WILL, WONT, IP = 255, 253, 251, 252, 244
TIMING_MARK, ECHO = 6, 1


def read_until(client: Client, marker: bytes) -> bytes:
    """Raw bytes from ``client`` until ``marker`` has come (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    data = client.buf
    client.buf = b""
    while marker not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {data[-300:]!r}"
        client.sock.settimeout(remaining)
        chunk = client.sock.recv(65536)
        assert chunk, f"EOF before {marker!r}: {data[-300:]!r}"
        data += chunk
    head, _, rest = data.partition(marker)
    client.buf = rest
    return head + marker


def test_ctrl_c_from_telnet_is_answered_and_chat_goes_on(server: ServerProcess) -> None:
    watcher = server.connect("watcher")
    person = server.connect("person")
    watcher.expect(r"^\* person joined #lobby$|^\* \S+ is now known as person$")
    person.send_raw(bytes((IAC, IP, IAC, DO, TIMING_MARK)))  # what telnet sends for Ctrl-C
    got = read_until(person, b"type /quit to leave\r\n")
    assert bytes((IAC, WILL, TIMING_MARK)) in got
    person.send_raw(bytes((IAC, DO, ECHO)))  # an option we don't do
    person.send("/who")
    got = read_until(person, b" in #lobby")
    assert got.startswith(bytes((IAC, WONT, ECHO))), got
    watcher.send("still there?")
    person.expect(r"^<watcher> still there\?$")
    person.send("yes" + "\x1b[D" * 2 + "!")
    watcher.expect_next(r"^<person> yes!$")


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        (b"\x1b[A\x1b[D\x1b[Doops", "oops"),  # arrow keys in nc: the whole sequence goes
        (b"left\x1bOD\x1bOCright", "leftright"),  # the same in a terminal's application mode
        (b"helo\x08\x08llo", "hello"),  # Backspace from a character-by-character client
        (b"helo\x7f\x7fllo", "hello"),  # DEL, as PuTTY raw sends it
    ],
)
def test_editing_keys_never_reach_others_or_history(server: ServerProcess, typed: bytes, seen: str) -> None:
    watcher = server.connect("watcher")
    typist = server.connect("typist")
    typist.send_raw(typed + b"\n")
    watcher.expect(rf"^<typist> {re.escape(seen)}$")
    typist.send("/history #lobby 1")
    typist.expect(rf"<typist> {re.escape(seen)}$")


@pytest.fixture
def tmux() -> Iterator[tuple[str, str]]:
    path = require_binary("tmux")
    socket_name = f"hubbub-telnet-{uuid.uuid4().hex[:8]}"
    yield path, socket_name
    subprocess.run([path, "-L", socket_name, "kill-server"], capture_output=True, check=False)


def _screen(tmux: tuple[str, str]) -> str:
    path, socket_name = tmux
    result = subprocess.run(
        [path, "-L", socket_name, "capture-pane", "-p", "-t", "telnet"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout


def _keys(tmux: tuple[str, str], *keys: str) -> None:
    path, socket_name = tmux
    subprocess.run([path, "-L", socket_name, "send-keys", "-t", "telnet", *keys], check=True)


def _wait_screen(tmux: tuple[str, str], pattern: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    regex = re.compile(pattern, re.MULTILINE)
    while True:
        screen = _screen(tmux)
        if regex.search(screen):
            return screen
        assert time.monotonic() < deadline, f"no {pattern!r} on the telnet screen:\n{screen}"
        time.sleep(0.05)


def test_debians_telnet_keeps_showing_the_chat_after_ctrl_c_and_sends_no_arrow_keys(
    server: ServerProcess, tmux: tuple[str, str]
) -> None:
    telnet = require_binary("telnet")
    path, socket_name = tmux
    watcher = server.connect("watcher")
    subprocess.run(
        [
            path,
            "-L",
            socket_name,
            "new-session",
            "-d",
            "-s",
            "telnet",
            "-x",
            "100",
            "-y",
            "30",
            f"{telnet} 127.0.0.1 {server.port}",
        ],
        check=True,
    )
    nick = re.search(r"Welcome to \S+, (\S+)!", _wait_screen(tmux, r"^\* You are in #lobby")).group(1)  # type: ignore[union-attr]
    watcher.expect(rf"^\* {re.escape(nick)} joined #lobby$")
    _keys(tmux, "hello from telnet", "Enter")
    watcher.expect_next(rf"^<{re.escape(nick)}> hello from telnet$")
    _keys(tmux, "C-c")
    _wait_screen(tmux, r"type /quit to leave")
    watcher.send("can you still read me?")
    _wait_screen(tmux, r"^<watcher> can you still read me\?$")  # telnet did not discard the output
    _keys(tmux, "oops", "Left", "Left", "X", "Enter")
    watcher.expect_next(rf"^<{re.escape(nick)}> oopsX$")


def test_a_person_typing_an_irc_word_in_lower_case_first_is_still_a_person(server: ServerProcess) -> None:
    """IRC clients send their commands in capitals: "nick bob" as a first line is a person, who gets the
    plain-text welcome (not 451 to every line after it)."""
    watcher = server.connect("watcher")
    person = Client(server.port)
    server.clients.append(person)
    person.send("nick bob")
    nick = person.expect(r"^\* Welcome to \S+, (\S+)!").group(1)
    watcher.expect(rf"^<{re.escape(nick)}> nick bob$")
