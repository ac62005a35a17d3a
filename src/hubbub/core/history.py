"""History keys: how the hub names conversations in the store.

A room's conversation is its folded name (``#lobby``). A private conversation is named by its two *parties*,
sorted and joined by a space: a party is ``a:<account>`` for a user logged in to an account, else
``g:<id>.<signon>``: that connection alone (its user id and the time it connected, the same on every node of
a cluster), never a nickname. So a logged-in user finds its private history under its account whatever
nickname it had, and the private history of a user who is not logged in is that session's: whoever holds
its nickname next (after a quit, a nick change or a restart) cannot read it. The others still find their
conversation with a user who left by the nickname it had (WHOWAS keeps its party, for as long as it keeps
the entry). (Databases from before kept
``n:<nickname>`` parties; those conversations stay readable by their logged-in party alone.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ChatError, Reason
from .model import User
from .names import ROOM_PREFIX, casefold, is_valid_nick

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["Seen", "account_party", "conversation", "party", "private_conversation"]


def party(user: User) -> str:
    """How ``user`` is named in private conversations."""
    return account_party(user.account) if user.account else f"g:{user.id}.{user.signon!r}"


def account_party(account: str) -> str:
    """How a user logged in to ``account`` is named in private conversations."""
    return f"a:{casefold(account)}"


def private_conversation(one: str, other: str) -> str:
    """The conversation key of two parties, the same whichever sends."""
    return f"{one} {other}" if one <= other else f"{other} {one}"


def conversation(hub: Hub, user: User, target: str) -> tuple[str, str]:
    """The history key and display name of ``user``'s conversation with ``target`` (a room it is in, or a
    nickname); ChatError if ``user`` may not read it."""
    if target.startswith(ROOM_PREFIX):
        room = hub.require_room(target)
        if user not in room.members:
            raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
        return room.key, room.name
    if not is_valid_nick(target, hub.limits.nick_max):
        raise ChatError(Reason.NO_SUCH_NICK, target, f"No such nickname: {target}")
    other = hub.find_user(target)
    if other is not None:
        them = party(other)
    elif hub.store.get_account(casefold(target)) is not None:
        them = f"a:{casefold(target)}"
    else:
        # Nobody holds the nickname and it is no account: the conversation with whoever had it last (WHOWAS
        # remembers its party); else, as databases from before kept them, with the nickname itself.
        gone = hub.whowas.find(target, 1)
        them = gone[0].party if gone and gone[0].party else f"n:{casefold(target)}"
    return private_conversation(party(user), them), other.nick if other is not None else target


class Seen:
    """When each user last saw each room it left (``hub.seen``), so that coming back within
    ``HubLimits.replay_window`` seconds replays only what was said meanwhile, not again what it saw. A user
    is its account when logged in (a reconnect counts), else its session (see :func:`party`). Entries older
    than the window are forgotten, oldest first: the map holds only the departures of the last window."""

    __slots__ = ("_hub", "_left")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        #: (party, room key) -> when it left, in the order of departure
        self._left: dict[tuple[str, str], float] = {}

    def left(self, user: User, room_key: str, now: float) -> None:
        window = self._hub.limits.replay_window
        if window <= 0:
            return
        left = self._left
        key = (party(user), room_key)
        left.pop(key, None)
        left[key] = now
        for _ in range(2):  # each departure forgets up to two expired ones, oldest first: never a pass
            oldest = next(iter(left))
            if now - left[oldest] < window:
                break
            del left[oldest]

    def since(self, user: User, room_key: str, now: float) -> float | None:
        """When ``user`` left the room ``room_key``, if within the window (then forgotten): what was said
        after that is what it missed."""
        when = self._left.pop((party(user), room_key), None)
        if when is None or now - when >= self._hub.limits.replay_window:
            return None
        return when
