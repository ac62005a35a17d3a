"""End-to-end: an HTTP request to a chat port is answered as HTTP and never becomes chat.

Any web page can make a browser send a request to a chat port; before, its request line and headers were said
in #lobby and its body's lines ran as commands. Each test has a netcat user in #lobby that must see nothing of
it: ``Client.sync`` round-trips a command and returns every line that came before the answer.
"""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Callable

import pytest

from helpers import TIMEOUT, Client, ServerProcess
from hubbub.net.tls import generate_self_signed

Start = Callable[..., ServerProcess]

ATTACK = (
    b"POST / HTTP/1.1\r\n"
    b"Host: evil.example\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 46\r\n"
    b"\r\n"
    b"/nick pwned\r\n"
    b"visit evil.example now\r\n"
    b"/quit\r\n\r\n"
)


def exchange(
    port: int, request: bytes, wrap: Callable[[socket.socket], socket.socket] | None = None
) -> bytes:
    """Send ``request`` and read the answer: until the server closes, or until the end of a response that
    keeps the connection open (HTTP/1.1 keep-alive, by its Content-Length); what it answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if wrap is not None:
        sock = wrap(sock)
    with sock:
        sock.sendall(request)
        data = b""
        while not complete(data, head_only=request.startswith(b"HEAD ")):
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLEOFError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
    return data


def complete(answer: bytes, *, head_only: bool = False) -> bool:
    """Whether ``answer`` is a whole response the server keeps the connection open after."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    fields = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
    )
    if fields.get(b"connection", b"").lower() == b"close":
        return False  # read until the close
    size = 0 if head_only or b" 304 " in head.split(b"\r\n", 1)[0] else int(fields.get(b"content-length", 0))
    return len(body) >= size


def status(answer: bytes) -> int:
    head = answer.split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 "), answer[:200]
    return int(head.split()[1])


def nothing_reached(watcher: Client) -> None:
    """The netcat user saw no line of any request, and nobody took the nickname the request asked for."""
    seen = watcher.sync()
    assert seen == [], seen
    watcher.send("/msg pwned hello")
    watcher.expect(r"^! No such nickname: pwned$")


def test_a_post_to_the_plain_port_is_answered_as_http_and_says_nothing_in_the_lobby(
    make_server: Start,
) -> None:
    server = make_server()
    watcher = server.connect("watcher")
    answer = exchange(server.port, ATTACK)
    assert status(answer) == 405
    assert b"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'" in answer
    assert b"X-Content-Type-Options: nosniff" in answer
    nothing_reached(watcher)
    server.wait_log(r"HTTP POST /: 405 from 127\.0\.0\.1")


def test_get_on_the_plain_port_says_how_to_connect_and_the_irc_port_refuses_http(make_server: Start) -> None:
    server = make_server("--irc-port", "auto")
    irc_port = server.irc_port
    watcher = server.connect("watcher")
    answer = exchange(server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status(answer) == 200
    assert b"nc HOST PORT" in answer.partition(b"\r\n\r\n")[2]
    assert status(exchange(server.port, b"GET /anything HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
    assert status(exchange(irc_port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) == 400
    assert status(exchange(irc_port, ATTACK)) == 400
    nothing_reached(watcher)
    # IRC clients on the IRC port are served as before.
    alice = server.irc("alice", port=irc_port)
    alice.send("JOIN #lobby")
    alice.expect(r"^:alice!\S+ JOIN :?#lobby")


def test_a_malformed_or_oversized_request_head_is_refused(make_server: Start) -> None:
    server = make_server()
    watcher = server.connect("watcher")
    # A request line, then a header line h11 cannot read.
    assert status(exchange(server.port, b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")) == 400
    # Headers past the size bound.
    huge = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 9000 + b"\r\n\r\n"
    assert status(exchange(server.port, huge)) in (400, 431)
    nothing_reached(watcher)


def test_a_slowloris_request_head_times_out_and_the_others_carry_on(make_server: Start) -> None:
    server = make_server("--http-timeout", "1")
    watcher = server.connect("watcher")
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    with slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        # Meanwhile the chat goes on.
        other = server.connect("other")
        other.send("hello while a request dawdles")
        watcher.expect(r"^<other> hello while a request dawdles$")
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
    assert status(answer) == 408
    server.wait_log(r"HTTP request head timed out from 127\.0\.0\.1")
    nothing_reached(watcher)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_post_to_the_tls_port_is_answered_as_http(make_server: Start, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cert, key = generate_self_signed(tmp_path / "pair")
    server = make_server("--tls-port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    tls_port = int(server.wait_log(r"listening for plain text over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    watcher = server.connect("watcher")
    ctx = ssl.create_default_context(cafile=str(cert))
    answer = exchange(tls_port, ATTACK, lambda sock: ctx.wrap_socket(sock, server_hostname="localhost"))
    assert status(answer) == 405
    nothing_reached(watcher)
