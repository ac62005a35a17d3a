"""Test helpers: a real hubbub server in a subprocess, and raw line clients.

Every wait is bounded by ``TIMEOUT`` (seconds; scale it with the HUBBUB_TEST_TIMEOUT environment variable on a
slow machine). Nothing here sleeps to synchronise: clients wait for the lines they expect, and the server
helper waits for the log lines it expects.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

TIMEOUT = float(os.environ.get("HUBBUB_TEST_TIMEOUT", "10"))


def uncovered_env() -> dict[str, str]:
    """This environment, less what starts coverage measurement in a Python subprocess (``scripts/test`` sets
    it): for a subprocess that checks which modules get imported (coverage itself imports sqlite3)."""
    started_by = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")
    return {name: value for name, value in os.environ.items() if name not in started_by}


class ServerProcess:
    """``python -m hubbub serve`` on 127.0.0.1 and a free port; its log is collected line by line."""

    def __init__(self, *args: str) -> None:
        if "--irc-port" not in args:
            args = (*args, "--irc-port", "0")  # tests ask for an IRC listener explicitly
        if "--db" not in args:
            args = (*args, "--db", ":memory:")  # tests that keep something give a file
        if "--cloak" not in args:
            args = (*args, "--cloak", "off")  # hostmasks show 127.0.0.1; the cloaking tests ask for it
        cmd = [sys.executable, "-m", "hubbub", "serve", "--host", "127.0.0.1", "--port", "0", *args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self.log: list[str] = []
        self.clients: list[Client] = []
        self.exited = False
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        match = self.wait_log(r"listening for plain text on 127\.0\.0\.1:(\d+)")
        self.port = int(match.group(1))
        self.irc_port = 0
        if "--irc-port" in args and args[list(args).index("--irc-port") + 1] not in ("0",):
            self.irc_port = int(self.wait_log(r"listening for IRC on 127\.0\.0\.1:(\d+)").group(1))
        self.wait_log(r"started \(event loop")

    def _read_log(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.log.append(line)
                self._cond.notify_all()
        with self._cond:
            self.exited = True
            self._cond.notify_all()

    def wait_log(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait for a log line matching ``pattern`` (searched from the start of the log)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        checked = 0
        with self._cond:
            while True:
                for line in self.log[checked:]:
                    found = regex.search(line)
                    if found:
                        return found
                checked = len(self.log)
                if self.exited:
                    raise AssertionError(f"server exited before logging {pattern!r}:\n" + "\n".join(self.log))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no log line matching {pattern!r} in {timeout}s:\n" + "\n".join(self.log)
                    )
                self._cond.wait(remaining)

    def find_log(self, pattern: str) -> list[str]:
        with self._cond:
            return [line for line in self.log if re.search(pattern, line)]

    def wait_lines(self, pattern: str, count: int, timeout: float = TIMEOUT) -> list[str]:
        """Wait until ``count`` log lines match ``pattern`` (a line logged more than once); return them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.find_log(pattern)) >= count or self.exited, timeout)
            found = self.find_log(pattern)
        assert len(found) >= count, f"{len(found)} of {count} lines matching {pattern!r}:\n" + "\n".join(
            self.log
        )
        return found

    def irc(self, nick: str, *, port: int | None = None, caps: tuple[str, ...] = ()) -> Client:
        """A raw IRC client, registered as ``nick`` (on the IRC port unless ``port`` is given)."""
        client = Client(port or self.irc_port)
        self.clients.append(client)
        if caps:
            client.send("CAP LS 302")
            client.send(f"CAP REQ :{' '.join(caps)}")
        client.send(f"NICK {nick}")
        client.send(f"USER {nick} 0 * :{nick} the tester")
        if caps:
            client.send("CAP END")
        client.expect(rf"^:\S+ 001 {re.escape(nick)} ")
        client.expect(rf"^:{re.escape(nick)} MODE {re.escape(nick)} :\+i$")
        client.nick = nick
        return client

    def connect(self, nick: str | None = None) -> Client:
        client = Client(self.port)
        self.clients.append(client)
        client.nick = client.expect(r"^\* Welcome to \S+, (\S+)!").group(1)
        client.expect(r"^\* You are in #lobby")
        if nick is not None:
            client.send(f"/nick {nick}")
            client.expect(rf"^\* You are now known as {re.escape(nick)}$")
            client.nick = nick
        return client

    def stop(self, sig: int = signal.SIGINT, timeout: float = TIMEOUT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._reader.join(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)


class Client:
    """A raw TCP line client, as netcat would be."""

    def __init__(self, port: int, *, rcvbuf: int | None = None, source: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source is not None:  # another loopback address (127.0.0.2): another client address for the server
            self.sock.bind((source, 0))
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        #: Every byte received, as received (for assertions on bytes the decoded lines would hide).
        self.raw = bytearray()
        self.seen: list[str] = []
        self.nick = ""
        self.eof = False

    def send(self, text: str) -> None:
        self.send_raw(text.encode() + b"\n")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_line(self, timeout: float = TIMEOUT) -> str | None:
        """The next line (without its ending), or ``None`` at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete line in {timeout}s; seen so far: {self.seen[-20:]}")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            except TimeoutError:
                raise TimeoutError(
                    f"no complete line in {timeout}s; seen so far: {self.seen[-20:]}"
                ) from None
            if not data:
                self.eof = True
                if self.buf:
                    self.buf += b"\n"
                continue
            self.buf += data
            self.raw += data
        raw, _, self.buf = self.buf.partition(b"\n")
        line = raw.decode("utf-8", "replace").removesuffix("\r")
        self.seen.append(line)
        return line

    def lines(self, timeout: float = TIMEOUT) -> Iterator[str]:
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                return
            yield line

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Read lines until one matches ``pattern``; the lines skipped are returned in ``self.skipped``."""
        regex = re.compile(pattern)
        self.skipped: list[str] = []
        for line in self.lines(timeout):
            found = regex.search(line)
            if found:
                return found
            self.skipped.append(line)
        raise AssertionError(f"EOF before a line matching {pattern!r}; skipped: {self.skipped}")

    def expect_next(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """The very next line must match ``pattern``."""
        line = self.read_line(timeout)
        assert line is not None, f"EOF, expected {pattern!r}"
        found = re.search(pattern, line)
        assert found, f"expected {pattern!r}, got {line!r}"
        return found

    def sync(self) -> list[str]:
        """Round-trip a command and return every line that arrived before its answer.

        Lines are handled in order, so anything the server meant to send this client before it read the
        command has arrived by then: a bounded, sleep-free way to assert that nothing (else) was sent.
        """
        self.send("/who")
        self.expect(r"^\* \d+ in #|^! You are not in a room")
        return self.skipped

    def wait_eof(self, timeout: float = TIMEOUT) -> list[str]:
        """Read to EOF, returning the lines that came first."""
        return list(self.lines(timeout))

    def close(self) -> None:
        self.sock.close()
