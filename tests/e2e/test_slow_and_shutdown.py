"""End-to-end: a client that never reads is dropped alone; Ctrl-C / SIGTERM shut down cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, ServerProcess


class Reader(threading.Thread):
    """Reads a client's lines in the background until EOF or a line equal to ``until``."""

    def __init__(self, client: Client, until: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.until = until
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self.cond = threading.Condition()

    def run(self) -> None:
        try:
            for line in self.client.lines(timeout=TIMEOUT * 6):
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()
                if line == self.until:
                    return
        except BaseException as exc:
            self.error = exc
        finally:
            with self.cond:
                self.cond.notify_all()

    def wait_for(self, prefix: str, count: int) -> None:
        """Wait until ``count`` lines starting with ``prefix`` have arrived."""

        def arrived() -> int:
            return sum(1 for line in self.lines if line.startswith(prefix))

        with self.cond:
            self.cond.wait_for(lambda: arrived() >= count or not self.is_alive(), TIMEOUT)
            assert arrived() >= count, f"the reader got {arrived()} of {count} lines: {self.lines[-3:]}"


def test_a_client_that_never_reads_is_dropped_and_nobody_else_waits(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server("--sendq", "65536")
    stalled = Client(server.port, rcvbuf=4096)
    stalled.expect(r"^\* You are in #lobby")
    stalled.send("/nick stalled")
    stalled.expect(r"^\* You are now known as stalled$")
    watcher = server.connect("watcher")
    sender = server.connect("sender")
    watcher.expect(r"^\* sender joined #lobby|is now known as sender$")

    reader = Reader(watcher, "<sender> after")
    reader.start()
    payload = "m" * 1000
    batch = "".join(f"{i:06d} {payload}\n" for i in range(50)).encode()
    sent = 0
    # The stalled client's kernel buffers take a few MB; the bound keeps the test finite either way.
    # The watcher keeps up (each batch is read before the next is sent): only the stalled client falls behind.
    while not server.find_log(r"disconnected .*: send queue exceeded") and sent < 30_000:
        sender.send_raw(batch)
        sent += 50
        reader.wait_for("<sender> ", sent)
    dropped = server.wait_log(r"#(\d+) disconnected .*: send queue exceeded")
    assert server.find_log(rf"#{dropped.group(1)} connected from 127.0.0.1:{stalled.sock.getsockname()[1]} ")
    sender.send("after")
    reader.join(TIMEOUT * 6)
    assert reader.error is None, reader.error
    assert reader.lines[-1:] == ["<sender> after"], reader.lines[-3:]
    said = [line for line in reader.lines if line.startswith("<sender> ")]
    assert said == [f"<sender> {i:06d} {payload}" for _ in range(sent // 50) for i in range(50)] + [
        "<sender> after"
    ]
    assert "* stalled left (send queue exceeded)" in reader.lines
    # The stalled client finds its connection closed once it drains what its kernel buffers held.
    stalled.sock.settimeout(TIMEOUT)
    while stalled.sock.recv(1 << 20):
        pass


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_shutdown_notifies_everyone_and_exits_zero(
    make_server: Callable[..., ServerProcess], sig: int
) -> None:
    server = make_server()
    clients = [server.connect(nick) for nick in ("alice", "bob", "carol")]
    clients[0].send("/join #dev")
    clients[0].expect(r"^\* You are in #dev")
    assert server.stop(sig) == 0
    for client in clients:
        lines = client.wait_eof()
        assert "* Server shutting down. Goodbye!" in lines, lines
        assert not any(line.startswith("!") for line in lines)
    log = "\n".join(server.log)
    assert f"stopping ({signal.Signals(sig).name})" in log
    assert log.rstrip().endswith("stopped")
    assert len(server.find_log(r"disconnected .*: server shutting down")) == 3


def test_shutdown_is_bounded_when_a_client_never_reads(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server("--shutdown-timeout", "1", "--sendq", str(64 << 20))
    stalled = Client(server.port, rcvbuf=4096)
    stalled.expect(r"^\* You are in #lobby")
    sender = server.connect("sender")
    line = ("z" * 1000 + "\n").encode() * 1000
    for _ in range(8):  # 8 MB: more than the kernel buffers hold, less than the send queue
        sender.send_raw(line)
    sender.sync()
    assert server.stop(signal.SIGTERM) == 0
    assert server.find_log(r"disconnected .*: server shutting down")


def test_help_documents_every_option() -> None:
    script = str(Path(sys.executable).parent / "hubbub")
    for command in ([script], [sys.executable, "-m", "hubbub"]):
        out = subprocess.run(
            [*command, "serve", "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=True
        ).stdout
        for option in (
            "--host",
            "--port",
            "--max-line",
            "--sendq",
            "--nick-max",
            "--shutdown-timeout",
            "--server-name",
            "--default-room",
            "--log-level",
            "--loop",
            "--backlog",
        ):
            assert option in out, option
        assert "8008" in out


def test_a_busy_port_is_a_clear_error(server: ServerProcess) -> None:  # the log says why
    result = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--host", "127.0.0.1", "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr


def test_log_level_warning_hides_info_lines(server: ServerProcess) -> None:
    command = [sys.executable, "-m", "hubbub", "serve", "--host", "127.0.0.1", "--port", str(server.port)]
    result = subprocess.run(
        [*command, "--log-level", "warning"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert " ERROR " in result.stderr
    assert " INFO " not in result.stderr
