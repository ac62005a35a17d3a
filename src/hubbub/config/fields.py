"""The one declaration of every option: each field of the frozen :class:`Config` carries an
:class:`Option` (in its metadata) that says how its value is read (its :mod:`~hubbub.config.kinds` kind),
which section of the configuration file holds it, its command-line flag and help, and whether a reload can
change it on a running server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

from .kinds import (
    COUNT,
    FILE,
    FLAG,
    NAME,
    PORT,
    POSITIVE,
    SECONDS,
    TEXT,
    Choice,
    Hostname,
    Integer,
    Kind,
    Networks,
    Number,
    Opers,
    OptionalPort,
    OptionalText,
    Origins,
    Passwords,
    RedisUrl,
    Room,
    Secret,
)

__all__ = ["SECTIONS", "Config", "ConfigError", "Option", "options"]


class ConfigError(ValueError):
    """A configuration that cannot be used. ``problems`` holds one message per bad key, each naming the
    key and the reason; ``str()`` is all of them, joined by "; "."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


#: The sections of the configuration file, in order, with their titles (the command-line help groups).
SECTIONS: dict[str, str] = {
    "network": "listeners",
    "tls": "TLS",
    "chat": "chat",
    "opers": "IRC operators",
    "proxies": "proxies and web gateways",
    "webirc": "WEBIRC gateways",
    "storage": "storage",
    "timeouts": "timeouts",
    "limits": "limits",
    "flood": "flood control",
    "logging": "logging",
    "metrics": "metrics",
    "cluster": "cluster (several nodes through Redis/Valkey)",
    "running": "running",
}


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: a :class:`Config` field, its ``[section] name`` in the file and its command-line flag."""

    kind: Kind
    section: str
    help: str
    metavar: str | None = None
    #: Applied by a reload (SIGHUP, REHASH) on the running server; False: it takes a restart.
    live: bool = True
    #: The command-line flag (default: ``--`` and the name with dashes).
    flag: str | None = None
    #: Filled in by :func:`options`.
    name: str = ""
    default: Any = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def key(self) -> str:
        """How the file names it: ``[section] name`` (``[opers]`` is a table of its own)."""
        return f"[{self.section}]" if self.name == self.section else f"[{self.section}] {self.name}"


def _opt(
    default: Any,
    kind: Kind,
    section: str,
    help: str,
    metavar: str | None = None,
    *,
    live: bool = True,
    flag: str | None = None,
) -> Any:
    assert section in SECTIONS, section
    option = Option(kind, section, help, metavar, live, flag)
    return field(default=default, metadata={"option": option})


@dataclass(frozen=True, slots=True)
class Config:
    # -- listeners ------------------------------------------------------------------------------------------
    #: Address to listen on; ``None`` means every interface (IPv4 and IPv6).
    host: str | None = _opt(
        None, OptionalText(), "network", "address to listen on (default: every interface)", "ADDR", live=False
    )
    #: Plain-text chat port (0: pick a free one). IRC clients are recognised here too.
    port: int = _opt(8008, PORT, "network", "plain-text chat port (0: any free port)", "N", live=False)
    #: IRC port (None: no IRC listener; 0: pick a free one).
    irc_port: int | None = _opt(
        6667,
        OptionalPort(zero_is_off=True),
        "network",
        "IRC port (0: no IRC listener; auto: any free port). IRC clients are also recognised on --port",
        "PORT",
        live=False,
    )
    #: Pending connections the kernel queues per listener.
    backlog: int = _opt(4096, POSITIVE, "network", "pending connections queued per listener", "N", live=False)
    # -- TLS ------------------------------------------------------------------------------------------------
    #: Plain-text chat over TLS (None: off; 0: pick a free one). IRC clients are recognised here too.
    tls_port: int | None = _opt(
        None,
        OptionalPort(),
        "tls",
        "plain-text chat over TLS (auto: any free port); IRC clients are recognised here too",
        "PORT",
        live=False,
    )
    #: IRC over TLS (None: off; 0: pick a free one).
    irc_tls_port: int | None = _opt(
        None, OptionalPort(), "tls", "IRC over TLS (auto: any free port)", "PORT", live=False
    )
    #: PEM certificate chain and private key for the TLS listeners (reloaded on SIGHUP and REHASH).
    tls_cert: str | None = _opt(None, FILE, "tls", "PEM certificate chain", "FILE")
    tls_key: str | None = _opt(None, FILE, "tls", "PEM private key", "FILE")
    #: Seconds a client has to complete the TLS handshake.
    tls_handshake_timeout: float = _opt(
        10.0, SECONDS, "tls", "time a client has to complete the TLS handshake", "SECONDS", live=False
    )
    #: IRCv3 strict transport security: how long (seconds) IRC clients should insist on TLS (0: no sts).
    sts_duration: int = _opt(
        0, COUNT, "tls", "advertise IRCv3 sts: clients should use TLS for this long (0: off)", "SECONDS"
    )
    # -- chat -----------------------------------------------------------------------------------------------
    #: Name the server gives itself (IRC: the server name in 001-004, LINKS, INFO).
    server_name: str = _opt(
        "hubbub", NAME, "chat", "the server's name (greeting, IRC 001-004)", "NAME", live=False
    )
    #: IRC network name (ISUPPORT NETWORK).
    network: str = _opt("hubbub", NAME, "chat", "IRC network name (ISUPPORT NETWORK)", "NAME")
    #: A file with the message of the day; None for none.
    motd: str | None = _opt(None, FILE, "chat", "message of the day (IRC, and plain text on arrival)", "FILE")
    #: Connection password for IRC clients (PASS); "" for none.
    password: str = _opt("", Secret(), "chat", "connection password IRC clients must send (PASS)", "PASSWORD")
    #: The room plain-text users join on arrival.
    default_room: str = _opt(
        "#lobby", Room(), "chat", "room plain-text users join when they connect", "#ROOM"
    )
    #: Longest nickname.
    nick_max: int = _opt(32, POSITIVE, "chat", "longest nickname", "N")
    #: Seconds someone may use a registered nickname without logging in to it before being renamed.
    nick_grace: float = _opt(
        30.0,
        SECONDS,
        "chat",
        "how long a registered nickname may be used without logging in to it",
        "SECONDS",
    )
    #: Host cloaking (see core.cloaks): "auto" cloaks on a store this start created and on one that keeps a
    #: secret; "on" always (a secret is generated and kept if there is none); "off" never.
    cloak: str = _opt(
        "auto",
        Choice("auto", "on", "off"),
        "chat",
        "show a keyed hash of users' addresses instead of the addresses (auto: on for new databases and"
        " for those that have a cloak secret)",
        live=False,
    )
    #: The name after the hash: ``<hash>.<cloak_netname>``.
    cloak_netname: str = _opt(
        "irc", Hostname(), "chat", "the name cloaked hosts end with (<hash>.NAME)", "NAME", live=False
    )
    #: The cloak secret ("": the one kept in the store, generated there when needed). Every node of a
    #: cluster must use the same one.
    cloak_secret: str = _opt(
        "",
        Secret(),
        "chat",
        "the secret of the cloak hash (default: a random one kept in the database; a cluster's nodes must"
        " share one)",
        "SECRET",
        live=False,
    )
    cloak_cidr_v4: int = _opt(
        32,
        Integer("a prefix length (0-32)", 0, 32),
        "chat",
        "IPv4 prefix hashed into a cloak (addresses in one such network share it)",
        "BITS",
        live=False,
    )
    cloak_cidr_v6: int = _opt(
        64,
        Integer("a prefix length (0-128)", 0, 128),
        "chat",
        "IPv6 prefix hashed into a cloak (addresses in one such network share it)",
        "BITS",
        live=False,
    )
    # -- IRC operators --------------------------------------------------------------------------------------
    #: IRC operators: (name, password) pairs; a password may be a scrypt hash.
    opers: tuple[tuple[str, str], ...] = _opt(
        (),
        Opers(),
        "opers",
        "an IRC operator account (repeatable)",
        "NAME:PASSWORD",
        flag="--oper",
    )
    # -- proxies and web gateways ---------------------------------------------------------------------------
    #: Networks whose connections may say who their client is: a PROXY protocol header (any listener), the
    #: IRC WEBIRC command, X-Forwarded-For / Forwarded on a WebSocket upgrade. Empty: nobody may.
    trusted_proxy: tuple[str, ...] = _opt(
        (),
        Networks(),
        "proxies",
        "a proxy or web gateway whose PROXY header, WEBIRC or X-Forwarded-For gives the client's address"
        " (repeatable; default: none)",
        "CIDR",
        live=False,
    )
    # -- WEBIRC gateways ------------------------------------------------------------------------------------
    #: WEBIRC gateways: (name, password) pairs; a password may be a scrypt hash. A gateway must also connect
    #: from a --trusted-proxy network.
    webirc: tuple[tuple[str, str], ...] = _opt(
        (),
        Passwords("a gateway"),
        "webirc",
        "a WEBIRC gateway and its password (repeatable; it must connect from a --trusted-proxy network)",
        "NAME:PASSWORD",
    )
    # -- storage --------------------------------------------------------------------------------------------
    #: The store (accounts, history, registered rooms): a SQLite file, or ":memory:" to keep nothing.
    db: str = _opt(
        "hubbub.db",
        TEXT,
        "storage",
        "SQLite file for accounts, history and registered rooms (default: hubbub.db in the working"
        " directory; :memory: keeps nothing)",
        "PATH",
        live=False,
    )
    #: Whether room and private messages are recorded in the history.
    history: bool = _opt(True, FLAG, "storage", "record room and private messages (default: on)")
    #: Lines of a room's history replayed to a user joining it (0: none); IRC clients that can ask for
    #: history themselves (draft/chathistory) get none, and an account can turn replay off.
    history_replay: int = _opt(
        20, COUNT, "storage", "lines of history replayed to a user joining a room (0: none)", "LINES"
    )
    #: Seconds after leaving a room (a part, a kick, a quit) during which coming back replays only what was
    #: said meanwhile: nothing twice, for an account across reconnects too.
    replay_window: float = _opt(
        600.0,
        Number("0 or a positive number of seconds", zero=True),
        "storage",
        "seconds after leaving a room during which coming back replays only what was said meanwhile (0: all)",
        "SECONDS",
    )
    # -- timeouts -------------------------------------------------------------------------------------------
    #: Seconds allowed to flush pending output when a connection closes or the server stops.
    shutdown_timeout: float = _opt(
        5.0,
        SECONDS,
        "timeouts",
        "time allowed to flush output to clients when closing them or stopping",
        "SECONDS",
    )
    #: Seconds an IRC client has to complete registration.
    registration_timeout: float = _opt(
        60.0, SECONDS, "timeouts", "time an IRC client has to register (NICK, USER, CAP END)", "SECONDS"
    )
    #: Seconds of silence before the server PINGs an IRC client.
    ping_interval: float = _opt(
        90.0, SECONDS, "timeouts", "silence after which an IRC client is sent a PING", "SECONDS"
    )
    #: Seconds to wait for the PONG before disconnecting.
    ping_timeout: float = _opt(
        60.0, SECONDS, "timeouts", "time to answer a PING before being disconnected", "SECONDS"
    )
    #: Seconds a started line may stay incomplete (a client that drip-feeds one is disconnected).
    line_timeout: float = _opt(
        300.0,
        SECONDS,
        "timeouts",
        "time a started line may stay incomplete before the client is disconnected (an idle one stays)",
        "SECONDS",
    )
    #: TCP keepalive on every client socket: seconds of silence before the first probe, seconds between
    #: probes, and unanswered probes after which the kernel drops the connection (a dead peer is found).
    keepalive_idle: int = _opt(
        60,
        Integer("a whole number of seconds (1-32767)", 1, 32767),
        "timeouts",
        "TCP keepalive: silence after which a client's socket is probed (new connections)",
        "SECONDS",
    )
    keepalive_interval: int = _opt(
        15,
        Integer("a whole number of seconds (1-32767)", 1, 32767),
        "timeouts",
        "TCP keepalive: time between two probes (new connections)",
        "SECONDS",
    )
    keepalive_count: int = _opt(
        4,
        Integer("a number of probes (1-127)", 1, 127),
        "timeouts",
        "TCP keepalive: unanswered probes after which the connection is dropped (new connections)",
        "N",
    )
    #: Seconds the plain-text port waits for a client to speak IRC before greeting it as a person.
    sniff_delay: float = _opt(
        0.25,
        SECONDS,
        "timeouts",
        "on --port, how long to wait for an IRC client to speak before greeting a person",
        "SECONDS",
        live=False,
    )
    #: Seconds an HTTP request (a browser on a chat port) has to send its request line and headers.
    http_timeout: float = _opt(
        10.0,
        SECONDS,
        "timeouts",
        "time an HTTP request's line and headers may take to arrive before it is answered 408 and closed",
        "SECONDS",
        live=False,
    )
    #: Web origins whose pages may open a WebSocket besides the server's own (see protocols.websocket).
    ws_origin: tuple[str, ...] = _opt(
        (),
        Origins(),
        "network",
        "a web origin (https://chat.example.com) whose pages may open IRC over WebSocket, besides the"
        " server's own page and clients that send no Origin (repeatable; '*' for any)",
        "ORIGIN",
    )
    # -- limits (each answered with a clear message before the connection is closed) --------------------
    #: Longest accepted plain-text line, in bytes, not counting the line ending.
    max_line: int = _opt(
        2048,
        POSITIVE,
        "limits",
        "longest accepted plain-text line; a longer one is refused with an error",
        "BYTES",
    )
    #: Bytes that may wait to be sent to one client before it is disconnected.
    sendq: int = _opt(
        256 * 1024,
        POSITIVE,
        "limits",
        "output that may wait for one client; a client that falls further behind is disconnected",
        "BYTES",
    )
    #: Clients connected at once (0: as many as the open-file limit allows, less a margin).
    max_clients: int = _opt(
        0, COUNT, "limits", "clients at once (0: as many as the open-file limit allows)", "N"
    )
    #: Clients at once from one address.
    max_per_ip: int = _opt(16, POSITIVE, "limits", "clients per address", "N")
    #: Clients at once from one network (``cidr_v4`` / ``cidr_v6`` bits).
    max_per_cidr: int = _opt(64, POSITIVE, "limits", "clients per network (--cidr-v4 / --cidr-v6 bits)", "N")
    cidr_v4: int = _opt(
        24, Integer("a prefix length (1-32)", 1, 32), "limits", "IPv4 network size for --max-per-cidr", "BITS"
    )
    cidr_v6: int = _opt(
        64,
        Integer("a prefix length (1-128)", 1, 128),
        "limits",
        "IPv6 network size for --max-per-cidr",
        "BITS",
    )
    #: New connections per address per ``connect_window`` seconds.
    connect_rate: int = _opt(30, POSITIVE, "limits", "new connections per address per --connect-window", "N")
    connect_window: float = _opt(60.0, SECONDS, "limits", "the window of --connect-rate", "SECONDS")
    #: Networks exempt from the per-address limits and from flood control (CIDR notation).
    limit_exempt: tuple[str, ...] = _opt(
        ("127.0.0.0/8", "::1/128"),
        Networks(),
        "limits",
        "a network exempt from the per-address limits and flood control (repeatable; default:"
        " loopback; 'none' for none)",
        "CIDR",
    )
    #: Rooms one user may be in at once.
    rooms_per_user: int = _opt(100, POSITIVE, "limits", "rooms one user may be in at once", "N")
    #: Members one room may hold (0: no limit).
    room_max_members: int = _opt(0, COUNT, "limits", "members per room (0: no limit)", "N")
    #: Rooms one LIST or /rooms answer shows; beyond it, how many more and to narrow with a pattern.
    list_rooms_max: int = _opt(
        1000,
        POSITIVE,
        "limits",
        "rooms one LIST or /rooms answer shows (the rest: narrow it with a pattern)",
        "N",
    )
    #: Failed logins from one address, or to one account, before each further attempt must wait.
    login_failures: int = _opt(
        3, POSITIVE, "limits", "failed logins (per address, per account) before logins must wait", "N"
    )
    #: The first wait after --login-failures failures; it doubles with each further failure (up to 128x).
    login_backoff: float = _opt(
        2.0, SECONDS, "limits", "the first wait after --login-failures failed logins (doubles)", "SECONDS"
    )
    #: Password hashes running or queued at once; beyond it, logins and registrations are told to retry.
    hash_queue: int = _opt(16, POSITIVE, "limits", "password checks running or queued at once", "N")
    #: Accounts one address may register per --register-window (0: no limit).
    register_per_address: int = _opt(
        3, COUNT, "limits", "accounts one address may register per --register-window (0: no limit)", "N"
    )
    #: Accounts the whole server may register per --register-window (0: no limit).
    register_global: int = _opt(
        100, COUNT, "limits", "accounts the server may register per --register-window (0: no limit)", "N"
    )
    register_window: float = _opt(
        600.0, SECONDS, "limits", "the window of --register-per-address and --register-global", "SECONDS"
    )
    #: Days after which an account nobody logged in to is removed, with its settings, the registration of
    #: the rooms it founded and its private history (0: never). Fractions of a day are allowed.
    account_expire: float = _opt(
        0.0,
        Number("0 or a positive number of days", zero=True),
        "limits",
        "remove accounts nobody logged in to for this many days (0: never)",
        "DAYS",
    )
    # -- flood control (fake lag, then "Excess Flood") ------------------------------------------------------
    flood_control: bool = _opt(True, FLAG, "flood", "slow down, then disconnect, clients that send too fast")
    #: Lines a client may send per second on average, and in a burst.
    flood_lines: float = _opt(
        4.0, Number("a positive number of lines per second"), "flood", "lines per second", "PER_S"
    )
    flood_burst: int = _opt(20, POSITIVE, "flood", "lines in a burst", "N")
    #: Bytes a client may send per second on average (and 8x that in a burst).
    flood_bytes: int = _opt(4096, POSITIVE, "flood", "bytes per second", "PER_S")
    #: Seconds of input a client may be behind before it is disconnected for "Excess Flood".
    flood_kill: float = _opt(
        20.0,
        SECONDS,
        "flood",
        "input lag after which a flooding client is disconnected (Excess Flood)",
        "SECONDS",
    )
    #: Rows a history query (CHATHISTORY, /history) returns that cost its sender one line of the budget.
    flood_history_rows: int = _opt(
        100, POSITIVE, "flood", "history rows (CHATHISTORY, /history) that cost one line of the budget", "N"
    )
    #: Lines a plain-text user may paste at once beyond the burst before the lag counts towards flood_kill.
    flood_paste: int = _opt(
        200,
        COUNT,
        "flood",
        "lines a plain-text user may paste beyond the burst before the lag counts towards --flood-kill",
        "LINES",
    )
    # -- logging --------------------------------------------------------------------------------------------
    log_level: str = _opt(
        "info", Choice("debug", "info", "warning", "error"), "logging", "least severe log level shown"
    )
    #: Log lines as "text" or "json" (one JSON object per line).
    log_format: str = _opt("text", Choice("text", "json"), "logging", "log lines as text or JSON")
    #: Log every message's text (off: bodies and passwords never reach the log).
    log_bodies: bool = _opt(False, FLAG, "logging", "log message text (never passwords)")
    # -- metrics --------------------------------------------------------------------------------------------
    #: Port of the Prometheus metrics endpoint (None: off; 0: pick a free one); needs prometheus-client.
    metrics_port: int | None = _opt(
        None,
        OptionalPort(),
        "metrics",
        "serve Prometheus metrics on this port (needs prometheus-client)",
        "PORT",
        live=False,
    )
    #: Address of the metrics endpoint.
    metrics_host: str = _opt(
        "127.0.0.1", TEXT, "metrics", "address of the metrics endpoint", "ADDR", live=False
    )
    # -- cluster --------------------------------------------------------------------------------------------
    #: The Redis/Valkey server the nodes of a cluster share ("": one node on its own; nothing of Redis is
    #: imported).
    redis: str = _opt(
        "",
        RedisUrl(),
        "cluster",
        "join the cluster of nodes sharing this Redis/Valkey server (redis://HOST:PORT/DB)",
        "URL",
        live=False,
    )
    #: Keys and pub/sub channels are named "<cluster_name>:...": several clusters can share one Redis.
    cluster_name: str = _opt(
        "hubbub", NAME, "cluster", "prefix of this cluster's Redis keys and channels", "NAME", live=False
    )
    #: This node's name in the cluster ("": the host name and the process id); each run adds a random suffix.
    node_name: str | None = _opt(
        None,
        OptionalText(),
        "cluster",
        "this node's name in the cluster, in logs and quit reasons (default: host-pid)",
        "NAME",
        live=False,
    )
    #: A node silent (no heartbeat) this long is taken for dead: its users quit and its nicknames are free.
    node_timeout: float = _opt(
        10.0,
        SECONDS,
        "cluster",
        "time after which a silent node is taken for dead (its users quit)",
        "SECONDS",
        live=False,
    )
    #: Entries of the shared history stream kept in Redis, for nodes catching up (approximate).
    stream_max: int = _opt(
        1_000_000,
        POSITIVE,
        "cluster",
        "history entries the shared Redis stream keeps for nodes catching up",
        "N",
        live=False,
    )
    #: Processes serving the same ports (SO_REUSEPORT), coordinating through --redis.
    workers: int = _opt(
        1, POSITIVE, "cluster", "processes sharing the listening ports (needs --redis)", "N", live=False
    )
    # -- running --------------------------------------------------------------------------------------------
    #: Event loop: "auto" (uvloop when installed), "uvloop" or "asyncio".
    loop: str = _opt(
        "auto",
        Choice("auto", "uvloop", "asyncio"),
        "running",
        "event loop: auto uses uvloop when it is installed",
        live=False,
    )


@cache
def options() -> tuple[Option, ...]:
    """Every option, in declaration order (grouped by section)."""
    found = []
    for f in fields(Config):
        option = f.metadata.get("option")
        if not isinstance(option, Option):
            raise TypeError(f"Config.{f.name} has no option declaration (use _opt)")
        found.append(
            Option(
                option.kind,
                option.section,
                option.help,
                option.metavar,
                option.live,
                option.flag,
                f.name,
                f.default,
            )
        )
    return tuple(found)
