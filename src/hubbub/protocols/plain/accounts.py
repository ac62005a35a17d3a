"""Accounts for plain-text users: ``/register``, ``/login``, ``/logout``, ``/password``, ``/replay``, and
registered rooms (``/register #room``, ``/unregister``).

Password hashing runs off the loop: the hub's account calls answer through a callback that arrives later,
after the session may have closed or started another request. So a session runs one account request at a
time (``session.busy``), and a callback does nothing for a session whose user is gone. Passwords are never
echoed back: no answer quotes what was typed in place of one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ...core.errors import ChatError
from ...core.model import Room, User
from ...core.names import ROOM_PREFIX, casefold
from .history import REPLAY_SETTING, replay_wanted
from .table import ACCOUNTS, command

if TYPE_CHECKING:
    from .session import PlainSession

log = logging.getLogger("hubbub.plain")

__all__ = [
    "cmd_ghost",
    "cmd_login",
    "cmd_logout",
    "cmd_password",
    "cmd_regain",
    "cmd_register",
    "cmd_register_room",
    "cmd_replay",
    "cmd_unregister",
]

_BUSY = "Wait: your last account request is still being checked"


def _start(session: PlainSession) -> bool:
    """Begin an account request; False (and an error line) if one is already running."""
    if session.busy:
        session.error(_BUSY)
        return False
    session.busy = True
    return True


@command("register", usage="/register PASSWORD", section=ACCOUNTS)
def cmd_register(session: PlainSession, user: User, arg: str) -> None:
    """register your nickname as an account and log in to it"""
    if not arg:
        session.error("Usage: /register PASSWORD (for your nickname) or /register #room")
        return
    if user.account:
        session.error(f"You are already logged in as {user.account}")
        return
    name = user.nick
    if casefold(name).startswith(casefold(session.hub.limits.guest_prefix)):
        session.error("Choose your nickname first (/nick NAME): a guest nickname cannot be registered")
        return
    if not _start(session):
        return

    def done(error: ChatError | None) -> None:
        session.busy = False
        if session.user is not user:
            return  # the session closed meanwhile
        if error is not None:
            session.error(error.message)
            return
        session.hub.log_in(user, name)
        log.info("%s logged in to account %s", user.real_hostmask, name)  # as IRC logs it
        session.notice(
            f"You registered the account {name} and are logged in. Next time: /login PASSWORD"
            f" as {name}, or /login {name} PASSWORD"
        )

    try:
        session.hub.accounts.create(name, arg, done, address=session.link.peer_host)
    except ChatError:
        session.busy = False
        raise


@command("login", "identify", usage="/login [NAME] PASSWORD", section=ACCOUNTS)
def cmd_login(session: PlainSession, user: User, arg: str) -> None:
    """log in (NAME is your nickname if left out)"""
    words = arg.split()
    if len(words) == 1:
        name, password = user.nick, words[0]
    elif len(words) == 2:
        name, password = words
    else:
        session.error("Usage: /login PASSWORD or /login NAME PASSWORD")
        return
    if user.account:
        session.error(f"You are already logged in as {user.account}; /logout first")
        return
    if not _start(session):
        return

    def done(account: str | None) -> None:
        session.busy = False
        if session.user is not user:
            return
        if account is None:
            session.error(f"Login failed: wrong password, or no account named {name}")
            return
        session.hub.log_in(user, account)
        log.info("%s logged in to account %s", user.real_hostmask, account)  # as IRC logs it
        session.load_comforts(account)  # the account's /set comforts
        session.notice(f"You are logged in as {account}")
        _take_account_nick(session, user, account)
        session.deliver_memos(account)

    try:
        session.hub.accounts.verify(name, password, done, address=session.link.peer_host, method="/login")
    except ChatError:
        session.busy = False
        raise


def _take_account_nick(session: PlainSession, user: User, account: str) -> None:
    """Logged in, a person goes by its account's nickname: from whoever holds it without being logged in to
    it (disconnected, as GHOST does); someone logged in to it (another device) keeps it."""
    hub = session.hub
    if casefold(user.nick) == casefold(account):
        return
    holder = hub.find_user(account)
    try:
        if holder is not None:
            if casefold(holder.account) == casefold(account):
                session.notice(f"{holder.nick} is logged in to {account} too: you stay {user.nick}")
                return
            hub.nicks.ghost(user, account)
        if hub.change_nick(user, account) is not None:
            session.notice(f"You are now known as {user.nick}")
    except ChatError as exc:
        session.error(f"You stay {user.nick}: {exc.message}")


@command("ghost", usage="/ghost NICK", section=ACCOUNTS)
def cmd_ghost(session: PlainSession, user: User, arg: str) -> None:
    """disconnect whoever holds your account's nickname (logged in)"""
    if not arg:
        session.error("Usage: /ghost NICK")
        return
    gone = session.hub.nicks.ghost(user, arg.split(maxsplit=1)[0])
    session.notice(f"{gone.nick} has been disconnected")


