"""The users the hub knows, filed by nickname key, and the counters kept over them.

State owned here: ``users`` (nickname key -> User, the same dict as ``hub.users``), ``opers``, ``invisible``
and ``max_users``. Filing a user (add, remove, rekey) and changing its user modes or operator name go through
:class:`Directory`, so the counters are kept in one place for local and remote users alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from .errors import ChatError, Reason
from .model import User
from .names import casefold

__all__ = ["Directory"]


class Directory:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        #: Users with an operator name (LUSERS).
        self.opers = 0
        #: Users with user mode +i (LUSERS).
        self.invisible = 0
        #: The most users filed at once.
        self.max_users = 0
        self._uids = itertools.count(1)

    def new_id(self) -> int:
        return next(self._uids)

    def find(self, nick: str) -> User | None:
        return self.users.get(casefold(nick))

    def require(self, nick: str) -> User:
        user = self.users.get(casefold(nick))
        if user is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick, f"No such nickname: {nick}")
        return user

    def add(self, user: User) -> None:
        """File a new user (without modes yet) under ``user.key``."""
        users = self.users
        users[user.key] = user
        self.max_users = max(self.max_users, len(users))

    def remove(self, user: User) -> bool:
        """Unfile ``user`` (False: it was not filed under its key) and count it out."""
        if self.users.get(user.key) is not user:
            return False
        del self.users[user.key]
        if user.oper:
            self.opers -= 1
        if "i" in user.modes:
            self.invisible -= 1
        return True

    def rekey(self, user: User, key: str) -> None:
        """File ``user`` under ``key`` (its new nickname's, or any other), no longer under its old one."""
        users = self.users
        if users.get(user.key) is user:
            del users[user.key]
        user.key = key
        users[key] = user

    def change_modes(
        self, user: User, changes: Iterable[tuple[str, str | None]]
    ) -> list[tuple[str, str | None]]:
        """Apply the user mode changes ``user`` asked for itself (``+o`` is not one: see Hub.make_oper);
        return those that changed something."""
        applied: list[tuple[str, str | None]] = []
        modes = set(user.modes)
        oper = user.oper
        for change, _ in changes:
            sign, mode = change[0], change[1]
            if sign == "+" and mode not in modes and mode != "o":
                modes.add(mode)
            elif sign == "-" and mode in modes:
                modes.discard(mode)
                if mode == "o":
                    oper = ""
            else:
                continue
            applied.append((change, None))
        if applied:
            self.set_modes(user, modes, oper)
        return applied

    def set_modes(self, user: User, modes: Iterable[str], oper: str) -> None:
        """Give ``user`` the user modes ``modes`` and the operator name ``oper`` ("": none)."""
        new = set(modes)
        if ("i" in user.modes) != ("i" in new):
            self.invisible += 1 if "i" in new else -1
        if bool(user.oper) != bool(oper):
            self.opers += 1 if oper else -1
        user.modes = new
        user.oper = oper
