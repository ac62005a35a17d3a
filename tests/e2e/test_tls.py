"""End-to-end TLS: the real server with --tls-port and --irc-tls-port, ssl-wrapped socket clients sharing
rooms with plain TCP ones, the handshake timeout, certificate reloading on SIGHUP, IRCv3 sts and WHOIS 671."""

from __future__ import annotations

import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, ServerProcess
from hubbub.net.tls import generate_self_signed
from realclients import IrssiClient

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

Pair = tuple[Path, Path]


class _EofTolerantSocket(ssl.SSLSocket):
    """A peer that closes without close_notify (or aborts) reads as EOF, as on a plain socket."""

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        try:
            return super().recv(buflen, flags)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""


def verifying(cert: Path) -> ssl.SSLContext:
    """A client context that trusts ``cert`` alone and checks the host name, as a careful client does."""
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.sslsocket_class = _EofTolerantSocket
    return ctx


def trusting_anything() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.sslsocket_class = _EofTolerantSocket
    return ctx


class TlsClient(Client):
    """A line client over TLS; the handshake is bounded by TIMEOUT like every other wait."""

    def __init__(self, port: int, ctx: ssl.SSLContext, hostname: str = "localhost") -> None:
        super().__init__(port)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)

    @property
    def peer_cert(self) -> bytes | None:
        assert isinstance(self.sock, ssl.SSLSocket)
        return self.sock.getpeercert(binary_form=True)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    root = tmp_path_factory.mktemp("certs")
    return {"a": generate_self_signed(root / "a"), "b": generate_self_signed(root / "b")}


def tls_args(pair: Pair, *extra: str) -> tuple[str, ...]:
    return ("--tls-cert", str(pair[0]), "--tls-key", str(pair[1]), *extra)


def listening(server: ServerProcess, kind: str) -> int:
    return int(server.wait_log(rf"listening for {kind} on 127\.0\.0\.1:(\d+)$").group(1))


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def register(client: Client, nick: str, server: ServerProcess) -> Client:
    server.clients.append(client)
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick} the tester")
    client.expect(rf"^:\S+ 001 {re.escape(nick)} ")
    client.expect(rf"^:{re.escape(nick)} MODE {re.escape(nick)} :\+i$")
    client.nick = nick
    return client


def cap_ls(client: Client, server: ServerProcess) -> str:
    server.clients.append(client)
    client.send("CAP LS 302")
    return client.expect(r"^:\S+ CAP \* LS :(.*)$").group(1)


# -- plain text and IRC over TLS -----------------------------------------------------------------------------


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_plain_text_over_tls_chats_with_a_plain_tcp_user(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair], loop: str
) -> None:
    server = make_server(*tls_args(pairs["a"], "--tls-port", "0", "--loop", loop))
    port = listening(server, "plain text over TLS")
    alice = TlsClient(port, verifying(pairs["a"][0]))
    server.clients.append(alice)
    assert alice.peer_cert == der(pairs["a"][0])
    nick = alice.expect_next(r"^\* Welcome to hubbub, (guest-\d+)! Type /help for commands\.$").group(1)
    alice.expect_next(r"^\* You are in #lobby, alone for now$")
    server.wait_log(r"#\d+ connected from 127\.0\.0\.1:\d+ \(plain text over TLS\)$")
    bob = server.connect("bob")
    alice.expect(r"^\* \S+ is now known as bob$")
    alice.send("hello over TLS")
    bob.expect(rf"^<{nick}> hello over TLS$")
    bob.send("hello over TCP")
    alice.expect(r"^<bob> hello over TCP$")
    alice.send("/quit bye")
    alice.expect(r"^\* Goodbye!$")
    assert alice.wait_eof() == []
    bob.expect(rf"^\* {nick} left \(bye\)$")


