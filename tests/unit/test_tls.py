"""TLS without sockets: the server context (handshakes over memory BIOs), certificate loading and reloading,
the self-signed certificate generator, and what IRC sessions show of TLS (sts in CAP LS, WHOIS 671)."""

from __future__ import annotations

import shutil
import ssl
import stat
import subprocess
from pathlib import Path

import pytest

from hubbub.core.hub import Hub
from hubbub.net import tls
from hubbub.net.tls import TlsError, generate_self_signed, reload_certificate, server_context
from hubbub.protocols.irc import IrcOptions
from hubbub.protocols.irc.caps import sts_value

from .irc_harness import IrcClient, make_world

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Two self-signed pairs for localhost (``a`` and ``b``) and one for 127.0.0.1 (``ip``)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    root = tmp_path_factory.mktemp("certs")
    return {
        "a": generate_self_signed(root / "a"),
        "b": generate_self_signed(root / "b"),
        "ip": generate_self_signed(root / "ip", "127.0.0.1", days=2),
    }


def handshake(
    server: ssl.SSLContext, client: ssl.SSLContext, hostname: str | None = "localhost"
) -> ssl.SSLObject:
    """Run a TLS handshake between two contexts over memory BIOs; return the client's side."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(c_in, c_out, server_side=False, server_hostname=hostname)
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, side, out, peer_in in (
            ("client", client_side, c_out, s_in),
            ("server", server_side, s_out, c_in),
        ):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            peer_in.write(out.read())
        if all(done.values()):
            return client_side
    raise AssertionError("the handshake did not finish")


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


# -- the server context -------------------------------------------------------------------------------------


def test_the_server_context_serves_its_certificate_to_a_verifying_client(
    pairs: dict[str, tuple[Path, Path]],
) -> None:
    cert, key = pairs["a"]
    ctx = server_context(cert, key)
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_NONE  # no client certificates asked for
    assert ctx.options & ssl.OP_NO_COMPRESSION
    client = handshake(ctx, trusting(cert))
    assert client.getpeercert(binary_form=True) == der(cert)
    assert client.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_the_server_context_refuses_tls_1_1(pairs: dict[str, tuple[Path, Path]]) -> None:
    ctx = server_context(*pairs["a"])
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    try:
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with pytest.raises(ssl.SSLError):
        handshake(ctx, old)


def test_a_certificate_for_an_ip_address_verifies_for_it(pairs: dict[str, tuple[Path, Path]]) -> None:
    cert, key = pairs["ip"]
    client = handshake(server_context(cert, key), trusting(cert), "127.0.0.1")
    assert client.getpeercert()["subjectAltName"][0] == ("IP Address", "127.0.0.1")


def test_a_missing_file_names_the_option_and_the_file(
    pairs: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = pairs["a"]
    with pytest.raises(TlsError, match=r"^--tls-cert .*nope\.crt: No such file"):
        server_context(tmp_path / "nope.crt", key)
    with pytest.raises(TlsError, match=r"^--tls-key .*nope\.key: No such file"):
        server_context(cert, tmp_path / "nope.key")


def test_files_that_are_not_pem_are_refused_clearly(
    pairs: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = pairs["a"]
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    with pytest.raises(TlsError, match=r"^--tls-cert .*: not a PEM certificate"):
        server_context(key, key)
    with pytest.raises(TlsError, match=r"^--tls-key .*: not a PEM private key"):
        server_context(cert, junk)
    broken = tmp_path / "broken.crt"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    with pytest.raises(TlsError, match=r"^cannot load the certificate .*broken\.crt"):
        server_context(broken, key)


def test_a_key_of_another_certificate_is_refused(pairs: dict[str, tuple[Path, Path]]) -> None:
    with pytest.raises(TlsError, match="does not match the certificate"):
        server_context(pairs["a"][0], pairs["b"][1])


@needs_openssl
def test_an_encrypted_key_is_refused_without_prompting(
    pairs: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = pairs["a"]
    locked = tmp_path / "locked.key"
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-aes128", "-passout", "pass:secret", "-out", str(locked)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    with pytest.raises(TlsError, match="encrypted private keys are not supported"):
        server_context(cert, locked)


# -- reloading ----------------------------------------------------------------------------------------------


def test_reloading_puts_the_new_certificate_in_the_same_context(pairs: dict[str, tuple[Path, Path]]) -> None:
    ctx = server_context(*pairs["a"])
    reload_certificate(ctx, *pairs["b"])
    client = handshake(ctx, trusting(pairs["b"][0]))
    assert client.getpeercert(binary_form=True) == der(pairs["b"][0])


def test_a_bad_reload_leaves_the_context_as_it_was(
    pairs: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    cert, key = pairs["a"]
    ctx = server_context(cert, key)
    # A new certificate with the old key: loaded naively, OpenSSL would drop the key and break the context.
    with pytest.raises(TlsError, match="does not match"):
        reload_certificate(ctx, pairs["b"][0], key)
    with pytest.raises(TlsError, match="No such file"):
        reload_certificate(ctx, tmp_path / "gone.crt", key)
    client = handshake(ctx, trusting(cert))
    assert client.getpeercert(binary_form=True) == der(cert)


# -- generate_self_signed -----------------------------------------------------------------------------------


def test_the_generated_pair_is_private_and_for_the_name(pairs: dict[str, tuple[Path, Path]]) -> None:
    cert, key = pairs["a"]
    assert (cert.name, key.name) == ("localhost.crt", "localhost.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for hostname in ("localhost", "127.0.0.1"):  # the name, and loopback
        handshake(server_context(cert, key), trusting(cert), hostname)


@needs_openssl
def test_generating_keeps_existing_files_unless_told(tmp_path: Path) -> None:
    cert, _ = generate_self_signed(tmp_path, "chat.example", days=1)
    first = cert.read_bytes()
    with pytest.raises(TlsError, match="already exists"):
        generate_self_signed(tmp_path, "chat.example")
    assert cert.read_bytes() == first
    generate_self_signed(tmp_path, "chat.example", overwrite=True)
    assert cert.read_bytes() != first


def test_generating_refuses_bad_names_and_days(tmp_path: Path) -> None:
    for name in ("", "a b", "x/../y", "-subj", "a,DNS:evil"):
        with pytest.raises(TlsError, match="not a host name"):
            generate_self_signed(tmp_path, name)
    with pytest.raises(TlsError, match="days"):
        generate_self_signed(tmp_path, days=0)
    assert not list(tmp_path.iterdir())


def test_generating_without_openssl_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(TlsError, match="openssl command is not installed"):
        generate_self_signed(tmp_path)


# -- IRC: sts and WHOIS 671 ---------------------------------------------------------------------------------


def test_sts_values() -> None:
    assert sts_value(6697, 2592000, secure=False) == "port=6697"
    assert sts_value(6697, 2592000, secure=True) == "duration=2592000"
    assert sts_value(6697, 0, secure=False) == ""
    assert sts_value(0, 300, secure=True) == ""


def cap_ls(options: IrcOptions, *, secure: bool, version: str = " 302") -> str:
    client = IrcClient(Hub(), options)
    client.link.secure = secure
    return " ".join(client.send(f"CAP LS{version}"))


def test_sts_is_advertised_by_connection_kind() -> None:
    options = IrcOptions(sts_port=6697, sts_duration=300)
    plain = cap_ls(options, secure=False)
    assert " sts=port=6697 " in plain and "duration" not in plain
    secure = cap_ls(options, secure=True)
    assert " sts=duration=300 " in secure and "port=" not in secure
    # Without CAP 302 there is no value to carry the policy: not advertised.
    assert "sts" not in cap_ls(options, secure=False, version="")
    assert "sts" not in cap_ls(IrcOptions(sts_port=6697), secure=False)


def test_sts_cannot_be_requested() -> None:
    client = IrcClient(Hub(), IrcOptions(sts_port=6697, sts_duration=300))
    client.send("CAP LS 302")
    assert any(" NAK :sts" in line for line in client.send("CAP REQ :sts"))
    assert not any("sts" in line for line in client.send("CAP LIST"))


def test_whois_shows_671_for_a_user_on_tls() -> None:
    _, _, connect = make_world()
    alice = connect("alice")
    alice.link.secure = True
    bob = connect("bob")
    out = bob.send("WHOIS alice")
    assert ":irc.test 671 bob alice :is using a secure connection" in out
    verbs = [line.split()[1] for line in out]
    assert verbs.index("671") < verbs.index("318")
    assert not any(" 671 " in line for line in alice.send("WHOIS bob"))
