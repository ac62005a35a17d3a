"""Telling IRC clients, people and web browsers apart by what they send first.

IRC clients speak first (``CAP LS``, ``NICK``, ``USER`` or ``PASS``) as soon as they connect; people with
netcat or telnet wait to be greeted; a browser sends an HTTP request line at once. The sniffer holds the first
bytes until a line arrives or ``delay`` seconds pass, then hands the connection to an HTTP session (the first
line is an HTTP request line: it must never become chat, see protocols.http), an IRC session (the first word
is an IRC registration command) or the ``other`` session (anything else, or silence: plain text on the
plain-text port, IRC on the IRC port), replaying what it held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from .base import Link, Session
from .http import is_request_line

__all__ = ["IRC_FIRST_WORDS", "SniffSession"]

IRC_FIRST_WORDS = frozenset({b"CAP", b"NICK", b"USER", b"PASS"})
#: Bytes to look at before deciding anyway.
SNIFF_LIMIT = 1024


class SniffSession:
    __slots__ = ("buffer", "decided", "http", "irc", "link", "other", "timer")

    protocol: ClassVar[str] = "sniff"
    #: Nothing is decided yet, nobody is an operator.
    exempt_from_flood: ClassVar[bool] = False

    def __init__(
        self,
        link: Link,
        other: Callable[[Link], Session],
        irc: Callable[[Link], Session],
        delay: float,
        http: Callable[[Link], Session] | None = None,
    ) -> None:
        self.link = link
        self.other = other
        self.irc = irc
        #: Who answers an HTTP request (None: nobody here recognises HTTP).
        self.http = http
        self.buffer = b""
        self.decided = False
        self.timer = link.call_later(delay, self._silence)

    def start(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\n")
        if end >= 0 or len(self.buffer) >= SNIFF_LIMIT:
            first = self.buffer[: end if end >= 0 else SNIFF_LIMIT]
            if self.http is not None and is_request_line(first):
                self._decide(self.http)
                return
            first = first.lstrip()
            if first.startswith(b"@"):  # IRCv3 tags before the verb
                first = first.partition(b" ")[2].lstrip()
            word = first.split(b" ", 1)[0].rstrip(b"\r").upper()
            self._decide(self.irc if word in IRC_FIRST_WORDS else self.other)

    def eof_received(self) -> None:
        self._decide(self.other, eof=True)

    def connection_lost(self, reason: str) -> None:
        self.timer.cancel()

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def _silence(self) -> None:
        if not self.decided:
            self._decide(self.other)

    def _decide(self, factory: Callable[[Link], Session], *, eof: bool = False) -> None:
        if self.decided:
            return
        self.decided = True
        self.timer.cancel()
        session = factory(self.link)
        self.link.switch(session)
        session.start()
        if self.buffer:
            data, self.buffer = self.buffer, b""
            session.data_received(data)
        if eof:
            session.eof_received()
