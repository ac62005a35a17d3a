"""The configuration: options declared once, read from the command line and from a TOML file, validated with
messages naming the key and the reason, the command line overriding the file; the reload of a running server;
the logs; and the hash-password and gen-cert commands."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from hubbub import cli, logs
from hubbub.config import SECTIONS, Config, ConfigError, options
from hubbub.settings import ConfigSource, load, parse, read_file
from hubbub.store.passwords import verify_password

ROOT = Path(__file__).resolve().parents[2]


def from_cli(*argv: str) -> Config:
    return cli.config_from_args(cli.build_parser().parse_args(["serve", *argv]))


def write(tmp_path: Path, text: str, name: str = "hubbub.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems(text: str) -> list[str]:
    import tomllib

    return parse(tomllib.loads(text))[1]


# -- one declaration for every option ------------------------------------------------------------------------


def test_every_field_is_an_option_with_a_flag_a_section_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    names = [f.name for f in fields(Config)]
    assert [o.name for o in options()] == names
    flags = {o.cli_flag for o in options()}
    assert len(flags) == len(names)
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    help_text = capsys.readouterr().out
    for option in options():
        assert option.section in SECTIONS
        assert option.help
        assert option.cli_flag in help_text, option.cli_flag
        assert getattr(Config(), option.name) == option.default


def test_no_arguments_give_the_defaults() -> None:
    assert from_cli() == Config()


def test_the_command_line_reads_every_kind_of_value() -> None:
    config = from_cli(
        "--host", "::1", "--port", "9000", "--irc-port", "auto", "--tls-port", "6697",
        "--irc-tls-port", "auto",
        "--oper", "alice:pw1", "--oper", "bob:pw:with:colons", "--no-history", "--shutdown-timeout", "1.5",
        "--limit-exempt", "10.0.0.0/8", "--limit-exempt", "fd00::/8", "--log-format", "json", "--log-bodies",
        "--flood-lines", "2.5", "--metrics-port", "off", "--default-room", "#main",
    )  # fmt: skip
    assert config.host == "::1" and config.port == 9000 and config.irc_port == 0
    assert config.tls_port == 6697 and config.irc_tls_port == 0 and config.metrics_port is None
    assert config.opers == (("alice", "pw1"), ("bob", "pw:with:colons"))
    assert config.history is False and config.log_bodies is True and config.log_format == "json"
    assert config.shutdown_timeout == 1.5 and config.flood_lines == 2.5
    assert config.limit_exempt == ("10.0.0.0/8", "fd00::/8")
    assert config.default_room == "#main"
    assert from_cli("--irc-port", "0").irc_port is None
    assert from_cli("--irc-port", "off").irc_port is None
    assert from_cli("--tls-port", "0").tls_port == 0
    assert from_cli("--limit-exempt", "none").limit_exempt == ()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-per-ip", "x"], 'argument --max-per-ip: must be a positive integer, not "x"'),
        (["--max-per-ip", "0"], "argument --max-per-ip: must be a positive integer, not 0"),
        (["--port", "70000"], "argument --port: must be a port number (0-65535), not 70000"),
        (["--ping-timeout", "-1"], "argument --ping-timeout: must be a positive number of seconds, not -1.0"),
        (["--log-level", "loud"], 'argument --log-level: must be one of "debug", "info", "warning", "error"'),
        (["--oper", "alice"], "argument --oper: expected NAME:PASSWORD"),
        (["--limit-exempt", "10.0.0.300/8"], 'argument --limit-exempt: "10.0.0.300/8" is not a network'),
        (["--default-room", "lobby"], 'argument --default-room: must be a room name such as "#lobby"'),
        (["--motd", "/nonexistent/motd"], 'argument --motd: cannot read "/nonexistent/motd": No such file'),
        (["--cidr-v4", "33"], "argument --cidr-v4: must be a prefix length (1-32), not 33"),
    ],
)
def test_bad_command_line_values_name_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        from_cli(*argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_none_cannot_be_mixed_with_networks() -> None:
    with pytest.raises(SystemExit, match='--limit-exempt: "none" cannot be given with networks'):
        from_cli("--limit-exempt", "none", "--limit-exempt", "10.0.0.0/8")


# -- the file ------------------------------------------------------------------------------------------------


def test_the_example_file_is_valid_complete_and_the_defaults() -> None:
    example = ROOT / "hubbub.example.toml"
    assert load(str(example)) == Config()
    text = example.read_text(encoding="utf-8")
    for option in options():
        if option.name == option.section:  # [opers]: a commented-out example entry
            assert re.search(rf"^\[{option.section}\]$", text, re.M)
        else:
            assert re.search(rf"^{option.name} = ", text, re.M), option.name


def test_a_file_sets_every_kind_of_value(tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("hello\n")
    path = write(
        tmp_path,
        f"""
