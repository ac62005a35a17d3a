"""Host cloaking: the host others see is a keyed hash of the user's address, not the address.

As ergo does it (irc/cloaks): the address is first masked to its network (``cidr_v4`` bits of an IPv4
address, ``cidr_v6`` of an IPv6 one; an IPv4-mapped IPv6 address counts as IPv4), then the secret and the
masked address bytes are hashed with SHA3-512 (``SHA3(K || M)``, which needs no HMAC construction), the first
``bits`` of the digest are written in ergo's base32 alphabet (no ``0 1 l o``, no padding) and the network
name follows: ``4ngdu6vjp4x5q.irc``. The same address and secret always give the same cloak, and so do all
the addresses of one masked network; without the secret, the cloak says nothing of the address.

The server keeps the real address (``User.ip``): K-lines, the per-address limits, room bans (which match both
hostmasks) and the log use it, and operators see it (WHOIS 338, WHO ``%i``).

The secret lives in the store's ``meta`` table (:data:`SECRET_META`); :func:`settle` decides, at start, from
the setting and the store, whether this run cloaks and with which secret.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
from functools import lru_cache
from typing import Protocol

__all__ = ["ALPHABET", "SECRET_META", "Cloaks", "Meta", "cloak", "new_secret", "settle"]

#: The ``meta`` name of the cloak secret.
SECRET_META = "cloak_secret"
#: ergo's base32 alphabet (utils.B32Encoder): the standard one without 0, 1, l and o.
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_TO_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
#: A host that is no IP address (a Unix socket's "unknown") is hashed after this prefix, so that it can never
#: hash like a masked address (ergo pads account names the same way).
_NOT_AN_ADDRESS = bytes(16)
_V4_MAPPED = bytes(10) + b"\xff\xff"


def new_secret() -> str:
    """A random 256-bit secret, as ergo's GenerateSecretKey writes one (URL-safe base64, no padding)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def cloak(
    address: str, secret: str, netname: str = "irc", cidr_v4: int = 32, cidr_v6: int = 64, bits: int = 64
) -> str:
    """The cloak of ``address`` (an IP address as text; anything else is hashed as text)."""
    data = _masked(address, cidr_v4, cidr_v6)
    if data is None:
        data = _NOT_AN_ADDRESS + address.encode()
    digest = hashlib.sha3_512(secret.encode() + data).digest()[: (bits + 7) // 8]
    return f"{base64.b32encode(digest).decode().rstrip('=').translate(_TO_ALPHABET)}.{netname}"


def _masked(address: str, cidr_v4: int, cidr_v6: int) -> bytes | None:
    """The bytes of ``address`` masked to its first ``cidr_v4`` (IPv4, also IPv4-mapped IPv6) or ``cidr_v6``
    bits; None if it is no IP address. (inet_pton: a fraction of ipaddress's cost.)"""
    try:
        if ":" not in address:
            packed = socket.inet_pton(socket.AF_INET, address)
        else:
            packed = socket.inet_pton(socket.AF_INET6, address.partition("%")[0])
            if packed[:12] == _V4_MAPPED:
                packed = packed[12:]
    except (OSError, ValueError):
        return None
    size = len(packed) * 8
    keep = cidr_v4 if size == 32 else cidr_v6
    mask = ((1 << keep) - 1) << (size - keep)
    return (int.from_bytes(packed, "big") & mask).to_bytes(len(packed), "big")


class Cloaks:
    """The hub's cloaking (``hub.cloaks``): ``host(address)`` is what others see of a user at ``address``.
    Off (the default, and without a secret) it is the address itself."""

    __slots__ = ("_cached", "cidr_v4", "cidr_v6", "netname", "secret")

    def __init__(self, secret: str = "", netname: str = "irc", cidr_v4: int = 32, cidr_v6: int = 64) -> None:
        self.secret = secret
        self.netname = netname
        self.cidr_v4 = cidr_v4
        self.cidr_v6 = cidr_v6
        #: The recent addresses' cloaks (a reconnection storm from a few addresses hashes each once).
        self._cached = lru_cache(maxsize=4096)(self._compute)

    @property
    def enabled(self) -> bool:
        return bool(self.secret)

    def host(self, address: str) -> str:
        if not self.secret:
            return address
        return self._cached(address)

    def _compute(self, address: str) -> str:
        return cloak(address, self.secret, self.netname, self.cidr_v4, self.cidr_v6)


class Meta(Protocol):
    """Where the secret is kept: a store's ``meta`` pairs."""

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...


def settle(mode: str, store: Meta, *, fresh: bool, configured: str = "") -> tuple[str, str]:
    """The secret this run cloaks with ("": no cloaking) and a line for the log, from the setting ``mode``
    ("auto", "on" or "off"), the store (``fresh``: created by this start), and a ``configured`` secret.

    - ``off`` never cloaks;
    - a configured secret is used as it is (``on`` or ``auto``), and is not written to the store;
    - ``auto`` on a fresh store, or ``on``, uses the store's secret, generating and keeping one if needed;
    - ``auto`` on an existing store uses its secret if it has one, else shows addresses as before.
    """
    if mode == "off":
        return "", "cloak: off (users' addresses are in their hostmasks)"
    if configured:
        return configured, "cloak: on, with the configured secret"
    stored = store.get_meta(SECRET_META) or ""
    if stored:
        return stored, "cloak: on, with the secret kept in the store"
    if mode == "on" or fresh:
        secret = new_secret()
        store.set_meta(SECRET_META, secret)
        return secret, "cloak: on, with a new secret kept in the store"
    return "", (
        'cloak: off for this existing store (users\' addresses are in their hostmasks); set cloak = "on"'
        " ([chat] in the configuration file, or --cloak on) to hide them behind a keyed hash"
    )
