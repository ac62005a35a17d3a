"""Accounts: creating them and checking passwords, for every protocol.

Hashing a password is slow on purpose (scrypt, see store.passwords), so it never runs on the event loop:
the hub's ``run_blocking`` hands it to a worker thread (inline in unit tests) and the answer comes back on
the loop through a callback. Logging a user in, and what that changes for others, is the hub's (Hub.log_in).

Every protocol's logins and registrations come through here, so the guards against guessing and mass
registration live here once (the settings are in HubLimits):

- failed logins are counted per address and per account (core.throttle.Backoff): after
  ``login_failures`` of them, each further attempt within the backoff (``login_backoff`` seconds, doubling
  with each failure) is refused at once, without hashing; each failure is logged (never the password);
- registrations are counted per address and for the whole server in a sliding window;
- at most ``hash_queue`` password hashes run or wait at once: beyond it, "try again later", unqueued.

State owned here: those counters and the number of hashes in flight.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..store.passwords import hash_password, verify_password
from .errors import ChatError, Reason
from .expiry import AccountExpiry
from .names import NICK_CHARS_HELP, casefold, is_valid_nick
from .throttle import MAX_KEYS, Backoff, Rate

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "Accounts"]

MIN_PASSWORD = 6
MAX_PASSWORD = 300

log = logging.getLogger("hubbub.accounts")

_dummy: list[str] = []

#: The Rate key of the whole server's registrations (addresses never start with a space).
_EVERYONE = " all"
#: Addresses remembered per account as having logged in to it.
KNOWN_ADDRESSES = 4
#: What a hash job that raised returns (the error is logged, the answer never comes).
_FAILED = object()


def _never_exempt(address: str) -> bool:
    return False


def _dummy_hash() -> str:
    """Checked when there is no such account, so that a wrong name costs as much as a wrong password."""
    if not _dummy:
        _dummy.append(hash_password("no such account"))
    return _dummy[0]


class Accounts:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        #: Failed logins per address and per account (folded name).
        self.failures_by_address = Backoff()
        self.failures_by_account = Backoff()
        #: Per account (folded name), the last addresses that logged in to it: they skip its backoff, so that
        #: someone guessing from elsewhere cannot lock its owner out (in memory: forgotten on a restart).
        self.known_addresses: dict[str, tuple[str, ...]] = {}
        #: Registrations per address, and for everyone under _EVERYONE.
        self.registrations = Rate()
        #: Password hashes running or queued.
        self.hashing = 0
        #: Whether an address is exempt from the per-address limits (--limit-exempt; the network layer sets
        #: it): the per-address counters skip such addresses, the per-account and global ones do not.
        self.limit_exempt: Callable[[str], bool] = _never_exempt
        #: Expiry of accounts nobody logs in to any more (core.expiry); every login is recorded there.
        self.expiry = AccountExpiry(hub)

    # -- the guards -----------------------------------------------------------------------------------------

    def _hash(
        self,
        job: Callable[[], Any],
        done: Callable[[Any], None],
        subject: str,
        ended: Callable[[], None] | None = None,
    ) -> None:
        """Run the password hash ``job`` off the loop, then ``done(result)`` (``ended()`` first, even if the
        job failed); ChatError(TRY_LATER) at once, without queueing it, if ``hash_queue`` hashes are already
        running or queued."""
        if self.hashing >= self.hub.limits.hash_queue:
            raise ChatError(
                Reason.TRY_LATER, subject, "The server is busy checking passwords, try again later"
            )
        self.hashing += 1

        def finished(result: Any) -> None:
            self.hashing -= 1
            if ended is not None:
                ended()
            if result is not _FAILED:
                done(result)

        def guarded() -> Any:
            try:
                return job()
            except Exception:
                log.exception("internal error hashing a password")
                return _FAILED

        self.hub.run_blocking(guarded, finished)

    def _check_login_allowed(self, name: str, address: str) -> None:
        hub = self.hub
        limits = hub.limits
        now = hub.now()
        key = casefold(name)
        wait = 0.0
        if address not in self.known_addresses.get(key, ()):
            wait = self.failures_by_account.wait(key, now, limits.login_failures, limits.login_backoff)
        if not self.limit_exempt(address):
            wait = max(
                wait, self.failures_by_address.wait(address, now, limits.login_failures, limits.login_backoff)
            )
        if wait > 0:
            raise ChatError(
                Reason.TRY_LATER, name, f"Too many failed logins, try again in {math.ceil(wait)} s"
            )

    def _remember(self, key: str, address: str) -> None:
        """Note that ``address`` logged in to the account ``key`` (its last KNOWN_ADDRESSES are kept)."""
        known = self.known_addresses.pop(key, ())
        self.known_addresses[key] = (*(a for a in known if a != address), address)[-KNOWN_ADDRESSES:]
        if len(self.known_addresses) > MAX_KEYS:
            del self.known_addresses[next(iter(self.known_addresses))]

    def _check_registration_allowed(self, name: str, address: str) -> None:
        hub = self.hub
        limits = hub.limits
        now = hub.now()
        window = limits.register_window
        wait = 0.0
        if limits.register_per_address > 0 and not self.limit_exempt(address):
            wait = self.registrations.wait(address, now, limits.register_per_address, window)
        if limits.register_global > 0:
            wait = max(wait, self.registrations.wait(_EVERYONE, now, limits.register_global, window))
        if wait > 0:
            log.info("registration of %r from %s refused: too many registrations", name, address or "?")
            raise ChatError(
                Reason.TRY_LATER, name, f"Too many accounts registered, try again in {math.ceil(wait)} s"
            )

    def exists(self, name: str) -> bool:
        return self.hub.store.get_account(casefold(name)) is not None

    def name_of(self, name: str) -> str | None:
        """The account's own spelling of ``name``, or None if there is no such account."""
        account = self.hub.store.get_account(casefold(name))
        return account.name if account is not None else None

    def check_new(self, name: str, password: str) -> None:
        """Raise ChatError if an account ``name`` with ``password`` cannot be created."""
        hub = self.hub
        if not is_valid_nick(name, hub.limits.nick_max):
            raise ChatError(
                Reason.BAD_ACCOUNT_NAME,
                name,
                f"Invalid account name {name!r}: use 1-{hub.limits.nick_max} {NICK_CHARS_HELP}",
            )
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise ChatError(
                Reason.BAD_PASSWORD,
                name,
                f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            )
        if " " in password:
            raise ChatError(Reason.BAD_PASSWORD, name, "A password cannot contain spaces")
        if self.exists(name):
            raise ChatError(Reason.ACCOUNT_EXISTS, name, f"The account {name} already exists")

    def create(
        self, name: str, password: str, done: Callable[[ChatError | None], None], *, address: str = ""
    ) -> None:
        """Create the account ``name`` for a client at ``address``; ``done(None)`` once it exists,
        ``done(error)`` if it cannot be. Errors found at once (a bad name or password, too many
        registrations, too many hashes queued) are raised instead."""
        self.check_new(name, password)
        self._check_registration_allowed(name, address)
        hub = self.hub
        rate = self.registrations

        def created(digest: str) -> None:
            if hub.store.create_account(casefold(name), name, digest, hub.now()):
                log.info("account %s registered from %s", name, address or "?")
                done(None)
            else:
                rate.cancel(address)
                rate.cancel(_EVERYONE)
                done(ChatError(Reason.ACCOUNT_EXISTS, name, f"The account {name} already exists"))

        now = hub.now()
        rate.add(address, now)
        rate.add(_EVERYONE, now)
        try:
            self._hash(lambda: hash_password(password), created, name)
        except ChatError:
            rate.cancel(address)
            rate.cancel(_EVERYONE)
            raise

    def verify(
        self,
        name: str,
        password: str,
        done: Callable[[str | None], None],
        *,
        address: str = "",
        method: str = "login",
    ) -> None:
        """Check a password given by a client at ``address`` (``method``: how, for the log): ``done(account
        name)`` if it is right, ``done(None)`` if not (or no account). ChatError(TRY_LATER) at once, without
        checking, after too many failures from that address or for that account, or with too many hashes
        queued."""
        self._check_login_allowed(name, address)
        account = self.hub.store.get_account(casefold(name))
        hub = self.hub

        def check() -> bool:
            return verify_password(password, account.password_hash if account is not None else _dummy_hash())

        key = casefold(name)
        exempt = self.limit_exempt(address)

        def ended() -> None:
            self.failures_by_account.end(key)
            if not exempt:
                self.failures_by_address.end(address)

        def checked(ok: bool) -> None:
            limits = hub.limits
            # (an account that expired while its password was being checked is no longer there)
            if ok and account is not None and hub.store.get_account(key) is not None:
                self.failures_by_account.clear(key)
                self._remember(key, address)
                self.expiry.logged_in(key, account.last_login)
                done(account.name)
                return
            now = hub.now()
            failures = self.failures_by_account.fail(key, now, limits.login_backoff)
            if not exempt:
                failures = self.failures_by_address.fail(address, now, limits.login_backoff)
            log.info(
                "failed login to account %r from %s by %s (failure %d)",
                name,
                address or "?",
                method,
                failures,
            )
            done(None)

        # Counted before the job starts: run inline (unit tests), it ends before _hash returns.
        self.failures_by_account.start(key)
        if not exempt:
            self.failures_by_address.start(address)
        try:
            self._hash(check, checked, name, ended)
        except ChatError:
            ended()
            raise

    def change_password(self, account: str, password: str, done: Callable[[ChatError | None], None]) -> None:
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or " " in password:
            raise ChatError(
                Reason.BAD_PASSWORD,
                account,
                f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters, without spaces",
            )
        hub = self.hub

        def hashed(digest: str) -> None:
            hub.store.set_password(casefold(account), digest)
            done(None)

        self._hash(lambda: hash_password(password), hashed, account)

    def setting(self, account: str, name: str, default: str = "") -> str:
        record = self.hub.store.get_account(casefold(account))
        if record is None:
            return default
        return record.settings.get(name, default)

    def set_setting(self, account: str, name: str, value: str | None) -> None:
        self.hub.store.set_account_setting(casefold(account), name, value)
