"""Room commands for plain-text users: ``/topic [text]``, ``/invite NICK [#room]``, and for room operators
``/op``, ``/deop``, ``/voice`` and ``/devoice NICK``. They are IRC's TOPIC, INVITE and MODE +o/-o/+v/-v with
the same rules, because both go through the hub."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import ChatError, Reason
from ...core.model import Room, User
from ...core.modes import ModeRequest
from ...core.names import ROOM_PREFIX
from ...wire.text import strip_formatting
from .table import ROOMS, command

if TYPE_CHECKING:
    from .session import PlainSession

__all__ = ["cmd_deop", "cmd_devoice", "cmd_invite", "cmd_op", "cmd_topic", "cmd_voice"]


def _room(session: PlainSession) -> Room:
    room = session.current_room()
    if room is None:
        raise ChatError(Reason.NOT_IN_ROOM, "", "You are not in a room: /join #room first")
    return room


@command("topic", usage="/topic [text]", section=ROOMS)
def cmd_topic(session: PlainSession, user: User, arg: str) -> None:
    """show the topic of this room, or set it (its operators only when the room says so)"""
    room = _room(session)
    if not arg:
        if room.topic:
            by = room.topic_by.partition("!")[0]
            session.notice(f"Topic of {room.name}: {strip_formatting(room.topic)} (set by {by})")
        else:
            session.notice(f"{room.name} has no topic; /topic text sets one")
        return
    if session.hub.set_topic(user, room, arg) is None:
        session.notice(f"The topic of {room.name} is already that")
        return
    session.notice(f"You set the topic of {room.name}: {strip_formatting(room.topic)}")


@command("invite", usage="/invite NICK [#room]", section=ROOMS)
def cmd_invite(session: PlainSession, user: User, arg: str) -> None:
    """invite someone to this room (or to #room): they may join it even if it is closed"""
    words = arg.split()
    if not words or len(words) > 2:
        session.error("Usage: /invite NICK [#room]")
        return
    if len(words) == 2:
        name = words[1] if words[1].startswith(ROOM_PREFIX) else ROOM_PREFIX + words[1]
    else:
        name = _room(session).name
    event = session.hub.invite(user, words[0], name)
    session.notice(f"You invited {event.target.nick} to {event.room_name}")


#: verb -> (mode change, what the confirmation says, what "already" says)
_STATUS = {
    "op": ("+o", "You made {nick} an operator of {room}", "{nick} is already an operator of {room}"),
    "deop": ("-o", "{nick} is no longer an operator of {room}", "{nick} is not an operator of {room}"),
    "voice": ("+v", "You gave {nick} voice in {room}", "{nick} already has voice in {room}"),
    "devoice": ("-v", "You took voice from {nick} in {room}", "{nick} has no voice in {room}"),
}


def _status(session: PlainSession, user: User, arg: str, verb: str) -> None:
    room = _room(session)
    nick = arg.split(maxsplit=1)[0] if arg else ""
    if not nick:
        session.error(f"Usage: /{verb} NICK")
        return
    change, done, already = _STATUS[verb]
    event, errors = session.hub.change_room_modes(user, room, ModeRequest([(change, nick)], [], [], []))
    if errors:
        raise errors[0]
    if event is None:
        target = session.hub.find_user(nick)
        session.error(already.format(nick=target.nick if target else nick, room=room.name))
        return
    session.notice(done.format(nick=event.changes[0][1], room=room.name))


@command("op", usage="/op NICK", section=ROOMS)
def cmd_op(session: PlainSession, user: User, arg: str) -> None:
    """make someone an operator of this room (room operators)"""
    _status(session, user, arg, "op")


@command("deop", usage="/deop NICK", section=ROOMS)
def cmd_deop(session: PlainSession, user: User, arg: str) -> None:
    """take a room operator's status away (room operators)"""
    _status(session, user, arg, "deop")


@command("voice", usage="/voice NICK", section=ROOMS)
def cmd_voice(session: PlainSession, user: User, arg: str) -> None:
    """let someone talk in this room when it is moderated (room operators)"""
    _status(session, user, arg, "voice")


@command("devoice", usage="/devoice NICK", section=ROOMS)
def cmd_devoice(session: PlainSession, user: User, arg: str) -> None:
    """take voice away (room operators)"""
    _status(session, user, arg, "devoice")