@command("regain", usage="/regain NICK", section=ACCOUNTS)
def cmd_regain(session: PlainSession, user: User, arg: str) -> None:
    """the same, and take the nickname (logged in)"""
    if not arg:
        session.error("Usage: /regain NICK")
        return
    nick = arg.split(maxsplit=1)[0]
    hub = session.hub
    if hub.find_user(nick) is not None:
        hub.nicks.ghost(user, nick)
    if hub.change_nick(user, nick) is not None:
        session.notice(f"You are now known as {user.nick}")


@command("logout", usage="/logout", section=ACCOUNTS)
def cmd_logout(session: PlainSession, user: User, arg: str) -> None:
    """log out"""
    account = user.account
    session.hub.log_out(user)  # ChatError if not logged in
    session.notice(f"You are logged out of {account}")


@command("password", usage="/password NEW", section=ACCOUNTS)
def cmd_password(session: PlainSession, user: User, arg: str) -> None:
    """change your password (logged in)"""
    if not arg:
        session.error("Usage: /password NEW")
        return
    account = user.account
    if not account:
        session.error("You are not logged in: /login first")
        return
    if not _start(session):
        return

    def done(error: ChatError | None) -> None:
        session.busy = False
        if session.user is not user:
            return
        if error is not None:
            session.error(error.message)
        else:
            session.notice(f"The password of {account} is changed")

    try:
        session.hub.accounts.change_password(account, arg, done)
    except ChatError:
        session.busy = False
        raise


@command("replay", usage="/replay on|off", section=ACCOUNTS)
def cmd_replay(session: PlainSession, user: User, arg: str) -> None:
    """show a room's recent lines when you join it, or not (logged in)"""
    choice = arg.lower()
    if not choice:
        state = "on" if replay_wanted(session, user) else "off"
        session.notice(f"Recent messages are shown when you join a room: {state}. Usage: /replay on|off")
        return
    if choice not in ("on", "off"):
        session.error("Usage: /replay on|off")
        return
    if not user.account:
        session.error("Log in to keep settings: /register PASSWORD or /login")
        return
    session.hub.accounts.set_setting(user.account, REPLAY_SETTING, None if choice == "on" else "off")
    session.notice(f"Recent messages are shown when you join a room: {choice}")


@command("register", usage="/register #room", section=ACCOUNTS, when=ROOM_PREFIX)
def cmd_register_room(session: PlainSession, user: User, arg: str) -> None:
    """register the room you are in (its operator, logged in): it keeps its
    settings when empty and across restarts, and you are its operator"""
    name = arg.split(maxsplit=1)[0]
    room = session.current_room()
    if room is None:
        session.error("You are not in a room: /join it, then /register #room")
        return
    if casefold(name) != room.key:
        # Not the room one is in: maybe a password starting with #, so the text is not quoted back.
        session.error(
            f"You can only register the room you are in ({room.name}); a password cannot start with #"
        )
        return
    session.hub.register_room(user, room)
    session.notice(
        f"{room.name} is registered to your account {user.account}: it keeps its settings when empty and"
        " across restarts, and you are its operator when you join it"
    )


@command("unregister", usage="/unregister [#room]", section=ACCOUNTS)
def cmd_unregister(session: PlainSession, user: User, arg: str) -> None:
    """drop a room's registration (its founder)"""
    room: Room | None
    if arg:
        name = arg.split(maxsplit=1)[0]
        room = session.hub.find_room(name if name.startswith(ROOM_PREFIX) else ROOM_PREFIX + name)
        if room is None:
            session.error(f"No such room: {name}")
            return
    else:
        room = session.current_room()
        if room is None:
            session.error("Usage: /unregister #room")
            return
    session.hub.unregister_room(user, room)
    session.notice(f"{room.name} is no longer registered")
