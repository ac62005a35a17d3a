"""End-to-end: the real client address behind a trusted proxy or web gateway, on a real server. Every test
client is on 127.0.0.1: a server with ``--trusted-proxy 127.0.0.1`` trusts it as a proxy, one with
``--trusted-proxy 10.0.0.0/8`` does not. WEBIRC sets a user's host (WHOIS shows it, a K-line on it hits that
user alone); PROXY v1 and v2 headers do the same for netcat and IRC users, and are counted by the
per-address limits under the address they give; from an untrusted peer, both are refused."""

from __future__ import annotations

import re
import ssl
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import Client, ServerProcess
from hubbub.net.tls import generate_self_signed

IRC = ("--irc-port", "auto")
TRUSTED = ("--trusted-proxy", "127.0.0.1/32")
UNTRUSTED = ("--trusted-proxy", "10.0.0.0/8")
GATEWAY = ("--webirc", "thelounge:gateway-pw")
OPER = ("--oper", "admin:oper-pw")
REFUSED = "WEBIRC command is not usable from your address or incorrect password given"


def proxy_v1(source: str) -> bytes:
    return f"PROXY TCP4 {source} 127.0.0.1 40000 6667\r\n".encode()


def proxy_v2(source: str) -> bytes:
    parts = [int(part) for part in source.split(".")]
    body = bytes(parts) + bytes([127, 0, 0, 1]) + struct.pack("!HH", 40000, 6667)
    return b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(body)) + body


def raw(server: ServerProcess, port: int) -> Client:
    client = Client(port)
    server.clients.append(client)
    return client


def through_gateway(server: ServerProcess, nick: str, ip: str, password: str = "gateway-pw") -> Client:
    client = raw(server, server.irc_port)
    client.send(f"WEBIRC {password} thelounge {nick}.example.net {ip}")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick} on the web")
    client.nick = nick
    return client


def oper(server: ServerProcess) -> Client:
    op = server.irc("op")
    op.send("OPER admin oper-pw")
    op.expect(r" 381 op :You are now an IRC operator")
    return op


