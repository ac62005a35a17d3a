"""Commands about people and the server for plain-text users: ``/whois NICK``, ``/away [message]``,
``/ignore [NICK]`` and ``/unignore NICK`` (this connection only: live lines, private messages and the
history shown), and ``/motd``.

/whois shows what IRC's WHOIS shows a person, in words, and no address: hosts are cloaked or hidden, and a
plain-text user has no use for them. Its rooms follow the core's visibility rule, as IRC's WHOIS does: a
secret room, and every room of an invisible user, only to those who share it (operators see all).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...core.names import casefold
from ...wire.text import strip_formatting
from .table import PEOPLE, command

if TYPE_CHECKING:
    from ...core.model import User
    from .session import PlainSession

__all__ = ["cmd_away", "cmd_ignore", "cmd_motd", "cmd_unignore", "cmd_whois", "duration"]

#: How many nicknames one connection may ignore.
IGNORE_MAX = 100


def duration(seconds: float) -> str:
    """``seconds`` in words a person reads at a glance: ``45s``, ``12m``, ``3h 5m``, ``2d 4h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _rooms_seen(viewer: User, target: User) -> list[str]:
    """The rooms of ``target`` that ``viewer`` may see (the rule of IRC's WHOIS), ``@``/``+`` marked."""
    names: list[str] = []
    hidden = "i" in target.modes
    for room in target.rooms.values():
        if not viewer.oper and (hidden or "s" in room.flags) and viewer not in room.members:
            continue
        status = room.members.get(target, "")
        mark = "@" if "o" in status else "+" if "v" in status else ""
        names.append(mark + room.name)
    return sorted(names, key=lambda name: name.lstrip("@+").lower())


@command("whois", usage="/whois NICK", section=PEOPLE)
def cmd_whois(session: PlainSession, user: User, arg: str) -> None:
    """who someone is: account, rooms, how long idle, away"""
    nick = arg.split(maxsplit=1)[0] if arg else ""
    if not nick:
        session.error("Usage: /whois NICK")
        return
    target = session.hub.find_user(nick)
    if target is None:
        session.error(f"No such nickname: {nick}")
        return
    now = time.time()
    rows = [f"* {target.nick}" + (" (you)" if target is user else "")]
    if target.account:
        rows.append(f"*   logged in as {target.account}")
    else:
        rows.append("*   not logged in")
    if target.oper:
        rows.append("*   is a server operator")
    rooms = _rooms_seen(user, target)
    rows.append(f"*   in {', '.join(rooms)}" if rooms else "*   in no room you can see")
    rows.append(
        f"*   idle {duration(now - target.last_active)}, connected {duration(now - target.signon)} ago"
    )
    if target.away:
        rows.append(f"*   away: {strip_formatting(target.away)}")
    session.send_lines(rows)


@command("away", usage="/away [message]", section=PEOPLE)
def cmd_away(session: PlainSession, user: User, arg: str) -> None:
    """say you are away (shown to those who message you); alone: you are back"""
    if not arg:
        if not user.away:
            session.notice("You are not away; /away message says you are")
            return
        session.hub.set_away(user, "")
        session.notice("You are back")
        return
    session.hub.set_away(user, arg)
    session.notice(f"You are away: {user.away}")


@command("ignore", usage="/ignore [NICK]", section=PEOPLE)
def cmd_ignore(session: PlainSession, user: User, arg: str) -> None:
    """hide NICK's lines and private messages from you (until you leave);
    alone: list whom you ignore"""
    ignored = session.ignored
    nick = arg.split(maxsplit=1)[0] if arg else ""
    if not nick:
        if not ignored:
            session.notice("You ignore nobody")
        else:
            session.notice(f"You ignore {', '.join(sorted(ignored))}")
        return
    key = casefold(nick)
    if key == user.key:
        session.error("You cannot ignore yourself")
        return
    if key in ignored:
        session.error(f"You already ignore {nick}")
        return
    if len(ignored) >= IGNORE_MAX:
        session.error(f"You ignore {IGNORE_MAX} nicknames already; /unignore some first")
        return
    session.set_ignored(ignored | {key})
    session.notice(f"You ignore {nick}: you will not see their lines or messages (/unignore {nick} to stop)")


@command("unignore", usage="/unignore NICK", section=PEOPLE)
def cmd_unignore(session: PlainSession, user: User, arg: str) -> None:
    """see NICK's lines again"""
    nick = arg.split(maxsplit=1)[0] if arg else ""
    if not nick:
        session.error("Usage: /unignore NICK")
        return
    key = casefold(nick)
    if key not in session.ignored:
        session.error(f"You do not ignore {nick}")
        return
    session.set_ignored(session.ignored - {key})
    session.notice(f"You see {nick} again")


@command("motd", usage="/motd", section=PEOPLE)
def cmd_motd(session: PlainSession, user: User, arg: str) -> None:
    """the server's message of the day"""
    session.send_motd()
