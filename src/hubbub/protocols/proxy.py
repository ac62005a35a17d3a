"""The real client address behind a trusted proxy or web gateway. Sans-I/O.

A load balancer or TLS terminator (HAProxy, nginx's stream module, a cloud balancer) that connects to hubbub
on a client's behalf can say who the client is in a PROXY protocol header, the first bytes it sends; a web
gateway speaking HTTP says it in ``X-Forwarded-For`` or ``Forwarded``. Either is believed only from a peer in
``--trusted-proxy`` (:class:`TrustedNetworks`): from anyone else it would let a client choose its own address,
and with it dodge K-lines, bans and the per-address limits.

- :func:`proxy_start` tells whether bytes begin a PROXY header; :func:`parse_proxy` reads one, version 1
  (``PROXY TCP4 SRC DST SPORT DPORT\\r\\n``, at most :data:`V1_MAX` bytes) or version 2 (the 12-byte
  signature, a 4-byte head and at most :data:`V2_MAX_BODY` bytes of addresses and TLVs, which are
  skipped). Every malformed or oversized header raises :class:`ProxyError`; nothing past the header is read.
- :func:`real_client` walks an ``X-Forwarded-For`` (or ``Forwarded: for=``) chain from the right, skipping the
  trusted hops, to the first address that is not one.

The specification: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MAX_HOPS",
    "V1_MAX",
    "V2_MAX_BODY",
    "V2_SIGNATURE",
    "ProxyError",
    "ProxyHeader",
    "TrustedNetworks",
    "canonical_ip",
    "is_loopback",
    "parse_proxy",
    "proxy_start",
    "real_client",
]

#: The longest version 1 header, its CRLF included (the specification's own bound).
V1_MAX = 107
V1_PREFIX = b"PROXY "
#: The first 12 bytes of every version 2 header.
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
#: The signature, the version and command, the family and transport, and the length of the rest.
V2_HEAD = 16
#: The most bytes of addresses and TLVs a version 2 header may carry (a proxy that adds TLVs of its own, such
#: as TLS details or a cloud's connection id, stays far under it).
V2_MAX_BODY = 1024
#: The most hops of a forwarded chain looked at (a longer chain is cut to its last MAX_HOPS entries).
MAX_HOPS = 32


class ProxyError(ValueError):
    """Bytes that are not a valid PROXY header (the connection is to be closed)."""


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    #: The client's address (canonical text), or None when the header gives none (v1 UNKNOWN, v2 LOCAL or a
    #: family without an IP address): the connection keeps the proxy's own.
    source: str | None
    #: The header's length in bytes: what to drop from the start of the stream.
    length: int
    version: int


def canonical_ip(text: str) -> str | None:
    """``text`` as a canonical IP address (an IPv4-mapped IPv6 address as its IPv4 address), or None if it is
    not an IP address (zone ids included)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1)."""
    canonical = canonical_ip(host)
    return canonical is not None and ipaddress.ip_address(canonical).is_loopback


def proxy_start(data: bytes) -> bool | None:
    """Whether ``data`` begins with a PROXY header's signature: True, False, or None while ``data`` is too
    short to tell (it is a prefix of a signature)."""
    for signature in (V1_PREFIX, V2_SIGNATURE):
        if data.startswith(signature):
            return True
        if signature.startswith(data):
            return None
    return False


def parse_proxy(data: bytes) -> ProxyHeader | None:
    """The PROXY header at the start of ``data`` (which :func:`proxy_start` found to begin one), or None if
    more bytes are needed. :class:`ProxyError` if it is not a valid header, or could only be one past the
    size bounds."""
    if data.startswith(V1_PREFIX):
        return _parse_v1(data)
    if data.startswith(V2_SIGNATURE):
        return _parse_v2(data)
    raise ProxyError("not a PROXY header")


def _parse_v1(data: bytes) -> ProxyHeader | None:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX or b"\n" in data[:V1_MAX]:
            raise ProxyError("a PROXY line longer than 107 bytes, or without CRLF")
        return None
    length = end + 2
    try:
        text = data[len(V1_PREFIX) : end].decode("ascii")
    except UnicodeDecodeError:
        raise ProxyError("a PROXY line that is not ASCII") from None
    words = text.split(" ")
    if words[0] == "UNKNOWN":  # anything may follow, and is ignored
        return ProxyHeader(None, length, 1)
    if len(words) != 5 or words[0] not in ("TCP4", "TCP6"):
        raise ProxyError("a PROXY line must be PROXY TCP4|TCP6 SRC DST SPORT DPORT")
    family, source, destination, source_port, destination_port = words
    version = ipaddress.IPv4Address if family == "TCP4" else ipaddress.IPv6Address
    for address in (source, destination):
        try:
            version(address)
        except ValueError:
            raise ProxyError(f"not an {family} address: {address[:50]!r}") from None
    for port in (source_port, destination_port):
        if not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
            raise ProxyError(f"not a port number: {port[:10]!r}")
        if len(port) > 1 and port[0] == "0":
            raise ProxyError(f"a port number with a leading zero: {port!r}")
    if "%" in source:
        raise ProxyError("an address with a zone")
    return ProxyHeader(canonical_ip(source), length, 1)


def _parse_v2(data: bytes) -> ProxyHeader | None:
    if len(data) < V2_HEAD:
        return None
    version, command = data[12] >> 4, data[12] & 0x0F
    if version != 2:
        raise ProxyError(f"PROXY version {version}: only version 2 has a binary header")
    if command > 1:
        raise ProxyError(f"unknown PROXY command {command}")
    family, transport = data[13] >> 4, data[13] & 0x0F
    size = int.from_bytes(data[14:16], "big")
    if size > V2_MAX_BODY:
        raise ProxyError(f"a PROXY header of {V2_HEAD + size} bytes (at most {V2_HEAD + V2_MAX_BODY})")
    length = V2_HEAD + size
    if len(data) < length:
        return None
    if command == 0:  # LOCAL: the proxy's own connection (a health check); its address block is ignored
        return ProxyHeader(None, length, 2)
    if family > 3 or transport > 2:
        raise ProxyError(f"unknown PROXY address family {family} or transport {transport}")
    if family in (0, 3):  # unspecified, or a Unix socket: no IP address to give
        return ProxyHeader(None, length, 2)
    if transport != 1:
        raise ProxyError("a PROXY header for another transport than TCP")
    width = 4 if family == 1 else 16
    if size < 2 * width + 4:  # the two addresses and the two ports; TLVs may follow, and are skipped
        raise ProxyError("a PROXY header too short for its addresses")
    raw = data[V2_HEAD : V2_HEAD + width]
    address = ipaddress.IPv4Address(raw) if width == 4 else ipaddress.IPv6Address(raw)
    return ProxyHeader(canonical_ip(str(address)), length, 2)


class TrustedNetworks:
    """The networks of ``--trusted-proxy``: whose PROXY headers, WEBIRC and forwarded headers are believed.
    An IPv4-mapped IPv6 address is matched as its IPv4 address; anything that is not an IP address is never
    trusted."""

    __slots__ = ("networks",)

    def __init__(self, specs: Iterable[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, host: object) -> bool:
        if not self.networks or not isinstance(host, str):
            return False
        canonical = canonical_ip(host.partition("%")[0])
        if canonical is None:
            return False
        address = ipaddress.ip_address(canonical)
        return any(address in network for network in self.networks)


def real_client(peer: str, headers: Iterable[tuple[str, str]], trusted: TrustedNetworks) -> str:
    """The address of the client behind an HTTP request that came from ``peer`` with ``headers`` (names in
    lower case, as h11 gives them).

    From a ``peer`` that is not trusted, ``peer``. Otherwise the forwarded chain (``X-Forwarded-For``, all of
    its headers in order; without one, the ``for=`` of ``Forwarded``) is walked from the right, each hop
    added by the one after it: trusted hops are skipped, and the first address that is not trusted is the
    client. Where the chain holds something that is not an address (``unknown``, an obfuscated name,
    garbage), the walk stops at the last trusted hop, which is then the client, as it is when every hop is
    trusted. A proxy must therefore set or append to the header it uses, and drop the other one.
    """
    if peer not in trusted:
        return peer
    forwarded = [value for name, value in headers if name == "x-forwarded-for"]
    if forwarded:
        hops = [_address(part) for part in ",".join(forwarded).split(",")]
    else:
        hops = [_address(value) for value in _forwarded_for(headers)]
    result = canonical_ip(peer) or peer
    for hop in reversed(hops[-MAX_HOPS:]):
        if hop is None:
            break
        result = hop
        if hop not in trusted:
            break
    return result


def _forwarded_for(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The ``for=`` values of every ``Forwarded`` element, in order (RFC 7239); an element without one is an
    unknown hop."""
    found: list[str] = []
    for name, value in headers:
        if name != "forwarded":
            continue
        for element in value.split(","):
            hop = ""
            for pair in element.split(";"):
                key, sep, item = pair.strip().partition("=")
                if sep and key.strip().lower() == "for":
                    hop = item.strip()
            found.append(hop)
    return found


def _address(text: str) -> str | None:
    """One hop of a forwarded chain as a canonical address: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``,
    ``[::1]:80`` and, quoted, ``"[::1]"``; None for anything else."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    return canonical_ip(text)
