"""End-to-end: the smaller attacks of issue 14, each reproduced over real sockets."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

import pytest

from helpers import TIMEOUT, ServerProcess


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    return make_server("--irc-port", "auto")


def test_a_tls_client_on_the_plain_port_is_closed_and_never_chats(server: ServerProcess) -> None:
    watcher = server.connect("watcher")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    try:
        with pytest.raises((ssl.SSLError, OSError)):
            ctx.wrap_socket(raw, server_hostname="localhost")  # sends its ClientHello, gets closed
    finally:
        raw.close()
    server.wait_log(r"a TLS handshake on a port without TLS; closed")
    server.wait_log(r"TLS handshake on a plain port")
    later = server.connect()  # a connection after it: the watcher sees it join, and nothing before
    watcher.expect(rf"^\* {later.nick} joined #lobby$")
    assert watcher.skipped == []  # no guest joined for the TLS client, no binary line, no leaving
    assert watcher.sync() == []
