"""Channel operations: KICK, INVITE and LIST."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ....core.errors import ChatError
from ....core.hub import Hub
from ....core.model import Room, User
from ....core.rooms import first_rooms
from ....wire import numerics as n
from ....wire.irc import Message
from ....wire.masks import compile_mask
from ..table import command
from .channels import visible_in

if TYPE_CHECKING:
    from ..session import IrcSession


@command("KICK", min_params=2)
def kick(session: IrcSession, user: User, msg: Message) -> None:
    """KICK <channel> <nick>[,<nick>...] [:<reason>]: remove people from a channel (operators only)."""
    hub = session.hub
    rooms = msg.params[0].split(",")
    nicks = msg.params[1].split(",")
    # As ergo does: one channel and several nicks, several channels and one nick, or as many of each.
    if len(rooms) != len(nicks) and len(rooms) != 1 and len(nicks) != 1:
        session.numeric(n.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
        return
    if len(nicks) == 1:
        pairs = [(name, nicks[0]) for name in rooms]
    else:
        pairs = [(rooms[0] if len(rooms) == 1 else rooms[i], nick) for i, nick in enumerate(nicks)]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    for name, nick in pairs:
        if not name or not nick:
            continue
        room = hub.find_room(name)
        if room is None:
            session.numeric(n.ERR_NOSUCHCHANNEL, name, "No such channel")
            continue
        if hub.find_user(nick) is None:
            session.numeric(n.ERR_NOSUCHNICK, nick, "No such nick/channel")
            continue
        try:
            event = hub.kick(user, room, nick, reason)
        except ChatError as exc:
            session.chat_error(exc)
            continue
        session.echo(event)


@command("INVITE")
def invite(session: IrcSession, user: User, msg: Message) -> None:
    """INVITE <nick> <channel>: invite someone to a channel; INVITE alone lists your pending invitations."""
    hub = session.hub
    if not msg.params or not msg.params[0]:
        rooms = [room for key in sorted(user.invites) if (room := hub.rooms.get(key)) is not None]
        session.numerics(((room.name,) for room in rooms), n.RPL_INVITELIST_USER)
        session.numeric(n.RPL_ENDOFINVITELIST_USER, "End of /INVITE list")
        return
    if len(msg.params) < 2 or not msg.params[1]:
        session.numeric(n.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
        return
    event = hub.invite(user, msg.params[0], msg.params[1])
    target = event.target
    session.numeric(n.RPL_INVITING, target.nick, event.room_name)
    if target.away:
        session.numeric(n.RPL_AWAY, target.nick, target.away)


#: Patterns (masks and negated masks) one LIST may use: each costs a match per room, so a LIST of 70 masks
#: over thousands of rooms held the loop for 100 ms. The rest are ignored, with a notice.
LIST_PATTERNS_MAX = 5


@dataclass(slots=True)
class ListFilter:
    """What LIST asked for: channel names or masks (any of them), negated masks (none of them), and member
    counts (ELIST U: ``>N`` more than N members, ``<N`` fewer than N)."""

    names: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    more_than: int = -1
    fewer_than: int | None = None
    #: Patterns left out, beyond LIST_PATTERNS_MAX.
    ignored: int = 0

    @classmethod
    def parse(cls, params: list[str]) -> ListFilter:
        found = cls()
        for token in (token for param in params for token in param.split(",") if token):
            first, rest = token[0], token[1:]
            if first in "CTct" and rest[:1] in ("<", ">"):
                continue  # creation and topic time conditions (ELIST C, T) are not supported: ignored
            if first in "<>":
                if not (rest.isascii() and rest.isdigit()):
                    continue
                if first == ">":
                    found.more_than = max(found.more_than, int(rest))
                elif found.fewer_than is None or int(rest) < found.fewer_than:
                    found.fewer_than = int(rest)
            elif first == "!" or "*" in token or "?" in token:
                if first == "!" and not rest:
                    continue
                if len(found.masks) + len(found.excluded) >= LIST_PATTERNS_MAX:
                    found.ignored += 1
                elif first == "!":
                    found.excluded.append(rest)
                else:
                    found.masks.append(token)
            else:
                found.names.append(token)
        return found

    def counts_match(self, room: Room) -> bool:
        count = len(room.members)
        return count > self.more_than and (self.fewer_than is None or count < self.fewer_than)

    def is_excluded(self, room: Room) -> bool:
        return any(compile_mask(mask)(room.name) for mask in self.excluded)

    def select(self, hub: Hub) -> list[Room]:
        """The rooms named or matching a mask (every room when neither was given), before the other tests,
        in no order."""
        if not self.names and not self.masks:
            return list(hub.rooms.values())
        rooms: dict[str, Room] = {}
        for name in self.names:
            room = hub.find_room(name)
            if room is not None:
                rooms.setdefault(room.key, room)
        if self.masks:
            matchers = [compile_mask(mask) for mask in self.masks]
            for room in hub.rooms.values():
                if room.key not in rooms and any(match(room.name) for match in matchers):
                    rooms[room.key] = room
        return list(rooms.values())


@command("LIST")
def list_(session: IrcSession, user: User, msg: Message) -> None:
    """LIST [<channel>|<mask>|!<mask>[,...]] [>N|<N]: list channels with their member counts and topics.

    At most LIST_PATTERNS_MAX patterns are used, and at most ``list_rooms`` channels shown (the first by name;
    a notice counts the rest)."""
    wanted = ListFilter.parse(msg.params)
    excluded = [compile_mask(mask) for mask in wanted.excluded]
    if wanted.ignored:
        session.server_line(
            "NOTICE", user.nick, f"LIST uses at most {LIST_PATTERNS_MAX} patterns; {wanted.ignored} ignored"
        )
    hub = session.hub
    scanned = len(hub.rooms) if wanted.masks or not wanted.names else len(wanted.names)
    if not hub.listings.allow(scanned, hub.now()):  # many listings at once: the server's budget is spent
        session.numeric(
            n.RPL_TRYAGAIN, "LIST", "Server load is temporarily too heavy. Please wait a while and try again."
        )
        return
    # Only the tests asked for, each in one pass: a full LIST goes through every room of the server.
    rooms = [room for room in wanted.select(hub) if visible_in(room, user)]
    if wanted.more_than >= 0 or wanted.fewer_than is not None:
        rooms = [room for room in rooms if wanted.counts_match(room)]
    if excluded:
        rooms = [room for room in rooms if not any(match(room.name) for match in excluded)]
    shown, more = first_rooms(rooms, hub.limits.list_rooms)
    # The work is the rooms gone through: charged to the flood budget, so that a loop of LISTs is slowed.
    session.link.charge_scan(scanned)
    session.numerics(((room.name, str(len(room.members)), room.topic) for room in shown), n.RPL_LIST)
    if more:
        session.server_line("NOTICE", user.nick, f"{more} more: narrow the LIST with a pattern (LIST *word*)")
    session.numeric(n.RPL_LISTEND, "End of /LIST")
