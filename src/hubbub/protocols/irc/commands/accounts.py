"""Accounts over IRC: SASL PLAIN (AUTHENTICATE) and draft/account-registration (REGISTER), and the login
helpers NickServ shares.

Checking a password or creating an account is slow on purpose, so the hub answers through a callback (inline
in unit tests, from a worker thread's result on the event loop otherwise). Meanwhile the session holds an
attempt token in ``auth_pending``: connection registration waits for the answer, a second attempt is refused,
and an answer arriving after the client aborted (``AUTHENTICATE *``) or left is dropped. Before connection
registration the account is kept by the session and handed to the hub when the user is created.

Numerics and texts follow modern.ircdocs.horse and the IRCv3 sasl-3.1/3.2 specifications; where they leave
a choice, hubbub does what ergo does. Passwords are never echoed nor logged.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ....core.accounts import MIN_PASSWORD
from ....core.errors import ChatError, Reason
from ....core.names import NICK_CHARS_HELP, casefold, is_valid_nick
from ....wire import numerics as n
from ....wire.irc import Message, line
from ..caps import Cap
from ..table import command
from .registration import deliver_memos, refused_before_registration, try_register

if TYPE_CHECKING:
    from ....core.model import User
    from ..session import IrcSession

log = logging.getLogger("hubbub.irc")


MECHANISMS = ("PLAIN",)

#: AUTHENTICATE data comes in chunks of this many bytes of base64 (a shorter chunk, or ``+``, ends it).
SASL_CHUNK = 400
#: The most full chunks a client may send before the last one, as ergo allows.
SASL_CHUNKS = 4

SASL_FAILED = "SASL authentication failed"


# -- logging in and out ----------------------------------------------------------------------------------


def current_account(session: IrcSession) -> str:
    """The account this connection is logged in to ("" for none), before or after registration."""
    user = session.user
    return user.account if user is not None else session.account


def hostmask(session: IrcSession) -> str:
    """``nick!user@host`` for n.RPL_LOGGEDIN/OUT, with ``*`` for what is not known yet before registration."""
    user = session.user
    if user is not None:
        return user.hostmask
    return f"{session.nick or '*'}!{session.username or '*'}@{session.link.peer_host}"


def begin(session: IrcSession) -> object:
    """Start a password check or account creation: the token its callback passes to :func:`finish`."""
    token = object()
    session.auth_pending = token
    return token


def finish(session: IrcSession, token: object) -> bool:
    """End the attempt ``token``; whether its answer still matters (not aborted, connection still open)."""
    if session.auth_pending is not token:
        return False
    session.auth_pending = None
    return not session.closing


def resume(session: IrcSession) -> None:
    """After an attempt ends: complete connection registration if it waited for the answer."""
    if not session.registered and not session.closing:
        try_register(session)


def log_in(session: IrcSession, account: str) -> None:
    """Log the connection in to ``account`` and send n.RPL_LOGGEDIN (and ACCOUNT to itself with
    account-notify, as ergo does; the hub tells the others)."""
    user = session.user
    if user is None:
        session.account = account
    else:
        session.hub.log_in(user, account)
        if session.caps & Cap.ACCOUNT_NOTIFY:
            session.send(line(f":{user.hostmask} ACCOUNT {account}"))
    session.numeric(n.RPL_LOGGEDIN, hostmask(session), account, f"You are now logged in as {account}")
    real = session.user.real_hostmask if session.user is not None else hostmask(session)
    log.info("%s logged in to account %s", real, account)  # the log keeps the real address
    if session.user is not None:  # (before registration: at its end, see registration.welcome's caller)
        deliver_memos(session, account)


def log_out(session: IrcSession, user: User) -> None:
    """Log a registered connection out (ChatError if it is not logged in) and send n.RPL_LOGGEDOUT."""
    session.hub.log_out(user)
    if session.caps & Cap.ACCOUNT_NOTIFY:
        session.send(line(f":{user.hostmask} ACCOUNT *"))
    session.numeric(n.RPL_LOGGEDOUT, user.hostmask, "You are now logged out")


def verify(
    session: IrcSession, name: str, password: str, done: Callable[[str | None], None], method: str
) -> None:
    """Check ``name``'s password as one attempt of ``session`` (``method``: how, for the log):
    ``done(account or None)`` runs only if the answer still matters, and connection registration resumes
    after it. A refusal found at once (too many failures, too many checks queued) is raised (ChatError)."""
    token = begin(session)

    def checked(account: str | None) -> None:
        if finish(session, token):
            done(account)
            resume(session)

    try:
        session.hub.accounts.verify(name, password, checked, address=session.link.peer_host, method=method)
    except ChatError:
        session.auth_pending = None
        raise


def create(session: IrcSession, name: str, password: str, done: Callable[[ChatError | None], None]) -> None:
    """Create the account ``name`` as one attempt of ``session`` (see :func:`verify`); errors found at once
    are raised (ChatError), as Accounts.create does."""
    token = begin(session)

    def created(error: ChatError | None) -> None:
        if finish(session, token):
            done(error)
            resume(session)

    try:
        session.hub.accounts.create(name, password, created, address=session.link.peer_host)
    except ChatError:
        session.auth_pending = None
        raise


# -- SASL ------------------------------------------------------------------------------------------------


def _sasl_reset(session: IrcSession) -> None:
    session.sasl_mech = session.sasl_data = ""


@command("AUTHENTICATE", min_params=1, pre_registration=True)
def authenticate(session: IrcSession, msg: Message) -> None:
    """AUTHENTICATE <mechanism> | <base64 data> | + | *: log in to an account with SASL (mechanism PLAIN;
    data in chunks of 400 bytes, + for an empty one, * to abort)."""
    data = msg.params[0]
    refused = refused_before_registration(session)
    if refused:
        # A K-lined client is closed; without the server password, SASL must not get around it.
        if not session.closing:
            _sasl_reset(session)
            session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: {refused}")
        return
    if current_account(session):
        session.numeric(n.ERR_SASLALREADY, "You have already authenticated using SASL")
        return
    if data == "*":
        # Also drops the answer of a password check in flight.
        session.auth_pending = None
        _sasl_reset(session)
        session.numeric(n.ERR_SASLABORTED, "SASL authentication aborted")
        resume(session)
        return
    if session.auth_pending is not None:
        session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: another attempt is in progress")
        return
    if not session.sasl_mech:
        mechanism = data.upper()
        if mechanism not in MECHANISMS:
            session.numeric(n.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
            session.numeric(n.ERR_SASLFAIL, SASL_FAILED)
            return
        session.sasl_mech = mechanism
        session.sasl_data = ""
        session.server_line("AUTHENTICATE", "+")
        return
    if len(data) > SASL_CHUNK:
        _sasl_reset(session)
        session.numeric(n.ERR_SASLTOOLONG, "SASL message too long")
        return
    if len(data) == SASL_CHUNK:
        if len(session.sasl_data) >= SASL_CHUNK * SASL_CHUNKS:
            _sasl_reset(session)
            session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: Passphrase too long")
            return
        session.sasl_data += data
        return
    payload = session.sasl_data + (data if data != "+" else "")
    _sasl_reset(session)
    _plain(session, payload)


def _plain(session: IrcSession, payload: str) -> None:
    """PLAIN (RFC 4616): ``[authzid] NUL authcid NUL password``; the authzid, if any, must be the authcid."""
    try:
        fields = base64.b64decode(payload, validate=True).decode("utf-8").split("\0")
    except (binascii.Error, ValueError):
        session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: Invalid b64 encoding")
        return
    if len(fields) != 3 or not fields[1]:
        session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: Invalid auth blob")
        return
    authzid, authcid, password = fields
    if authzid and casefold(authzid) != casefold(authcid):
        session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: authcid and authzid should be the same")
        return

    def done(account: str | None) -> None:
        if account is None:
            session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: Invalid account credentials")
            return
        log_in(session, account)
        session.numeric(n.RPL_SASLSUCCESS, "SASL authentication successful")

    try:
        verify(session, authcid, password, done, "SASL PLAIN")
    except ChatError as exc:
        session.numeric(n.ERR_SASLFAIL, f"{SASL_FAILED}: {exc.message}")


# -- REGISTER (draft/account-registration) ----------------------------------------------------------------


def is_valid_param(text: str) -> bool:
    """Whether ``text`` can be sent back as a middle parameter."""
    return bool(text) and " " not in text and text[0] != ":"


#: ChatError reasons of Accounts.check_new -> FAIL REGISTER codes (BAD_PASSWORD is split by length).
_REGISTER_CODES = {
    Reason.ACCOUNT_EXISTS: "ACCOUNT_EXISTS",
    Reason.BAD_ACCOUNT_NAME: "BAD_ACCOUNT_NAME",
}


def _register_code(exc: ChatError, password: str) -> str:
    if exc.reason is Reason.BAD_PASSWORD:
        return "WEAK_PASSWORD" if len(password) < MIN_PASSWORD else "UNACCEPTABLE_PASSWORD"
    return _REGISTER_CODES.get(exc.reason, "TEMPORARILY_UNAVAILABLE")


@command("REGISTER", min_params=3, pre_registration=True)
def register(session: IrcSession, msg: Message) -> None:
    """REGISTER <account|*> <email|*> <password>: create an account named as your nickname (* for your
    nickname) and log in to it; allowed before connection registration too. The email is not used."""
    name, password = msg.params[0], msg.params[2]
    refused = refused_before_registration(session)
    if refused:
        # A K-lined client is closed; REGISTER before connecting must not get around the server password.
        if not session.closing:
            subject = session.nick if name == "*" else name
            subject = subject if is_valid_param(subject) else "*"
            session.fail("REGISTER", "TEMPORARILY_UNAVAILABLE", subject, description=refused)
        return
    nick = session.user.nick if session.user is not None else session.nick
    if not nick:
        session.fail("REGISTER", "NEED_NICK", "*", description="Choose a nickname (NICK) before registering")
        return
    if name == "*":
        name = nick
    if current_account(session):
        session.fail(
            "REGISTER", "ALREADY_AUTHENTICATED", name, description="You are already logged in to an account"
        )
        return
    limit = session.hub.limits.nick_max
    if not is_valid_nick(name, limit):
        session.fail(
            "REGISTER",
            "BAD_ACCOUNT_NAME",
            name if is_valid_param(name) else "*",
            description=f"Account names are 1-{limit} {NICK_CHARS_HELP}",
        )
        return
    if casefold(name) != casefold(nick):
        session.fail(
            "REGISTER",
            "ACCOUNT_NAME_MUST_BE_NICK",
            name,
            description="You may only register your nickname as your account name",
        )
        return
    name = nick  # as the nickname is spelt
    if session.auth_pending is not None:
        session.fail(
            "REGISTER",
            "TEMPORARILY_UNAVAILABLE",
            name,
            description="Another login or registration is in progress",
        )
        return

    def done(error: ChatError | None) -> None:
        if error is not None:
            session.fail("REGISTER", _register_code(error, password), name, description=error.message)
            return
        session.server_line("REGISTER", "SUCCESS", name, "Account successfully registered")
        log_in(session, name)

    try:
        create(session, name, password, done)
    except ChatError as exc:
        session.fail("REGISTER", _register_code(exc, password), name, description=exc.message)
