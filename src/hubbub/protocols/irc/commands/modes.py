"""MODE: channel modes (show, list masks, change) and user modes (show, change)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....core.errors import ChatError, Reason
from ....core.model import Room, User
from ....core.modes import (
    LIST_MODES,
    ROOM_FLAGS,
    USER_MODES,
    ModeRequest,
    parse_limit,
    parse_room_modes,
    valid_key,
)
from ....core.names import is_clean
from ....wire import numerics as n
from ....wire.irc import Message, line
from ..render import mode_params
from ..table import command
from .channels import visible_in

if TYPE_CHECKING:
    from ..session import IrcSession

#: n.ERR_BANLISTFULL: a ban, exception or invite-exception list has reached MAXLIST.

#: For each list mode: the entry numeric, the end numeric and the end text.
LIST_REPLIES: dict[str, tuple[str, str, str]] = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (n.RPL_INVITELIST, n.RPL_ENDOFINVITELIST, "End of channel invite list"),
}


def safe_param(param: str) -> str:
    """``param`` as a middle parameter of an error numeric, or ``*`` when it cannot be one (as ergo does)."""
    if not param or " " in param or param[0] == ":":
        return "*"
    return param


@command("MODE", min_params=1)
def mode(session: IrcSession, user: User, msg: Message) -> None:
    """MODE <channel> [<modes> [<params>...]] | MODE <nick> [<modes>]: show or change modes."""
    if msg.params[0].startswith("#"):
        _room_mode(session, user, msg)
    else:
        _user_mode(session, user, msg)


# -- channels ----------------------------------------------------------------------------------------------


def _room_mode(session: IrcSession, user: User, msg: Message) -> None:
    name = msg.params[0]
    room = session.hub.find_room(name)
    if room is None:
        session.numeric(n.ERR_NOSUCHCHANNEL, name, "No such channel")
        return
    if len(msg.params) < 2 or not msg.params[1]:
        send_channel_modes(session, room, user)
        return
    request = parse_room_modes(msg.params[1], msg.params[2:])
    for char in dict.fromkeys(request.unknown):
        session.numeric(n.ERR_UNKNOWNMODE, char, "is unknown mode char to me")
    if request.missing:
        session.numeric(n.ERR_NEEDMOREPARAMS, "MODE", "Not enough parameters")
    for list_mode in request.queries:
        if not visible_in(room, user):
            session.numeric(n.ERR_NOTONCHANNEL, room.name, "You're not on that channel")
            break
        send_mask_list(session, room, list_mode)
    if room.is_op(user):
        _drop_invalid_params(session, room, request)
    if not request.changes:
        return
    event, errors = session.hub.change_room_modes(user, room, request)
    for error in errors:
        _mode_error(session, room, error)
    if event is not None:
        session.echo(event)
    elif not errors and any(change[1] in ROOM_FLAGS for change, _ in request.changes):
        # As ergo does: a change that changed nothing (+n on a +n channel) shows the channel's modes.
        send_channel_modes(session, room, user)


def _drop_invalid_params(session: IrcSession, room: Room, request: ModeRequest) -> None:
    """Answer 696 for each key, limit or mask that cannot be used, and leave it out of the request."""
    kept: list[tuple[str, str | None]] = []
    for change, arg in request.changes:
        if change == "+k" and arg is not None and not valid_key(arg):
            description = "Invalid key: 1-23 characters, no spaces, commas or control characters"
        elif change == "+l" and arg is not None and parse_limit(arg) <= 0:
            description = "Invalid limit: a positive number is needed"
        elif change[1] in LIST_MODES and arg is not None and (safe_param(arg) != arg or not is_clean(arg)):
            description = (
                "Invalid mask: no spaces, control or invisible characters, not starting with a colon"
            )
        else:
            kept.append((change, arg))
            continue
        # A rejected key is never echoed (it is a secret, and may be too long for a reply): "*", as ergo.
        shown = "*" if change[1] == "k" or arg is None or not is_clean(arg) else safe_param(arg)
        session.numeric(n.ERR_INVALIDMODEPARAM, room.name, change[1], shown, description)
    request.changes = kept


def _mode_error(session: IrcSession, room: Room, error: ChatError) -> None:
    reason = error.reason
    if reason is Reason.CHANOP_NEEDED or reason is Reason.NOT_IN_ROOM:
        # Non-members get 482 too, as in ergo: only a channel operator can change modes.
        session.numeric(n.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator")
    elif reason is Reason.LIST_FULL:
        session.numeric(n.ERR_BANLISTFULL, room.name, error.subject, "Channel list is full")
    elif reason is Reason.INVALID_PARAM:
        session.numeric(n.ERR_INVALIDMODEPARAM, room.name, error.subject, "*", error.message)
    else:
        session.chat_error(error)


def send_channel_modes(session: IrcSession, room: Room, viewer: User | None) -> None:
    """RPL_CHANNELMODEIS and RPL_CREATIONTIME; the key and limit values are shown to members only."""
    letters = "+" + "".join(sorted(room.flags))
    params: list[str] = []
    member = viewer is not None and viewer in room.members
    if room.password:
        letters += "k"
        if member:
            params.append(room.password)
    if room.limit:
        letters += "l"
        if member:
            params.append(str(room.limit))
    session.numeric(n.RPL_CHANNELMODEIS, room.name, letters, *params)
    session.numeric(n.RPL_CREATIONTIME, room.name, str(int(room.created)))


def send_mask_list(session: IrcSession, room: Room, list_mode: str) -> None:
    """A ban (b), exception (e) or invite-exception (I) list: entries with setter and time, then the end."""
    entry_code, end_code, end_text = LIST_REPLIES[list_mode]
    session.numerics(
        ((room.name, entry.mask, entry.set_by, str(int(entry.set_at))) for entry in room.lists[list_mode]),
        entry_code,
    )
    session.numeric(end_code, room.name, end_text)


# -- users -------------------------------------------------------------------------------------------------


def _user_mode(session: IrcSession, user: User, msg: Message) -> None:
    nick = msg.params[0]
    target = session.hub.find_user(nick)
    if target is None:
        session.numeric(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
        return
    changing = len(msg.params) > 1 and bool(msg.params[1])
    if target is not user:
        if changing:
            session.numeric(n.ERR_USERSDONTMATCH, "Cant change mode for other users")
        else:
            session.numeric(n.ERR_USERSDONTMATCH, "Can't view modes for other users")
        return
    if not changing:
        send_user_modes(session, user)
        return
    changes: list[tuple[str, str | None]] = []
    unknown = False
    sign = "+"
    for char in msg.params[1]:
        if char in "+-":
            sign = char
        elif char in USER_MODES:
            changes.append((sign + char, None))
        else:
            unknown = True
    if unknown:
        session.numeric(n.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
        if not changes:
            return
    applied = session.hub.set_user_modes(user, changes)
    if applied:
        session.send(line(f":{user.nick} MODE {user.nick} :{mode_params(applied)[0]}"))
    else:
        send_user_modes(session, user)


def send_user_modes(session: IrcSession, user: User) -> None:
    session.numeric(n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
