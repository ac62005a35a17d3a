"""Nickname rules: what a valid, free nickname is, guest nicknames, and the protection of registered ones.

State owned here: the guest nickname counter and the grace timers of users holding a registered nickname
they have not logged in to (``Nicks.grace``: user -> timer; when one fires, the user is renamed to a guest
nickname). Filing users under their nickname is the directory's (core.users).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .errors import ChatError, Reason
from .names import NICK_CHARS_HELP, casefold, is_valid_nick

if TYPE_CHECKING:
    from .events import NickChange
    from .hub import Hub
    from .model import User

__all__ = ["RESERVED_NICKS", "SERVICE_NICKS", "ManualTimers", "Nicks", "Timer"]

#: Nicknames of the server's services (IRC NickServ and ChanServ): nobody can take them.
SERVICE_NICKS = frozenset({"nickserv", "chanserv"})
#: Nicknames nobody may take (as the server's name may not be taken either): a plain-text user reads a user's
#: action as ``* nick text`` and the server's notices as ``* text``, so a user named ``Server`` could write
#: ``* Server shutting down. Goodbye!``. These are the first words of the server's notices that are valid
#: nicknames, and words that name the server. Refused to IRC users too, whose actions plain users read.
RESERVED_NICKS = frozenset(
    {
        "server", "you", "hubbub",
        "welcome", "topic", "wallops", "goodbye", "closing", "recent", "last", "there", "nobody", "nothing",
        "usage", "unknown",
    }
)  # fmt: skip


class Timer(Protocol):
    def cancel(self) -> None: ...


class ManualTimers:
    """The hub's default scheduler, for tests without an event loop: timers fire when ``run`` is called."""

    class _Timer:
        __slots__ = ("callback", "cancelled", "delay")

        def __init__(self, delay: float, callback: Callable[[], None]) -> None:
            self.delay = delay
            self.callback = callback
            self.cancelled = False

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self) -> None:
        self.pending: list[ManualTimers._Timer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> ManualTimers._Timer:
        timer = self._Timer(delay, callback)
        self.pending.append(timer)
        return timer

    def run(self) -> int:
        """Fire every pending timer (whatever its delay); return how many fired."""
        due, self.pending = self.pending, []
        fired = 0
        for timer in due:
            if not timer.cancelled:
                timer.callback()
                fired += 1
        return fired


#: The store's ``meta`` name of the first guest number the next run may use (see Nicks.number_guests_on).
GUEST_META = "guests_from"
#: Guest numbers are taken from the store in blocks of this many (one write per block, not per guest).
GUEST_BLOCK = 1000


class Nicks:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._guests = itertools.count(1)
        #: The end of the block of guest numbers taken from the store (0: numbers are not kept).
        self._reserved = 0
        #: Users using a registered nickname without being logged in to it, with their grace timer.
        self.grace: dict[User, Timer] = {}
        #: Registered nicknames held for their owners (key -> until when, time.time()): someone was renamed
        #: away from it, and must not take it again at once (see check).
        self.held: dict[str, float] = {}

    def check(self, nick: str, *, current: User | None = None, account: str = "") -> str:
        """Validate ``nick`` and return its key; raise ChatError if it is invalid, taken by someone else, or
        held for the owner of its account (``account``: the one the user is logged in to, if not yet
        filed)."""
        nick_max = self.hub.limits.nick_max
        if not is_valid_nick(nick, nick_max):
            raise ChatError(
                Reason.BAD_NICK, nick, f"Invalid nickname {nick!r}: use 1-{nick_max} {NICK_CHARS_HELP}"
            )
        key = casefold(nick)
        if key in RESERVED_NICKS or key == casefold(self.hub.limits.server_name):
            raise ChatError(Reason.BAD_NICK, nick, f"The nickname {nick} is reserved")
        holder = self.hub.users.get(key)
        if (holder is not None and holder is not current) or key in SERVICE_NICKS:
            raise ChatError(Reason.NICK_IN_USE, nick, f"Nickname {nick} is already in use")
        held = self.held
        if held and key in held:
            if held[key] <= time.time():
                del held[key]
            elif casefold(current.account if current is not None else account) != key:
                raise ChatError(
                    Reason.NICK_IN_USE,
                    nick,
                    f"Nickname {nick} is registered and held for its owner: log in to its account to use it",
                )
        return key

    def guests_from(self, number: int) -> None:
        """Number guest nicknames from ``number`` on (cluster nodes each start somewhere else)."""
        self._guests = itertools.count(number)
        self._reserved = 0

    def number_guests_on(self) -> None:
        """Go on numbering guests where the previous run of this store stopped: a guest name is never
        given twice, so nothing said to or by an earlier ``guest-12`` can be mistaken for the next one's.
        Numbers are reserved in the store a block at a time (a restart skips the rest of a block)."""
        stored = self.hub.store.get_meta(GUEST_META) or "1"
        start = int(stored) if stored.isdigit() else 1
        self._guests = itertools.count(start)
        self._reserve(start)

    def _reserve(self, start: int) -> None:
        self._reserved = start + GUEST_BLOCK
        self.hub.store.set_meta(GUEST_META, str(self._reserved))

    def guest(self) -> str:
        """A free guest nickname."""
        prefix = self.hub.limits.guest_prefix
        users = self.hub.users
        while True:
            number = next(self._guests)
            if self._reserved and number >= self._reserved:
                self._reserve(number)
            nick = f"{prefix}{number}"
            if casefold(nick) not in users:
                return nick

    def check_owner(self, target: User) -> None:
        """A private message is for ``target``: refuse it if ``target`` holds a registered nickname without
        being logged in to it (squatting it in its grace period): what is meant for the owner must not reach
        a squatter."""
        if casefold(target.account) != target.key and self.hub.store.get_account(target.key) is not None:
            raise ChatError(
                Reason.NO_SUCH_NICK,
                target.nick,
                f"{target.nick} is not logged in to that registered nickname: your message was not delivered",
            )

    def ghost(self, user: User, nick: str) -> User:
        """GHOST: disconnect whoever holds ``nick``, the registered nickname of the account ``user`` is
        logged in to (a stale session of the owner, or a squatter); the holder quits."""
        key = casefold(nick)
        if not user.account or casefold(user.account) != key:
            raise ChatError(
                Reason.NOT_LOGGED_IN,
                nick,
                f"You must be logged in to the account {nick} to free its nickname",
            )
        target = self.hub.users.get(key)
        if target is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick, f"No such nickname: {nick}")
        if target is user:
            raise ChatError(Reason.INVALID_PARAM, nick, "That is you")
        target.client.disconnect(f"GHOST command used by {user.nick}")
        return target

    def protect(self, user: User) -> None:
        """If ``user``'s nickname is a registered account it is not logged in to, warn it and rename it after
        the grace period unless it logs in by then."""
        hub = self.hub
        key = user.key
        if user.node or casefold(user.account) == key or hub.store.get_account(key) is None:
            return  # another node of the cluster protects its own users
        grace = hub.limits.nick_grace
        hub.notify(
            user,
            f"The nickname {user.nick} is registered. Log in to it within {grace:g} seconds"
            " or you will be renamed.",
            "login",
        )
        self.release(user)

        def expire() -> None:
            self.grace.pop(user, None)
            if hub.users.get(key) is user and casefold(user.account) != key:
                taken = user.nick
                self.held[key] = time.time() + hub.limits.nick_hold
                self.force(user, self.guest())
                hub.notify(user, f"You were renamed: {taken} is registered and you did not log in to it.")

        self.grace[user] = hub.call_later(grace, expire)

    def release(self, user: User) -> None:
        """Cancel ``user``'s grace timer, if it has one."""
        timer = self.grace.pop(user, None)
        if timer is not None:
            timer.cancel()

    def force(self, user: User, new: str) -> NickChange | None:
        """Rename ``user`` on the server's authority: ``user`` is told as well as those sharing a room."""
        event = self.hub.change_nick(user, new)
        if event is not None:
            data = user.client.render(event)
            if data:
                user.send(data)
        return event
