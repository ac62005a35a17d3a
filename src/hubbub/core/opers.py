"""Server operators: checking an OPER password, for every protocol (and any configured secret: WEBIRC's).

The configuration names each operator with a password, given either as a scrypt hash (``scrypt$...``, from
``hubbub hash-password``: the form to use) or, for compatibility, in clear text. A clear-text password is
compared in constant time at once; a hash is checked off the loop with the hub's ``run_blocking`` (as account
passwords are, see core.accounts), so the answer comes through a callback, possibly after the client has
gone: the caller checks that its session is still there. Attempts and their outcome are logged, never the
password.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..store.passwords import verify_password

if TYPE_CHECKING:
    from .hub import Hub
    from .model import User

__all__ = ["check_oper", "check_secret", "is_hash"]

log = logging.getLogger("hubbub.oper")


def is_hash(password: str) -> bool:
    return password.startswith("scrypt$")


def check_oper(
    hub: Hub,
    opers: Mapping[str, str],
    user: User,
    name: str,
    password: str,
    done: Callable[[bool | None], None],
) -> None:
    """Check ``password`` for the operator ``name``: ``done(True)`` if right, ``done(False)`` if wrong,
    ``done(None)`` if there is no such operator. An unknown name costs what a wrong password costs (a hash
    is checked, another operator's, its answer ignored), so that neither the answer nor its time tells
    which operator names exist."""
    expected = opers.get(name)
    who = user.real_hostmask  # the log keeps real addresses
    if expected is None:
        log.warning("OPER failed: %s asked for unknown operator %r", who, name[:50])
        decoy = next((secret for secret in opers.values() if is_hash(secret)), None)
        if decoy is None:
            done(None)
        else:
            hub.run_blocking(lambda: verify_password(password, decoy), lambda _ok: done(None))
        return

    def checked(ok: bool) -> None:
        if ok:
            log.info("OPER: %s is now operator %s", who, name)
        else:
            log.warning("OPER failed: wrong password from %s for operator %s", who, name)
        done(ok)

    check_secret(hub, expected, password, checked)


def check_secret(hub: Hub, expected: str, password: str, done: Callable[[bool], None]) -> None:
    """Whether ``password`` is ``expected`` (a configured password, or its scrypt hash): ``done(ok)`` at once
    (a constant-time comparison), or later for a hash (checked off the loop with ``hub.run_blocking``)."""
    if is_hash(expected):
        hub.run_blocking(lambda: verify_password(password, expected), done)
    else:
        given = password.encode("utf-8", "surrogatepass")
        done(hmac.compare_digest(given, expected.encode("utf-8", "surrogatepass")))
