"""Telling IRC clients, people and web browsers apart by what they send first.

IRC clients speak first (``CAP LS``, ``NICK``, ``USER`` or ``PASS``, in capitals) as soon as they connect;
people with netcat or telnet wait to be greeted (telnet may send telnet commands first); a browser sends an
HTTP request line at once. The sniffer holds the first bytes until a line arrives or ``delay`` seconds pass,
then hands the connection to an HTTP session (the first line is an HTTP request line: it must never become
chat, see protocols.http), an IRC session (the first word is an IRC registration command) or the ``other``
session (anything else, or silence: plain text on the plain-text port, IRC on the IRC port), replaying what
it held.

Before any of that, a connection may begin with a PROXY protocol header (:mod:`.proxy`): from a trusted proxy
(``Link.trusted_proxy``) it is read and dropped, and the client's address it gives becomes the connection's;
from anyone else, or inside TLS (a proxy sends it before the handshake: the network layer reads it there),
the connection is refused, as ergo refuses it ("Bad or unauthorized PROXY command").

A TLS record (a ClientHello sent to a port that does not speak TLS) is recognised by its first three bytes and
the connection closed at once, logged: it is never replayed to a session as text (it would be chat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

from ..wire.irc import line
from .base import FloodWords, Link, Session
from .http import is_request_line
from .proxy import ProxyError, parse_proxy, proxy_start

__all__ = ["IRC_FIRST_WORDS", "SniffSession", "is_tls_record"]

log = logging.getLogger("hubbub.sniff")

IRC_FIRST_WORDS = frozenset({b"CAP", b"NICK", b"USER", b"PASS", b"WEBIRC"})
#: What a client is told when its PROXY header is not honoured (ergo's words).
BAD_PROXY = "Bad or unauthorized PROXY command"
#: Bytes to look at before deciding anyway.
SNIFF_LIMIT = 1024


def is_tls_record(data: bytes) -> bool | None:
    """Whether ``data`` starts like a TLS record (a handshake: 0x16, then version 0x03 0x00-0x04); ``None``
    when fewer than three bytes cannot tell yet."""
    if not data or data[0] != 0x16:
        return False
    if len(data) < 3:
        return None if data[1:2] in (b"", b"\x03") else False
    return data[1] == 0x03 and data[2] <= 0x04


class SniffSession(FloodWords):
    __slots__ = ("buffer", "decided", "http", "irc", "link", "other", "proxy_done", "timer")

    protocol: ClassVar[str] = "sniff"
    #: Nothing is decided yet, nobody is an operator.
    exempt_from_flood: ClassVar[bool] = False

    @property
    def pastes(self) -> bool:
        """On a plain-text port (where what is not IRC is a person), a first read may be a paste already
        (``nc HOST PORT < notes.txt``): it is tolerated as the plain-text session would."""
        return self.other is not self.irc

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
        #: Whether the start of the stream was checked for a PROXY header (and any header taken).
        self.proxy_done = False
        self.timer = link.call_later(delay, self._silence)

    def start(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        if self.decided:
            return
        self.buffer += data
        if not self.proxy_done and not self._proxy_header():
            return
        tls = is_tls_record(self.buffer)
        if tls:
            self._stop()
            log.info("%s: a TLS handshake on a port without TLS; closed", self.link.peer_host)
            self.link.close("TLS handshake on a plain port")
            return
        if tls is None:
            return  # two bytes that may begin a TLS record: wait for the third
        if self.buffer[:1] == b"\xff":  # a telnet command: a person with telnet
            self._decide(self.other)
            return
        end = self.buffer.find(b"\n")
        if end >= 0 or len(self.buffer) >= SNIFF_LIMIT:
            first = self.buffer[: end if end >= 0 else SNIFF_LIMIT]
            if self.http is not None and is_request_line(first):
                self._decide(self.http)
                return
            first = first.lstrip()
            if first.startswith(b"@"):  # IRCv3 tags before the verb
                first = first.partition(b" ")[2].lstrip()
            # Case matters: IRC clients send their commands in capitals; "nick bob" is a person typing.
            word = first.split(b" ", 1)[0].rstrip(b"\r")
            self._decide(self.irc if word in IRC_FIRST_WORDS else self.other)

    def eof_received(self) -> None:
        if not self.proxy_done and proxy_start(self.buffer):
            self._refuse("incomplete PROXY header")  # never replayed as chat
            return
        self._decide(self.other, eof=True)

    def connection_lost(self, reason: str) -> None:
        self.timer.cancel()

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def _silence(self) -> None:
        if not self.decided:
            if not self.proxy_done and proxy_start(self.buffer):
                self._refuse("incomplete PROXY header")
                return
            self._decide(self.other)

    def _proxy_header(self) -> bool:
        """Look for a PROXY header at the start of the stream, take it if it may be honoured; whether the
        rest can be sniffed now (False: more bytes are needed, or the connection was refused)."""
        start = proxy_start(self.buffer)
        if start is None:
            return False
        if not start:
            self.proxy_done = True
            return True
        link = self.link
        if link.secure:
            self._refuse("PROXY header inside TLS")
            return False
        if not link.trusted_proxy:
            self._refuse("PROXY header from an untrusted address")
            return False
        try:
            header = parse_proxy(self.buffer)
        except ProxyError as exc:
            self._refuse(f"bad PROXY header: {exc}")
            return False
        if header is None:
            return False
        self.proxy_done = True
        self.buffer = self.buffer[header.length :]
        source = header.source
        if source is None or source == link.peer_host:
            return True
        if not link.set_client_address(source, "PROXY header"):
            self._stop()
            return False
        return True

    def _refuse(self, why: str) -> None:
        """Close the connection, telling the client its PROXY header is not honoured."""
        self._stop()
        self.link.send(line(f"ERROR :Closing Link: {self.link.peer_host} ({BAD_PROXY})"))
        self.link.close(why)

    def _stop(self) -> None:
        self.decided = True
        self.timer.cancel()
        self.buffer = b""

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