def test_irc_clients_are_recognised_on_the_tls_port(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--tls-port", "0"))
    port = listening(server, "plain text over TLS")
    carol = register(TlsClient(port, trusting_anything()), "carol", server)
    bob = server.connect("bob")
    carol.send("JOIN #lobby")
    bob.expect(r"^\* carol joined #lobby$")
    bob.send("hi carol")
    carol.expect(r"^:bob!\S+ PRIVMSG #lobby :hi carol$")
    carol.send("WHOIS carol")
    carol.expect(r"^:\S+ 671 carol carol :is using a secure connection$")


def test_irc_over_tls_chats_with_plain_users_and_whois_shows_671(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--irc-port", "auto", "--irc-tls-port", "0"))
    server.irc_port = listening(server, "IRC")
    port = listening(server, "IRC over TLS")
    alice = register(TlsClient(port, verifying(pairs["a"][0])), "alice", server)
    server.wait_log(r"connected from 127\.0\.0\.1:\d+ \(IRC over TLS\)$")
    bob = server.connect("bob")  # netcat
    dave = server.irc("dave")  # IRC without TLS
    alice.send("JOIN #lobby")
    alice.expect(r"^:\S+ 366 alice #lobby ")
    bob.expect(r"^\* alice joined #lobby$")
    alice.send("PRIVMSG #lobby :hello bob")
    bob.expect(r"^<alice> hello bob$")
    bob.send("hello alice")
    alice.expect(r"^:bob!\S+ PRIVMSG #lobby :hello alice$")
    dave.send("PRIVMSG alice :psst")
    alice.expect(r"^:dave!\S+ PRIVMSG alice :psst$")

    dave.send("WHOIS alice")
    dave.expect(r"^:\S+ 311 dave alice ")
    dave.expect(r"^:\S+ 671 dave alice :is using a secure connection$")
    dave.expect(r"^:\S+ 318 dave alice ")
    alice.send("WHOIS dave")
    alice.expect(r"^:\S+ 318 alice dave ")
    assert not any(" 671 " in line for line in alice.skipped)


def test_tls_clients_get_the_shutdown_notice(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--tls-port", "0", "--irc-tls-port", "0"))
    alice = TlsClient(listening(server, "plain text over TLS"), verifying(pairs["a"][0]))
    alice.expect(r"^\* You are in #lobby")
    carol = register(TlsClient(listening(server, "IRC over TLS"), verifying(pairs["a"][0])), "carol", server)
    assert server.stop() == 0
    assert alice.wait_eof()[-1:] == ["* Server shutting down. Goodbye!"]
    assert carol.wait_eof()[-1:] == ["ERROR :Server shutting down"]


# -- the handshake -------------------------------------------------------------------------------------------


def test_a_client_that_never_starts_the_handshake_is_dropped_after_the_timeout(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--tls-port", "0", "--tls-handshake-timeout", "0.5"))
    port = listening(server, "plain text over TLS")
    started = time.monotonic()
    silent = Client(port)  # TCP only: never sends a ClientHello
    server.clients.append(silent)
    # Meanwhile the loop serves everyone else: a TLS client completes its handshake and chats.
    alice = TlsClient(port, verifying(pairs["a"][0]))
    server.clients.append(alice)
    alice.expect(r"^\* You are in #lobby")
    bob = server.connect("bob")
    alice.expect(r"^\* \S+ is now known as bob$")
    assert silent.wait_eof() == []
    assert time.monotonic() - started >= 0.4
    # It never became a connection of the chat.
    assert not server.find_log(rf"connected from 127\.0\.0\.1:{silent.sock.getsockname()[1]} ")
    bob.send("still here")
    alice.expect(r"^<bob> still here$")


def test_a_plain_text_client_on_the_tls_port_is_dropped(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--tls-port", "0"))
    port = listening(server, "plain text over TLS")
    confused = Client(port)
    server.clients.append(confused)
    confused.send("hello? NICK me")
    assert confused.wait_eof() == []
    alice = TlsClient(port, verifying(pairs["a"][0]))
    server.clients.append(alice)
    alice.expect(r"^\* You are in #lobby")


# -- reloading the certificate -------------------------------------------------------------------------------


def test_sighup_reloads_the_certificate_and_a_bad_one_keeps_the_old(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair], tmp_path: Path
) -> None:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    shutil.copyfile(pairs["a"][0], cert)
    shutil.copyfile(pairs["a"][1], key)
    server = make_server(*tls_args((cert, key), "--tls-port", "0"))
    port = listening(server, "plain text over TLS")
    before = TlsClient(port, trusting_anything())
    server.clients.append(before)
    assert before.peer_cert == der(pairs["a"][0])
    before.expect(r"^\* You are in #lobby")

    shutil.copyfile(pairs["b"][0], cert)
    shutil.copyfile(pairs["b"][1], key)
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"TLS: certificate reloaded from ")
    after = TlsClient(port, verifying(pairs["b"][0]))
    server.clients.append(after)
    assert after.peer_cert == der(pairs["b"][0])
    after.expect(r"^\* You are in #lobby")
    # The connection made before the reload goes on with its certificate.
    after.send("/nick carol")
    before.expect(r" is now known as carol$")

    cert.write_text("-----BEGIN CERTIFICATE-----\ntruncated\n")
    server.proc.send_signal(signal.SIGHUP)
    error = server.wait_log(r"ERROR .*TLS: certificate not reloaded, the previous one stays in use: (.*)$")
    assert "server.crt" in error.group(1)
    shutil.copyfile(pairs["a"][0], cert)  # the new certificate with the old key: refused as a whole too
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"TLS: certificate not reloaded, .*does not match")
    later = TlsClient(port, verifying(pairs["b"][0]))
    server.clients.append(later)
    assert later.peer_cert == der(pairs["b"][0])
    later.expect(r"^\* You are in #lobby")


# -- IRCv3 sts -----------------------------------------------------------------------------------------------


def test_sts_gives_plain_connections_the_bound_port_and_tls_ones_the_duration(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(
        *tls_args(pairs["a"], "--irc-port", "auto", "--irc-tls-port", "0", "--sts-duration", "300")
    )
    irc_port = listening(server, "IRC")
    tls_port = listening(server, "IRC over TLS")
    plain = cap_ls(Client(irc_port), server).split()
    assert f"sts=port={tls_port}" in plain
    sniffed = cap_ls(Client(server.port), server).split()  # the plain-text port, recognising IRC
    assert f"sts=port={tls_port}" in sniffed
    secure = cap_ls(TlsClient(tls_port, verifying(pairs["a"][0])), server).split()
    assert "sts=duration=300" in secure
    assert not any(token.startswith("sts=port") for token in secure)


def test_a_configuration_reload_changes_the_certificate_files_and_the_sts_duration(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair], tmp_path: Path
) -> None:
    def write(pair: Pair, duration: int) -> None:
        config.write_text(
            f'[tls]\nirc_tls_port = "auto"\nsts_duration = {duration}\n'
            f'tls_cert = "{pair[0]}"\ntls_key = "{pair[1]}"\n'
        )

    config = tmp_path / "hubbub.toml"
    write(pairs["a"], 300)
    server = make_server("--config", str(config))
    port = listening(server, "IRC over TLS")
    first = TlsClient(port, verifying(pairs["a"][0]))
    assert "sts=duration=300" in cap_ls(first, server).split()
    write(pairs["b"], 600)
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"TLS: certificate reloaded from ")
    second = TlsClient(port, verifying(pairs["b"][0]))
    assert second.peer_cert == der(pairs["b"][0])
    assert "sts=duration=600" in cap_ls(second, server).split()


def test_no_sts_without_a_duration(make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]) -> None:
    server = make_server(*tls_args(pairs["a"], "--irc-port", "auto", "--irc-tls-port", "0"))
    irc_port = listening(server, "IRC")
    assert "sts" not in cap_ls(Client(irc_port), server)


