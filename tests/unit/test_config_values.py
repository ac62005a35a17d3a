"""The kinds of option values the other configuration tests leave out: each wrong type in the file is named
with its key and the reason (a secret never shown), and each kind reads its command-line text."""

from __future__ import annotations

import tomllib

import pytest

from hubbub import cli
from hubbub.config import Config
from hubbub.config.kinds import FLAG, Flag, OptionError
from hubbub.settings import parse


def problems(text: str) -> list[str]:
    return parse(tomllib.loads(text))[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[chat]\nnetwork = 3", "[chat] network: must be a name without spaces, not 3"),
        ('[chat]\nnetwork = "a\\tb"', '[chat] network: must be a name without spaces, not "a\\tb"'),
        ("[network]\nhost = 3", "[network] host: must be a string, not 3"),
        ("[storage]\ndb = {}", "[storage] db: must be a non-empty string, not a table"),
        ('[storage]\ndb = ""', '[storage] db: must be a non-empty string, not ""'),
        ("[chat]\ndefault_room = 5", '[chat] default_room: must be a room name such as "#lobby", not 5'),
        (
            "[logging]\nlog_level = 1",
            '[logging] log_level: must be one of "debug", "info", "warning", "error"',
        ),
        (
            "[limits]\nlimit_exempt = [8]",
            '[limits] limit_exempt: must be an array of networks such as "10.0.0.0/8"',
        ),
        ("[tls]\nirc_tls_port = -1", "[tls] irc_tls_port: must be a port number (0-65535)"),
        ("[tls]\nirc_tls_port = true", "[tls] irc_tls_port: must be a port number (0-65535)"),
        (
            "[flood]\nflood_lines = false",
            "[flood] flood_lines: must be a positive number of lines per second",
        ),
        (
            "[cluster]\nredis = 6379",
            "[cluster] redis: must be a redis://, rediss:// or unix:// URL, not 6379",
        ),
        (
            '[cluster]\nredis = "localhost:6379"',
            '[cluster] redis: must be a redis://, rediss:// or unix:// URL, not "localhost:6379"',
        ),
        ("[cluster]\nnode_name = []", "[cluster] node_name: must be a string, not an array"),
        ("[tls]\ntls_key = 1.5", "[tls] tls_key: must be a file name, not 1.5"),
    ],
)
def test_each_wrong_type_names_its_key_and_the_reason(text: str, message: str) -> None:
    found = problems(text)
    assert len(found) == 1, found
    assert found[0].startswith(message), found


@pytest.mark.parametrize(
    ("value", "shown"),
    [("3", "an integer"), ("true", "a boolean"), ("2.5", "a number"), ("[1]", "an array"), ("{}", "a table")],
)
def test_a_password_of_the_wrong_type_is_described_never_shown(value: str, shown: str) -> None:
    assert problems(f"[chat]\npassword = {value}") == [f"[chat] password: must be a string, not {shown}"]


def test_the_cluster_options_from_a_file_and_from_the_command_line() -> None:
    text = '[cluster]\nredis = "unix:///run/redis.sock"\nnode_name = ""\ncluster_name = "blue"'
    values, found = parse(tomllib.loads(text))
    assert found == []
    assert values == {"redis": "unix:///run/redis.sock", "node_name": None, "cluster_name": "blue"}
    args = cli.build_parser().parse_args(["serve", "--redis", "rediss://h:6380/1", "--node-name", "n1"])
    config = cli.config_from_args(args)
    assert (config.redis, config.node_name) == ("rediss://h:6380/1", "n1")
    assert Config().redis == "" and Config().node_name is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--ping-timeout", "soon"],
            'argument --ping-timeout: must be a positive number of seconds, not "soon"',
        ),
        (
            ["--flood-lines", "-1"],
            "argument --flood-lines: must be a positive number of lines per second, not -1",
        ),
        (
            ["--redis", "http://h"],
            'argument --redis: must be a redis://, rediss:// or unix:// URL, not "http://h"',
        ),
        (["--tls-port", "port"], 'argument --tls-port: must be a port number (0-65535), "auto" or "off"'),
    ],
)
def test_bad_command_line_text_names_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.config_from_args(cli.build_parser().parse_args(["serve", *argv]))
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_flag_reads_the_usual_words_for_on_and_off() -> None:
    assert isinstance(FLAG, Flag)
    assert [FLAG.from_text(word) for word in ("on", " Yes", "TRUE", "1")] == [True] * 4
    assert [FLAG.from_text(word) for word in ("off", "no", "False ", "0")] == [False] * 4
    with pytest.raises(OptionError, match='must be true or false, not "maybe"'):
        FLAG.from_text("maybe")
