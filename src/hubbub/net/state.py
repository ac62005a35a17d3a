"""What every connection of a server shares: the loop, the read buffer, the settings it reads at run time, the
output scheduler, the counters, and the admission of new connections.

A :class:`~hubbub.net.connection.Connection` depends on this object and the interfaces it names, never on the
server that listens (as uvicorn's protocols get a small ``ServerState`` and a flow-control object).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from ..protocols.proxy import TrustedNetworks
from .output import OutputScheduler
from .stats import NetStats

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["READ_SIZE", "Admission", "NetState"]

#: Bytes read from one connection at a time (see Connection.get_buffer).
READ_SIZE = 16384


class Admission(Protocol):
    """Who counts the live connections and applies the connection limits."""

    def attach(self, conn: Connection) -> bool:
        """Admit a new connection (False: it was refused, told why and closed)."""
        ...

    def move(self, conn: Connection, host: str, how: str) -> bool:
        """Count an admitted connection under its client's real address ``host`` (given by a trusted proxy:
        ``how``) rather than the one it came from (False: the limits refused that address; the client was
        told why and the connection is closing)."""
        ...

    def detach(self, conn: Connection) -> None:
        """The connection is gone (nothing if it was never admitted)."""
        ...


class NetState:
    __slots__ = (
        "admission",
        "close_timeout",
        "keepalive",
        "loop",
        "output",
        "read_view",
        "sendq",
        "stats",
        "trusted",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        output: OutputScheduler,
        stats: NetStats,
        admission: Admission,
        *,
        sendq: int,
        close_timeout: float,
        trusted: TrustedNetworks | None = None,
        keepalive: tuple[int, int, int] = (60, 15, 4),
    ) -> None:
        self.loop = loop
        self.output = output
        self.stats = stats
        self.admission = admission
        #: Every connection reads into this one buffer (see Connection.get_buffer).
        self.read_view = memoryview(bytearray(READ_SIZE))
        #: The send queue bound new connections get (a reload updates the live ones too).
        self.sendq = sendq
        #: Seconds a closing connection's peer has to take the last bytes before the transport is aborted.
        self.close_timeout = close_timeout
        #: The --trusted-proxy networks: who may say who its client is (a PROXY header, WEBIRC...).
        self.trusted = trusted if trusted is not None else TrustedNetworks()
        #: TCP keepalive timings new connections get: (idle, interval, count), see enable_keepalive.
        self.keepalive = keepalive
