"""NickServ and ChanServ: account and channel registration as pseudo-services, the way ergo offers them.

``PRIVMSG NickServ :IDENTIFY secret`` (or the ``NS``/``NICKSERV`` and ``CS``/``CHANSERV`` commands) runs a
service command, declared with :func:`service_command` (its HELP line is its docstring, ``logged_in=True``
when it needs an account); the service answers with NOTICEs from ``NickServ!NickServ@services.hubbub``.
Messages to a service are never relayed, recorded in history, or echoed (they hold passwords).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ....core.errors import ChatError
from ....core.hub import SERVICE_NICKS
from ....core.names import casefold
from ....wire import numerics as n
from ....wire.irc import Message, line
from ..table import command
from . import accounts

if TYPE_CHECKING:
    from ....core.model import User
    from ..session import IrcSession

SERVICES_HOST = "services.hubbub"
NICKSERV = "NickServ"
CHANSERV = "ChanServ"

#: How each service spells its nickname, by folded nickname.
SERVICE_NAMES = {casefold(name): name for name in (NICKSERV, CHANSERV)}
assert set(SERVICE_NAMES) == SERVICE_NICKS

#: What the services say of themselves (WHOIS).
DESCRIPTIONS = {NICKSERV: "Nickname and account services", CHANSERV: "Channel registration services"}


def service_name(nick: str) -> str | None:
    """The service's spelling of ``nick`` if it names a service, else None."""
    return SERVICE_NAMES.get(casefold(nick))


def _time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


class _Reply:
    """NOTICEs from one service to one client."""

    __slots__ = ("head", "session")

    def __init__(self, session: IrcSession, service: str) -> None:
        self.session = session
        self.head = f":{service}!{service}@{SERVICES_HOST} NOTICE {session.me} :"

    def __call__(self, text: str) -> None:
        self.session.send(line(self.head + text))


Handler = Callable[["IrcSession", "User", _Reply, list[str]], None]

NOT_LOGGED_IN = "You're not logged into an account"


@dataclass(frozen=True, slots=True)
class ServiceCommand:
    """A service command: its handler, its line of the service's HELP (the handler's docstring), and whether
    it needs an account logged in to (checked once, by :func:`run`)."""

    handler: Handler
    help: str
    logged_in: bool


#: Each service's commands (upper-case name -> command), and their HELP lines in the order declared.
SERVICE_COMMANDS: dict[str, dict[str, ServiceCommand]] = {NICKSERV: {}, CHANSERV: {}}
SERVICE_HELP: dict[str, list[str]] = {NICKSERV: [], CHANSERV: []}


def service_command(service: str, *names: str, logged_in: bool = False) -> Callable[[Handler], Handler]:
    """Declare the decorated function as ``service``'s command ``names[0]`` (the others are aliases)."""

    def register(handler: Handler) -> Handler:
        spec = ServiceCommand(handler, (handler.__doc__ or "").strip(), logged_in)
        for name in names:
            SERVICE_COMMANDS[service][name] = spec
        SERVICE_HELP[service].append(spec.help)
        return handler

    return register


def run(session: IrcSession, user: User, service: str, text: str) -> None:
    """Run the service command ``text`` sent to ``service`` (a SERVICE_NAMES value) by a registered client."""
    reply = _Reply(session, service)
    words = text.split()
    if not words:
        words = ["HELP"]
    spec = SERVICE_COMMANDS[service].get(words[0].upper())
    if spec is None:
        short = "NS" if service == NICKSERV else "CS"
        reply(f"Unknown command {words[0]!r}. To see the available commands, run: /{short} HELP")
        return
    if spec.logged_in and not user.account:
        reply(NOT_LOGGED_IN)
        return
    try:
        spec.handler(session, user, reply, words[1:])
    except ChatError as exc:
        reply(exc.message)


# -- NickServ --------------------------------------------------------------------------------------------

NICKSERV_INTRO = "NickServ registers accounts and logs you in to them. Commands:"


