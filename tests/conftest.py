from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import ServerProcess
from redis_server import redis_server  # noqa: F401  (the fixture: a real redis-server)


@pytest.fixture
def make_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start servers with extra command-line options; each is stopped (or killed) after the test."""
    servers: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(*args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        for client in server.clients:
            client.close()
        try:
            code = server.stop()
        except Exception:
            server.kill()
            raise
        assert code == 0, "server did not exit cleanly:\n" + "\n".join(server.log)


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server()