# -- a real client ------------------------------------------------------------------------------------------


class TlsIrssiClient(IrssiClient):
    """irssi connecting with TLS and verifying the server's certificate against ``cafile``, by host name
    (irssi checks DNS names only, not IP addresses)."""

    def __init__(self, port: int, nick: str, cafile: Path) -> None:
        self.cafile = cafile
        super().__init__(port, nick, host="localhost")

    def _write_config(self) -> None:
        super()._write_config()
        config = self.home / "config"
        text = config.read_text("utf-8")
        plain = 'use_tls = "no";'
        assert plain in text
        secure = f'use_tls = "yes"; tls_verify = "yes"; tls_cafile = "{self.cafile}";'
        config.write_text(text.replace(plain, secure), "utf-8")


@pytest.mark.realclient
def test_irssi_over_tls_talks_with_a_netcat_user(
    make_server: Callable[..., ServerProcess], pairs: dict[str, Pair]
) -> None:
    server = make_server(*tls_args(pairs["a"], "--irc-tls-port", "0"))
    netcat = server.connect("nc_user")
    with TlsIrssiClient(listening(server, "IRC over TLS"), "alice", pairs["a"][0]) as alice:
        server.wait_log(r"connected from 127\.0\.0\.1:\d+ \(IRC over TLS\)$")
        alice.join("#lobby")
        netcat.expect(r"^\* alice joined #lobby$")
        netcat.send("hello over TLS")
        alice.wait_for_message("nc_user", "hello over TLS")
        alice.say("hi from irssi, encrypted")
        netcat.expect(r"^<alice> hi from irssi, encrypted$")
        carol = register(Client(server.port), "carol", server)  # IRC on the plain-text port
        carol.send("WHOIS alice")
        carol.expect(r"^:\S+ 671 carol alice :is using a secure connection$")
        alice.quit("bye")
        netcat.expect(r"^\* alice left \(Quit: bye\)$")


# -- refusing to start ---------------------------------------------------------------------------------------


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hubbub", "serve", "--host", "127.0.0.1", "--port", "0", "--db", ":memory:"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False)


def test_a_tls_port_without_certificate_or_key_is_refused() -> None:
    done = run_serve("--tls-port", "0")
    assert done.returncode == 1
    assert "--tls-port needs --tls-cert and --tls-key" in done.stderr
    assert "started" not in done.stderr


def test_a_missing_key_or_a_bad_certificate_is_refused(pairs: dict[str, Pair], tmp_path: Path) -> None:
    done = run_serve("--irc-tls-port", "0", "--tls-cert", str(pairs["a"][0]))
    assert done.returncode == 1
    assert "--irc-tls-port needs --tls-key" in done.stderr
    bad = tmp_path / "bad.crt"
    bad.write_text("not a certificate\n")
    done = run_serve("--tls-port", "0", "--tls-cert", str(bad), "--tls-key", str(pairs["a"][1]))
    assert done.returncode == 1
    assert f"--tls-cert {bad}: not a PEM certificate" in done.stderr
    done = run_serve("--tls-port", "0", "--tls-cert", str(pairs["a"][0]), "--tls-key", str(pairs["b"][1]))
    assert done.returncode == 1
    assert "does not match the certificate" in done.stderr
