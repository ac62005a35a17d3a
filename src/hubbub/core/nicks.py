"""Nickname rules: what a valid, free nickname is, guest nicknames, and the protection of registered ones.

State owned here: the guest nickname counter and the grace timers of users holding a registered nickname
they have not logged in to (``Nicks.grace``: user -> timer; when one fires, the user is renamed to a guest
nickname). Filing users under their nickname is the directory's (core.users).
"""

from __future__ import annotations

import itertools
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


class Nicks:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._guests = itertools.count(1)
        #: Users using a registered nickname without being logged in to it, with their grace timer.
        self.grace: dict[User, Timer] = {}

    def check(self, nick: str, *, current: User | None = None) -> str:
        """Validate ``nick`` and return its key; raise ChatError if it is invalid or taken by someone else."""
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
        return key

    def guests_from(self, number: int) -> None:
        """Number guest nicknames from ``number`` on (cluster nodes each start somewhere else)."""
        self._guests = itertools.count(number)

    def guest(self) -> str:
        """A free guest nickname."""
        prefix = self.hub.limits.guest_prefix
        users = self.hub.users
        while True:
            nick = f"{prefix}{next(self._guests)}"
            if casefold(nick) not in users:
                return nick

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
        )
        self.release(user)

        def expire() -> None:
            self.grace.pop(user, None)
            if hub.users.get(key) is user and casefold(user.account) != key:
                taken = user.nick
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
