"""Operator commands for plain-text users.

Room operators (the current room): ``/kick NICK [reason]``, ``/ban [MASK]`` and ``/unban MASK`` (the room's
+b list: ``/ban`` alone shows it). Server operators: ``/oper NAME PASSWORD`` first, then
``/kill NICK [reason]``, ``/kline [DURATION] MASK [reason]`` (``/kline`` alone lists the K-lines),
``/unkline MASK`` and ``/wallops text``. These are the IRC commands (KICK, MODE +b, OPER, KILL, KLINE,
UNKLINE, WALLOPS) with the same rules, because both go through the hub.

A password check runs off the loop (see core.opers): like the account commands, a session runs one at a time
(``session.busy``) and drops an answer that arrives after its user left. The password is never echoed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ...core.errors import ChatError, Reason
from ...core.klines import added_notice, describe, parse_duration
from ...core.model import Room, User
from ...core.modes import ModeRequest
from ...core.opers import check_oper
from .render import kick_reason
from .table import OPERATORS, command

if TYPE_CHECKING:
    from .session import PlainSession

__all__ = [
    "cmd_ban",
    "cmd_kick",
    "cmd_kill",
    "cmd_kline",
    "cmd_oper",
    "cmd_unban",
    "cmd_unkline",
    "cmd_wallops",
]

log = logging.getLogger("hubbub.oper")


def _room(session: PlainSession) -> Room:
    room = session.current_room()
    if room is None:
        raise ChatError(Reason.NOT_IN_ROOM, "", "You are not in a room: /join #room first")
    return room


def tell_opers(session: PlainSession, me: User, text: str) -> None:
    """A notice to the operator acting and to every other operator."""
    hub = session.hub
    session.notice(text)
    for other in list(hub.users.values()):
        if other.oper and other is not me:
            hub.notify(other, text)


@command("kick", usage="/kick NICK [reason]", section=OPERATORS)
def cmd_kick(session: PlainSession, user: User, arg: str) -> None:
    """remove someone from this room (room operators)"""
    room = _room(session)
    nick, _, reason = arg.partition(" ")
    if not nick:
        session.error("Usage: /kick NICK [reason]")
        return
    event = session.hub.kick(user, room, nick, reason.strip())
    session.notice(f"You kicked {event.target.nick} from {room.name}{kick_reason(event)}")


def _ban(session: PlainSession, user: User, arg: str, sign: str) -> None:
    room = _room(session)
    mask = arg.split(maxsplit=1)[0] if arg else ""
    if not mask:
        if sign == "-":
            session.error("Usage: /unban MASK")
            return
        bans = room.lists["b"]
        if not bans:
            session.notice(f"Nobody is banned from {room.name}")
            return
        session.send_lines(
            [f"* {len(bans)} ban{'s' if len(bans) != 1 else ''} on {room.name}:"]
            + [f"*   {entry.mask} (set by {entry.set_by.partition('!')[0]})" for entry in bans]
        )
        return
    event, errors = session.hub.change_room_modes(user, room, ModeRequest([(sign + "b", mask)], [], [], []))
    if errors:
        raise errors[0]
    if event is None:
        already = "already banned" if sign == "+" else "not banned"
        session.error(f"{mask} is {already} on {room.name}")
        return
    shown = event.changes[0][1]
    session.notice(f"{'Banned' if sign == '+' else 'Unbanned'} {shown} on {room.name}")


@command("ban", usage="/ban [MASK]", section=OPERATORS)
def cmd_ban(session: PlainSession, user: User, arg: str) -> None:
    """ban nick!user@host (or a nickname) from this room; alone: list the bans"""
    _ban(session, user, arg, "+")


@command("unban", usage="/unban MASK", section=OPERATORS)
def cmd_unban(session: PlainSession, user: User, arg: str) -> None:
    """lift a ban on this room"""
    _ban(session, user, arg, "-")


@command("oper", usage="/oper NAME PASSWORD", section=OPERATORS)
def cmd_oper(session: PlainSession, user: User, arg: str) -> None:
    """become a server operator"""
    words = arg.split()
    if len(words) != 2:
        session.error("Usage: /oper NAME PASSWORD")
        return
    if user.oper:
        session.error(f"You are already operator {user.oper}")
        return
    if session.busy:
        session.error("Wait: your last password is still being checked")
        return
    session.busy = True
    name, password = words

    def done(ok: bool | None) -> None:
        session.busy = False
        if session.user is not user:
            return  # the session closed meanwhile
        if not ok:
            session.error("OPER failed: wrong name or password")
            return
        session.hub.make_oper(user, name)
        user.modes.add("w")  # a plain-text operator sees the wallops: it has no MODE command to ask
        session.notice(f"You are now a server operator ({name}). /help lists the operator commands")

    check_oper(session.hub, session.options.opers, user, name, password, done)


@command("kill", usage="/kill NICK [reason]", section=OPERATORS, oper=True)
def cmd_kill(session: PlainSession, user: User, arg: str) -> None:
    """disconnect someone (server operators)"""
    nick, _, reason = arg.partition(" ")
    if not nick:
        session.error("Usage: /kill NICK [reason]")
        return
    reason = reason.strip() or "No reason given"
    target = session.hub.kill(user, nick, reason)
    log.info("KILL: %s killed %s (%s)", user.real_hostmask, target.real_hostmask, reason[:200])
    if target is not user:
        session.notice(f"You disconnected {target.nick} ({reason})")


@command("kline", usage="/kline [TIME] MASK [reason]", section=OPERATORS, oper=True)
def cmd_kline(session: PlainSession, user: User, arg: str) -> None:
    """ban user@host from the server for TIME minutes (or 2h, 1d; none: for good);
    /kline alone lists the server bans (server operators)"""
    hub = session.hub
    words = arg.split()
    if not words or (len(words) == 1 and words[0].lower() == "list"):
        records = hub.klines.records()
        now = hub.klines.now()
        if not records:
            session.notice("There are no K-lines. Usage: /kline [TIME] MASK [reason]")
            return
        lines = [f"* {len(records)} K-line{'s' if len(records) != 1 else ''}:"]
        session.send_lines(lines + [f"*   {describe(record, now)}" for record in records])
        return
    duration = parse_duration(words[0])
    if duration is not None:
        words.pop(0)
    if not words:
        session.error("Usage: /kline [TIME] MASK [reason]")
        return
    mask, reason = words[0], " ".join(words[1:]) or "No reason given"
    record, killed = hub.klines.add(user, mask, reason, duration)
    tell_opers(session, user, added_notice(user, record, duration, killed))


@command("unkline", usage="/unkline MASK", section=OPERATORS, oper=True)
def cmd_unkline(session: PlainSession, user: User, arg: str) -> None:
    """lift a server ban (server operators)"""
    if not arg:
        session.error("Usage: /unkline MASK")
        return
    record = session.hub.klines.remove(user, arg.split(maxsplit=1)[0])
    log.info("UNKLINE: %s lifted the K-line on %s", user.real_hostmask, record.mask)
    tell_opers(session, user, f"{user.nick} removed the K-line on {record.mask}")


@command("wallops", usage="/wallops text", section=OPERATORS, oper=True)
def cmd_wallops(session: PlainSession, user: User, arg: str) -> None:
    """a message to every operator (server operators)"""
    if not arg:
        session.error("Usage: /wallops text")
        return
    session.hub.wallops(user, arg)
    if "w" not in user.modes:
        session.notice(f"Wallops sent: {arg}")
