"""Presence watches (IRC MONITOR): who watches which nickname, and telling them when it comes and goes.

State owned here: ``watchers`` (nickname key -> the users watching it; a key with no watcher is removed).
The hub calls :meth:`Monitor.announce` when a nickname comes online or goes offline (a connection, a rename,
a quit, a user of another node arriving).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from .events import Presence
from .model import User
from .names import casefold

__all__ = ["Monitor"]


class Monitor:
    def __init__(self) -> None:
        self.watchers: dict[str, set[User]] = {}

    def watch(self, user: User, nicks: Iterable[str]) -> None:
        for nick in nicks:
            self.watchers.setdefault(casefold(nick), set()).add(user)

    def unwatch(self, user: User, nicks: Iterable[str]) -> None:
        for nick in nicks:
            key = casefold(nick)
            watchers = self.watchers.get(key)
            if watchers is not None:
                watchers.discard(user)
                if not watchers:
                    del self.watchers[key]

    def unwatch_all(self, user: User) -> None:
        empty = [key for key, watchers in self.watchers.items() if user in watchers and len(watchers) == 1]
        for watchers in self.watchers.values():
            watchers.discard(user)
        for key in empty:
            del self.watchers[key]

    def watched(self, user: User) -> list[str]:
        """The nickname keys ``user`` watches."""
        return [key for key, watchers in self.watchers.items() if user in watchers]

    def announce(self, user: User, nick: str, key: str, *, online: bool) -> None:
        """``user`` now holds (``online``) or no longer holds the nickname ``nick`` (key ``key``): tell its
        watchers (but ``user``)."""
        watchers = self.watchers.get(key)
        if not watchers:
            return
        event = Presence(user, time.time(), nick, online)
        for watcher in list(watchers):
            if watcher is not user:
                data = watcher.client.render(event)
                if data:
                    watcher.send(data)
