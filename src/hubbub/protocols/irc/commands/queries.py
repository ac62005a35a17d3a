"""Queries about users and the server: WHO (and WHOX), WHOIS, WHOWAS, ISON, USERHOST, MONITOR, AWAY, SETNAME,
VERSION, TIME, INFO, LINKS, ADMIN and HELP.

Where the specifications leave a choice, hubbub does what ergo does: invisible users (``+i``, which every IRC
user gets on connecting) are listed by WHO only to those who share a channel with them, and their channels are
left out of WHOIS for the same people; IRC operators see everything.
"""

from __future__ import annotations

import ipaddress
import textwrap
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ....core.model import Room, User
from ....core.names import casefold, is_valid_nick
from ....core.rooms import members_seen_by
from ....wire import numerics as n
from ....wire.irc import Message, line
from ....wire.masks import compile_mask, match_mask
from ..caps import Cap
from ..options import MONITOR_MAX
from ..table import COMMANDS, command
from .channels import prefix_of, visible_in
from .services import send_whois as send_service_whois
from .services import service_name

if TYPE_CHECKING:
    from ..session import IrcSession

#: How the server describes itself (RPL_WHOISSERVER, RPL_VERSION, RPL_LINKS).
SERVER_INFO = "hubbub chat server"


#: Characters that make a WHO target a mask rather than a nickname.
_MASK_CHARS = frozenset("*?!@")

#: WHOX fields, in the order they are sent (ircv3 whox).
_WHOX_ORDER = "tcuihsnfdlaor"

USERHOST_MAX = 5

#: HELP text is wrapped at this many characters.
HELP_WIDTH = 300


# -- helpers -------------------------------------------------------------------------------------------------


def _text(session: IrcSession, code: str, *params: str) -> None:
    """A numeric whose last parameter is text, always sent as a trailing parameter (even a single word)."""
    head = " ".join((session.options.server_name, code, session.me, *params[:-1]))
    session.send(line(f":{head} :{params[-1]}"))


def _param(host: str) -> str:
    """A host as a middle parameter: IPv6 addresses such as ``::1`` get a leading ``0``."""
    return "0" + host if host[:1] == ":" else host


def _ip_of(viewer: User, target: User) -> str:
    """WHOX ``i``: the address ``target`` connects from, shown to itself and to operators only (as in ergo:
    255.255.255.255 to the others, and when it is no IP address)."""
    if viewer is not target and not _is_oper(viewer):
        return "255.255.255.255"
    try:
        ipaddress.ip_address(target.ip)
    except ValueError:
        return "255.255.255.255"
    return _param(target.ip)


def _is_oper(user: User) -> bool:
    return bool(user.oper)


def _shares_room(a: User, b: User) -> bool:
    small, large = (a.rooms, b.rooms) if len(a.rooms) <= len(b.rooms) else (b.rooms, a.rooms)
    return any(key in large for key in small)


def _sees(viewer: User, target: User) -> bool:
    """Whether ``viewer`` may see ``target`` in a WHO listing by mask."""
    return target is viewer or "i" not in target.modes or _is_oper(viewer) or _shares_room(viewer, target)


def _idle(user: User, now: float) -> int:
    return max(0, int(now - user.last_active))


def _lines(items: Iterable[str], sep: str, room: int) -> list[str]:
    """Join ``items`` with ``sep`` into pieces of at most ``room`` bytes (one item may exceed it alone)."""
    pieces: list[str] = []
    current = ""
    size = 0
    for item in items:
        width = len(item.encode())
        if current and size + len(sep) + width > room:
            pieces.append(current)
            current, size = item, width
        elif current:
            current += sep + item
            size += len(sep) + width
        else:
            current, size = item, width
    if current:
        pieces.append(current)
    return pieces


def _text_list(
    session: IrcSession,
    code: str,
    middle: tuple[str, ...],
    items: Iterable[str],
    sep: str = " ",
    room: int = 0,
) -> None:
    """A numeric listing ``items`` in its trailing parameter, over as many lines as they need."""
    head = " ".join((f":{session.options.server_name}", code, session.me, *middle)) + " :"
    fits = 510 - len(head.encode())
    room = min(room, fits) if room else fits
    pieces = _lines(items, sep, max(room, 32))
    if pieces:
        session.send(b"".join(line(head + piece) for piece in pieces))