def test_webirc_sets_the_host_and_a_kline_hits_that_user_alone(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(*IRC, *TRUSTED, *GATEWAY, *OPER)
    alice = through_gateway(server, "alice", "203.0.113.7")
    alice.expect(r" 001 alice :Welcome to the hubbub IRC Network alice!~alice@203\.0\.113\.7$")
    bob = through_gateway(server, "bob", "203.0.113.8")
    bob.expect(r" 001 bob ")
    server.wait_log(r"#\d+ is 203\.0\.113\.7 \(WEBIRC gateway thelounge from 127\.0\.0\.1:\d+\)")

    op = oper(server)
    op.send("WHOIS alice")
    op.expect(r" 311 op alice ~alice 203\.0\.113\.7 \* :alice on the web$")
    op.expect(r" 338 op alice ~alice@203\.0\.113\.7 203\.0\.113\.7 :Actual user@host, Actual IP$")
    op.send("WHOIS bob")
    op.expect(r" 311 op bob ~bob 203\.0\.113\.8 ")

    op.send("KLINE 5 *@203.0.113.7 :spam from alice")
    op.expect(r"NOTICE op :op added a K-line for 5m on \*@203\.0\.113\.7: .*\(disconnected: alice\)$")
    assert alice.wait_eof()[-1] == "ERROR :Closing Link: 203.0.113.7 (K-Lined: spam from alice)"
    # bob, through the same gateway from another address, is untouched.
    bob.send("PING :still-here")
    bob.expect(r"PONG \S+ :still-here$")
    # alice through the gateway again is refused, bob again is not; the gateway's own address is not banned.
    again = through_gateway(server, "alice", "203.0.113.7")
    assert again.wait_eof()[-2:] == [
        ":hubbub 465 alice :You are banned from this server (spam from alice)",
        "ERROR :Closing Link: 203.0.113.7 (K-Lined: spam from alice)",
    ]
    through_gateway(server, "bob2", "203.0.113.8").expect(r" 001 bob2 ")
    server.irc("direct")
    server.wait_log(r"#\d+ disconnected 203\.0\.113\.7 via 127\.0\.0\.1:\d+: K-Lined")


def test_webirc_refused_untrusted_or_with_a_wrong_password(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, *UNTRUSTED, *GATEWAY)
    client = through_gateway(server, "mallory", "203.0.113.66")
    assert client.wait_eof() == [f"ERROR :Closing Link: 127.0.0.1 ({REFUSED})"]
    server.wait_log(r"WEBIRC refused: not a --trusted-proxy address \('thelounge' from 127\.0\.0\.1\)")

    server = make_server(*IRC, *TRUSTED, *GATEWAY)
    client = through_gateway(server, "mallory", "203.0.113.66", password="guess")
    assert client.wait_eof() == [f"ERROR :Closing Link: 127.0.0.1 ({REFUSED})"]
    server.wait_log(r"WEBIRC refused: wrong password for gateway 'thelounge' from 127\.0\.0\.1")
    assert not server.find_log("guess") and not server.find_log("gateway-pw")


def test_proxy_v1_for_a_netcat_user_and_v2_for_an_irc_user(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, *TRUSTED, *OPER)
    person = raw(server, server.port)
    person.send_raw(proxy_v1("198.51.100.23"))
    nick = person.expect(r"^\* Welcome to \S+, (\S+)!").group(1)
    server.wait_log(r"#\d+ is 198\.51\.100\.23 \(PROXY header from 127\.0\.0\.1:\d+\)")

    ircuser = raw(server, server.irc_port)
    ircuser.send_raw(proxy_v2("198.51.100.24") + b"NICK carol\r\nUSER carol 0 * :Carol\r\n")
    ircuser.expect(r" 001 carol .*carol!~carol@198\.51\.100\.24$")

    # A v2 header on the plain-text port, then an IRC client: recognised as IRC behind it.
    sniffed = raw(server, server.port)
    sniffed.send_raw(proxy_v2("198.51.100.25") + b"NICK dave\r\nUSER dave 0 * :Dave\r\n")
    sniffed.expect(r" 001 dave .*dave!~dave@198\.51\.100\.25$")

    op = oper(server)
    op.send(f"WHOIS {nick}")
    op.expect(rf" 311 op {re.escape(nick)} plain 198\.51\.100\.23 ")
    op.send("WHOIS carol")
    op.expect(r" 311 op carol ~carol 198\.51\.100\.24 ")


def test_proxy_headers_from_untrusted_peers_are_refused(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(*IRC, *UNTRUSTED)
    for port, header in (
        (server.port, proxy_v1("198.51.100.23")),
        (server.irc_port, proxy_v2("198.51.100.23")),
    ):
        client = raw(server, port)
        client.send_raw(header + b"NICK eve\r\nUSER eve 0 * :Eve\r\n")
        assert client.wait_eof() == ["ERROR :Closing Link: 127.0.0.1 (Bad or unauthorized PROXY command)"]
    server.wait_log(r"#\d+ disconnected 127\.0\.0\.1:\d+: PROXY header from an untrusted address")
    assert not server.find_log(r"198\.51\.100\.23")
    # Nobody is trusted by default.
    plain = make_server(*IRC)
    client = raw(plain, plain.irc_port)
    client.send_raw(proxy_v1("198.51.100.23"))
    assert client.wait_eof() == ["ERROR :Closing Link: 127.0.0.1 (Bad or unauthorized PROXY command)"]


def test_the_limits_count_the_address_the_proxy_gives(make_server: Callable[..., ServerProcess]) -> None:
    # The proxy (loopback) is exempt from the limits; its clients are not.
    server = make_server(*IRC, *TRUSTED, "--max-per-ip", "1")
    first = raw(server, server.port)
    first.send_raw(proxy_v1("198.51.100.30"))
    first.expect(r"^\* Welcome to ")
    second = raw(server, server.port)
    second.send_raw(proxy_v1("198.51.100.30"))
    assert second.wait_eof() == [
        "ERROR :Closing Link: 198.51.100.30 (Too many connections from your address)"
    ]
    server.wait_log(r"refused 198\.51\.100\.30 \(PROXY header from 127\.0\.0\.1:\d+\): Too many connections")
    other = raw(server, server.port)
    other.send_raw(proxy_v1("198.51.100.31"))
    other.expect(r"^\* Welcome to ")
    # Once the first one leaves, its address has room again.
    first.close()
    server.wait_log(r"#\d+ disconnected 198\.51\.100\.30 via 127\.0\.0\.1:\d+")
    third = raw(server, server.port)
    third.send_raw(proxy_v1("198.51.100.30"))
    third.expect(r"^\* Welcome to ")


def test_a_websocket_user_behind_a_trusted_proxy_gets_the_forwarded_address(
    make_server: Callable[..., ServerProcess],
) -> None:
    from wsclient import WsClient

    server = make_server(*IRC, *TRUSTED, *OPER)
    # nginx appends the address it saw to what the client sent: the client's own words stay on the left.
    web = WsClient(server.port, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.50"}).register("web")
    server.wait_log(r"#\d+ is 203\.0\.113\.50 \(X-Forwarded-For from 127\.0\.0\.1:\d+\)")
    other = WsClient(server.port, headers={"Forwarded": 'for="[2001:db8::50]:4711";proto=https'})
    other.register("web6")
    op = oper(server)
    op.send("WHOIS web")
    op.expect(r" 311 op web ~web 203\.0\.113\.50 ")
    op.send("WHOIS web6")
    op.expect(r" 311 op web6 ~web6 2001:db8::50 ")
    # A K-line on the forwarded address hits that user, not the proxy's other users.
    op.send("KLINE 5 *@203.0.113.50 :no")
    op.expect(r"\(disconnected: web\)$")
    other.send("PING :here")
    other.expect(r"PONG \S+ :here$")
    web.close()
    other.close()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    make_server: Callable[..., ServerProcess],
) -> None:
    from wsclient import WsClient

    server = make_server(*IRC, *UNTRUSTED, *OPER)
    web = WsClient(server.port, headers={"X-Forwarded-For": "203.0.113.50"}).register("web")
    op = oper(server)
    op.send("WHOIS web")
    op.expect(r" 311 op web ~web 127\.0\.0\.1 ")
    assert not server.find_log(r"203\.0\.113\.50")
    web.close()


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_a_proxy_header_before_tls_gives_the_address_on_the_tls_ports(
    make_server: Callable[..., ServerProcess], tmp_path: Path, loop: str
) -> None:
    """HAProxy in front of a TLS port (``send-proxy``): the header comes before the TLS handshake, and the
    handshake that follows it is the client's; a trusted peer that sends none is served as usual, and from an
    untrusted peer a header breaks the handshake (the connection is dropped, nothing of it reaches chat)."""
    cert, key = generate_self_signed(tmp_path)
    tls = ("--tls-cert", str(cert), "--tls-key", str(key), "--tls-port", "0", "--irc-tls-port", "0")
    server = make_server(*IRC, *TRUSTED, *tls, "--loop", loop)
    plain_tls = int(server.wait_log(r"listening for plain text over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    irc_tls = int(server.wait_log(r"listening for IRC over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    context = ssl.create_default_context(cafile=str(cert))

    netcat = TlsProxied(plain_tls, context, proxy_v1("198.51.100.4"))
    server.clients.append(netcat)
    netcat.expect(r"^\* Welcome to \S+, (\S+)!")
    server.wait_log(r"#\d+ connected from 198\.51\.100\.4 via 127\.0\.0\.1:\d+ \(plain text over TLS\)")

    ircer = TlsProxied(irc_tls, context, proxy_v2("198.51.100.5"))
    server.clients.append(ircer)
    ircer.send("NICK tlsirc")
    ircer.send("USER t 0 * :t")
    ircer.expect(r" 001 tlsirc :Welcome to the hubbub IRC Network tlsirc!~t@198\.51\.100\.5$")
    ircer.send("WHOIS tlsirc")
    ircer.expect(r" 671 tlsirc tlsirc ")  # on TLS

    direct = TlsProxied(irc_tls, context, b"")  # a trusted peer without a header: TLS as usual
    server.clients.append(direct)
    direct.send("NICK direct")
    direct.send("USER d 0 * :d")
    direct.expect(r" 001 direct :Welcome to the hubbub IRC Network direct!~d@127\.0\.0\.1$")


def test_a_proxy_header_before_tls_from_an_untrusted_peer_breaks_the_handshake(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    cert, key = generate_self_signed(tmp_path)
    server = make_server(
        *IRC, *UNTRUSTED, "--tls-cert", str(cert), "--tls-key", str(key), "--irc-tls-port", "0"
    )
    irc_tls = int(server.wait_log(r"listening for IRC over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    context = ssl.create_default_context(cafile=str(cert))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        TlsProxied(irc_tls, context, proxy_v1("198.51.100.6"))
    ok = TlsProxied(irc_tls, context, b"")
    server.clients.append(ok)
    ok.send("NICK fine")
    ok.send("USER f 0 * :f")
    ok.expect(r" 001 fine :Welcome to the hubbub IRC Network fine!~f@127\.0\.0\.1$")
    assert not server.find_log("198.51.100.6")


class TlsProxied(Client):
    """A client behind a proxy on a TLS port: the PROXY header in the clear, then the client's own TLS."""

    def __init__(self, port: int, context: ssl.SSLContext, header: bytes) -> None:
        super().__init__(port)
        if header:
            self.sock.sendall(header)
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")


def test_a_bad_or_unfinished_proxy_header_before_tls_is_dropped(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    cert, key = generate_self_signed(tmp_path)
    tls = (
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        "--irc-tls-port",
        "0",
        "--tls-handshake-timeout",
        "1",
    )
    server = make_server(*IRC, *TRUSTED, *tls)
    irc_tls = int(server.wait_log(r"listening for IRC over TLS on 127\.0\.0\.1:(\d+)$").group(1))
    bad = raw(server, irc_tls)
    bad.send_raw(b"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n")
    assert bad.read_line() is None  # closed
    server.wait_log(r"dropped a connection from .* before TLS: bad PROXY header before TLS")
    unfinished = raw(server, irc_tls)
    unfinished.send_raw(b"PROXY TCP4 198.51.")  # and nothing more: looked at again until the deadline
    assert unfinished.read_line(timeout=5) is None
    server.wait_log(r"before TLS: no PROXY header or TLS handshake in time")
