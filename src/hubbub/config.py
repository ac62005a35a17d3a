"""The server's settings: one frozen snapshot, built from the command line (and later a config file)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Config"]


@dataclass(frozen=True, slots=True)
class Config:
    #: Address to listen on; ``None`` means every interface (IPv4 and IPv6).
    host: str | None = None
    #: Plain-text chat port (0: pick a free one). IRC clients are recognised here too.
    port: int = 8008
    #: IRC port (None: no IRC listener; 0: pick a free one).
    irc_port: int | None = 6667
    #: Longest accepted plain-text line, in bytes, not counting the line ending.
    max_line: int = 2048
    #: Bytes that may wait to be sent to one client before it is disconnected.
    sendq: int = 256 * 1024
    #: Seconds allowed to flush pending output when a connection closes or the server stops.
    shutdown_timeout: float = 5.0
    #: Name the server gives itself (IRC: the server name in 001-004, LINKS, INFO).
    server_name: str = "hubbub"
    #: IRC network name (ISUPPORT NETWORK).
    network: str = "hubbub"
    #: Connection password for IRC clients (PASS); "" for none.
    password: str = ""
    #: A file with the message of the day; None for none.
    motd: str | None = None
    #: IRC operators: (name, password) pairs.
    opers: tuple[tuple[str, str], ...] = ()
    #: Seconds an IRC client has to complete registration.
    registration_timeout: float = 60.0
    #: Seconds of silence before the server PINGs an IRC client.
    ping_interval: float = 90.0
    #: Seconds to wait for the PONG before disconnecting.
    ping_timeout: float = 60.0
    #: Seconds the plain-text port waits for a client to speak IRC before greeting it as a person.
    sniff_delay: float = 0.25
    #: The room plain-text users join on arrival.
    default_room: str = "#lobby"
    #: Longest nickname.
    nick_max: int = 32
    #: Pending connections the kernel queues per listener.
    backlog: int = 4096
    #: The store (accounts, history, registered rooms): a SQLite file, or ":memory:" to keep nothing.
    db: str = "hubbub.db"
    #: Whether room and private messages are recorded in the history.
    history: bool = True
    #: Lines of a room's history replayed to a user joining it (0: none); IRC clients that can ask for
    #: history themselves (draft/chathistory) get none, and an account can turn replay off.
    history_replay: int = 20
    #: Seconds someone may use a registered nickname without logging in to it before being renamed.
    nick_grace: float = 30.0
    # -- TLS ---------------------------------------------------------------------------------------------
    #: Plain-text chat over TLS (None: off; 0: pick a free one). IRC clients are recognised here too.
    tls_port: int | None = None
    #: IRC over TLS (None: off; 0: pick a free one).
    irc_tls_port: int | None = None
    #: PEM certificate chain and private key for the TLS listeners (reloaded on SIGHUP and REHASH).
    tls_cert: str | None = None
    tls_key: str | None = None
    #: Seconds a client has to complete the TLS handshake.
    tls_handshake_timeout: float = 10.0
    #: IRCv3 strict transport security: how long (seconds) IRC clients should insist on TLS (0: no sts).
    sts_duration: int = 0
    # -- limits (each answered with a clear message before the connection is closed) --------------------
    #: Clients connected at once (0: as many as the open-file limit allows, less a margin).
    max_clients: int = 0
    #: Clients at once from one address.
    max_per_ip: int = 16
    #: Clients at once from one network (``cidr_v4`` / ``cidr_v6`` bits).
    max_per_cidr: int = 64
    cidr_v4: int = 24
    cidr_v6: int = 64
    #: New connections per address per ``connect_window`` seconds.
    connect_rate: int = 30
    connect_window: float = 60.0
    #: Networks exempt from the per-address limits and from flood control (CIDR notation).
    limit_exempt: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    #: Rooms one user may be in at once.
    rooms_per_user: int = 100
    #: Members one room may hold (0: no limit).
    room_max_members: int = 0
    # -- flood control (fake lag, then "Excess Flood") ------------------------------------------------------
    flood_control: bool = True
    #: Lines a client may send per second on average, and in a burst.
    flood_lines: float = 4.0
    flood_burst: int = 20
    #: Bytes a client may send per second on average (and 8x that in a burst).
    flood_bytes: int = 4096
    #: Seconds of input a client may be behind before it is disconnected for "Excess Flood".
    flood_kill: float = 20.0
    # -- observability --------------------------------------------------------------------------------------
    #: Port of the Prometheus metrics endpoint (None: off; 0: pick a free one); needs prometheus-client.
    metrics_port: int | None = None
    #: Address of the metrics endpoint.
    metrics_host: str = "127.0.0.1"
    #: Log lines as "text" or "json" (one JSON object per line).
    log_format: str = "text"
    #: Log every message's text (off: bodies and passwords never reach the log).
    log_bodies: bool = False
    #: Event loop: "auto" (uvloop when installed), "uvloop" or "asyncio".
    loop: str = "auto"
    log_level: str = "info"
