"""The configuration file (``hubbub serve --config FILE``): TOML, read with the stdlib's tomllib.

One table per section, holding keys named exactly as the :class:`~hubbub.config.Config` fields; ``[opers]`` is
a table of operator names and their passwords (or scrypt hashes)::

    [network]
    port = 8008
    irc_port = 6667

    [chat]
    server_name = "irc.example.org"
    motd = "/etc/hubbub/motd.txt"

    [opers]
    alice = "scrypt$16384$8$1$..."

Every value is checked with the same declarations as the command line (:func:`hubbub.config.options`), and
every problem names its key and the reason. The command line overrides the file, option by option.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from typing import Any

from .config import SECTIONS, Config, ConfigError, Option, OptionError, options

__all__ = ["ConfigSource", "load", "read_file"]


def read_file(path: str) -> dict[str, Any]:
    """The settings a configuration file gives, by field name; :class:`ConfigError` names each problem."""
    where = f"config {path}"
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ConfigError([f"{where}: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{where}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML: {exc}"]) from None
    values, problems = parse(data)
    if problems:
        raise ConfigError([f"{where}: {problem}" for problem in problems])
    return values


def parse(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check the tables of a parsed TOML document: (settings by field name, problems)."""
    known = {option.name: option for option in options()}
    values: dict[str, Any] = {}
    problems: list[str] = []

    def take(option: Option, value: object) -> None:
        try:
            values[option.name] = option.kind.from_toml(value)
        except OptionError as exc:
            if exc.key is None:
                problems.append(f"{option.key}: {exc.reason}")
            else:
                problems.append(f"[{option.section}] {exc.key}: {exc.reason}")

    for section, table in data.items():
        if section not in SECTIONS:
            option = known.get(section)
            if option is not None:
                problems.append(f"{section}: must be in the [{option.section}] section")
            elif isinstance(table, dict):
                problems.append(f"[{section}]: unknown section{_did_you_mean(section, SECTIONS)}")
            else:
                problems.append(f"{section}: unknown key{_did_you_mean(section, known)}")
            continue
        whole = known.get(section)
        if whole is not None and whole.section == section:  # a section that is one option: [opers]
            take(whole, table)
            continue
        if not isinstance(table, dict):
            problems.append(f"{section}: must be a section ([{section}])")
            continue
        for key, value in table.items():
            option = known.get(key)
            if option is None or option.name == option.section:
                in_section = [o.name for o in known.values() if o.section == section]
                problems.append(f"[{section}] {key}: unknown key{_did_you_mean(key, in_section)}")
            elif option.section != section:
                problems.append(f"[{section}] {key}: belongs in the [{option.section}] section")
            else:
                take(option, value)
    return values, problems


def _did_you_mean(word: str, choices: Mapping[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def load(path: str | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """The configuration: the defaults, then the file (if any), then ``overrides`` (from the command line)."""
    values = read_file(path) if path is not None else {}
    values.update(overrides or {})
    return Config(**values)


class ConfigSource:
    """Where the running configuration comes from: a file (or none) and the command-line overrides, which
    are applied again on each reload. Calling it reads the file again: a new Config, or ConfigError."""

    def __init__(self, path: str | None, overrides: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.overrides = dict(overrides or {})

    def __call__(self) -> Config:
        return load(self.path, self.overrides)

    def __repr__(self) -> str:  # never the values: they may hold passwords
        return f"ConfigSource({self.path!r}, overriding {sorted(self.overrides)})"
