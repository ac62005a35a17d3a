"""End-to-end: the web page and its files, served on the plain-text port over real sockets.

Each request is one connection (the server answers and closes); a netcat user in #lobby checks that none of
it reaches the chat.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import TIMEOUT, ServerProcess
from hubbub.net.tls import generate_self_signed

from .test_http import complete, exchange, nothing_reached, status

Start = Callable[..., ServerProcess]


def request(port: int, method: str, target: str, *headers: str) -> tuple[int, dict[str, str], bytes]:
    extra = "".join(f"{h}\r\n" for h in headers)
    answer = exchange(port, f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    fields: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        assert name.lower() not in fields, f"{name} twice"
        fields[name.lower()] = value.strip()
    return status(answer), fields, body


def test_the_page_and_its_modules_are_served_with_their_types_and_a_strict_policy(make_server: Start) -> None:
    server = make_server()
    watcher = server.connect("watcher")
    code, headers, page = request(server.port, "GET", "/")
    assert code == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(page)
    csp = headers["content-security-policy"]
    strict = ("default-src 'self'", "connect-src 'self'", "style-src 'self'", "frame-ancestors 'none'")
    for directive in strict:
        assert directive in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["etag"])
    # Every file the page names is served, with the right type.
    names = re.findall(rb'(?:src|href)="/([a-z]+\.(?:js|css))"', page)
    assert b"app.js" in names and b"style.css" in names
    modules = {b"app.js"}
    seen: set[bytes] = set()
    while modules:
        name = modules.pop()
        seen.add(name)
        code, headers, body = request(server.port, "GET", "/" + name.decode())
        assert code == 200, name
        assert headers["content-type"] == "text/javascript; charset=utf-8"
        modules |= set(re.findall(rb"from '\./([a-z]+\.js)'", body)) - seen
    assert {b"irc.js", b"state.js", b"ui.js", b"client.js", b"handlers.js", b"commands.js"} <= seen
    code, headers, _ = request(server.port, "GET", "/style.css")
    assert code == 200 and headers["content-type"] == "text/css; charset=utf-8"
    nothing_reached(watcher)


def test_an_unchanged_file_is_304_and_head_says_the_length_without_a_body(make_server: Start) -> None:
    server = make_server()
    _, headers, body = request(server.port, "GET", "/irc.js")
    etag = headers["etag"]
    code, again, rest = request(server.port, "GET", "/irc.js", f"If-None-Match: {etag}")
    assert code == 304 and rest == b"" and again["etag"] == etag
    code, _, rest = request(server.port, "GET", "/irc.js", 'If-None-Match: "stale"')
    assert code == 200 and rest == body
    code, head, rest = request(server.port, "HEAD", "/irc.js")
    assert code == 200 and rest == b"" and int(head["content-length"]) == len(body)
    server.wait_log(r"HTTP GET /irc\.js: 304 from 127\.0\.0\.1")


def test_unknown_paths_are_404_and_other_methods_405_and_none_reaches_the_chat(make_server: Start) -> None:
    server = make_server()
    watcher = server.connect("watcher")
    for target in ("/nope", "/static/app.js", "/../README.md", "/%2e%2e/app.py"):
        assert request(server.port, "GET", target)[0] == 404, target
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        code, headers, _ = request(server.port, method, "/", "Content-Length: 0")
        assert code == 405, method
        assert headers["allow"] == "GET, HEAD"
        # An error is not the page: it keeps the defaults (nothing may load, nothing is cached).
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert headers["cache-control"] == "no-store"
    nothing_reached(watcher)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_page_is_served_on_the_tls_port_too(make_server: Start, tmp_path: Path) -> None:
    cert, key = generate_self_signed(tmp_path / "pair")
    server = make_server("--tls-port", "0", "--tls-cert", str(cert), "--tls-key", str(key))
    tls_port = int(server.wait_log(r"listening for plain text over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    ctx = ssl.create_default_context(cafile=str(cert))
    answer = exchange(
        tls_port,
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        lambda sock: ctx.wrap_socket(sock, server_hostname="localhost"),
    )
    assert status(answer) == 200
    assert b'<script type="module" src="/app.js">' in answer


def test_one_connection_serves_the_page_and_its_files_then_closes_when_idle(make_server: Start) -> None:
    """HTTP/1.1 keep-alive: a browser loads the page and its modules over one connection (each new connection
    counts against --connect-rate); an idle one is closed after --http-timeout, an error closes at once."""
    server = make_server("--http-timeout", "1")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    with sock:
        for target in ("/", "/app.js", "/style.css"):
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
            answer = b""
            while not complete(answer):
                chunk = sock.recv(65536)
                assert chunk, f"closed after {target}"
                answer += chunk
            assert status(answer) == 200 and b"connection: close" not in answer.lower()
        # Two requests at once (pipelined) are answered in order.
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answers += chunk
        assert answers.startswith(b"HTTP/1.1 200 ") and b"\r\n\r\nHTTP/1.1 404 " in answers
    # Kept alive and then idle: closed without an answer when --http-timeout passes.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert answer.count(b"HTTP/1.1 ") == 1
    server.wait_log(r"disconnected .*: HTTP connection idle$")
