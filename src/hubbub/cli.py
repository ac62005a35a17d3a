"""Command line: ``hubbub serve [--config FILE] [options]``, ``hubbub hash-password``, ``hubbub gen-cert``.

The options of ``serve`` are generated from the declarations in :mod:`hubbub.config`, as is the configuration
file's schema (:mod:`hubbub.settings`): an option given on the command line overrides the file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .config import SECTIONS, Config, ConfigError, Flag, Kind, Option, OptionError, options
from .settings import ConfigSource

__all__ = ["build_parser", "config_from_args", "main", "source_from_args"]


def _arg_type(option: Option) -> Callable[[str], Any]:
    kind = option.kind

    def convert(text: str) -> Any:
        try:
            return kind.from_text(text)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = option.name
    return convert


def _help(option: Option) -> str:
    text = option.help
    shown = option.kind.show_default(option.default)
    if shown is not None and "default" not in text:
        text += f" (default: {shown})"
    return text.replace("%", "%%")


def _add_option(group: argparse._ArgumentGroup, option: Option) -> None:
    kind: Kind = option.kind
    common: dict[str, Any] = {"dest": option.name, "default": argparse.SUPPRESS, "help": _help(option)}
    if isinstance(kind, Flag):
        group.add_argument(option.cli_flag, action=argparse.BooleanOptionalAction, **common)
    elif kind.repeated:
        group.add_argument(
            option.cli_flag, action="append", type=_arg_type(option), metavar=option.metavar, **common
        )
    else:
        group.add_argument(
            option.cli_flag, type=_arg_type(option), choices=kind.choices, metavar=option.metavar, **common
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubbub", description="hubbub: a chat server for netcat, telnet and IRC clients."
    )
    parser.add_argument("--version", action="version", version=f"hubbub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the chat server",
        description="Run the chat server. With no options: plain-text chat on port 8008 and IRC on port 6667"
        " of every interface. Every option can also be set in a TOML file (--config, see"
        " docs/configuration.md); an option given here overrides the file.",
    )
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="read the settings from this TOML file (hubbub.example.toml shows every one); reloaded on"
        " SIGHUP and IRC REHASH",
    )
    groups = {section: serve.add_argument_group(title) for section, title in SECTIONS.items()}
    for option in options():
        _add_option(groups[option.section], option)

    commands.add_parser(
        "hash-password",
        help="print the scrypt hash of a password, for [opers] in the configuration file",
        description="Read a password (asked for on a terminal, else one line of standard input) and print its"
        " scrypt hash, to use in place of the password in the [opers] section of the configuration file.",
    )

    gen = commands.add_parser(
        "gen-cert",
        help="make a self-signed TLS certificate and key for testing",
        description="Make a self-signed certificate (NAME.crt) and private key (NAME.key) for testing TLS,"
        " with the openssl command; use them with --tls-cert and --tls-key.",
    )
    gen.add_argument("--out", default=".", metavar="DIR", help="directory to write them to (default: .)")
    gen.add_argument(
        "--name", default="localhost", metavar="HOST", help="host name or address (default: localhost)"
    )
    gen.add_argument("--days", type=int, default=365, metavar="N", help="days it is valid (default: 365)")
    gen.add_argument("--force", action="store_true", help="replace existing files")
    return parser


def source_from_args(args: argparse.Namespace) -> ConfigSource:
    """The configuration file given (if any) and the options given on the command line, which override it."""
    overrides: dict[str, Any] = {}
    for option in options():
        if hasattr(args, option.name):
            value = getattr(args, option.name)
            if option.kind.repeated:
                try:
                    value = option.kind.from_items(value)
                except OptionError as exc:
                    raise SystemExit(f"hubbub: {option.cli_flag}: {exc}") from None
            overrides[option.name] = value
    return ConfigSource(getattr(args, "config", None), overrides)


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration the arguments of ``serve`` give (reading the --config file, if any)."""
    try:
        return source_from_args(args)()
    except ConfigError as exc:
        raise SystemExit("\n".join(f"hubbub: {problem}" for problem in exc.problems)) from None


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


def serve(config: Config, source: ConfigSource | None = None) -> int:
    from . import logs
    from .app import App
    from .workers import connect_supervisor

    logs.configure(config)
    log = logging.getLogger("hubbub")
    factory, loop_name = _loop_factory(config.loop)
    _raise_file_limit(log)

    async def run() -> int:
        app = App(config)
        if source is not None and source.path is not None:
            app.config_source = source
        app.on_reload.append(logs.configure)
        # A worker of ``serve --workers N`` stops if its supervisor goes away, and tells it once it listens.
        channel = connect_supervisor(asyncio.get_running_loop(), app.request_stop)
        try:
            try:
                await app.start()
            except OSError as exc:
                log.error("cannot listen: %s", exc)
                await app.shutdown()  # what did start (the cluster's connection) stops too
                return 1
            app.install_signal_handlers()
            if source is not None and source.path is not None:
                log.info("configuration: %s", source.path)
            log.info("hubbub %s started (event loop: %s)", __version__, loop_name)
            if channel is not None:
                channel.ready()
            await app.serve()
            return 0
        finally:
            if channel is not None:
                channel.close()

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


def hash_password_command() -> int:
    """``hubbub hash-password``: a password (asked twice on a tty, else one line of stdin) -> its hash."""
    from getpass import getpass

    from .store.passwords import hash_password

    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass("Password: ")
        if getpass("Again: ") != password:
            print("hubbub: the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r") if sys.stdin else ""
    if not password:
        print("hubbub: no password given", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def gen_cert_command(args: argparse.Namespace) -> int:
    """``hubbub gen-cert``: a self-signed certificate and key for testing TLS."""
    from .net.tls import TlsError, generate_self_signed

    try:
        cert, key = generate_self_signed(args.out, args.name, args.days, overwrite=args.force)
    except TlsError as exc:
        print(f"hubbub: gen-cert: {exc}", file=sys.stderr)
        return 1
    print(f"certificate: {cert}\nprivate key: {key}")
    print(f"use them with: --tls-cert {cert} --tls-key {key} (or tls_cert and tls_key in [tls])")
    return 0


def _serve_args(argv: Sequence[str]) -> list[str]:
    """The arguments of ``serve`` in a command line (what follows the command's name)."""
    args = list(argv)
    return args[args.index("serve") + 1 :] if "serve" in args else []


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        source = source_from_args(args)
        try:
            config = source()
        except ConfigError as exc:
            raise SystemExit("\n".join(f"hubbub: {problem}" for problem in exc.problems)) from None
        if config.workers > 1:
            # The supervisor of N worker processes (each a ``hubbub serve`` of its own); it serves no client.
            from .workers import supervise

            return supervise(config, source, _serve_args(argv))
        return serve(config, source)
    if args.command == "hash-password":
        return hash_password_command()
    if args.command == "gen-cert":
        return gen_cert_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
