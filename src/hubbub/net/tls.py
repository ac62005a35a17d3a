"""TLS for the listeners: the server's SSL context, loading (and reloading) its certificate, and a self-signed
certificate for testing.

The handshake itself runs inside the event loop's SSL transport (``loop.create_server(ssl=...,
ssl_handshake_timeout=...)``, see :meth:`hubbub.net.server.Server.start`): it never blocks the loop, and a
client that does not complete it in time is dropped before any session exists for it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

__all__ = ["TlsError", "generate_self_signed", "load_certificate", "reload_certificate", "server_context"]

StrPath = str | os.PathLike[str]

#: Names generate_self_signed accepts: a host name (or a wildcard one), or an IP address.
_NAME = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")


class TlsError(OSError):
    """A TLS setting that cannot be used (a missing option, an unreadable file, a bad certificate or key,
    no ``openssl`` command). Its text says which and why, naming the option or file."""


def server_context(cert: StrPath, key: StrPath) -> ssl.SSLContext:
    """An SSL context for the listeners, with the certificate chain ``cert`` and private key ``key`` (PEM).

    The defaults of :func:`ssl.create_default_context` for servers (no compression, the server's cipher
    preference, forward-secret key exchange, OpenSSL's secure cipher list), TLS 1.2 at least, and no client
    certificates asked for. A peer that closes without a TLS close_notify is treated as a clean EOF: line
    protocols over TLS (netcat-like ``openssl s_client``, ``ncat --ssl``) often do so.
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    load_certificate(ctx, cert, key)
    return ctx


def load_certificate(ctx: ssl.SSLContext, cert: StrPath, key: StrPath) -> None:
    """Load the certificate chain and key into ``ctx``; raise :class:`TlsError` with a clear reason.

    A failure can leave ``ctx`` without a usable key (OpenSSL drops the old key when the new certificate does
    not match it): to replace the certificate of a context in use, call :func:`reload_certificate`.
    """
    _check_pem(cert, "--tls-cert", b"-----BEGIN CERTIFICATE-----", "a PEM certificate")
    _check_pem(key, "--tls-key", b"PRIVATE KEY-----", "a PEM private key")
    try:
        ctx.load_cert_chain(cert, key, password=_no_password)
    except TlsError:
        raise
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if reason == "KEY_VALUES_MISMATCH":
            raise TlsError(f"the private key {key} does not match the certificate {cert}") from None
        raise TlsError(f"cannot load the certificate {cert} with the key {key}: {reason}") from None
    except OSError as exc:
        raise TlsError(f"cannot load the certificate {cert} with the key {key}: {exc}") from None


def reload_certificate(ctx: ssl.SSLContext, cert: StrPath, key: StrPath) -> None:
    """Load the certificate and key again into ``ctx``, the context the listeners use: the connections made
    from now on present the new certificate; those already up keep theirs.

    The files are tried first in a fresh context, so that a bad certificate or key (a mismatched pair, half
    a rotation) raises :class:`TlsError` and leaves ``ctx`` exactly as it was.
    """
    server_context(cert, key)
    load_certificate(ctx, cert, key)


def _check_pem(path: StrPath, option: str, marker: bytes, what: str) -> None:
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 20)
    except OSError as exc:
        raise TlsError(f"{option} {path}: {exc.strerror or exc}") from None
    if marker not in head:
        raise TlsError(f"{option} {path}: not {what}")


def _no_password() -> str:
    raise TlsError("encrypted private keys are not supported: decrypt it (openssl pkey -in KEY -out NEW_KEY)")


def generate_self_signed(
    out_dir: StrPath, name: str = "localhost", days: int = 365, *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Make a self-signed certificate and its private key (ECDSA P-256) for testing, with the ``openssl``
    command; return the paths of the certificate (``NAME.crt``) and the key (``NAME.key``, mode 0600) in
    ``out_dir``.

    The certificate is for ``name`` (a host name or an IP address) and for 127.0.0.1 and ::1, valid ``days``
    days. Existing files are kept (:class:`TlsError`) unless ``overwrite``.
    """
    if not (_is_ip(name) or _NAME.match(name)):
        raise TlsError(f"not a host name or an IP address: {name!r}")
    if days < 1:
        raise TlsError(f"days must be at least 1, not {days}")
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsError(
            "the openssl command is not installed (Debian/Ubuntu: apt install openssl); or make the"
            " certificate with another tool (see docs/tls.md)"
        )
    out = Path(out_dir)
    cert, key = out / f"{name}.crt", out / f"{name}.key"
    if not overwrite:
        for path in (cert, key):
            if path.exists():
                raise TlsError(f"{path} already exists")
    try:
        out.mkdir(parents=True, exist_ok=True)
        # Create the key file private before openssl writes to it (openssl keeps the mode of a file it
        # truncates).
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        os.chmod(key, 0o600)
    except OSError as exc:
        raise TlsError(f"cannot write to {out}: {exc.strerror or exc}") from None
    names = [f"IP:{name}" if _is_ip(name) else f"DNS:{name}"]
    names += [alt for alt in ("IP:127.0.0.1", "IP:::1") if alt not in names]
    cmd = [
        openssl, "req", "-x509",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-sha256", "-days", str(days),
        "-subj", f"/CN={name}",
        "-addext", "subjectAltName=" + ",".join(names),
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TlsError(f"openssl failed: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise TlsError(f"openssl failed (exit status {done.returncode}): {detail}")
    return cert, key


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
