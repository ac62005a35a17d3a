"""Fuzz target: the PROXY protocol reader and the forwarded-header walk (``hubbub.protocols.proxy``), and the
sniffer that applies a header on the chat ports.

The input's first byte picks how the rest is split into reads and whether the peer is a trusted proxy.
Whatever the bytes: the reader returns a header, asks for more only within its size bounds, or raises
ProxyError, never anything else, and reads the same whole as by any prefix; the sniffer hands on exactly what
follows a header it honours (unless it is a TLS record, which closes the connection), gives the connection no
address but the header's, and from an untrusted peer lets nothing of a stream that starts like a header reach
a session; a stream that starts with a TLS record never reaches one. ``real_client`` on the bytes as a header
value returns the peer or a canonical address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _fuzzutil import NoTimer, Recorder, fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from hubbub.protocols.proxy import (
        V1_MAX,
        V2_MAX_BODY,
        ProxyError,
        TrustedNetworks,
        canonical_ip,
        parse_proxy,
        proxy_start,
        real_client,
    )
    from hubbub.protocols.sniff import SniffSession, is_tls_record

TRUSTED = TrustedNetworks(["192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32"])


class Link:
    secure = False

    def __init__(self, trusted: bool) -> None:
        self.trusted_proxy = trusted
        self.peer_host = "192.0.2.1"
        self.out: list[Any] = []
        self.closed: str | None = None
        self.session: Any = None
        self.addresses: list[str] = []

    def send(self, data: bytes) -> None:
        assert self.closed is None, "output after close"
        self.out.append(data)

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason

    def call_later(self, delay: float, callback: Callable[[], None]) -> NoTimer:
        return NoTimer()

    def switch(self, session: Any) -> None:
        assert self.session is None, "switched twice"
        self.session = session

    def set_client_address(self, host: str, how: str) -> bool:
        assert self.trusted_proxy, "an address from an untrusted peer"
        self.addresses.append(host)
        self.peer_host = host
        return True


def read(stream: bytes) -> Any:
    """What the reader makes of ``stream``: False (no header begins, or too short to tell), a header, None
    (more needed), or the ProxyError class."""
    if not proxy_start(stream):
        return False
    try:
        return parse_proxy(stream)
    except ProxyError:
        return ProxyError


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    step = 1 + data[0] % 61
    trusted = bool(data[0] & 0x80)
    stream = data[1:]

    whole = read(stream)
    if whole is None:
        limit = V1_MAX if stream.startswith(b"PROXY ") else 16 + V2_MAX_BODY
        assert len(stream) < limit, len(stream)
    elif whole not in (False, ProxyError):
        assert 0 < whole.length <= len(stream)
        assert whole.source is None or canonical_ip(whole.source) == whole.source
        # Every prefix that holds the header reads the same; a shorter one asks for more.
        assert read(stream[: whole.length]) == whole
        for end in range(1, whole.length, step):
            assert proxy_start(stream[:end]) is not False, end
            assert read(stream[:end]) in (None, False), end

    link = Link(trusted)
    sniff = SniffSession(link, Recorder, Recorder, 0.25)
    for i in range(0, len(stream), step):
        (link.session or sniff).data_received(stream[i : i + step])  # as the connection feeds its session
    (link.session or sniff).eof_received()
    chat = link.session
    header = whole if whole not in (False, None, ProxyError) else None
    if proxy_start(stream) and (not trusted or header is None):
        assert chat is None, "a refused or unfinished PROXY header reached a session"
        assert link.addresses == []
    if header is not None and trusted and is_tls_record(stream[header.length :]):
        assert chat is None and link.closed, "a TLS record after a PROXY header reached a session"
    elif header is not None and trusted:
        assert isinstance(chat, Recorder)
        assert chat.data == stream[header.length :]
        expected = [] if header.source in (None, "192.0.2.1") else [header.source]
        assert link.addresses == expected
    if not proxy_start(stream) and is_tls_record(stream):
        assert chat is None and link.closed, "a TLS record reached a session"
    if chat is not None and not proxy_start(stream):
        assert chat.data == stream and link.addresses == []

    value = stream.decode("latin-1")
    for peer in ("192.0.2.1", "198.51.100.1"):
        for name in ("x-forwarded-for", "forwarded"):
            client = real_client(peer, [(name, value)], TRUSTED)
            assert client == peer or canonical_ip(client) == client


if __name__ == "__main__":
    fuzz(TestOneInput)
