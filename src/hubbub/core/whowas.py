"""WHOWAS: the users who left or changed nickname, most recent last, bounded.

State owned here: the bounded list of :class:`WhowasEntry` (``hub.whowas``). The hub remembers a user when
it quits or is renamed.
"""

from __future__ import annotations

import time
from collections import deque
from typing import NamedTuple

from .history import party
from .model import User
from .names import casefold

__all__ = ["Whowas", "WhowasEntry"]


class WhowasEntry(NamedTuple):
    nick: str
    username: str
    host: str
    realname: str
    time: float
    #: How the user was named in private conversations (core.history.party): the others' history with it
    #: is found by the nickname it had, and never by whoever holds that nickname next.
    party: str = ""


class Whowas:
    def __init__(self, size: int) -> None:
        self.entries: deque[WhowasEntry] = deque(maxlen=size)

    def remember(self, user: User) -> None:
        self.entries.append(
            WhowasEntry(user.nick, user.username, user.host, user.realname, time.time(), party(user))
        )

    def find(self, nick: str, count: int = 0) -> list[WhowasEntry]:
        """The entries for ``nick``, the latest first, at most ``count`` (0: all)."""
        key = casefold(nick)
        found = [entry for entry in reversed(self.entries) if casefold(entry.nick) == key]
        return found[:count] if count > 0 else found
