"""Protocol detection on the plain-text port."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hubbub.protocols.base import Link, Session
from hubbub.protocols.sniff import SniffSession

from .irc_harness import MemoryLink


class Recorder:
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
    [b"CAP LS 302\r\n", b"NICK alice\r\n", b"user a 0 * :A\n", b"PASS x\r\nNICK a\r\n", b"@l=1 CAP LS\r\n"],
)
def test_irc_registration_commands_pick_irc(first: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(first[:3])
    assert link.session is None  # waits for a whole line
    sniff.data_received(first[3:])
    assert isinstance(link.session, Recorder) and link.session.name == "irc"
    assert link.session.started and link.session.data == first


@pytest.mark.parametrize("first", [b"hello everyone\n", b"/nick bob\r\n", b"NICKEL is a metal\n", b"\n"])
def test_anything_else_is_a_person(first: bytes) -> None:
    sniff, link = sniffer()
    sniff.data_received(first)
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == first


def test_silence_and_eof_mean_a_person() -> None:
    sniff, link = sniffer()
    sniff._silence()
    assert isinstance(link.session, Recorder) and link.session.name == "plain" and link.session.data == b""
    sniff, link = sniffer()
    sniff.data_received(b"partial")
    sniff.eof_received()
    assert isinstance(link.session, Recorder) and link.session.name == "plain"
    assert link.session.data == b"partial" and link.session.eof
