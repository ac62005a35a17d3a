"""Protocol detection on the plain-text port."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hubbub.protocols.base import FloodWords, Link, Session
from hubbub.protocols.sniff import SniffSession

from .irc_harness import MemoryLink


class Recorder(FloodWords):
    protocol: ClassVar[str] = "recorder"
    exempt_from_flood = False

    def __init__(self, name: str, link: Link) -> None:
        self.name = name
        self.link = link
        self.data = b""
        self.started = False
        self.eof = False

    def start(self) -> None:
        self.started = True

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        self.eof = True

    def connection_lost(self, reason: str) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass


def sniffer() -> tuple[SniffSession, MemoryLink]:
    link = MemoryLink()

    def plain(link: Link) -> Session:
        return Recorder("plain", link)

    def irc(link: Link) -> Session:
        return Recorder("irc", link)

    return SniffSession(link, plain, irc, 0.25), link


@pytest.mark.parametrize(
    "first",
    [b"CAP LS 302\r\n", b"NICK alice\r\n", b"USER a 0 * :A\n", b"PASS x\r\nNICK a\r\n", b"@l=1 CAP LS\r\n"],
)
def test_irc_registration_commands_pick_irc(first: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(first[:3])
    assert link.session is None  # waits for a whole line
    sniff.data_received(first[3:])
    assert isinstance(link.session, Recorder) and link.session.name == "irc"
    assert link.session.started and link.session.data == first


@pytest.mark.parametrize(
    "first",
    [
        b"hello everyone\n",
        b"/nick bob\r\n",
        b"NICKEL is a metal\n",
        b"\n",
        b"nick bob\n",  # IRC clients send their commands in capitals: this is a person
        b"user here, hi\r\n",
        b"pass the salt\n",
    ],
)
def test_anything_else_is_a_person(first: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(first)
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == first


def test_a_telnet_command_first_means_a_person_with_telnet() -> None:
    sniff, link = sniffer()
    sniff.data_received(b"\xff\xf4\xff\xfd\x06")  # Ctrl-C: IAC IP IAC DO TIMING-MARK, no line end
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == b"\xff\xf4\xff\xfd\x06"


def test_silence_and_eof_mean_a_person() -> None:
    sniff, link = sniffer()
    sniff._silence()
    assert isinstance(link.session, Recorder) and link.session.name == "plain" and link.session.data == b""
    sniff, link = sniffer()
    sniff.data_received(b"partial")
    sniff.eof_received()
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == b"partial" and link.session.eof


# -- a PROXY protocol header first ---------------------------------------------------------------------------

V1 = b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 6667\r\n"
V2 = (
    b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"
    + bytes([203, 0, 113, 8])
    + bytes([192, 0, 2, 1])
    + (40000).to_bytes(2, "big")
    + (6667).to_bytes(2, "big")
)


def trusted_sniffer() -> tuple[SniffSession, MemoryLink]:
    sniff, link = sniffer()
    link.trusted_proxy = True
    return sniff, link


@pytest.mark.parametrize(("header", "source"), [(V1, "203.0.113.7"), (V2, "203.0.113.8")])
def test_a_trusted_proxy_header_gives_the_address_and_is_dropped(header: bytes, source: str) -> None:
    sniff, link = trusted_sniffer()
    stream = header + b"NICK alice\r\n"
    for i in range(len(stream)):  # byte by byte: the header is read whole whatever the split
        sniff.data_received(stream[i : i + 1])
    assert link.addresses == [(source, "PROXY header")] and link.peer_host == source
    assert isinstance(link.session, Recorder) and link.session.name == "irc"
    assert link.session.data == b"NICK alice\r\n"


def test_a_header_then_silence_is_a_person_at_the_given_address() -> None:
    sniff, link = trusted_sniffer()
    sniff.data_received(V1)
    assert link.session is None
    sniff._silence()
    assert isinstance(link.session, Recorder) and link.session.name == "plain" and link.session.data == b""
    assert link.peer_host == "203.0.113.7"


def test_unknown_and_local_keep_the_proxy_address() -> None:
    sniff, link = trusted_sniffer()
    sniff.data_received(b"PROXY UNKNOWN\r\nhello\n")
    assert link.addresses == [] and link.peer_host == "192.0.2.1"
    assert isinstance(link.session, Recorder) and link.session.data == b"hello\n"
    sniff, link = trusted_sniffer()
    sniff.data_received(b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
    sniff.data_received(b"hi\n")
    assert link.addresses == [] and isinstance(link.session, Recorder) and link.session.data == b"hi\n"


@pytest.mark.parametrize("header", [V1, V2, b"PROXY junk\r\n"])
def test_an_untrusted_peer_is_refused(header: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(header + b"NICK mallory\r\n")
    assert link.session is None and link.addresses == []
    assert link.take() == ["ERROR :Closing Link: 192.0.2.1 (Bad or unauthorized PROXY command)"]
    assert link.closed == "PROXY header from an untrusted address"
    sniff.data_received(b"more")  # nothing more is read
    assert link.session is None


def test_a_header_inside_tls_is_refused() -> None:
    sniff, link = trusted_sniffer()
    link.secure = True
    sniff.data_received(V1)
    assert link.closed == "PROXY header inside TLS" and link.addresses == []


@pytest.mark.parametrize(
    "stream",
    [b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", b"PROXY UNKNOWN" + b"x" * 120, b"\r\n\r\n\x00\r\nQUIT\n\x31"],
)
def test_a_bad_header_from_a_trusted_proxy_is_refused(stream: bytes) -> None:
    sniff, link = trusted_sniffer()
    sniff.data_received(stream + b"\x00" * 16)
    assert link.session is None and link.closed is not None and link.closed.startswith("bad PROXY header")


def test_an_incomplete_header_is_never_chat() -> None:
    sniff, link = trusted_sniffer()
    sniff.data_received(V1[:20])
    sniff._silence()
    assert link.session is None and link.closed == "incomplete PROXY header"
    sniff, link = trusted_sniffer()
    sniff.data_received(V1[:20])
    sniff.eof_received()
    assert link.session is None and link.closed == "incomplete PROXY header"


def test_an_address_the_limits_refuse_stops_the_sniffer() -> None:
    sniff, link = trusted_sniffer()
    link.refuse_address = True
    sniff.data_received(V1 + b"NICK a\r\n")
    assert link.session is None and link.closed == "Too many connections from your address"


def test_people_whose_first_word_starts_like_proxy_are_people() -> None:
    sniff, link = trusted_sniffer()
    sniff.data_received(b"P")
    sniff.data_received(b"ROXIMITY is nice\n")
    assert isinstance(link.session, Recorder) and link.session.data == b"PROXIMITY is nice\n"
    # An empty line could begin a version 2 signature: the next bytes (or the silence) tell.
    sniff, link = sniffer()
    sniff.data_received(b"\r\n")
    assert link.session is None
    sniff.data_received(b"hello\n")
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == b"\r\nhello\n"


def test_webirc_first_picks_irc() -> None:
    sniff, link = sniffer()
    sniff.data_received(b"WEBIRC pw thelounge host 203.0.113.7\r\n")
    assert isinstance(link.session, Recorder) and link.session.name == "irc"


@pytest.mark.parametrize("version", [0, 1, 3, 4])
def test_a_tls_handshake_is_closed_and_never_replayed(version: int) -> None:
    hello = bytes((0x16, 0x03, version, 0x01, 0x00)) + b"\x01\x00\x00\xfc\x03\x03" + bytes(40) + b"\n"
    for split in (1, 2, 3, len(hello)):
        sniff, link = sniffer()
        sniff.data_received(hello[:split])
        if split < 3:
            assert link.session is None and link.closed is None
            sniff.data_received(hello[split:])
        assert link.session is None
        assert link.closed == "TLS handshake on a plain port"
        assert link.data == b""


@pytest.mark.parametrize("first", [b"\x16hello\n", b"\x16\x03\x09x\n", b"\x16\x02\x01\n"])
def test_what_only_starts_like_tls_is_not_refused(first: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(first)
    assert isinstance(link.session, Recorder) and link.session.name == "plain"


def test_a_paste_is_tolerated_before_the_decision_only_where_a_person_may_be() -> None:
    session, link = sniffer()
    assert session.pastes  # a plain-text port: what is not IRC is a person (nc HOST PORT < notes.txt)

    def irc(link: Link) -> Session:
        return Recorder("irc", link)

    assert not SniffSession(link, irc, irc, 0.25).pastes  # an IRC port: everything is IRC
