"""The durability promise, end to end: a line someone has received is in the history, whatever happens to the
server next (SIGKILL, or a clean stop right after the line was sent).

The server writes output only once the messages it carries are committed (see net.connection), so a line a
client has read survives a crash. These tests check that over real sockets and a real SQLite file.
"""

from __future__ import annotations

import itertools
import re
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, ServerProcess

N = 200
STAMP = re.compile(r"^\[(?:\d{4}-\d\d-\d\d )?\d\d:\d\d\] ")

Start = Callable[..., ServerProcess]


@pytest.fixture
def killable() -> Iterator[Start]:
    """Servers that a test may kill: whatever is left is killed afterwards (no exit code is checked)."""
    servers: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(*args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        for client in server.clients:
            client.close()
        server.kill()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "db.sqlite3")


def send_lines(client: Client, texts: list[str]) -> None:
    """Send every line in one write, as fast as the socket takes them."""
    client.send_raw("".join(text + "\n" for text in texts).encode())


def history(server: ServerProcess, command: str, heading: str) -> list[str]:
    """The lines a new client gets for ``command`` (a /history), without their time stamps."""
    reader = server.connect()
    reader.send(command)
    match = reader.expect(rf"^\* (?:Last (\d+) messages? {heading}:|No messages {heading} yet)$")
    count = int(match.group(1) or 0)
    lines = []
    for _ in range(count):
        line = reader.read_line()
        assert line is not None and STAMP.match(line), line
        lines.append(STAMP.sub("", line))
    reader.close()
    return lines


def test_every_received_line_survives_sigkill(killable: Start, make_server: Start, db: str) -> None:
    first = killable("--db", db)
    alice, bob = first.connect("alice"), first.connect("bob")
    texts = [f"line {i} of {N}" for i in range(N)]
    send_lines(alice, texts)
    for text in texts:
        bob.expect(rf"^<alice> {text}$")
    first.proc.kill()  # SIGKILL: no shutdown, no final commit
    assert first.proc.wait(TIMEOUT) == -signal.SIGKILL
    second = make_server("--db", db)
    assert history(second, "/history 500", "in #lobby") == [f"<alice> {text}" for text in texts]


def test_lines_sent_right_before_a_clean_stop_survive(make_server: Start, db: str) -> None:
    """alice keeps sending while the server is stopped (SIGINT), up to ``window`` lines ahead of what bob has
    received: the lines the server handled in its last moments, not yet committed when the stop began, are
    committed and delivered before it exits, and nothing bob did not receive is in the history."""
    window = 50
    first = make_server("--db", db)
    alice, bob = first.connect("alice"), first.connect("bob")
    cond = threading.Condition()
    received: list[str] = []
    stopped = False

    def send() -> None:
        for i in itertools.count():
            with cond:
                if not cond.wait_for(lambda n=i - window: stopped or len(received) >= n, TIMEOUT) or stopped:
                    return
            try:
                alice.send(f"line {i}")
            except OSError:  # the server closed the connection
                return

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        for line in bob.lines():  # to EOF
            if line.startswith("<alice> "):
                with cond:
                    received.append(line)
                    cond.notify_all()
                if len(received) == N:
                    first.proc.send_signal(signal.SIGINT)
    finally:
        with cond:
            stopped = True
            cond.notify_all()
        sender.join(TIMEOUT)
    assert first.proc.wait(TIMEOUT) == 0
    assert len(received) >= N
    assert received == [f"<alice> line {i}" for i in range(len(received))]  # in order, without gaps
    second = make_server("--db", db)
    # the history ends with what bob received last: nothing delivered was lost, nothing kept unsent
    assert history(second, "/history 500", "in #lobby") == received[-500:]


def test_private_messages_survive_a_restart(killable: Start, make_server: Start, db: str) -> None:
    first = killable("--db", db)
    alice, bob = first.connect("alice"), first.connect("bob")
    # Logged in: a private conversation is the accounts' (a guest's is its session's alone, issue 14).
    for client in (alice, bob):
        client.send(f"/register pw-{client.nick}-123")
        client.expect(rf"^\* You registered the account {client.nick} and are logged in\.")
    send_lines(alice, [f"/msg bob secret {i}" for i in range(50)])
    bob.send("/msg alice got them?")
    for i in range(50):
        bob.expect(rf"^\*alice\* secret {i}$")
    alice.expect(r"^\*bob\* got them\?$")
    first.proc.kill()
    first.proc.wait(TIMEOUT)
    second = make_server("--db", db)
    lobby = history(second, "/history 500", "in #lobby")
    assert lobby == []  # private lines stay private
    alice = second.connect("alice")
    alice.send("/login pw-alice-123")
    alice.expect(r"^\* You are logged in as alice")
    alice.send("/history bob 500")
    alice.expect(r"^\* Last 51 messages with bob:$")
    lines = [STAMP.sub("", alice.read_line() or "") for _ in range(51)]
    assert sorted(lines) == sorted([f"<alice> secret {i}" for i in range(50)] + ["<bob> got them?"])
    assert [line for line in lines if line.startswith("<alice>")] == [
        f"<alice> secret {i}" for i in range(50)
    ]
    bob = second.connect("bob")
    bob.send("/login pw-bob-123")
    bob.expect(r"^\* You are logged in as bob")
    bob.send("/history alice 1")
    bob.expect(r"^\* Last 1 message with alice:$")
    bob.expect_next(r"^\[.*\] <alice> secret 49$|^\[.*\] <bob> got them\?$")
