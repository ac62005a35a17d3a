"""End-to-end: the server started with --config FILE, the command line overriding it, SIGHUP reloading it (a
bad file refused, the running settings kept), JSON logs, and no password or message text in the log."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from helpers import TIMEOUT, Client, ServerProcess
from hubbub.store.passwords import hash_password

IRC = ("--irc-port", "auto")


def write_config(path: Path, text: str) -> None:
    """Replace the file at once (write aside, then rename), as an editor or a deployment tool would."""
    aside = path.with_suffix(".new")
    aside.write_text(text, encoding="utf-8")
    aside.replace(path)


def motd_of(server: ServerProcess, nick: str) -> list[str]:
    """The MOTD lines a new IRC client gets."""
    client = server.irc(nick)
    client.send("MOTD")
    client.expect(rf" 375 {nick} :- ")
    lines = []
    while True:
        line = client.read_line()
        assert line is not None
        if f" 376 {nick} " in line:
            return lines
        lines.append(line.split(" :- ", 1)[1])


def test_the_file_is_applied_and_sighup_reloads_it(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.motd", tmp_path / "second.motd"
    first.write_text("Welcome, first edition\n")
    second.write_text("Welcome, second edition\n")
    config = tmp_path / "hubbub.toml"
    write_config(
        config,
        f'[chat]\nserver_name = "chat.example.test"\nmotd = {json.dumps(str(first))}\n'
        "[limits]\nmax_per_ip = 50\n",
    )
    server = make_server(*IRC, "--config", str(config))
    server.wait_log(rf"configuration: {re.escape(str(config))}$")
    plain = server.connect()
    assert plain.seen[0].startswith("* Welcome to chat.example.test, ")
    assert plain.seen[1:3] == ["* Message of the day of chat.example.test:", "*   Welcome, first edition"]
    assert motd_of(server, "alice") == ["Welcome, first edition"]  # no empty line for the last line end

    early = server.irc("early")
    early.send("OPER root hunter2")
    early.expect(r" 464 early ")  # no such operator yet

    # A new MOTD file, an operator, and a change that needs a restart: SIGHUP applies the first two and
    # keeps the third.
    write_config(
        config,
        f'[chat]\nserver_name = "chat.example.test"\nmotd = {json.dumps(str(second))}\n'
        "[limits]\nmax_per_ip = 50\n[network]\nbacklog = 10\n"
        f'[opers]\nroot = "{hash_password("hunter2")}"\n',
    )
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(
        r"SIGHUP: configuration reloaded: changed motd, opers; not changed until a restart: backlog$"
    )
    assert motd_of(server, "bob") == ["Welcome, second edition"]
    plain.send("/motd")  # plain text reads the same file
    plain.expect(r"^\* Message of the day of chat\.example\.test:$")
    plain.expect_next(r"^\*   Welcome, second edition$")
    early.send("OPER root hunter2")  # connected before the reload
    early.expect(r" 381 early ")

    # A broken file: refused with the key and the reason, and the running configuration stays.
    write_config(
        config,
        f'[chat]\nserver_name = "chat.example.test"\nmotd = {json.dumps(str(first))}\n'
        '[limits]\nmax_per_ip = "lots"\n',
    )
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(
        r"ERROR .*SIGHUP: configuration not reloaded, the running one stays: config .*hubbub\.toml:"
        r' \[limits\] max_per_ip: must be a positive integer, not "lots"$'
    )
    assert motd_of(server, "carol") == ["Welcome, second edition"]

    # Not TOML at all: refused too.
    write_config(config, "[chat\n")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"SIGHUP: configuration not reloaded, .*: not valid TOML")
    assert motd_of(server, "dave") == ["Welcome, second edition"]
    assert plain.sync() == []  # the plain-text client saw nothing of it all


def test_the_command_line_overrides_the_file(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    config = tmp_path / "hubbub.toml"
    write_config(
        config,
        '[chat]\nserver_name = "from-the-file"\npassword = "file-pass"\n'
        "[network]\nport = 1\n",  # the test harness gives --port 0: the file's port is overridden
    )
    server = make_server(*IRC, "--config", str(config), "--server-name", "from-the-cli")
    plain = server.connect()
    assert plain.seen[0].startswith("* Welcome to from-the-cli, ")
    irc = Client(server.irc_port)
    server.clients.append(irc)
    irc.send("PASS file-pass")
    irc.send("NICK alice")
    irc.send("USER a 0 * :A")
    irc.expect(r"^:from-the-cli 001 alice ")

    # On a reload too, the command line's server name stays (it would need a restart anyway).
    write_config(config, '[chat]\nserver_name = "from-the-file"\npassword = "new-pass"\n')
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"SIGHUP: configuration reloaded: changed password$")
    late = Client(server.irc_port)
    server.clients.append(late)
    late.send("PASS file-pass")
    late.send("NICK bob")
    late.send("USER b 0 * :B")
    late.expect(r"^:from-the-cli 464 bob :Password incorrect$")


def test_a_bad_file_stops_the_server_before_it_listens(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    write_config(config, '[limits]\nmax_per_ip = "x"\n[chat]\nmotd = "/nonexistent/motd.txt"\n')
    result = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--config", str(config), "--port", "0", "--db", ":memory:"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'hubbub: config {config}: [limits] max_per_ip: must be a positive integer, not "x"',
        f'hubbub: config {config}: [chat] motd: cannot read "/nonexistent/motd.txt": No such file or'
        " directory",
    ]
    assert "listening" not in result.stdout + result.stderr


def test_without_a_file_sighup_says_there_is_nothing_to_reload(server: ServerProcess) -> None:
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"SIGHUP: no configuration file to reload")
    server.connect()  # still serving


def test_json_logs(make_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    write_config(config, '[logging]\nlog_format = "json"\n')
    server = make_server("--config", str(config))
    server.connect("alice")
    server.wait_log(r"connected from 127\.0\.0\.1")
    entries = [json.loads(line) for line in server.log]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["message"].startswith("listening for plain text on 127.0.0.1:") for e in entries)
    assert all(e["level"] in ("debug", "info", "warning", "error", "critical") for e in entries)

    # Back to text on a reload.
    write_config(config, '[logging]\nlog_format = "text"\n')
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"^\S+ \S+ INFO hubbub\.net: SIGHUP: configuration reloaded: changed log_format$")


def test_no_password_or_message_text_reaches_the_log(
    make_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    config = tmp_path / "hubbub.toml"
    write_config(config, '[chat]\npassword = "FilePassw0rd"\n[opers]\nroot = "RootPassw0rd"\n')
    server = make_server(
        *IRC,
        "--config",
        str(config),
        "--password",
        "CliPassw0rd",
        "--oper",
        "admin:AdminPassw0rd",
        "--log-level",
        "debug",
    )
    irc = Client(server.irc_port)
    server.clients.append(irc)
    irc.send("PASS CliPassw0rd")
    irc.send("NICK alice")
    irc.send("USER a 0 * :A")
    irc.expect(r" 001 alice ")
    irc.send("OPER admin WrongPassw0rd")
    irc.expect(r" 464 alice ")
    irc.send("OPER admin AdminPassw0rd")
    irc.expect(r" 381 alice ")
    irc.send("JOIN #lobby")
    irc.expect(r" 366 alice #lobby ")
    bob = server.connect("bob")
    irc.send("PRIVMSG #lobby :SecretMessageText")
    bob.expect(r"^<alice> SecretMessageText$")
    bob.send("/register BobsPassw0rd")
    bob.expect(r"^\* You registered the account bob")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"SIGHUP: configuration reloaded: nothing changed$")
    assert server.stop() == 0
    log = "\n".join(server.log)
    for secret in (
        "FilePassw0rd",
        "RootPassw0rd",
        "CliPassw0rd",
        "AdminPassw0rd",
        "WrongPassw0rd",
        "BobsPassw0rd",
        "SecretMessageText",
    ):
        assert secret not in log, secret
