"""Optional comforts for a person at a terminal, set with ``/set`` and kept per account when logged in:

- ``timestamps``: each chat line starts with ``[HH:MM]``, in a time zone of the person's choosing;
- ``bell``: a BEL rings the terminal on a private message or a line that names the person;
- ``colors``: ANSI colours: each nickname its own, server notices and errors set apart.

All off by default: a plain session with none of them renders exactly as before. A session with any of them on
renders for itself (its own fan-out variant), since what it gets depends on who reads it.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...core.events import Event, Message
from ...core.model import User
from .table import PEOPLE, command

if TYPE_CHECKING:
    from .session import PlainSession

__all__ = ["Comforts", "cmd_set", "load"]

#: The account settings they are kept in.
SETTINGS = ("timestamps", "bell", "colors")
#: ANSI colours for nicknames (no black, white or the error red), and the styles of notices and errors.
_NICK_COLORS = (32, 33, 34, 35, 36, 92, 93, 94, 95, 96)
_NOTICE = b"\x1b[2m"  # dim
_ERROR = b"\x1b[31m"  # red
_RESET = b"\x1b[0m"
#: The nickname a chat line starts with: <nick>, -nick- or "* nick" (an action).
_SPEAKER = re.compile(rb"^(?:<([^>\s]+)>|-([^\s]+)-|\* ([^\s]+))")


class Comforts:
    __slots__ = ("bell", "colors", "zone")

    def __init__(self) -> None:
        #: The time zone of the timestamps; None: no timestamps.
        self.zone: ZoneInfo | None = None
        self.bell = False
        self.colors = False

    def __bool__(self) -> bool:
        return self.zone is not None or self.bell or self.colors

    def decorate(self, event: Event, data: bytes, me: User | None) -> bytes:
        """A chat line (``data``, CRLF-terminated) of ``event`` as this person wants it."""
        if self.colors:
            data = _SPEAKER.sub(_colored, data, count=1)
        if self.zone is not None:
            data = datetime.fromtimestamp(event.time, self.zone).strftime("[%H:%M] ").encode() + data
        if self.bell and me is not None and isinstance(event, Message) and _for_me(event, me):
            data = data[:-2] + b"\x07\r\n"
        return data

    def notice(self, data: bytes) -> bytes:
        return _NOTICE + data[:-2] + _RESET + b"\r\n" if self.colors else data

    def error(self, data: bytes) -> bytes:
        return _ERROR + data[:-2] + _RESET + b"\r\n" if self.colors else data


def _colored(found: re.Match[bytes]) -> bytes:
    nick = found.group(1) or found.group(2) or found.group(3)
    color = _NICK_COLORS[zlib.crc32(nick.lower()) % len(_NICK_COLORS)]
    return b"\x1b[%dm" % color + found.group(0) + _RESET


def _for_me(event: Message, me: User) -> bool:
    """A private message to ``me``, or a room line naming it (as a word, any case)."""
    if isinstance(event.target, User):
        return event.target is me
    return re.search(rf"(?<![\w-]){re.escape(me.nick)}(?![\w-])", event.text, re.IGNORECASE) is not None


def _apply(session: PlainSession, name: str, value: str) -> str | None:
    """Set ``name`` to ``value`` on the session; an error message, or None."""
    comforts = session.comforts
    if name == "timestamps":
        if value == "off":
            comforts.zone = None
            return None
        zone_name = "UTC" if value == "on" else value.removeprefix("on ").strip() or "UTC"
        try:
            comforts.zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            return f"Unknown time zone {zone_name!r} (for example Europe/Paris, America/New_York, UTC)"
        return None
    if value not in ("on", "off"):
        return f"Usage: /set {name} on|off"
    setattr(comforts, name, value == "on")
    return None


def _shown(session: PlainSession) -> str:
    comforts = session.comforts
    stamps = f"on ({comforts.zone.key})" if comforts.zone is not None else "off"
    bell = "on" if comforts.bell else "off"
    colors = "on" if comforts.colors else "off"
    return f"timestamps {stamps}, bell {bell}, colors {colors}"


def load(session: PlainSession, account: str) -> None:
    """Logged in: the account's comforts, where it keeps any."""
    settings = session.hub.accounts
    for name in SETTINGS:
        value = settings.setting(account, name, "")
        if value:
            _apply(session, name, value)
    session.comforts_changed()


@command(
    "set",
    usage=("/set", "/set timestamps ZONE|off", "/set bell on|off", "/set colors on|off"),
    section=PEOPLE,
)
def cmd_set(session: PlainSession, user: User, arg: str) -> None:
    """show your settings (kept for your account when logged in)

    timestamps on chat lines, in a time zone (on: UTC; Europe/Paris...)

    ring the terminal on a private message or your name

    colour nicknames, notices and errors"""
    name, _, value = arg.strip().partition(" ")
    name, value = name.lower(), value.strip()
    if not name:
        session.notice(f"Your settings: {_shown(session)}")
        return
    if name not in SETTINGS or not value:
        session.error("Usage: /set timestamps on [ZONE]|off, /set bell on|off or /set colors on|off")
        return
    value = value if name == "timestamps" and value.lower() not in ("on", "off") else value.lower()
    problem = _apply(session, name, value)
    if problem is not None:
        session.error(problem)
        return
    session.comforts_changed()
    if user.account:
        session.hub.accounts.set_setting(user.account, name, value)
    kept = f" (kept for {user.account})" if user.account else ""
    session.notice(f"Your settings: {_shown(session)}{kept}")
