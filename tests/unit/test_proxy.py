"""The PROXY protocol parser, the trusted networks and the forwarded-header walk (protocols.proxy): fast
cases, and hypothesis properties (any split of a valid header reads the same, nothing past the header is
consumed, any bytes either parse, ask for more within the bounds, or raise ProxyError)."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.protocols.proxy import (
    MAX_HOPS,
    V1_MAX,
    V2_MAX_BODY,
    V2_SIGNATURE,
    ProxyError,
    ProxyHeader,
    TrustedNetworks,
    canonical_ip,
    is_loopback,
    parse_proxy,
    proxy_start,
    real_client,
)


def v2(
    source: str = "203.0.113.7",
    destination: str = "192.0.2.1",
    *,
    command: int = 1,
    family: int | None = None,
    transport: int = 1,
    tlvs: bytes = b"",
    version: int = 2,
) -> bytes:
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    if family is None:
        family = 1 if src.version == 4 else 2
    body = src.packed + dst.packed + struct.pack("!HH", 40000, 6667) + tlvs
    head = bytes([version << 4 | command, family << 4 | transport]) + struct.pack("!H", len(body))
    return V2_SIGNATURE + head + body


# -- recognising a header ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),
        (b"P", None),
        (b"PROXY", None),
        (b"PROXY ", True),
        (b"PROXY TCP4 1.2.3.4", True),
        (b"\r\n\r\n\x00", None),
        (V2_SIGNATURE, True),
        (b"PROXIMA", False),
        (b"proxy ", False),
        (b"NICK alice\r\n", False),
        (b"\r\n", None),
        (b"\r\nNICK a\r\n", False),
        (b"\x16\x03\x01", False),  # a TLS ClientHello
    ],
)
def test_proxy_start(data: bytes, expected: bool | None) -> None:
    assert proxy_start(data) is expected


# -- version 1 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "source"),
    [
        (b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 6667\r\n", "203.0.113.7"),
        (b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 6667\r\n", "2001:db8::7"),
        (b"PROXY TCP6 2001:DB8:0:0::7 ::1 0 65535\r\n", "2001:db8::7"),
        (b"PROXY TCP6 ::ffff:203.0.113.7 ::1 1 2\r\n", "203.0.113.7"),
        (b"PROXY UNKNOWN\r\n", None),
        (b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", None),
    ],
)
def test_v1_headers(line: bytes, source: str | None) -> None:
    after = b"NICK alice\r\n"
    assert parse_proxy(line + after) == ProxyHeader(source, len(line), 1)


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 203.0.113.7 192.0.2.1 40000\r\n",  # a port missing
        b"PROXY TCP4 203.0.113.7  192.0.2.1 40000 6667\r\n",  # two spaces
        b"PROXY TCP4 2001:db8::7 192.0.2.1 40000 6667\r\n",  # IPv6 for TCP4
        b"PROXY TCP6 203.0.113.7 ::1 40000 6667\r\n",  # IPv4 for TCP6
        b"PROXY TCP4 203.0.113.07 192.0.2.1 40000 6667\r\n",  # a leading zero
        b"PROXY TCP4 203.0.113.7 192.0.2.1 65536 6667\r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 040000 6667\r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 -1 6667\r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 \xd9\xa1 6667\r\n",  # not ASCII
        b"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",  # a zone
        b"PROXY UDP4 203.0.113.7 192.0.2.1 40000 6667\r\n",
        b"PROXY \r\n",
        b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 6667\n",  # LF alone
        b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n",  # over 107 bytes
    ],
)
def test_bad_v1_headers(line: bytes) -> None:
    with pytest.raises(ProxyError):
        parse_proxy(line)


def test_v1_waits_for_its_crlf_within_107_bytes() -> None:
    assert parse_proxy(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 6667") is None
    assert parse_proxy(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 6667\r") is None
    assert parse_proxy(b"PROXY UNKNOWN " + b"x" * (V1_MAX - 17)) is None
    with pytest.raises(ProxyError, match="107"):
        parse_proxy(b"PROXY UNKNOWN " + b"x" * (V1_MAX - 14))


def test_not_a_header_at_all() -> None:
    with pytest.raises(ProxyError):
        parse_proxy(b"NICK alice\r\n")


# -- version 2 -----------------------------------------------------------------------------------------------


def test_v2_ipv4_and_ipv6_and_what_follows_is_left() -> None:
    header = v2()
    assert parse_proxy(header + b"\x16\x03\x01") == ProxyHeader("203.0.113.7", 28, 2)
    six = v2("2001:db8::7", "2001:db8::1")
    assert parse_proxy(six) == ProxyHeader("2001:db8::7", 52, 2)
    assert parse_proxy(v2("::ffff:203.0.113.9", "::1")) == ProxyHeader("203.0.113.9", 52, 2)


def test_v2_tlvs_are_skipped() -> None:
    tlvs = b"\x20\x00\x05\x01\x00\x00\x00\x00" + b"\x04\x00\x03abc"  # PP2_TYPE_SSL, PP2_TYPE_NOOP
    header = v2(tlvs=tlvs)
    assert parse_proxy(header) == ProxyHeader("203.0.113.7", len(header), 2)


def test_v2_local_and_addressless_families_keep_the_proxy_address() -> None:
    local = V2_SIGNATURE + b"\x20\x00\x00\x00"
    assert parse_proxy(local) == ProxyHeader(None, 16, 2)
    # LOCAL ignores its address block, whatever it says.
    assert parse_proxy(v2(command=0, family=9, transport=9)) == ProxyHeader(None, 28, 2)
    unspec = V2_SIGNATURE + b"\x21\x00\x00\x04abcd"
    assert parse_proxy(unspec) == ProxyHeader(None, 20, 2)
    unix = V2_SIGNATURE + b"\x21\x31\x00\xd8" + bytes(216)
    assert parse_proxy(unix) == ProxyHeader(None, 232, 2)


@pytest.mark.parametrize(
    "header",
    [
        v2(version=1),
        v2(command=2),
        v2(family=4),
        v2(transport=2),  # UDP
        v2(transport=3),
        V2_SIGNATURE + b"\x21\x11\x00\x08" + bytes(8),  # too short for two IPv4 addresses and ports
        V2_SIGNATURE + b"\x21\x21\x00\x0c" + bytes(12),  # too short for IPv6
        V2_SIGNATURE + b"\x21\x11" + struct.pack("!H", V2_MAX_BODY + 1),
    ],
)
def test_bad_v2_headers(header: bytes) -> None:
    with pytest.raises(ProxyError):
        parse_proxy(header)


def test_v2_waits_for_its_length() -> None:
    header = v2()
    for end in range(len(V2_SIGNATURE), len(header)):
        assert parse_proxy(header[:end]) is None
    assert parse_proxy(header) is not None


# -- properties ----------------------------------------------------------------------------------------------

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None).map(str)
ports = st.integers(0, 65535)


@st.composite
def v1_headers(draw: st.DrawFn) -> tuple[bytes, str]:
    family = draw(st.sampled_from(["TCP4", "TCP6"]))
    addresses = ipv4 if family == "TCP4" else ipv6
    source, destination = draw(addresses), draw(addresses)
    text = f"PROXY {family} {source} {destination} {draw(ports)} {draw(ports)}\r\n"
    return text.encode(), str(ipaddress.ip_address(source))


@st.composite
def v2_headers(draw: st.DrawFn) -> tuple[bytes, str]:
    six = draw(st.booleans())
    addresses = ipv6 if six else ipv4
    source = draw(addresses)
    tlvs = draw(st.binary(max_size=64))
    return v2(source, draw(addresses), tlvs=tlvs), str(ipaddress.ip_address(source))


@settings(max_examples=300)
@given(st.one_of(v1_headers(), v2_headers()), st.binary(max_size=40), st.data())
def test_any_header_reads_the_same_whole_or_by_prefix(
    made: tuple[bytes, str], after: bytes, data: st.DataObject
) -> None:
    header, source = made
    assert proxy_start(header[:1]) is not False
    parsed = parse_proxy(header + after)
    assert parsed is not None
    assert parsed.source == source and parsed.length == len(header)
    cut = data.draw(st.integers(1, len(header) - 1))
    assert proxy_start(header[:cut]) is not False
    if proxy_start(header[:cut]):
        assert parse_proxy(header[:cut]) is None


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_any_bytes_parse_ask_for_more_or_raise(data: bytes) -> None:
    for stream in (data, b"PROXY " + data, V2_SIGNATURE + data):
        if not proxy_start(stream):
            continue
        try:
            header = parse_proxy(stream)
        except ProxyError:
            continue
        if header is None:  # more is needed: only while under the bounds
            assert len(stream) < max(V1_MAX, 16 + V2_MAX_BODY)
            if stream.startswith(b"PROXY "):
                assert len(stream) < V1_MAX
        else:
            assert 0 < header.length <= len(stream)
            assert header.source is None or canonical_ip(header.source) == header.source


# -- addresses and trust -------------------------------------------------------------------------------------


def test_canonical_ip_and_loopback() -> None:
    assert canonical_ip("2001:DB8::1") == "2001:db8::1"
    assert canonical_ip("::ffff:10.0.0.1") == "10.0.0.1"
    assert canonical_ip("fe80::1%eth0") is None
    assert canonical_ip("example.org") is None
    assert canonical_ip("1.2.3") is None
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.9.9.9")
    assert not is_loopback("10.0.0.1") and not is_loopback("unknown")


def test_trusted_networks() -> None:
    trusted = TrustedNetworks(["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"])
    assert trusted
    assert "10.1.2.3" in trusted and "::ffff:10.1.2.3" in trusted and "127.0.0.1" in trusted
    assert "2001:db8:1::5" in trusted
    assert "11.0.0.1" not in trusted and "127.0.0.2" not in trusted and "unknown" not in trusted
    assert 5 not in trusted
    nobody = TrustedNetworks()
    assert not nobody and "127.0.0.1" not in nobody


# -- X-Forwarded-For and Forwarded ---------------------------------------------------------------------------

PROXIES = TrustedNetworks(["127.0.0.1/32", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # Not from a trusted proxy: the headers are anyone's words.
        ("198.51.100.9", [("x-forwarded-for", "203.0.113.7")], "198.51.100.9"),
        # One trusted hop.
        ("127.0.0.1", [("x-forwarded-for", "203.0.113.7")], "203.0.113.7"),
        # What the client itself wrote stays left of what the proxies added: the walk stops at the first
        # address no trusted hop vouches for.
        ("127.0.0.1", [("x-forwarded-for", "6.6.6.6, 203.0.113.7")], "203.0.113.7"),
        ("127.0.0.1", [("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")], "203.0.113.7"),
        (
            "127.0.0.1",
            [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.7, 10.1.1.1")],
            "203.0.113.7",
        ),
        # Ports and brackets.
        ("127.0.0.1", [("x-forwarded-for", "203.0.113.7:5555")], "203.0.113.7"),
        ("127.0.0.1", [("x-forwarded-for", "[2001:db8::7]:5555")], "2001:db8::7"),
        ("127.0.0.1", [("x-forwarded-for", "2001:db8::7")], "2001:db8::7"),
        # Garbage stops the walk at the last trusted hop.
        ("127.0.0.1", [("x-forwarded-for", "203.0.113.7, junk")], "127.0.0.1"),
        ("127.0.0.1", [("x-forwarded-for", "junk, 10.0.0.3")], "10.0.0.3"),
        ("127.0.0.1", [("x-forwarded-for", "")], "127.0.0.1"),
        # Every hop trusted: the leftmost is the client.
        ("127.0.0.1", [("x-forwarded-for", "10.0.0.9, 10.0.0.3")], "10.0.0.9"),
        # No header: the peer.
        ("127.0.0.1", [], "127.0.0.1"),
        # Forwarded (RFC 7239), used when there is no X-Forwarded-For.
        ("127.0.0.1", [("forwarded", "for=203.0.113.7;proto=https")], "203.0.113.7"),
        ("127.0.0.1", [("forwarded", 'for="[2001:db8::7]:4711", for=10.0.0.2')], "2001:db8::7"),
        ("127.0.0.1", [("forwarded", "For=6.6.6.6"), ("forwarded", "by=x;for=203.0.113.7")], "203.0.113.7"),
        ("127.0.0.1", [("forwarded", "for=unknown")], "127.0.0.1"),
        ("127.0.0.1", [("forwarded", "for=_hidden, for=10.0.0.2")], "10.0.0.2"),
        ("127.0.0.1", [("forwarded", "proto=https")], "127.0.0.1"),
        ("127.0.0.1", [("forwarded", "for=6.6.6.6"), ("x-forwarded-for", "203.0.113.7")], "203.0.113.7"),
    ],
)
def test_real_client(peer: str, headers: list[tuple[str, str]], client: str) -> None:
    assert real_client(peer, headers, PROXIES) == client


def test_real_client_looks_at_the_last_hops_only() -> None:
    chain = ", ".join(["10.0.0.1"] * (MAX_HOPS + 5))
    assert real_client("127.0.0.1", [("x-forwarded-for", "203.0.113.7, " + chain)], PROXIES) == "10.0.0.1"
    assert real_client("127.0.0.1", [("x-forwarded-for", "203.0.113.7")], TrustedNetworks()) == "127.0.0.1"


@settings(max_examples=300)
@given(
    st.lists(st.one_of(ipv4, ipv6, st.text(max_size=12)), max_size=8),
    st.sampled_from(["127.0.0.1", "10.9.9.9", "198.51.100.1"]),
)
def test_real_client_is_the_peer_or_an_address_of_the_chain(hops: list[str], peer: str) -> None:
    header = ", ".join(hops)
    client = real_client(peer, [("x-forwarded-for", header)], PROXIES)
    if peer not in PROXIES:
        assert client == peer
    else:
        candidates = {peer} | {canonical_ip(hop.strip()) for hop in hops}
        assert client in candidates
