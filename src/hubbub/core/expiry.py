"""Expiry of accounts nobody logs in to any more (``--account-expire``; off by default).

Every login (``/login``, SASL, NickServ IDENTIFY, ``PASS account:password``: all go through
``Accounts.verify``) records its time in the store, at most once per :meth:`AccountExpiry.granularity` per
account, never per message; a registration counts as a login. A sweep (at start, then every
:meth:`AccountExpiry.interval` seconds, run by the application) removes the accounts last logged in to longer
ago than ``HubLimits.account_expire``, as an UNREGISTER would:

- the account and its settings: its name can be registered again, and its nickname is free (a grace timer
  or a hold protecting it ends);
- the rooms it founded are no longer registered (an empty one goes);
- its private conversations (``a:<account>`` parties), for both sides: whoever registers the name next must
  not read them.

An account someone is logged in to right now (on any node of a cluster) never expires: the sweep records it
as logged in to (at most once per granularity), so that it counts from when its users leave. Operators are
not tied to accounts, so none is spared for that. Each removal is logged, and counted (``expired``; the
metrics endpoint shows it).

State owned here: the count of expired accounts.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .history import account_party
from .names import casefold

if TYPE_CHECKING:
    from .hub import Hub
    from .model import Room

__all__ = ["SWEEP_BATCH", "TOUCH_EVERY", "AccountExpiry"]

log = logging.getLogger("hubbub.accounts")

#: A login is recorded at most this often per account (seconds), and the sweep runs at most this far apart.
TOUCH_EVERY = 3600.0
#: Accounts one sweep removes at most; the application runs the next at once if there are more (the loop
#: serves clients in between).
SWEEP_BATCH = 200


class AccountExpiry:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        #: Accounts removed so far by expiry (on this node).
        self.expired = 0

    @property
    def granularity(self) -> float:
        """Seconds within which a second login to an account is not recorded again."""
        after = self.hub.limits.account_expire
        return min(TOUCH_EVERY, after / 4) if after > 0 else TOUCH_EVERY

    @property
    def interval(self) -> float:
        """Seconds between two sweeps."""
        after = self.hub.limits.account_expire
        return min(TOUCH_EVERY, max(0.5, after / 4)) if after > 0 else TOUCH_EVERY

    def logged_in(self, key: str, last_login: float) -> None:
        """Someone logged in to the account ``key`` (last recorded login: ``last_login``): record it, unless
        it was recorded within the granularity."""
        now = self.hub.now()
        if now - last_login >= self.granularity:
            self.hub.store.touch_account(key, now)

    def sweep(self) -> int:
        """Remove up to SWEEP_BATCH expired accounts; return how many were removed (0 if expiry is off)."""
        hub = self.hub
        after = hub.limits.account_expire
        if after <= 0:
            return 0
        store = hub.store
        now = hub.now()
        # In use: it counts from when its users leave.
        logged_in = {casefold(user.account) for user in hub.users.values() if user.account}
        for key in logged_in:
            account = store.get_account(key)
            if account is not None:
                self.logged_in(key, account.last_login)
        idle = store.idle_accounts(now - after)
        if not idle:
            return 0
        founded: dict[str, list[Room]] = {}
        for room in hub.rooms.values():
            if room.founder:
                founded.setdefault(casefold(room.founder), []).append(room)
        removed = 0
        for key in idle:
            if removed == SWEEP_BATCH:
                break
            if key in logged_in:
                continue
            account = store.get_account(key)
            if account is None:
                continue
            store.delete_account(key)
            for room in founded.get(key, ()):
                store.drop_room(room.key)
                hub.registered.forget(room)
            self.removed_elsewhere(key)
            removed += 1
            self.expired += 1
            log.info(
                "account %s expired: not logged in to since %s (--account-expire %g days)",
                account.name,
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(account.last_login)),
                after / 86400,
            )
        return removed

    def removed_elsewhere(self, key: str) -> None:
        """The account ``key`` is gone from the store (expired here, or on another node of the cluster):
        its nickname is free and its private conversations are forgotten."""
        hub = self.hub
        holder = hub.users.get(key)
        if holder is not None:
            hub.nicks.release(holder)
        hub.nicks.held.pop(key, None)
        accounts = hub.accounts
        accounts.known_addresses.pop(key, None)
        hub.store.forget_party(account_party(key))