[network]
host = "127.0.0.1"
port = 9000
irc_port = "auto"
[tls]
tls_port = 0
irc_tls_port = "off"
[chat]
server_name = "irc.example.org"
network = "ExampleNet"
motd = {json.dumps(str(motd))}
password = "letmein"
default_room = "#welcome"
[opers]
alice = "secret"
"bob-2" = "scrypt$16384$8$1$AAAA$BBBB"
[storage]
db = ":memory:"
history = false
[timeouts]
ping_timeout = 5
[limits]
max_per_ip = 3
limit_exempt = []
[flood]
flood_lines = 1
[logging]
log_format = "json"
[metrics]
metrics_port = 9100
""",
    )
    config = load(path)
    assert config == replace(
        Config(),
        host="127.0.0.1",
        port=9000,
        irc_port=0,
        tls_port=0,
        irc_tls_port=None,
        server_name="irc.example.org",
        network="ExampleNet",
        motd=str(motd),
        password="letmein",
        default_room="#welcome",
        opers=(("alice", "secret"), ("bob-2", "scrypt$16384$8$1$AAAA$BBBB")),
        db=":memory:",
        history=False,
        ping_timeout=5.0,
        max_per_ip=3,
        limit_exempt=(),
        flood_lines=1.0,
        log_format="json",
        metrics_port=9100,
    )
    assert isinstance(config.ping_timeout, float)


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load(write(tmp_path, "")) == Config()
    assert load(write(tmp_path, "[network]\n[opers]\n")) == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[limits]\nmax_per_ip = "x"', '[limits] max_per_ip: must be a positive integer, not "x"'),
        ("[limits]\nmax_per_ip = 0", "[limits] max_per_ip: must be a positive integer, not 0"),
        ("[limits]\nmax_per_ip = 2.5", "[limits] max_per_ip: must be a positive integer, not 2.5"),
        ("[limits]\nmax_per_ip = true", "[limits] max_per_ip: must be a positive integer, not true"),
        ("[limits]\nmax_clients = -1", "[limits] max_clients: must be 0 or a positive integer, not -1"),
        ("[network]\nport = 65536", "[network] port: must be a port number (0-65535), not 65536"),
        ('[network]\nport = "8008"', '[network] port: must be a port number (0-65535), not "8008"'),
        (
            '[network]\nirc_port = "maybe"',
            '[network] irc_port: must be a port number (0-65535), "auto" or "off", not "maybe"',
        ),
        (
            "[timeouts]\nping_timeout = 0",
            "[timeouts] ping_timeout: must be a positive number of seconds, not 0",
        ),
        ('[timeouts]\nping_timeout = "5"', "[timeouts] ping_timeout: must be a positive number of seconds"),
        ("[timeouts]\nping_timeout = inf", "[timeouts] ping_timeout: must be a positive number of seconds"),
        ("[storage]\nhistory = 1", "[storage] history: must be true or false, not 1"),
        ('[storage]\nhistory = "yes"', '[storage] history: must be true or false, not "yes"'),
        ('[logging]\nlog_level = "loud"', '[logging] log_level: must be one of "debug", "info", "warning"'),
        ('[logging]\nlog_format = "xml"', '[logging] log_format: must be one of "text", "json", not "xml"'),
        ('[running]\nloop = "trio"', '[running] loop: must be one of "auto", "uvloop", "asyncio"'),
        ('[chat]\nserver_name = "my server"', "[chat] server_name: must be a name without spaces"),
        ('[chat]\nserver_name = ""', '[chat] server_name: must be a name without spaces, not ""'),
        ('[chat]\ndefault_room = "lobby"', '[chat] default_room: must be a room name such as "#lobby"'),
        ('[chat]\nmotd = "/nonexistent/motd"', '[chat] motd: cannot read "/nonexistent/motd": No such file'),
        ('[tls]\ntls_cert = "/nonexistent/c.pem"', '[tls] tls_cert: cannot read "/nonexistent/c.pem"'),
        ('[limits]\nlimit_exempt = "10.0.0.0/8"', "[limits] limit_exempt: must be an array of networks"),
        ('[limits]\nlimit_exempt = ["10.0.0.0/33"]', '[limits] limit_exempt: "10.0.0.0/33" is not a network'),
        ("[limits]\ncidr_v6 = 129", "[limits] cidr_v6: must be a prefix length (1-128), not 129"),
        ("[limits]\nmax_per_iq = 3", "[limits] max_per_iq: unknown key (did you mean max_per_ip?)"),
        ("[limits]\nport = 3", "[limits] port: belongs in the [network] section"),
        ("[limits]\nopers = 3", "[limits] opers: unknown key"),
        ("port = 3", "port: must be in the [network] section"),
        ("colour = 3", "colour: unknown key"),
        ("[limit]\nmax_per_ip = 3", "[limit]: unknown section (did you mean limits?)"),
        ("limits = 3", "limits: must be a section ([limits])"),
        ("[limits.extra]\nx = 1", "[limits] extra: unknown key"),
        ("[network]\nport = 1979-05-27", "[network] port: must be a port number (0-65535), not date"),
        ("opers = 3", "[opers]: must be a table of NAME = PASSWORD, not an integer"),
        ("[opers]\nalice = 3", "[opers] alice: must be a password or a scrypt hash, not an integer"),
        ('[opers]\nalice = ""', "[opers] alice: the password cannot be empty"),
        ('[opers]\n"al ice" = "pw"', '[opers] "al ice": an operator name cannot be empty or hold spaces'),
    ],
)
def test_each_bad_value_names_its_key_and_the_reason(text: str, message: str) -> None:
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(message), found


def test_every_problem_is_reported_at_once_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, '[limits]\nmax_per_ip = "x"\nsendq = 0\n[chat]\nnick_max = -2\n')
    with pytest.raises(ConfigError) as exc:
        read_file(path)
    assert exc.value.problems == [
        f'config {path}: [limits] max_per_ip: must be a positive integer, not "x"',
        f"config {path}: [limits] sendq: must be a positive integer, not 0",
        f"config {path}: [chat] nick_max: must be a positive integer, not -2",
    ]


def test_passwords_are_never_shown_in_errors(tmp_path: Path) -> None:
    found = problems('[chat]\npassword = 1234567\n[opers]\nalice = ["hunter2"]\n')
    assert found == [
        "[chat] password: must be a string, not an integer",
        "[opers] alice: must be a password or a scrypt hash, not an array",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits\n", "not valid TOML: "),
        ("port = = 3", "not valid TOML: "),
    ],
)
def test_a_file_that_is_not_toml_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(f"config {path}: {message}")):
        read_file(path)


def test_a_missing_or_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config /nonexistent\.toml: No such file or directory"):
        read_file("/nonexistent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_file(str(binary))


# -- the command line overrides the file ---------------------------------------------------------------------


def test_only_options_given_on_the_command_line_override_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[network]\nport = 9000\n[chat]\nserver_name = "from-file"\n[opers]\nfile = "pw"\n'
        "[limits]\nmax_per_ip = 3\n[storage]\nhistory = false\n",
    )
    config = from_cli("--config", path, "--server-name", "from-cli", "--history", "--oper", "cli:pw")
    assert config.server_name == "from-cli"
    assert config.history is True
    assert config.opers == (("cli", "pw"),)  # a repeated option replaces the file's list
    assert config.port == 9000 and config.max_per_ip == 3  # from the file
    assert config.sendq == Config().sendq  # neither: the default
    # Given explicitly with the default value, it still overrides the file.
    assert from_cli("--config", path, "--port", "8008").port == 8008


def test_a_config_source_reads_the_file_again_each_time(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_per_ip = 3\n")
    source = ConfigSource(path, {"port": 1234, "password": "hunter2"})
    assert source().max_per_ip == 3 and source().port == 1234
    write(tmp_path, "[limits]\nmax_per_ip = 4\n[network]\nport = 1\n")
    assert source().max_per_ip == 4 and source().port == 1234
    assert "hunter2" not in repr(source)


def test_main_exits_with_every_problem_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[limits]\nmax_per_ip = "x"\n[chat]\nmotd = "/nonexistent"\n')
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", "--config", path])
    assert exc.value.code == (
        f'hubbub: config {path}: [limits] max_per_ip: must be a positive integer, not "x"\n'
        f'hubbub: config {path}: [chat] motd: cannot read "/nonexistent": No such file or directory'
    )


# -- docs ----------------------------------------------------------------------------------------------------


def test_the_docs_and_the_readme_cover_every_option() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    options_table = readme.split("## Options", 1)[1].split("\n## ", 1)[0]
    for option in options():
        row = re.search(rf"^\| `{option.name}` \|.*$", doc, re.M)
        assert row, option.name
        assert ("**restart**" in row.group()) == (not option.live), option.name
        assert f"`{option.cli_flag}" in options_table, option.cli_flag
    for section in SECTIONS:
        assert f"[{section}]" in doc, section
    assert "`--config FILE`" in options_table and "docs/configuration.md" in options_table


# -- reloading a running server ------------------------------------------------------------------------------


class Reloading:
    """An App (not listening) whose configuration comes from a file the test rewrites."""

    def __init__(self, tmp_path: Path, text: str, **overrides: Any) -> None:
        self.tmp_path = tmp_path
        self.path = write(tmp_path, text)
        self.source = ConfigSource(self.path, {"db": ":memory:", **overrides})

    def rewrite(self, text: str) -> None:
        write(self.tmp_path, text)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run_with_server(loop: asyncio.AbstractEventLoop, source: ConfigSource, body: Any) -> None:
    from hubbub.app import App

    async def main() -> None:
        server = App(source())
        server.config_source = source
        try:
            body(server)
        finally:
            server.workers.shutdown(wait=False)
            server.store.close()

    loop.run_until_complete(main())


def test_reload_applies_a_new_file_and_keeps_what_needs_a_restart(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("first\n")
    before = (
        f'[chat]\nmotd = {json.dumps(str(motd))}\npassword = "old"\n[opers]\nalice = "pw"\n'
        "[limits]\nsendq = 1000\n"
    )
    setup = Reloading(tmp_path, before, server_name="cli-name")
    seen: list[Config] = []

    def body(server: Any) -> None:
        server.on_reload.append(seen.append)
        irc, plain = server.irc_options, server.plain_options
        welcome, motd_lines = irc.welcome_lines(), irc.motd_lines()
        assert irc.motd == ["first"]
        motd.write_text("second\n")
        setup.rewrite(
            f'[chat]\nmotd = {json.dumps(str(motd))}\npassword = "new"\nnetwork = "NewNet"\n'
            'server_name = "file-name"\ndefault_room = "#new"\nnick_max = 20\n'
            '[opers]\nbob = "pw2"\n[limits]\nsendq = 2000\nmax_line = 100\n'
            "[network]\nport = 1234\n[timeouts]\nping_timeout = 1\n[storage]\nhistory_replay = 3\n"
        )
        ok, why = server.reload_config()
        assert ok, why
        assert why == (
            "configuration reloaded: changed network, password, default_room, nick_max, opers,"
            " history_replay, ping_timeout, max_line, sendq, motd; not changed until a restart: port"
        )
        config = server.config
        assert seen == [config]
        assert config.port == 8008 and config.server_name == "cli-name"  # restart / command line
        assert config.password == "new" and config.sendq == 2000
        assert irc.motd == ["second"] and irc.password == "new" and irc.opers == {"bob": "pw2"}
        assert irc.network == "NewNet" and irc.ping_timeout == 1.0 and irc.history_replay == 3
        assert irc.limits.nick_max == 20 and server.hub.limits is irc.limits
        assert plain.max_line == 100 and plain.default_room == "#new" and plain.history_replay == 3
        assert server.server.state.sendq == 2000 and server.server.tick_interval == 0.25
        assert irc.welcome_lines() != welcome and "NETWORK=NewNet" in "".join(irc.welcome_lines())
        assert irc.motd_lines() != motd_lines and ":- second" in "".join(irc.motd_lines())
        assert "new" not in why.replace("NewNet", "")  # names only, never values (passwords)

        ok, why = server.reload_config()
        assert (ok, why) == (
            True,
            "configuration reloaded: nothing changed; not changed until a restart: port",
        )

    run_with_server(loop, setup.source, body)


def test_a_bad_file_is_refused_and_nothing_changes(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    setup = Reloading(tmp_path, '[chat]\npassword = "old"\n[limits]\nsendq = 1000\n')

    def body(server: Any) -> None:
        seen: list[Config] = []
        server.on_reload.append(seen.append)
        before = server.config
        setup.rewrite('[chat]\npassword = "new"\n[limits]\nsendq = 2000\nmax_per_ip = "x"\n')
        ok, why = server.reload_config()
        assert not ok
        assert why == (
            "configuration not reloaded, the running one stays: "
            f'config {setup.path}: [limits] max_per_ip: must be a positive integer, not "x"'
        )
        assert server.config is before and server.irc_options.password == "old"
        assert server.server.state.sendq == 1000
        assert seen == []
        # The MOTD file disappears between the check and the read: refused too.
        motd = tmp_path / "motd.txt"
        motd.write_text("x")
        setup.rewrite(f"[chat]\nmotd = {json.dumps(str(motd))}\n")
        real = setup.source

        def vanishing() -> Config:
            config = real()
            motd.unlink()
            return config

        server.config_source = vanishing
        ok, why = server.reload_config()
        assert not ok and "[chat] motd: cannot read" in why and server.config is before

    run_with_server(loop, setup.source, body)


def test_without_a_file_there_is_nothing_to_reload(loop: asyncio.AbstractEventLoop) -> None:
    from hubbub.app import App

    async def main() -> tuple[bool, str]:
        server = App(Config(db=":memory:"))
        try:
            return server.reload_config()
        finally:
            server.workers.shutdown(wait=False)
            server.store.close()

    ok, why = loop.run_until_complete(main())
    assert not ok and "without --config" in why


def test_a_failing_reload_callback_is_logged_and_the_others_still_run(
    tmp_path: Path, loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    setup = Reloading(tmp_path, "")
    seen: list[str] = []

    def broken(config: Config) -> None:
        raise RuntimeError("boom")

    def body(server: Any) -> None:
        server.on_reload.extend([broken, lambda config: seen.append(config.network)])
        ok, _ = server.reload_config()
        assert ok and seen == ["hubbub"]

    with caplog.at_level(logging.ERROR):
        run_with_server(loop, setup.source, body)
    assert "internal error applying the reloaded configuration" in caplog.text


# -- logs ----------------------------------------------------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """A stream logs.configure sends the log to; the root logger is put back as it was afterwards."""
    root = logging.getLogger()
    level = root.level
    yield io.StringIO()
    if logs._handler is not None:
        root.removeHandler(logs._handler)
        logs._handler = None
    logs._log_bodies = False
    root.setLevel(level)


def test_json_logs_are_one_object_per_line_with_extra_fields(log_stream: io.StringIO) -> None:
    logs.configure(Config(log_format="json", log_level="debug"), stream=log_stream)
    log = logging.getLogger("hubbub.test")
    log.debug("#%d connected from %s", 12, "203.0.113.5", extra={"conn": 12, "peer": "203.0.113.5"})
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("it broke: é")
    first, second = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first.pop("time"))
    assert first == {
        "level": "debug",
        "logger": "hubbub.test",
        "message": "#12 connected from 203.0.113.5",
        "conn": 12,
        "peer": "203.0.113.5",
    }
    assert second["level"] == "error" and second["message"] == "it broke: é"
    assert "ValueError: bad" in second["exception"]


def test_configure_again_changes_the_format_and_level_in_place(log_stream: io.StringIO) -> None:
    logs.configure(Config(), stream=log_stream)
    log = logging.getLogger("hubbub.test")
    log.info("as text")
    log.debug("hidden")
    logs.configure(Config(log_format="json", log_level="warning"))
    log.info("hidden too")
    log.warning("as json")
    text, as_json = log_stream.getvalue().splitlines()
    assert re.fullmatch(r"\S+ \S+ INFO hubbub.test: as text", text)
    assert json.loads(as_json)["message"] == "as json"


def test_message_bodies_are_logged_only_when_asked(log_stream: io.StringIO) -> None:
    logs.configure(Config(), stream=log_stream)
    assert not logs.bodies_logged() and logs.body("hello there") == "<11 characters>"
    logs.configure(Config(log_bodies=True))
    assert logs.bodies_logged() and logs.body("hello there") == "hello there"


# -- hash-password and gen-cert ------------------------------------------------------------------------------


def test_hash_password_reads_a_line_of_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\r\nignored\n"))
    assert cli.main(["hash-password"]) == 0
    stored = capsys.readouterr().out.strip()
    assert stored.startswith("scrypt$") and verify_password("correct horse", stored)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["hash-password"]) == 1
    assert "no password given" in capsys.readouterr().err


def test_hash_password_asks_twice_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["one", "two", "same", "same"])
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["hash-password"]) == 1
    assert "differ" in capsys.readouterr().err
    assert cli.main(["hash-password"]) == 0
    assert verify_password("same", capsys.readouterr().out.strip())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_gen_cert_writes_a_pair_that_the_config_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "certs"
    assert cli.main(["gen-cert", "--out", str(out), "--name", "chat.example", "--days", "2"]) == 0
    cert, key = out / "chat.example.crt", out / "chat.example.key"
    assert f"--tls-cert {cert} --tls-key {key}" in capsys.readouterr().out
    config = from_cli("--tls-cert", str(cert), "--tls-key", str(key))
    assert (config.tls_cert, config.tls_key) == (str(cert), str(key))
    assert cli.main(["gen-cert", "--out", str(out), "--name", "chat.example"]) == 1  # exists
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["gen-cert", "--out", str(out), "--name", "chat.example", "--force"]) == 0
