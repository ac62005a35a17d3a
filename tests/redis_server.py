"""A real ``redis-server`` for the tests: on 127.0.0.1 and a free port, saving nothing, in a temporary dir.

    with RedisServer() as redis:                    # or request the ``redis_server`` fixture
        make_server("--redis", redis.url)
        assert redis.client().get("key") is None
        redis.restart()                             # same port, empty again (nothing is saved)

Every wait polls (a PING over a raw socket, the process's exit) against a deadline of ``TIMEOUT`` seconds
(HUBBUB_TEST_TIMEOUT); none sleeps a fixed time to synchronise. A missing redis-server (or redis-py) skips the
test, unless HUBBUB_REQUIRE_REAL_CLIENTS=1, when it fails it instead (for CI, where they are installed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import pytest

from helpers import TIMEOUT
from realclients import free_port, require_binary

if TYPE_CHECKING:
    import redis

POLL = 0.005
"""Seconds between two readiness probes (or two tries to bind the port again on a restart)."""

HOST = "127.0.0.1"


def require_redis_py() -> None:
    """Skip the test if redis-py is not installed (fail if the real clients are required)."""
    if importlib.util.find_spec("redis") is None:
        message = "redis-py is not installed (pip install 'redis[hiredis]>=5', or pip install -e '.[test]')"
        if os.environ.get("HUBBUB_REQUIRE_REAL_CLIENTS") == "1":
            pytest.fail(message + " and HUBBUB_REQUIRE_REAL_CLIENTS=1", pytrace=False)
        pytest.skip(message)


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port, in the foreground, saving nothing; ready when built."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.binary = require_binary("redis-server")
        self.timeout = timeout
        self.dir = Path(tempfile.mkdtemp(prefix="hubbub-redis-"))
        self.log_path = self.dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._clients: list[redis.Redis] = []
        try:
            # redis-server cannot listen on port 0 and tell which port it got: pick a free port, and try again
            # (a few times, bounded) if another process took it in the meantime.
            for _attempt in range(5):
                port = free_port()
                if self._launch(port):
                    self._port = port
                    return
            raise AssertionError("redis-server would not start:\n" + self.log())
        except BaseException:
            self.close()
            raise

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self._port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        """What redis-server printed (warnings and errors only), over all its runs."""
        try:
            return self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _launch(self, port: int) -> bool:
        """Start redis-server on ``port``; True once it answers, False if it exited first (port taken)."""
        cmd = [
            self.binary,
            "--port", str(port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            log.write(f"== {shlex.join(cmd)}\n".encode())
            log.flush()
            self.proc = proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,  # a ^C meant for pytest does not reach it
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if self._answers(port, proc.pid):
                return True
            if proc.poll() is not None:
                return False
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(
                    f"redis-server did not answer on port {port} in {self.timeout}s:\n" + self.log()
                )
            time.sleep(POLL)

    def _answers(self, port: int, pid: int) -> bool:
        """Whether the redis-server with process id ``pid`` answers PING on ``port`` (and not another one)."""
        try:
            with socket.create_connection((HOST, port), timeout=self.timeout) as sock:
                sock.sendall(b"PING\r\nINFO server\r\n")
                # "+PONG\r\n", then the bulk string "$<length>\r\n<INFO text>\r\n"
                reply = sock.makefile("rb")
                if reply.readline() != b"+PONG\r\n":
                    return False  # an error (-LOADING ...), or not Redis
                header = reply.readline()
                if not header.startswith(b"$"):
                    return False
                info = reply.read(int(header[1:]))
        except (OSError, ValueError):
            return False
        return f"\r\nprocess_id:{pid}\r\n".encode() in b"\r\n" + info

    def start(self) -> None:
        """Start it again on the same port (after ``stop`` or ``kill``), once the port can be bound again."""
        if self.running:
            raise AssertionError("redis-server is already running")
        deadline = time.monotonic() + self.timeout
        while not self._launch(self._port):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"redis-server could not listen on port {self._port} again in {self.timeout}s:\n"
                    + self.log()
                )
            time.sleep(POLL)

    def restart(self) -> None:
        """Stop it (if it runs) and start it again on the same port: every key is gone (nothing is saved)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """SIGTERM (a clean shutdown, saving nothing), then SIGKILL if it lingers; waits for the exit."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: a crash, as the nodes would see it (connections reset, no shutdown)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(self.timeout)

    def client(self, **kwargs: Any) -> redis.Redis:
        """A synchronous redis-py client for assertions (str replies, bounded waits); closed by ``close``."""
        require_redis_py()
        import redis

        kwargs.setdefault("decode_responses", True)
        kwargs.setdefault("socket_timeout", self.timeout)
        kwargs.setdefault("socket_connect_timeout", self.timeout)
        client = redis.Redis.from_url(self.url, **kwargs)
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close the clients, stop the server and remove its directory."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A started ``RedisServer``, stopped (and its directory removed) after the test."""
    with RedisServer() as server:
        yield server
