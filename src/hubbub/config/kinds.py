"""The kinds of option values: how each is read from command-line text and from a TOML value, checked, and how
its default is shown. Each raises :class:`OptionError` with the reason a value is refused."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from typing import Any

from ..core.names import is_valid_room

__all__ = [
    "COUNT",
    "FILE",
    "FLAG",
    "NAME",
    "PORT",
    "POSITIVE",
    "SECONDS",
    "TEXT",
    "Choice",
    "Flag",
    "Hostname",
    "Integer",
    "Kind",
    "Networks",
    "Number",
    "Opers",
    "OptionError",
    "OptionalPort",
    "OptionalText",
    "Passwords",
    "Port",
    "ReadableFile",
    "RedisUrl",
    "Room",
    "Secret",
    "Text",
    "show",
]


class OptionError(ValueError):
    """A bad value for one option; the message is the reason (``must be ..., not ...``). ``key``: the entry
    of a table (an operator's name) the reason is about, if any."""

    def __init__(self, reason: str, key: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key

    def __str__(self) -> str:
        return self.reason if self.key is None else f"{self.key}: {self.reason}"


def show(value: object) -> str:
    """A value as the user wrote it (TOML style: strings in double quotes, true/false)."""
    if isinstance(value, bool | int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__  # dates and times


def _type_name(value: object) -> str:
    """What a value is, without showing it (for secrets)."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return names.get(type(value), show(value) if isinstance(value, list | dict) else "a date or time")


# -- kinds of values -----------------------------------------------------------------------------------------


class Kind:
    """A type of option value: how it is read from command-line text and from a TOML value, and how its
    default is shown. Methods raise :class:`OptionError` with the reason."""

    #: What a valid value is: "must be {what}".
    what = "a string"
    #: A value that lists its items (``--flag`` repeated on the command line, an array or table in TOML).
    repeated = False
    #: argparse ``choices`` (shown in the help).
    choices: tuple[str, ...] | None = None
    #: Secret values (passwords) are never shown, in error messages or anywhere else.
    secret = False

    def fail(self, value: object) -> OptionError:
        if self.secret:
            return OptionError(f"must be {self.what}, not {_type_name(value)}")
        return OptionError(f"must be {self.what}, not {show(value)}")

    def from_text(self, text: str) -> Any:
        """A command-line argument (one item, for a repeated kind)."""
        return self.from_toml(text)

    def from_items(self, items: list[Any]) -> Any:
        """A repeated kind: the items :meth:`from_text` read, in order."""
        raise NotImplementedError

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, str):
            raise self.fail(value)
        return value

    def show_default(self, value: Any) -> str | None:
        """The default as a command-line argument, for the help; None: not shown."""
        if value is None or value == "":
            return None
        return str(value)


class Text(Kind):
    """A string; ``nonempty``: not "", ``word``: no spaces or control characters either."""

    def __init__(self, what: str = "a string", *, nonempty: bool = False, word: bool = False) -> None:
        self.what = what
        self.nonempty = nonempty or word
        self.word = word

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, str):
            raise self.fail(value)
        if self.nonempty and not value:
            raise self.fail(value)
        if self.word and any(ch.isspace() or not ch.isprintable() for ch in value):
            raise self.fail(value)
        return value


class Secret(Text):
    secret = True


class OptionalText(Kind):
    """A string, or None for "" (the way to write "none" in TOML)."""

    what = "a string"

    def from_toml(self, value: object) -> Any:
        return super().from_toml(value) or None


class ReadableFile(Kind):
    """A file that must exist and be readable; "" (or no value) for none."""

    what = "a file name"

    def from_toml(self, value: object) -> Any:
        path = super().from_toml(value)
        if not path:
            return None
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise OptionError(f"cannot read {show(path)}: {exc.strerror or exc}") from None
        return path


class Room(Kind):
    what = 'a room name such as "#lobby"'

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, str) or not is_valid_room(value):
            raise self.fail(value)
        return value


_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


class Hostname(Kind):
    """A host name: dot-separated labels of letters, digits and ``-``; one label (``irc``) is enough."""

    what = 'a host name such as "irc" or "users.example.net"'

    def from_toml(self, value: object) -> Any:
        if (
            not isinstance(value, str)
            or len(value) > 253
            or not all(_LABEL_RE.match(label) for label in value.split("."))
        ):
            raise self.fail(value)
        return value


class Choice(Kind):
    def __init__(self, *choices: str) -> None:
        self.choices = self.allowed = choices
        self.what = "one of " + ", ".join(show(choice) for choice in choices)

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, str) or value not in self.allowed:
            raise self.fail(value)
        return value


class Flag(Kind):
    """A boolean: ``--name`` / ``--no-name`` on the command line, true or false in TOML."""

    what = "true or false"
    _words = {
        "true": True,
        "on": True,
        "yes": True,
        "1": True,
        "false": False,
        "off": False,
        "no": False,
        "0": False,
    }

    def from_text(self, text: str) -> Any:
        try:
            return self._words[text.strip().lower()]
        except KeyError:
            raise self.fail(text) from None

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, bool):
            raise self.fail(value)
        return value

    def show_default(self, value: Any) -> str | None:
        return "on" if value else "off"


class Integer(Kind):
    """A whole number from ``low`` to ``high``."""

    def __init__(self, what: str, low: int, high: int | None = None) -> None:
        self.what = what
        self.low = low
        self.high = high

    def from_text(self, text: str) -> Any:
        try:
            value = int(text.strip())
        except ValueError:
            raise self.fail(text) from None
        return self.from_toml(value)

    def from_toml(self, value: object) -> Any:
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < self.low
            or (self.high is not None and value > self.high)
        ):
            raise self.fail(value)
        return value


class Number(Kind):
    """A positive number (seconds, rates), or with ``zero`` 0 too; read as a float."""

    def __init__(self, what: str = "a positive number of seconds", *, zero: bool = False) -> None:
        self.what = what
        self.zero = zero

    def from_text(self, text: str) -> Any:
        try:
            value = float(text.strip())
        except ValueError:
            raise self.fail(text) from None
        return self.from_toml(value)

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(value)
        if not (math.isfinite(value) and (value > 0 or (self.zero and value == 0))):
            raise self.fail(value)
        return float(value)

    def show_default(self, value: Any) -> str | None:
        return f"{value:g}"


class Port(Integer):
    def __init__(self) -> None:
        super().__init__("a port number (0-65535)", 0, 65535)


class OptionalPort(Kind):
    """A listener that may be off: a port number, "auto" (any free port) or "off". With ``zero_is_off``
    (--irc-port), 0 also means off; otherwise 0 means any free port, like "auto"."""

    def __init__(self, *, zero_is_off: bool = False) -> None:
        self.zero_is_off = zero_is_off
        self.what = 'a port number (0-65535), "auto" or "off"'

    def from_text(self, text: str) -> Any:
        word = text.strip()
        if word.isdigit():
            return self.from_toml(int(word))
        return self.from_toml(word)

    def from_toml(self, value: object) -> Any:
        if value == "auto":
            return 0
        if value == "off":
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
            raise self.fail(value)
        if value == 0 and self.zero_is_off:
            return None
        return value

    def show_default(self, value: Any) -> str | None:
        return "off" if value is None else str(value)


class Passwords(Kind):
    """Names with a password each: ``--flag NAME:PASSWORD`` (repeated), or a table of ``name = "password"``
    that is a section of its own. A password may be given as a scrypt hash (``hubbub hash-password``).
    ``who``: what a name is, in the messages ("an operator")."""

    what = "a table of NAME = PASSWORD"
    repeated = True
    secret = True

    def __init__(self, who: str) -> None:
        self.who = who

    def from_text(self, text: str) -> Any:
        name, sep, password = text.partition(":")
        if not sep or not name or not password:
            raise OptionError("expected NAME:PASSWORD")
        return self._entry(name, password)

    def from_items(self, items: list[Any]) -> Any:
        return tuple(items)

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, dict):
            raise OptionError(f"must be {self.what}, not {_type_name(value)}")
        return tuple(self._entry(name, password) for name, password in value.items())

    def _entry(self, name: str, password: object) -> tuple[str, str]:
        if not name or any(ch.isspace() or not ch.isprintable() for ch in name):
            raise OptionError(f"{self.who} name cannot be empty or hold spaces", show(name))
        if not isinstance(password, str):
            raise OptionError(f"must be a password or a scrypt hash, not {_type_name(password)}", name)
        if not password:
            raise OptionError("the password cannot be empty", name)
        return name, password

    def show_default(self, value: Any) -> str | None:
        return None


class Opers(Passwords):
    """IRC operators: ``--oper NAME:PASSWORD`` (repeated), or the ``[opers]`` table of
    ``name = "password"``."""

    def __init__(self) -> None:
        super().__init__("an operator")


class Networks(Kind):
    """Networks in CIDR notation: ``--limit-exempt CIDR`` (repeated; "none" alone for none), or an array."""

    what = 'an array of networks such as "10.0.0.0/8"'
    repeated = True

    def from_text(self, text: str) -> Any:
        return text.strip() if text.strip() == "none" else self._network(text.strip())

    def from_items(self, items: list[Any]) -> Any:
        if items == ["none"]:
            return ()
        if "none" in items:
            raise OptionError('"none" cannot be given with networks')
        return tuple(items)

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, list):
            raise self.fail(value)
        return tuple(self._network(item) for item in value)

    def _network(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.fail(value)
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise OptionError(f"{show(value)} is not a network: {exc}") from None
        return value

    def show_default(self, value: Any) -> str | None:
        return " ".join(value) if value else "none"


class Origins(Kind):
    """Web origins (``https://chat.example.com``, scheme, host and an optional port) or ``*`` for any:
    ``--ws-origin ORIGIN`` (repeated), or an array."""

    what = 'an array of origins such as "https://chat.example.com", or "*"'
    repeated = True

    def from_text(self, text: str) -> Any:
        return self._origin(text.strip())

    def from_items(self, items: list[Any]) -> Any:
        return tuple(items)

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, list):
            raise self.fail(value)
        return tuple(self._origin(item) for item in value)

    def _origin(self, value: object) -> str:
        if value == "*":
            return value
        if not isinstance(value, str):
            raise self.fail(value)
        scheme, sep, rest = value.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or any(ch in rest for ch in "/?#@ "):
            raise OptionError(f"{show(value)} is not an origin (scheme://host[:port], without a path)")
        return value.lower()

    def show_default(self, value: Any) -> str | None:
        return " ".join(value) if value else None


class RedisUrl(Kind):
    """A Redis/Valkey server: redis://HOST:PORT/DB, rediss:// (TLS) or unix:///path; "" for none."""

    what = "a redis://, rediss:// or unix:// URL"

    def from_toml(self, value: object) -> Any:
        if not isinstance(value, str):
            raise self.fail(value)
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise self.fail(value)
        return value


#: The kinds most options share.
POSITIVE = Integer("a positive integer", 1)
COUNT = Integer("0 or a positive integer", 0)
SECONDS = Number()
PORT = Port()
NAME = Text("a name without spaces", word=True)
TEXT = Text("a non-empty string", nonempty=True)
FILE = ReadableFile()
FLAG = Flag()
