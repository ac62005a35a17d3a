"""Accounts: creating them and checking passwords, for every protocol.

Hashing a password is slow on purpose (scrypt, see store.passwords), so it never runs on the event loop:
the hub's ``run_blocking`` hands it to a worker thread (inline in unit tests) and the answer comes back on
the loop through a callback. Logging a user in, and what that changes for others, is the hub's (Hub.log_in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..store.passwords import hash_password, verify_password
from .errors import ChatError, Reason
from .names import NICK_CHARS_HELP, casefold, is_valid_nick

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "Accounts"]

MIN_PASSWORD = 6
MAX_PASSWORD = 300

_dummy: list[str] = []


def _dummy_hash() -> str:
    """Checked when there is no such account, so that a wrong name costs as much as a wrong password."""
    if not _dummy:
        _dummy.append(hash_password("no such account"))
    return _dummy[0]


class Accounts:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

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

    def create(self, name: str, password: str, done: Callable[[ChatError | None], None]) -> None:
        """Create the account ``name``; ``done(None)`` once it exists, ``done(error)`` if it cannot be.
        Errors found at once are raised instead."""
        self.check_new(name, password)
        hub = self.hub

        def created(digest: str) -> None:
            if hub.store.create_account(casefold(name), name, digest, hub.now()):
                done(None)
            else:
                done(ChatError(Reason.ACCOUNT_EXISTS, name, f"The account {name} already exists"))

        hub.run_blocking(lambda: hash_password(password), created)

    def verify(self, name: str, password: str, done: Callable[[str | None], None]) -> None:
        """Check a password: ``done(account name)`` if it is right, ``done(None)`` if not (or no account)."""
        account = self.hub.store.get_account(casefold(name))

        def check() -> bool:
            return verify_password(password, account.password_hash if account is not None else _dummy_hash())

        def checked(ok: bool) -> None:
            done(account.name if ok and account is not None else None)

        self.hub.run_blocking(check, checked)

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

        hub.run_blocking(lambda: hash_password(password), hashed)

    def setting(self, account: str, name: str, default: str = "") -> str:
        record = self.hub.store.get_account(casefold(account))
        if record is None:
            return default
        return record.settings.get(name, default)

    def set_setting(self, account: str, name: str, value: str | None) -> None:
        self.hub.store.set_account_setting(casefold(account), name, value)