def _canonical_mask(mask: str) -> str:
    """Complete a WHO mask the way ergo does: ``nick`` -> ``nick!*@*``, ``user@host`` -> ``*!user@host``."""
    if "!" not in mask and "@" not in mask:
        return mask + "!*@*"
    if "!" not in mask:
        return "*!" + mask
    if "@" not in mask:
        return mask + "@*"
    return mask


def _words(params: Iterable[str]) -> list[str]:
    """Nicknames given either as separate parameters or as one space-separated trailing parameter."""
    return [word for param in params for word in param.split()]


def _elsewhere(session: IrcSession, msg: Message) -> bool:
    """Send ERR_NOSUCHSERVER if the command names a target server that is not this one."""
    if not msg.params or not msg.params[0]:
        return False
    target = msg.params[0]
    server = session.options.server_name
    if match_mask(target, server) or session.hub.find_user(target) is not None:
        return False
    session.numeric(n.ERR_NOSUCHSERVER, target, "No such server")
    return True


# -- WHO -----------------------------------------------------------------------------------------------------


def _who_flags(target: User, room: Room | None, multi: bool) -> str:
    flags = "G" if target.away else "H"
    if _is_oper(target):
        flags += "*"
    if room is not None:
        flags += prefix_of(room.members.get(target, ""), multi)
    return flags


def _who_line(session: IrcSession, room: Room | None, target: User, multi: bool) -> bytes:
    server = session.options.server_name
    channel = room.name if room is not None else "*"
    flags = _who_flags(target, room, multi)
    return line(
        f":{server} {n.RPL_WHOREPLY} {session.me} {channel} {target.username} {_param(target.host)} {server}"
        f" {target.nick} {flags} :0 {target.realname}"
    )


def _whox_line(
    session: IrcSession,
    viewer: User,
    room: Room | None,
    target: User,
    multi: bool,
    fields: str,
    token: str,
    now: float,
) -> bytes:
    server = session.options.server_name
    params: list[str] = []
    for field in _WHOX_ORDER:
        if field not in fields:
            continue
        if field == "t":
            params.append(token)
        elif field == "c":
            params.append(room.name if room is not None else "*")
        elif field == "u":
            params.append(target.username)
        elif field == "i":
            params.append(_ip_of(viewer, target))
        elif field == "h":
            params.append(_param(target.host))
        elif field == "s":
            params.append(server)
        elif field == "n":
            params.append(target.nick)
        elif field == "f":
            params.append(_who_flags(target, room, multi))
        elif field == "d":
            params.append("0")
        elif field == "l":
            params.append(str(_idle(target, now)))
        elif field == "a":
            params.append(target.account or "0")
        elif field == "o":
            params.append("*")  # channel op levels: not implemented, as in ergo
        else:  # "r"
            params.append(target.realname)
    if params:
        last = params[-1]
        if "r" in fields or not last or " " in last or last[0] == ":":
            params[-1] = ":" + last
    return line(" ".join((f":{server}", n.RPL_WHOSPCRPL, session.me, *params)))


def _who_matches(session: IrcSession, user: User, mask: str) -> list[tuple[Room | None, User]]:
    hub = session.hub
    oper = _is_oper(user)
    if mask[:1] == "#":
        room = hub.find_room(mask)
        if room is None or not (oper or visible_in(room, user)):
            return []
        return [(room, member) for member in members_seen_by(room, user, everyone=oper)]
    if not _MASK_CHARS.intersection(mask):
        target = hub.find_user(mask)
        return [(None, target)] if target is not None else []
    matches = compile_mask(_canonical_mask(mask))
    return [
        (None, target) for target in hub.users.values() if matches(target.hostmask) and _sees(user, target)
    ]


@command("WHO", min_params=1)
def who(session: IrcSession, user: User, msg: Message) -> None:
    """WHO <channel|nick|mask> [%<fields>[,<token>]]: list the members of a channel, or the users with a
    nickname or matching a nick!user@host mask. WHOX fields: t c u i h s n f d l a o r."""
    mask = msg.params[0]
    option = msg.params[1] if len(msg.params) > 1 else ""
    whox: str | None = None
    token = "0"
    if "%" in option:
        whox = option[option.index("%") + 1 :]
        comma = whox.find(",")
        if 0 <= comma < len(whox) - 1:
            whox, token = whox[:comma], whox[comma + 1 :]
    # "WHO <mask> o" asks for operators only; as ergo does, that lists nobody.
    found = _who_matches(session, user, mask) if option != "o" else []
    multi = bool(session.caps & Cap.MULTI_PREFIX)
    if whox is None:
        out = [_who_line(session, room, target, multi) for room, target in found]
    else:
        now = time.time()
        out = [_whox_line(session, user, room, target, multi, whox, token, now) for room, target in found]
    if out:
        session.send(b"".join(out))
    session.numeric(n.RPL_ENDOFWHO, mask, "End of WHO list")


