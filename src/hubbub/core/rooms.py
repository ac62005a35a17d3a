"""The rules of a room: who may enter it, who may speak, and what a MODE request changes.

State owned here: a room's modes, lists and members' statuses as a MODE request changes them
(:func:`apply_modes`). Membership itself (``Room.members``, ``User.rooms``) is changed by the hub alone (join,
part, kick, quit) or, for other nodes' users, through its replica (core.replica).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable
from operator import attrgetter

from ..wire.masks import match_mask
from .errors import ChatError, Reason
from .model import ListEntry, Room, User
from .modes import LIST_MODES, PREFIX_MODES, ModeRequest, parse_limit, valid_key
from .names import casefold, is_clean

__all__ = [
    "Listings",
    "apply_modes",
    "check_entry",
    "entry_status",
    "first_rooms",
    "is_banned",
    "members_seen_by",
    "normalize_mask",
    "require_member",
    "require_op",
    "visible_to",
]


# -- who may see what: one rule for every protocol's listings (IRC LIST, NAMES, WHO; plain /rooms, /who) ----


def visible_to(room: Room, viewer: User | None) -> bool:
    """Whether ``viewer`` may see ``room`` in listings: a secret room (+s) only to its members."""
    return "s" not in room.flags or (viewer is not None and viewer in room.members)


def members_seen_by(room: Room, viewer: User | None, everyone: bool = False) -> list[User]:
    """The members of ``room`` that ``viewer`` may see listed: all of them for a member (or ``everyone``, an
    operator's view), else those who are not invisible (+i)."""
    if everyone or (viewer is not None and viewer in room.members):
        return list(room.members)
    return [member for member in room.members if "i" not in member.modes]


_BY_KEY = attrgetter("key")


class Listings:
    """The server's budget of rooms gone through by listings (LIST, /rooms: ``hub.listings``), whoever asks:
    a listing costs one pass over the rooms, and many connections listing at once (even within each one's
    flood budget) would stall the loop for everyone. A listing that does not fit waits (the protocols answer
    "try again"), unless the budget is full: then even one longer than it runs."""

    #: Rooms gone through per second, and at most at once.
    RATE = 50_000.0
    CAPACITY = 25_000.0

    __slots__ = ("full_at",)

    def __init__(self) -> None:
        #: When the budget is full again (in the past: it is full).
        self.full_at = 0.0

    def allow(self, rooms: int, now: float) -> bool:
        """Whether a listing going through ``rooms`` rooms may run now; if so, it is charged."""
        start = max(self.full_at, now)
        if self.full_at > now and start + rooms / self.RATE - self.CAPACITY / self.RATE > now:
            return False
        self.full_at = start + rooms / self.RATE
        return True


def first_rooms(rooms: Iterable[Room], limit: int) -> tuple[list[Room], int]:
    """At most ``limit`` of ``rooms``, the first by name, and how many more there are: what a room listing
    shows, so that its output (and the sort) stays bounded on a server with very many rooms."""
    found = list(rooms)
    if len(found) <= limit:
        return sorted(found, key=_BY_KEY), 0
    return heapq.nsmallest(limit, found, key=_BY_KEY), len(found) - limit


def require_member(user: User, room: Room) -> str:
    """``user``'s status in ``room``; ChatError if it is not a member."""
    status = room.members.get(user)
    if status is None:
        raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
    return status


def require_op(user: User, room: Room) -> None:
    if "o" not in require_member(user, room):
        raise ChatError(Reason.CHANOP_NEEDED, room.name, f"You are not an operator of {room.name}")


def is_banned(room: Room, user: User) -> bool:
    bans = room.lists["b"]
    if not bans:
        return False
    masks = user.hostmasks  # the cloaked and the real hostmask, as ergo matches them
    if not any(match_mask(entry.mask, mask) for entry in bans for mask in masks):
        return False
    return not any(match_mask(entry.mask, mask) for entry in room.lists["e"] for mask in masks)


def entry_status(user: User, room: Room) -> str:
    """The status ``user`` gets on entering ``room``, which exists: in a registered room, operator for its
    founder alone; in another, operator when no member is one (a room that lost its last operator gives it to
    the next to join, as IRC servers do for a room that empties and is made again: #lobby never empties)."""
    if room.founder:
        return "o" if user.account and casefold(user.account) == casefold(room.founder) else ""
    return "" if any("o" in status for status in room.members.values()) else "o"


def check_entry(user: User, room: Room, password: str) -> None:
    """ChatError if ``user`` may not enter ``room`` with ``password`` (bans, +i, +l, +k; an invitation
    overrides them all)."""
    if room.key in user.invites:
        return
    if is_banned(room, user):
        raise ChatError(Reason.BANNED, room.name, f"You are banned from {room.name}")
    if "i" in room.flags:
        masks = user.hostmasks
        if not any(match_mask(entry.mask, mask) for entry in room.lists["I"] for mask in masks):
            raise ChatError(Reason.INVITE_ONLY, room.name, f"{room.name} is invite only")
    if room.limit and len(room.members) >= room.limit:
        raise ChatError(Reason.ROOM_FULL, room.name, f"{room.name} is full")
    if room.password and password != room.password:
        raise ChatError(Reason.BAD_KEY, room.name, f"{room.name} needs the right key")


def normalize_mask(mask: str) -> str:
    """Complete a partial mask the usual way: ``nick`` -> ``nick!*@*``, ``user@host`` -> ``*!user@host``."""
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask


def apply_modes(
    user: User,
    room: Room,
    request: ModeRequest,
    find_user: Callable[[str], User | None],
    list_max: int,
) -> tuple[list[tuple[str, str | None]], list[ChatError]]:
    """Apply the changes of ``request`` to ``room`` (``user``, an operator, asked); return what changed and
    the errors."""
    errors: list[ChatError] = []
    applied: list[tuple[str, str | None]] = []
    for change, arg in request.changes:
        sign, mode = change[0], change[1]
        adding = sign == "+"
        if mode in PREFIX_MODES:
            assert arg is not None
            target = find_user(arg)
            if target is None:
                errors.append(ChatError(Reason.NO_SUCH_NICK, arg, f"No such nickname: {arg}"))
                continue
            status = room.members.get(target)
            if status is None:
                errors.append(
                    ChatError(
                        Reason.USER_NOT_IN_ROOM,
                        room.name,
                        f"{target.nick} is not in {room.name}",
                        nick=target.nick,
                    )
                )
                continue
            if adding and mode not in status:
                room.members[target] = "".join(m for m in PREFIX_MODES if m in status or m == mode)
            elif not adding and mode in status:
                room.members[target] = status.replace(mode, "")
            else:
                continue
            applied.append((change, target.nick))
        elif mode in LIST_MODES:
            assert arg is not None
            mask = normalize_mask(arg)
            if not is_clean(mask):
                errors.append(ChatError(Reason.INVALID_PARAM, mode, "Invalid mask"))
                continue
            entries = room.lists[mode]
            existing = [e for e in entries if casefold(e.mask) == casefold(mask)]
            if adding and not existing:
                if len(entries) >= list_max:
                    errors.append(ChatError(Reason.LIST_FULL, mode, f"The {mode} list is full"))
                    continue
                entries.append(ListEntry(mask, user.hostmask, time.time()))
            elif not adding and existing:
                entries.remove(existing[0])
                mask = existing[0].mask
            else:
                continue
            applied.append((change, mask))
        elif mode == "k":
            if adding:
                assert arg is not None
                if not valid_key(arg):
                    errors.append(ChatError(Reason.INVALID_PARAM, "k", "Invalid key"))
                    continue
                room.password = arg
                applied.append((change, arg))
            elif room.password:
                room.password = ""
                applied.append((change, "*"))
        elif mode == "l":
            if adding:
                assert arg is not None
                limit = parse_limit(arg)
                if limit <= 0:
                    errors.append(ChatError(Reason.INVALID_PARAM, "l", "Invalid limit"))
                    continue
                room.limit = limit
                applied.append((change, str(limit)))
            elif room.limit:
                room.limit = 0
                applied.append((change, None))
        else:
            if adding and mode not in room.flags:
                room.flags.add(mode)
            elif not adding and mode in room.flags:
                room.flags.discard(mode)
            else:
                continue
            applied.append((change, None))
    return applied, errors
