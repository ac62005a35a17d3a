"""Presence watches (IRC MONITOR): who watches which nickname, and telling them when it comes and goes.

State owned here, two views of the same pairs, kept in step by :meth:`watch`, :meth:`unwatch` and
:meth:`unwatch_all` alone:

- ``watchers``: nickname key -> the users watching it (a key with no watcher is removed);
- ``watching``: user -> the nickname keys it watches, in the order they were added (a user with no watch is
  removed), so a quit or ``MONITOR C`` costs what that user watches, not every watch in the server.

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
        self.watching: dict[User, dict[str, None]] = {}

    def watch(self, user: User, nicks: Iterable[str]) -> None:
        keys = self.watching.get(user)
        for nick in nicks:
            key = casefold(nick)
            self.watchers.setdefault(key, set()).add(user)
            if keys is None:
                keys = self.watching[user] = {}
            keys[key] = None

    def unwatch(self, user: User, nicks: Iterable[str]) -> None:
        keys = self.watching.get(user)
        if keys is None:
            return
        for nick in nicks:
            key = casefold(nick)
            if keys.pop(key, False) is None:
                self._drop(user, key)
        if not keys:
            del self.watching[user]

    def unwatch_all(self, user: User) -> None:
        for key in self.watching.pop(user, ()):
            self._drop(user, key)

    def _drop(self, user: User, key: str) -> None:
        watchers = self.watchers.get(key)
        if watchers is not None:
            watchers.discard(user)
            if not watchers:
                del self.watchers[key]

    def watched(self, user: User) -> list[str]:
        """The nickname keys ``user`` watches, in the order they were added."""
        return list(self.watching.get(user, ()))

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