# -- WHOIS, WHOWAS -------------------------------------------------------------------------------------------


def _whois_channels(viewer: User, target: User, multi: bool) -> list[str]:
    privileged = _is_oper(viewer)
    hidden = "i" in target.modes
    names: list[str] = []
    for room in target.rooms.values():
        if not privileged and (hidden or "s" in room.flags) and viewer not in room.members:
            continue
        names.append(prefix_of(room.members.get(target, ""), multi) + room.name)
    return names


def _send_whois(session: IrcSession, viewer: User, target: User) -> None:
    options = session.options
    nick = target.nick
    host = _param(target.host)
    session.numeric(n.RPL_WHOISUSER, nick, target.username, host, "*", target.realname)
    channels = _whois_channels(viewer, target, bool(session.caps & Cap.MULTI_PREFIX))
    _text_list(session, n.RPL_WHOISCHANNELS, (nick,), channels)
    session.numeric(n.RPL_WHOISSERVER, nick, options.server_name, SERVER_INFO)
    if _is_oper(target):
        session.numeric(n.RPL_WHOISOPERATOR, nick, "is an IRC operator")
    if viewer is target or _is_oper(viewer):  # the real address, as ergo shows it (not the cloak)
        real = _param(target.ip)
        session.numeric(
            n.RPL_WHOISACTUALLY, nick, f"{target.username}@{real}", real, "Actual user@host, Actual IP"
        )
        session.numeric(n.RPL_WHOISMODES, nick, "is using modes +" + "".join(sorted(target.modes)))
    if target.account:
        session.numeric(n.RPL_WHOISACCOUNT, nick, target.account, "is logged in as")
    if getattr(target.mailbox, "secure", False):  # the user's connection (a Link) is over TLS
        session.numeric(n.RPL_WHOISSECURE, nick, "is using a secure connection")
    now = time.time()
    session.numeric(
        n.RPL_WHOISIDLE,
        nick,
        str(_idle(target, now)),
        str(int(target.signon)),
        "seconds idle, signon time",
    )
    if target.away:
        _text(session, n.RPL_AWAY, nick, target.away)


