"""The contract between the network layer and a protocol session.

A session is sans-I/O: the network layer hands it bytes (``data_received``) and lifecycle calls, and the
session answers by calling its :class:`Link` (``send`` to queue bytes, ``close`` to end the connection). It
never touches a socket, a timer or an event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from ..core.fanout import Queued

__all__ = ["Codec", "FloodWords", "Link", "Session", "SessionFactory", "Timer"]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Codec(Protocol):
    """A framing between a connection's bytes and its session's (WebSocket): set as ``Link.codec``, it decodes
    what is read before flood control and the session see it, and encodes what the connection writes."""

    def decode(self, data: bytes) -> bytes:
        """Bytes read from the peer in; the bytes the session gets out (possibly none)."""
        ...

    def encode(self, out: list[Queued], mailbox: object) -> bytes:
        """The output queue to write to ``mailbox`` (this connection), encoded."""
        ...

    def closing(self, reason: str) -> None:
        """The connection is about to close: queue what must be sent last (a WebSocket close frame)."""
        ...


class Link(Protocol):
    """The network layer's side of one connection, as a session sees it."""

    #: The ordered output queue of this loop turn (the hub's fan-out appends batches to it directly).
    out: list[Queued]
    #: Whether the client's connection is over TLS (IRC: WHOIS 671, the sts policy shown); a trusted web
    #: gateway may say so for its client (WEBIRC ``secure``).
    secure: bool
    #: Whether the client's address (the TCP peer, or the address a trusted proxy gave for it) is in
    #: ``--trusted-proxy``: a proxy or gateway that may say who its client is.
    trusted_proxy: bool
    #: The framing of the connection's bytes (None: none, the session reads and writes the stream).
    codec: Codec | None

    @property
    def peer_host(self) -> str:
        """The client's address (IP), used as the user's host: the TCP peer's, or the one a trusted proxy or
        gateway gave (see set_client_address)."""
        ...

    def set_client_address(self, host: str, how: str) -> bool:
        """The client is at ``host`` (an IP address), as a trusted proxy or gateway says (``how``: "PROXY
        header", "WEBIRC gateway NAME"...): from now on it is the connection's address everywhere (the
        per-address limits count the connection there, K-lines and bans match it, the log shows it). False:
        the limits refused that address; the client was told why and the connection is closing, so the
        session must stop."""
        ...

    def charge_history(self, rows: int) -> None:
        """A history query returned ``rows`` rows: charge them to the client's flood budget (one line per
        ``--flood-history-rows``), so that a loop of big queries is slowed like a flood; nothing for a client
        exempt from flood control."""
        ...

    def charge_scan(self, items: int) -> None:
        """A listing (LIST, /rooms) went through ``items`` rooms: charge them to the client's flood budget
        (one line per 500 rooms), so that a loop of listings is slowed like a flood."""
        ...

    def send(self, data: bytes) -> None:
        """Queue ``data``; it goes out at the end of this loop turn, coalesced with the rest. Never blocks."""
        ...

    def close(self, reason: str) -> None:
        """Flush what is queued (within a bounded time), then close, recording ``reason`` in the log."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` seconds (unless cancelled or the connection is gone)."""
        ...

    def switch(self, session: Session) -> None:
        """Hand the connection to another session (protocol detection)."""
        ...


class Session(Protocol):
    """One connection's protocol, as the network layer sees it. What the network layer needs to know about a
    session is declared here (nothing is recognised by its class)."""

    #: Which protocol serves the connection: "irc", "plain", or "sniff" (not yet recognised); the metrics
    #: count clients by it.
    protocol: ClassVar[str]

    @property
    def exempt_from_flood(self) -> bool:
        """Whether the client is exempt from flood control (an operator): its input is never held again."""
        ...

    @property
    def pastes(self) -> bool:
        """Whether a person types (and pastes) on this connection: its input held over the flood budget may
        reach ``--flood-paste`` lines before the lag counts towards ``--flood-kill``, and it is told so
        (:meth:`slowed`, :meth:`lagging`). IRC clients pace themselves and are slowed silently."""
        ...

    def slowed(self, queued: int) -> None:
        """The client's input went over its flood budget: ``queued`` lines wait (once per burst)."""
        ...

    def lagging(self, behind: float, limit: float) -> None:
        """The client's held input is ``behind`` seconds behind its budget; past ``limit`` it is
        disconnected (once per burst, before the disconnection)."""
        ...

    def flooded(self, lines: float) -> bytes | None:
        """The client is disconnected for flooding (more than ``lines`` lines a second, for too long): the
        last line it reads (None: the IRC ``ERROR :Closing Link: ... (Excess Flood)``)."""
        ...

    def start(self) -> None:
        """The connection is up."""
        ...

    def data_received(self, data: bytes) -> None: ...

    def eof_received(self) -> None:
        """The peer will send no more; the session should finish and close."""
        ...

    def connection_lost(self, reason: str) -> None:
        """The connection is gone (the session must not send any more)."""
        ...

    def shutdown(self) -> None:
        """The server is stopping: send a notice; the network layer then flushes and closes."""
        ...

    def tick(self, now: float) -> None:
        """Called every few seconds (``now``: monotonic seconds) to check timeouts; a no-op where there are
        none."""
        ...


class FloodWords:
    """What a session says about flood control when nobody types on it (IRC, and before the protocol is
    known): nothing while it is slowed, the IRC closing line when it is disconnected."""

    __slots__ = ()

    @property
    def pastes(self) -> bool:
        return False

    def slowed(self, queued: int) -> None:
        pass

    def lagging(self, behind: float, limit: float) -> None:
        pass

    def flooded(self, lines: float) -> bytes | None:
        return None


SessionFactory = Callable[[Link], Session]
