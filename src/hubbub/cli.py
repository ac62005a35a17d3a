"""Command line: ``hubbub serve [options]``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .config import Config

__all__ = ["build_parser", "config_from_args", "main"]

_DEFAULT = Config()
_LOG_LEVELS = ("debug", "info", "warning", "error")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _optional_port(text: str) -> int | None:
    """A port for an optional listener: "auto" (or 0) picks a free one."""
    return 0 if text == "auto" else _port(text)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _irc_port(text: str) -> int | None:
    if text == "auto":
        return 0
    value = _port(text)
    return value or None


def _oper(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubbub", description="hubbub: a chat server for netcat, telnet and (soon) IRC clients."
    )
    parser.add_argument("--version", action="version", version=f"hubbub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the chat server",
        description="Run the chat server. With no options: plain-text chat on port 8008 of every interface.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    net = serve.add_argument_group("network")
    net.add_argument("--host", default=None, help="address to listen on (default: every interface)")
    net.add_argument(
        "--port", type=_port, default=_DEFAULT.port, help="plain-text chat port (0: any free port)"
    )
    net.add_argument(
        "--irc-port",
        type=_irc_port,
        default=_DEFAULT.irc_port,
        metavar="PORT",
        help="IRC port (0: no IRC listener; auto: any free port). IRC clients are also recognised on --port",
    )
    net.add_argument(
        "--backlog",
        type=_positive_int,
        default=_DEFAULT.backlog,
        help="pending connections queued per listener",
    )
    limits = serve.add_argument_group("limits")
    limits.add_argument(
        "--max-line",
        type=_positive_int,
        default=_DEFAULT.max_line,
        metavar="BYTES",
        help="longest accepted plain-text line; a longer one is refused with an error",
    )
    limits.add_argument(
        "--sendq",
        type=_positive_int,
        default=_DEFAULT.sendq,
        metavar="BYTES",
        help="output that may wait for one client; a client that falls further behind is disconnected",
    )
    limits.add_argument(
        "--nick-max", type=_positive_int, default=_DEFAULT.nick_max, metavar="N", help="longest nickname"
    )
    limits.add_argument(
        "--shutdown-timeout",
        type=_seconds,
        default=_DEFAULT.shutdown_timeout,
        metavar="SECONDS",
        help="time allowed to flush output to clients when closing them or stopping",
    )
    limits.add_argument(
        "--registration-timeout",
        type=_seconds,
        default=_DEFAULT.registration_timeout,
        metavar="SECONDS",
        help="time an IRC client has to register (NICK, USER, CAP END)",
    )
    limits.add_argument(
        "--ping-interval",
        type=_seconds,
        default=_DEFAULT.ping_interval,
        metavar="SECONDS",
        help="silence after which an IRC client is sent a PING",
    )
    limits.add_argument(
        "--ping-timeout",
        type=_seconds,
        default=_DEFAULT.ping_timeout,
        metavar="SECONDS",
        help="time to answer a PING before being disconnected",
    )
    limits.add_argument(
        "--sniff-delay",
        type=_seconds,
        default=_DEFAULT.sniff_delay,
        metavar="SECONDS",
        help="on --port, how long to wait for an IRC client to speak before greeting a person",
    )
    chat = serve.add_argument_group("chat")
    chat.add_argument(
        "--server-name", default=_DEFAULT.server_name, help="the server's name (greeting, IRC 001-004)"
    )
    chat.add_argument("--network", default=_DEFAULT.network, help="IRC network name (ISUPPORT NETWORK)")
    chat.add_argument("--motd", metavar="FILE", default=None, help="message of the day for IRC clients")
    chat.add_argument("--password", default="", help="connection password IRC clients must send (PASS)")
    chat.add_argument(
        "--oper",
        type=_oper,
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="an IRC operator account (repeatable)",
    )
    chat.add_argument(
        "--default-room", default=_DEFAULT.default_room, help="room plain-text users join when they connect"
    )
    store = serve.add_argument_group("storage")
    store.add_argument(
        "--db",
        default=_DEFAULT.db,
        metavar="PATH",
        help="SQLite file for accounts, history and registered rooms (default: hubbub.db in the working"
        " directory; :memory: keeps nothing)",
    )
    store.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=_DEFAULT.history,
        help="record room and private messages (default: on)",
    )
    store.add_argument(
        "--history-replay",
        type=_count,
        default=_DEFAULT.history_replay,
        metavar="LINES",
        help="lines of history replayed to a user joining a room (0: none)",
    )
    store.add_argument(
        "--nick-grace",
        type=_seconds,
        default=_DEFAULT.nick_grace,
        metavar="SECONDS",
        help="how long a registered nickname may be used without logging in to it",
    )
    tls = serve.add_argument_group("TLS")
    tls.add_argument(
        "--tls-port",
        type=_optional_port,
        default=_DEFAULT.tls_port,
        metavar="PORT",
        help="plain-text chat over TLS (auto: any free port); IRC clients are recognised here too",
    )
    tls.add_argument(
        "--irc-tls-port",
        type=_optional_port,
        default=_DEFAULT.irc_tls_port,
        metavar="PORT",
        help="IRC over TLS (auto: any free port)",
    )
    tls.add_argument("--tls-cert", default=None, metavar="FILE", help="PEM certificate chain")
    tls.add_argument("--tls-key", default=None, metavar="FILE", help="PEM private key")
    tls.add_argument(
        "--tls-handshake-timeout",
        type=_seconds,
        default=_DEFAULT.tls_handshake_timeout,
        metavar="SECONDS",
        help="time a client has to complete the TLS handshake",
    )
    tls.add_argument(
        "--sts-duration",
        type=_count,
        default=_DEFAULT.sts_duration,
        metavar="SECONDS",
        help="advertise IRCv3 sts: clients should use TLS for this long (0: off)",
    )
    guard = serve.add_argument_group("abuse limits")
    guard.add_argument(
        "--max-clients",
        type=_count,
        default=_DEFAULT.max_clients,
        metavar="N",
        help="clients at once (0: as many as the open-file limit allows)",
    )
    guard.add_argument(
        "--max-per-ip",
        type=_positive_int,
        default=_DEFAULT.max_per_ip,
        metavar="N",
        help="clients per address",
    )
    guard.add_argument(
        "--max-per-cidr",
        type=_positive_int,
        default=_DEFAULT.max_per_cidr,
        metavar="N",
        help="clients per network (--cidr-v4 / --cidr-v6 bits)",
    )
    guard.add_argument("--cidr-v4", type=_positive_int, default=_DEFAULT.cidr_v4, metavar="BITS")
    guard.add_argument("--cidr-v6", type=_positive_int, default=_DEFAULT.cidr_v6, metavar="BITS")
    guard.add_argument(
        "--connect-rate",
        type=_positive_int,
        default=_DEFAULT.connect_rate,
        metavar="N",
        help="new connections per address per --connect-window",
    )
    guard.add_argument("--connect-window", type=_seconds, default=_DEFAULT.connect_window, metavar="SECONDS")
    guard.add_argument(
        "--limit-exempt",
        action="append",
        default=None,
        metavar="CIDR",
        help="a network exempt from the per-address limits and flood control (repeatable; default:"
        " loopback; 'none' for none)",
    )
    guard.add_argument("--rooms-per-user", type=_positive_int, default=_DEFAULT.rooms_per_user, metavar="N")
    guard.add_argument(
        "--room-max-members",
        type=_count,
        default=_DEFAULT.room_max_members,
        metavar="N",
        help="members per room (0: no limit)",
    )
    guard.add_argument(
        "--flood-control",
        action=argparse.BooleanOptionalAction,
        default=_DEFAULT.flood_control,
        help="slow down, then disconnect, clients that send too fast",
    )
    guard.add_argument(
        "--flood-lines", type=float, default=_DEFAULT.flood_lines, metavar="PER_S", help="lines per second"
    )
    guard.add_argument(
        "--flood-burst",
        type=_positive_int,
        default=_DEFAULT.flood_burst,
        metavar="N",
        help="lines in a burst",
    )
    guard.add_argument(
        "--flood-bytes",
        type=_positive_int,
        default=_DEFAULT.flood_bytes,
        metavar="PER_S",
        help="bytes per second",
    )
    guard.add_argument(
        "--flood-kill",
        type=_seconds,
        default=_DEFAULT.flood_kill,
        metavar="SECONDS",
        help="input lag after which a flooding client is disconnected (Excess Flood)",
    )
    obs = serve.add_argument_group("observability")
    obs.add_argument(
        "--metrics-port",
        type=_optional_port,
        default=_DEFAULT.metrics_port,
        metavar="PORT",
        help="serve Prometheus metrics on this port (needs prometheus-client)",
    )
    obs.add_argument("--metrics-host", default=_DEFAULT.metrics_host, help="address of the metrics endpoint")
    obs.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=_DEFAULT.log_format,
        help="log lines as text or JSON",
    )
    obs.add_argument(
        "--log-bodies",
        action=argparse.BooleanOptionalAction,
        default=_DEFAULT.log_bodies,
        help="log message text (never passwords)",
    )
    run = serve.add_argument_group("running")
    run.add_argument(
        "--log-level", choices=_LOG_LEVELS, default=_DEFAULT.log_level, help="least severe log level shown"
    )
    run.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default=_DEFAULT.loop,
        help="event loop: auto uses uvloop when it is installed",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        host=args.host,
        port=args.port,
        backlog=args.backlog,
        max_line=args.max_line,
        sendq=args.sendq,
        nick_max=args.nick_max,
        shutdown_timeout=args.shutdown_timeout,
        server_name=args.server_name,
        network=args.network,
        motd=args.motd,
        password=args.password,
        opers=tuple(args.oper),
        irc_port=args.irc_port,
        registration_timeout=args.registration_timeout,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        sniff_delay=args.sniff_delay,
        default_room=args.default_room,
        log_level=args.log_level,
        loop=args.loop,
        db=args.db,
        history=args.history,
        history_replay=args.history_replay,
        nick_grace=args.nick_grace,
        tls_port=args.tls_port,
        irc_tls_port=args.irc_tls_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_handshake_timeout=args.tls_handshake_timeout,
        sts_duration=args.sts_duration,
        max_clients=args.max_clients,
        max_per_ip=args.max_per_ip,
        max_per_cidr=args.max_per_cidr,
        cidr_v4=args.cidr_v4,
        cidr_v6=args.cidr_v6,
        connect_rate=args.connect_rate,
        connect_window=args.connect_window,
        limit_exempt=_exempt(args.limit_exempt),
        rooms_per_user=args.rooms_per_user,
        room_max_members=args.room_max_members,
        flood_control=args.flood_control,
        flood_lines=args.flood_lines,
        flood_burst=args.flood_burst,
        flood_bytes=args.flood_bytes,
        flood_kill=args.flood_kill,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        log_format=args.log_format,
        log_bodies=args.log_bodies,
    )


def _exempt(values: list[str] | None) -> tuple[str, ...]:
    if values is None:
        return _DEFAULT.limit_exempt
    if values == ["none"]:
        return ()
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise SystemExit(f"hubbub: --limit-exempt: {exc}") from None
    return tuple(values)


def _loop_factory(choice: str) -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    if choice == "asyncio":
        return None, "asyncio"
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise SystemExit(
                "hubbub: --loop uvloop, but uvloop is not installed (pip install uvloop)"
            ) from None
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


def serve(config: Config) -> int:
    from .core.names import is_valid_room
    from .net.server import Server

    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log = logging.getLogger("hubbub")
    if not is_valid_room(config.default_room):
        raise SystemExit(f"hubbub: --default-room {config.default_room!r} is not a valid room name")
    if config.motd is not None:
        try:
            open(config.motd, encoding="utf-8").close()
        except OSError as exc:
            raise SystemExit(f"hubbub: --motd: {exc}") from None
    factory, loop_name = _loop_factory(config.loop)
    _raise_file_limit(log)

    async def run() -> int:
        server = Server(config)
        try:
            await server.start()
        except OSError as exc:
            log.error("cannot listen: %s", exc)
            return 1
        server.install_signal_handlers()
        log.info("hubbub %s started (event loop: %s)", __version__, loop_name)
        await server.serve()
        return 0

    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(run())


def _raise_file_limit(log: logging.Logger) -> None:
    """Each client is a file descriptor: raise the soft limit to the hard one, as servers do."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
            return
    log.debug("open-file limit: %d", max(soft, hard))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(config_from_args(args))
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
