"""The server's settings: one frozen snapshot, built from the command line (and later a config file)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Config"]


@dataclass(frozen=True, slots=True)
class Config:
    #: Address to listen on; ``None`` means every interface (IPv4 and IPv6).
    host: str | None = None
    #: Plain-text chat port (0: pick a free one).
    port: int = 8008
    #: Longest accepted plain-text line, in bytes, not counting the line ending.
    max_line: int = 2048
    #: Bytes that may wait to be sent to one client before it is disconnected.
    sendq: int = 256 * 1024
    #: Seconds allowed to flush pending output when a connection closes or the server stops.
    shutdown_timeout: float = 5.0
    #: Name the server gives itself.
    server_name: str = "hubbub"
    #: The room plain-text users join on arrival.
    default_room: str = "#lobby"
    #: Longest nickname.
    nick_max: int = 32
    #: Pending connections the kernel queues per listener.
    backlog: int = 4096
    #: Event loop: "auto" (uvloop when installed), "uvloop" or "asyncio".
    loop: str = "auto"
    log_level: str = "info"