@service_command(NICKSERV, "REGISTER")
def _ns_register(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """REGISTER <password> [email] - register your current nickname as an account"""
    if not args:
        reply("Syntax: REGISTER <password> [email]")
        return
    if user.account:
        reply("You're already logged into an account")
        return
    if session.auth_pending is not None:
        reply("Another login or registration is in progress")
        return
    name = user.nick

    def done(error: ChatError | None) -> None:
        if error is not None:
            reply(error.message)
            return
        reply(f"Account created: {name}")
        accounts.log_in(session, name)
        reply(f"You're now logged in as {name}")

    accounts.create(session, name, args[0], done)


@service_command(NICKSERV, "IDENTIFY", "LOGIN")
def _ns_identify(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """IDENTIFY [account] <password> - log in to an account (your nickname's if none is given)"""
    if not args:
        reply("Syntax: IDENTIFY [account] <password>")
        return
    if user.account:
        reply("You're already logged into an account")
        return
    if session.auth_pending is not None:
        reply("Another login or registration is in progress")
        return
    name, password = (args[0], args[1]) if len(args) > 1 else (user.nick, args[0])

    def done(account: str | None) -> None:
        if account is None:
            reply("Invalid account credentials")
            return
        accounts.log_in(session, account)
        reply(f"You're now logged in as {account}")

    accounts.verify(session, name, password, done, "NickServ IDENTIFY")


@service_command(NICKSERV, "LOGOUT", logged_in=True)
def _ns_logout(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """LOGOUT - log out of your account"""
    accounts.log_out(session, user)
    reply("You're now logged out")


@service_command(NICKSERV, "PASSWD", logged_in=True)
def _ns_passwd(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """PASSWD <new password> - change your account's password (PASSWD <old> <new> <new> also works)"""
    account = user.account
    if len(args) not in (1, 3):
        reply("Syntax: PASSWD <new password>")
        return
    if session.auth_pending is not None:
        reply("Another login or registration is in progress")
        return
    hub = session.hub

    def changed(error: ChatError | None) -> None:
        if not session.closing:
            reply(error.message if error is not None else "Password changed")

    if len(args) == 1:
        hub.accounts.change_password(account, args[0], changed)
        return
    old, new, again = args
    if new != again:
        reply("Passwords do not match")
        return

    def checked(ok: str | None) -> None:
        if ok is None:
            reply("Password incorrect")
            return
        try:
            hub.accounts.change_password(account, new, changed)
        except ChatError as exc:
            reply(exc.message)

    accounts.verify(session, account, old, checked, "NickServ PASSWD")


@service_command(NICKSERV, "SET", logged_in=True)
def _ns_set(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """SET REPLAY ON|OFF - whether joining a channel replays its recent history to you"""
    account = user.account
    if not args or args[0].upper() != "REPLAY":
        reply("Syntax: SET REPLAY ON|OFF")
        return
    settings = session.hub.accounts
    if len(args) < 2:
        state = settings.setting(account, "replay", "on").upper()
        reply(f"REPLAY is {state}")
        return
    value = args[1].lower()
    if value not in ("on", "off"):
        reply("Syntax: SET REPLAY ON|OFF")
        return
    settings.set_setting(account, "replay", value)
    does = "replays" if value == "on" else "does not replay"
    reply(f"REPLAY is now {value.upper()}: joining a channel {does} its recent history")


@service_command(NICKSERV, "INFO")
def _ns_info(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """INFO [account] - about an account (yours if none is given)"""
    name = args[0] if args else (user.account or user.nick)
    record = session.hub.store.get_account(casefold(name))
    if record is None:
        reply(f"No such account: {name}")
        return
    reply(f"Account: {record.name}")
    reply(f"Registered at: {_time(record.created)}")
    if casefold(user.account) == casefold(record.name):
        reply(f"Replay on join: {record.settings.get('replay', 'on').upper()}")


@service_command(NICKSERV, "GHOST", logged_in=True)
def _ns_ghost(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """GHOST <nickname> - disconnect whoever holds your account's nickname"""
    if not args:
        reply("Syntax: GHOST <nickname>")
        return
    gone = session.hub.nicks.ghost(user, args[0])
    reply(f"{gone.nick} has been disconnected")


@service_command(NICKSERV, "REGAIN", logged_in=True)
def _ns_regain(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """REGAIN <nickname> - disconnect whoever holds your account's nickname, and take it"""
    if not args:
        reply("Syntax: REGAIN <nickname>")
        return
    hub = session.hub
    if hub.find_user(args[0]) is not None:
        hub.nicks.ghost(user, args[0])
    event = hub.change_nick(user, args[0])  # ChatError if the holder (on another node) is not gone yet
    if event is not None:
        session.echo(event)
    reply(f"You have regained the nickname {user.nick}")


@service_command(NICKSERV, "HELP")
def _ns_help(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """HELP - this list"""
    reply(NICKSERV_INTRO)
    for text in SERVICE_HELP[NICKSERV]:
        reply(text)


# -- ChanServ --------------------------------------------------------------------------------------------

CHANSERV_INTRO = (
    "ChanServ registers channels: a registered channel keeps its topic, modes and lists across restarts,"
    " and its founder gets operator status on joining. Commands:"
)


@service_command(CHANSERV, "REGISTER")
def _cs_register(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """REGISTER <#channel> - register a channel you are an operator of (you must be logged in)"""
    if not args:
        reply("Syntax: REGISTER <#channel>")
        return
    hub = session.hub
    room = hub.require_room(args[0])
    hub.register_room(user, room)
    reply(f"Channel {room.name} successfully registered")


@service_command(CHANSERV, "DROP")
def _cs_drop(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """DROP <#channel> - unregister a channel you founded"""
    if not args:
        reply("Syntax: DROP <#channel>")
        return
    hub = session.hub
    room = hub.require_room(args[0])
    hub.unregister_room(user, room)
    reply(f"Channel {room.name} is no longer registered")


@service_command(CHANSERV, "INFO")
def _cs_info(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """INFO <#channel> - whether a channel is registered, and by whom"""
    if not args:
        reply("Syntax: INFO <#channel>")
        return
    room = session.hub.find_room(args[0])
    if room is None or not room.founder:
        reply(f"Channel {room.name if room is not None else args[0]} is not registered")
        return
    reply(f"Channel: {room.name}")
    reply(f"Founder: {room.founder}")
    reply(f"Registered at: {_time(room.created)}")


@service_command(CHANSERV, "HELP")
def _cs_help(session: IrcSession, user: User, reply: _Reply, args: list[str]) -> None:
    """HELP - this list"""
    reply(CHANSERV_INTRO)
    for text in SERVICE_HELP[CHANSERV]:
        reply(text)


# -- the NS/CS commands, WHOIS ---------------------------------------------------------------------------


@command("NICKSERV")
@command("NS")
def nickserv(session: IrcSession, user: User, msg: Message) -> None:
    """NS <command> [<arguments>]: talk to NickServ (NS HELP lists its commands)."""
    run(session, user, NICKSERV, " ".join(msg.params))


@command("CHANSERV")
@command("CS")
def chanserv(session: IrcSession, user: User, msg: Message) -> None:
    """CS <command> [<arguments>]: talk to ChanServ (CS HELP lists its commands)."""
    run(session, user, CHANSERV, " ".join(msg.params))


def send_whois(session: IrcSession, service: str) -> None:
    """WHOIS of a service (the caller sends RPL_ENDOFWHOIS)."""
    server = session.options.server_name
    session.numeric(n.RPL_WHOISUSER, service, service, SERVICES_HOST, "*", DESCRIPTIONS[service])
    session.numeric(n.RPL_WHOISSERVER, service, server, "Network services")
    session.numeric(n.RPL_WHOISOPERATOR, service, "is a network service")
