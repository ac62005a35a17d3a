"""The real-Redis helper (tests/redis_server.py) the cluster tests stand on."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from redis_server import RedisServer


def test_it_answers_and_restarts_on_the_same_port_empty(redis_server: RedisServer) -> None:
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis_server.client()
    assert client.ping()
    client.set("key", "value")
    assert client.get("key") == "value"
    port = redis_server.port
    redis_server.restart()
    assert redis_server.port == port
    assert client.get("key") is None  # the same client reconnects: nothing was saved
    assert client.dbsize() == 0


def test_stop_kill_and_start_again(redis_server: RedisServer) -> None:
    redis_server.stop()
    assert not redis_server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", redis_server.port), timeout=5).close()
    redis_server.start()
    assert redis_server.client().ping()
    redis_server.kill()
    assert not redis_server.running
    redis_server.restart()
    assert redis_server.client().ping()


def test_a_missing_redis_server_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("HUBBUB_REQUIRE_REAL_CLIENTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        RedisServer()
    monkeypatch.setenv("HUBBUB_REQUIRE_REAL_CLIENTS", "1")
    with pytest.raises(pytest.fail.Exception, match="HUBBUB_REQUIRE_REAL_CLIENTS=1"):
        RedisServer()