@command("WHOIS")
def whois(session: IrcSession, user: User, msg: Message) -> None:
    """WHOIS [<server>] <nick>: who a user is, where they are and how long they have been idle."""
    query = msg.params[1] if len(msg.params) > 1 else (msg.params[0] if msg.params else "")
    if not query:
        session.numeric(n.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    nick = query.split(",")[0]
    target = session.hub.find_user(nick) if nick else None
    service = service_name(nick) if target is None else None
    if service is not None:
        send_service_whois(session, service)
    elif target is None:
        session.numeric(n.ERR_NOSUCHNICK, nick or query, "No such nick/channel")
    else:
        _send_whois(session, user, target)
    session.numeric(n.RPL_ENDOFWHOIS, query, "End of /WHOIS list")


@command("WHOWAS")
def whowas(session: IrcSession, user: User, msg: Message) -> None:
    """WHOWAS <nick>[,<nick>...] [<count>]: who used a nickname that is gone (the latest first)."""
    if not msg.params or not msg.params[0]:
        session.numeric(n.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    count = 0
    if len(msg.params) > 1:
        try:
            count = max(0, int(msg.params[1]))
        except ValueError:
            count = 0
    for nick in msg.params[0].split(","):
        if not nick:
            continue
        entries = session.hub.whowas.find(nick, count)
        if not entries:
            session.numeric(n.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
        for entry in entries:
            session.numeric(
                n.RPL_WHOWASUSER, entry.nick, entry.username, _param(entry.host), "*", entry.realname
            )
        session.numeric(n.RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


# -- ISON, USERHOST ------------------------------------------------------------------------------------------


@command("ISON", min_params=1)
def ison(session: IrcSession, user: User, msg: Message) -> None:
    """ISON <nick> [<nick>...]: which of these nicknames are online."""
    hub = session.hub
    online: list[str] = []
    for nick in _words(msg.params):
        found = hub.find_user(nick)
        name = found.nick if found is not None else service_name(nick)
        if name is not None:
            online.append(name)
    _text(session, n.RPL_ISON, " ".join(online))


@command("USERHOST", min_params=1)
def userhost(session: IrcSession, user: User, msg: Message) -> None:
    """USERHOST <nick> [<nick>...]: the user@host of up to five nicknames (* operator, - away, + here)."""
    hub = session.hub
    seen: set[User] = set()
    replies: list[str] = []
    for nick in _words(msg.params)[:USERHOST_MAX]:
        target = hub.find_user(nick)
        if target is None or target in seen:
            continue
        seen.add(target)
        oper = "*" if _is_oper(target) else ""
        away = "-" if target.away else "+"
        replies.append(f"{target.nick}{oper}={away}{target.username}@{target.host}")
    _text(session, n.RPL_USERHOST, " ".join(replies))


# -- MONITOR -------------------------------------------------------------------------------------------------


def _watched(session: IrcSession, user: User) -> list[str]:
    """The (case-folded) nicknames ``user`` watches, in the order they were added."""
    return session.hub.monitor.watched(user)


def _send_status(session: IrcSession, online: list[str], offline: list[str]) -> None:
    _text_list(session, n.RPL_MONONLINE, (), online, ",")
    _text_list(session, n.RPL_MONOFFLINE, (), offline, ",")


def _monitor_add(session: IrcSession, user: User, targets: list[str]) -> None:
    hub = session.hub
    nick_max = session.options.limits.nick_max
    watched = set(_watched(session, user))
    online: list[str] = []
    offline: list[str] = []
    for i, target in enumerate(targets):
        if not is_valid_nick(target, nick_max):
            continue
        key = casefold(target)
        if key not in watched:
            if len(watched) >= MONITOR_MAX:
                session.numeric(
                    n.ERR_MONLISTFULL, str(MONITOR_MAX), ",".join(targets[i:]), "Monitor list is full."
                )
                break
            hub.monitor.watch(user, (target,))
            watched.add(key)
        found = hub.find_user(target)
        if found is not None:
            online.append(found.hostmask)
        else:
            offline.append(target)
    _send_status(session, online, offline)


@command("MONITOR", min_params=1)
def monitor(session: IrcSession, user: User, msg: Message) -> None:
    """MONITOR + <nick>[,<nick>...] | - <nick>[,<nick>...] | C | L | S: be told when nicknames come online and
    go offline (+ add, - remove, C clear, L list, S status)."""
    hub = session.hub
    sub = msg.params[0].upper()
    if sub in ("+", "-"):
        if len(msg.params) < 2 or not msg.params[1]:
            session.numeric(n.ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
            return
        targets = [target for target in msg.params[1].split(",") if target]
        if sub == "+":
            _monitor_add(session, user, targets)
        else:
            hub.monitor.unwatch(user, targets)
    elif sub == "C":
        hub.monitor.unwatch_all(user)
    elif sub == "L":
        names: list[str] = []
        for key in _watched(session, user):
            found = hub.users.get(key)
            names.append(found.nick if found is not None else key)
        _text_list(session, n.RPL_MONLIST, (), names, ",")
        _text(session, n.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub == "S":
        online: list[str] = []
        offline: list[str] = []
        for key in _watched(session, user):
            found = hub.users.get(key)
            if found is not None:
                online.append(found.hostmask)
            else:
                offline.append(key)
        _send_status(session, online, offline)
    else:
        session.numeric(n.ERR_UNKNOWNERROR, "MONITOR", msg.params[0], "Unknown subcommand")


# -- AWAY, SETNAME -------------------------------------------------------------------------------------------


@command("AWAY")
def away(session: IrcSession, user: User, msg: Message) -> None:
    """AWAY [:<message>]: mark yourself away with a message, or back without one."""
    message = msg.params[0] if msg.params else ""
    session.hub.set_away(user, message)
    if user.away:
        session.numeric(n.RPL_NOWAWAY, "You have been marked as being away")
    else:
        session.numeric(n.RPL_UNAWAY, "You are no longer marked as being away")


@command("SETNAME")
def setname(session: IrcSession, user: User, msg: Message) -> None:
    """SETNAME :<realname>: change your real name (those who share a channel with you and use the setname
    capability are told)."""
    # ergo: several parameters are a realname typed without the colon ("/setname Jane Doe" sent raw).
    realname = " ".join(msg.params)
    if not realname or len(realname) > session.options.limits.realname_max:
        session.fail("SETNAME", "INVALID_REALNAME", description="Realname is not valid")
        return
    # Confirmed only to clients that negotiated setname: the others are answered silently, as the spec asks.
    session.echo(session.hub.set_realname(user, realname))


# -- the server: VERSION, TIME, INFO, LINKS, ADMIN, HELP -----------------------------------------------------


def send_isupport(session: IrcSession) -> None:
    tokens = session.options.isupport()
    for i in range(0, len(tokens), 13):
        session.numeric(n.RPL_ISUPPORT, *tokens[i : i + 13], "are supported by this server")


@command("VERSION")
def version(session: IrcSession, user: User, msg: Message) -> None:
    """VERSION [<server>]: the server's software version and the features it supports (ISUPPORT)."""
    if _elsewhere(session, msg):
        return
    options = session.options
    session.numeric(n.RPL_VERSION, options.version, options.server_name, SERVER_INFO)
    send_isupport(session)


@command("TIME")
def time_(session: IrcSession, user: User, msg: Message) -> None:
    """TIME [<server>]: the server's local time."""
    if _elsewhere(session, msg):
        return
    now = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    session.numeric(n.RPL_TIME, session.options.server_name, now)


@command("INFO")
def info(session: IrcSession, user: User, msg: Message) -> None:
    """INFO [<server>]: about the server software."""
    if _elsewhere(session, msg):
        return
    options = session.options
    started = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(session.hub.started))
    rows = [
        f"This is {options.version}, a chat server for plain-text (netcat, telnet) and IRC clients.",
        f"This server was created {options.created}.",
        f"It has been running since {started}.",
        "",
        "hubbub is released under the MIT license.",
    ]
    for row in rows:
        _text(session, n.RPL_INFO, row)
    _text(session, n.RPL_ENDOFINFO, "End of INFO list")


@command("LINKS")
def links(session: IrcSession, user: User, msg: Message) -> None:
    """LINKS: the servers of the network (this one alone)."""
    server = session.options.server_name
    session.numeric(n.RPL_LINKS, server, server, f"0 {SERVER_INFO}")
    session.numeric(n.RPL_ENDOFLINKS, "*", "End of /LINKS list")


@command("ADMIN")
def admin(session: IrcSession, user: User, msg: Message) -> None:
    """ADMIN [<server>]: who runs the server."""
    if _elsewhere(session, msg):
        return
    options = session.options
    session.numeric(n.RPL_ADMINME, options.server_name, "Administrative info")
    _text(session, n.RPL_ADMINLOC1, f"{options.server_name}, running {options.version}")
    _text(session, n.RPL_ADMINLOC2, f"Part of the {options.network} network")


def _help_subject(topic: str) -> str:
    """The subject of HELP replies: the topic asked for, upper-cased, or ``*`` when it is not a parameter."""
    if not topic or " " in topic or topic[0] == ":":
        return "*"
    return topic.upper()


@command("HELPOP")
@command("HELP")
def help_(session: IrcSession, user: User, msg: Message) -> None:
    """HELP [<command>]: the list of commands, or how to use one."""
    topic = msg.params[0].strip() if msg.params else ""
    subject = _help_subject(topic)
    if not topic or topic.upper() == "INDEX":
        _text(session, n.RPL_HELPSTART, subject, f"Commands of {session.options.server_name}:")
        _text_list(session, n.RPL_HELPTXT, (subject,), sorted(COMMANDS), room=200)
        _text(session, n.RPL_HELPTXT, subject, "HELP <command> tells how to use one.")
        _text(session, n.RPL_ENDOFHELP, subject, "End of /HELP")
        return
    spec = COMMANDS.get(topic.upper())
    if spec is None or not spec.help:
        session.numeric(n.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    # Paragraphs (separated by blank lines) become one line each, wrapped to fit a reply.
    rows: list[str] = []
    for paragraph in spec.help.split("\n\n"):
        rows += textwrap.wrap(" ".join(paragraph.split()), HELP_WIDTH) or [""]
    _text(session, n.RPL_HELPSTART, subject, rows[0])
    for row in rows[1:]:
        _text(session, n.RPL_HELPTXT, subject, row)
    _text(session, n.RPL_ENDOFHELP, subject, "End of /HELP")
