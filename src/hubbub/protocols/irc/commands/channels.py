"""Channel membership: JOIN, PART, NAMES, TOPIC."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....core.errors import ChatError
from ....core.model import Room, User
from ....core.modes import PREFIX_MODES, PREFIX_SYMBOLS
from ....core.rooms import members_seen_by, visible_to
from ....wire import numerics as n
from ....wire.irc import Message, line
from ..caps import Cap
from ..table import command
from .history import replay_on_join

if TYPE_CHECKING:
    from ..session import IrcSession


def prefix_of(status: str, multi: bool) -> str:
    """The NAMES/WHO prefix for member status ``status`` ("ov" -> "@+" with multi-prefix, else "@")."""
    if not status:
        return ""
    symbols = [PREFIX_SYMBOLS[m] for m in PREFIX_MODES if m in status]
    return "".join(symbols) if multi else symbols[0]


#: Whether a user may see a room in lists: the core's one rule (secret rooms only to their members).
visible_in = visible_to


def send_names(session: IrcSession, user: User, room: Room) -> None:
    multi = bool(session.caps & Cap.MULTI_PREFIX)
    full = bool(session.caps & Cap.USERHOST_IN_NAMES)
    symbol = "@" if "s" in room.flags else "="
    members = room.members
    names = [
        prefix_of(members[member], multi) + (member.hostmask if full else member.nick)
        for member in members_seen_by(room, user)
    ]
    me = session.me
    server = session.options.server_name
    head = f":{server} {n.RPL_NAMREPLY} {me} {symbol} {room.name} :"
    room_for = 510 - len(head.encode())
    rows: list[str] = []
    current = ""
    for name in names:
        if current and len(current) + 1 + len(name.encode()) > room_for:
            rows.append(current)
            current = name
        else:
            current = f"{current} {name}" if current else name
    if current:
        rows.append(current)
    session.send(b"".join(line(head + row) for row in rows))
    session.numeric(n.RPL_ENDOFNAMES, room.name, "End of /NAMES list.")


def send_topic(session: IrcSession, room: Room, *, quiet_if_none: bool) -> None:
    if not room.topic:
        if not quiet_if_none:
            session.numeric(n.RPL_NOTOPIC, room.name, "No topic is set")
        return
    session.numeric(n.RPL_TOPIC, room.name, room.topic)
    session.numeric(n.RPL_TOPICWHOTIME, room.name, room.topic_by, str(int(room.topic_time)))


@command("JOIN", min_params=1)
def join(session: IrcSession, user: User, msg: Message) -> None:
    """JOIN <channel>[,<channel>...] [<key>[,<key>...]] | JOIN 0: join channels (0: leave them all)."""
    hub = session.hub
    if msg.params[0] == "0":
        for room in list(user.rooms.values()):
            session.echo(hub.part(user, room, ""))
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(msg.params[0].split(",")):
        if not name:
            continue
        if not name.startswith("#"):
            session.numeric(n.ERR_NOSUCHCHANNEL, name, "No such channel")
            continue
        try:
            event = hub.join(user, name, keys[i] if i < len(keys) else "")
        except ChatError as exc:
            session.chat_error(exc)
            continue
        session.echo(event)
        send_topic(session, event.room, quiet_if_none=True)
        send_names(session, user, event.room)
        replay_on_join(session, event.room)


@command("PART", min_params=1)
def part(session: IrcSession, user: User, msg: Message) -> None:
    """PART <channel>[,<channel>...] [:<reason>]: leave channels."""
    hub = session.hub
    reason = msg.params[1] if len(msg.params) > 1 else ""
    for name in msg.params[0].split(","):
        if not name:
            continue
        try:
            room = hub.require_room(name)
            session.echo(hub.part(user, room, reason))
        except ChatError as exc:
            session.chat_error(exc)


@command("NAMES")
def names(session: IrcSession, user: User, msg: Message) -> None:
    """NAMES [<channel>]: who is in a channel."""
    if not msg.params or not msg.params[0]:
        session.numeric(n.RPL_ENDOFNAMES, "*", "End of /NAMES list.")
        return
    name = msg.params[0].split(",")[0]
    room = session.hub.find_room(name)
    if room is None or not visible_in(room, user):
        session.numeric(n.RPL_ENDOFNAMES, name, "End of /NAMES list.")
        return
    send_names(session, user, room)


@command("TOPIC", min_params=1)
def topic(session: IrcSession, user: User, msg: Message) -> None:
    """TOPIC <channel> [:<topic>]: show or change a channel's topic."""
    hub = session.hub
    room = hub.require_room(msg.params[0])
    if len(msg.params) < 2:
        if "s" in room.flags and user not in room.members:
            session.numeric(n.ERR_NOTONCHANNEL, room.name, "You're not on that channel")
            return
        send_topic(session, room, quiet_if_none=False)
        return
    event = hub.set_topic(user, room, msg.params[1])
    if event is not None:
        session.echo(event)
