"""The network layer's counters: plain integers the connections bump, read when the metrics are scraped."""

from __future__ import annotations

__all__ = ["NetStats"]


class NetStats:
    """Counters shared by every connection of a server (see hubbub.metrics)."""

    __slots__ = ("bytes_in", "bytes_out", "flood_kills", "sendq_drops")

    def __init__(self) -> None:
        #: Bytes read from clients and written to them.
        self.bytes_in = 0
        self.bytes_out = 0
        #: Clients disconnected because their send queue overflowed.
        self.sendq_drops = 0
        #: Clients disconnected for flooding (Excess Flood).
        self.flood_kills = 0
