"""Connection registration and upkeep: PASS, NICK, USER, CAP, PING, PONG, QUIT."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from ....core import memos
from ....core.errors import ChatError, Reason
from ....core.klines import shown_reason
from ....wire import numerics as n
from ....wire.irc import Message, line
from ...irc.caps import CAPS, Cap, sts_value
from ..render import stored_message
from ..table import command
from .info import lusers_text, motd_text

if TYPE_CHECKING:
    from ....core.model import User
    from ..session import IrcSession


#: IrcSession.webirc: no WEBIRC yet (0), its password being checked (registration waits), or done
#: (commands.gateways).
WEBIRC_PENDING = 1
WEBIRC_DONE = 2

_USERNAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@command("PASS", min_params=1, pre_registration=True)
def pass_(session: IrcSession, msg: Message) -> None:
    """PASS <password>: the server password, sent before NICK and USER."""
    if session.registered:
        session.numeric(n.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    session.password = msg.params[0]


@command("NICK", pre_registration=True)
def nick(session: IrcSession, msg: Message) -> None:
    """NICK <nickname>: choose or change your nickname."""
    if not msg.params or not msg.params[0]:
        session.numeric(n.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    new = msg.params[0]
    user = session.user
    if user is not None:
        event = session.hub.change_nick(user, new)
        if event is not None:
            session.echo(event)
        return
    hub = session.hub
    hub.nicks.check(new, account=session.account)
    session.nick = new
    try_register(session)


@command("USER", min_params=4, pre_registration=True)
def user(session: IrcSession, msg: Message) -> None:
    """USER <username> 0 * :<realname>: identify yourself when connecting."""
    if session.registered or session.username:
        session.numeric(n.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    if not msg.params[3]:
        # An empty realname is refused like a missing one (modern.ircdocs.horse; irctest testEmptyRealname).
        session.numeric(n.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    raw = "".join(ch for ch in msg.params[0] if ch in _USERNAME_OK)[:19]
    session.username = "~" + (raw or "user")
    session.realname = msg.params[3][: session.options.limits.realname_max]
    try_register(session)


@command("CAP", min_params=1, pre_registration=True)
def cap(session: IrcSession, msg: Message) -> None:
    """CAP LS [302] | LIST | REQ :<caps> | END: negotiate IRCv3 capabilities."""
    sub = msg.params[0].upper()
    me = session.me
    if sub == "LS":
        if not session.registered:
            session.cap_negotiating = True
        version = 0
        if len(msg.params) > 1 and msg.params[1].isdigit():
            version = int(msg.params[1])
        session.cap_version = max(session.cap_version, version)
        values = {name: value for name, (_, value) in CAPS.items()}
        options = session.options
        sts = sts_value(options.sts_port, options.sts_duration, session.link.secure)
        if sts and version >= 302:
            # Advertised only (a CAP REQ for it is refused, NAK, as the spec allows), and only with its value.
            values["sts"] = sts
        if version >= 302:
            session.set_caps(session.caps | Cap.CAP_NOTIFY)  # implied by CAP LS 302
            tokens = [f"{name}={value}" if value else name for name, value in sorted(values.items())]
        else:
            tokens = sorted(values)
        _send_cap_list(session, me, "LS", tokens)
    elif sub == "LIST":
        enabled = [name for name, (bit, _) in CAPS.items() if session.caps & bit]
        _send_cap_list(session, me, "LIST", enabled)
    elif sub == "REQ":
        if len(msg.params) < 2:
            session.numeric(n.ERR_NEEDMOREPARAMS, "CAP", "Not enough parameters")
            return
        if not session.registered:
            session.cap_negotiating = True
        requested = msg.params[1].split()
        caps = session.caps
        for token in requested:
            name = token[1:] if token.startswith("-") else token
            entry = CAPS.get(name)
            if entry is None:
                session.server_line("CAP", me, "NAK", msg.params[1])
                return
            caps = caps & ~entry[0] if token.startswith("-") else caps | entry[0]
        session.set_caps(caps)
        session.server_line("CAP", me, "ACK", msg.params[1])
    elif sub == "END":
        if not session.registered:
            session.cap_negotiating = False
            try_register(session)
    else:
        session.numeric(n.ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")


def _send_cap_list(session: IrcSession, me: str, sub: str, tokens: list[str]) -> None:
    """Send a CAP LS/LIST reply, split over several lines (``*`` marking continuation) when long."""
    chunks: list[list[str]] = [[]]
    size = 0
    for token in tokens:
        if size + len(token) + 1 > 400 and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(token)
        size += len(token) + 1
    multiline = session.cap_version >= 302
    if not multiline:
        chunks = [[token for chunk in chunks for token in chunk]]
    for i, chunk in enumerate(chunks):
        more = ["*"] if i < len(chunks) - 1 else []
        session.server_line("CAP", me, sub, *more, " ".join(chunk))


def server_password_ok(session: IrcSession) -> bool:
    """Whether the client sent the server password (PASS), if the server has one."""
    expected = session.options.password
    if not expected:
        return True
    given = session.password
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def refused_before_registration(session: IrcSession) -> str:
    """Before connection registration, whether an account command (AUTHENTICATE, REGISTER) may run: ""
    if so (or once registered); otherwise why not, and a K-lined client has been closed (465, then ERROR),
    as connection registration would close it. The K-lines are checked against what is known so far
    (``*`` for a nickname or user name not sent yet); the server password must have been sent (PASS)."""
    if session.registered:
        return ""
    hub = session.hub
    if hub.klines:
        host = session.link.peer_host
        nick, username = session.nick or "*", session.username or "*"
        record = hub.klines.find_address(nick, username, host, hub.cloaks.host(host))
        if record is not None:
            _close_klined(session, shown_reason(record.reason))
            return "K-Lined"
    if not server_password_ok(session):
        return "Send the server password (PASS) first"
    return ""


def _close_klined(session: IrcSession, reason: str) -> None:
    """A server ban: 465, then ERROR, and the connection ends."""
    session.numeric(n.ERR_YOUREBANNEDCREEP, f"You are banned from this server ({reason})")
    session.send(line(f"ERROR :Closing Link: {session.link.peer_host} (K-Lined: {reason})"))
    session.close("K-Lined")


def try_register(session: IrcSession) -> None:
    """Complete registration once NICK and USER are in, capability negotiation has ended and no password
    check (an account's, a WEBIRC gateway's) is in flight (its answer calls this again). A SASL exchange
    still waiting for the client's data is aborted (906), as the IRCv3 sasl specification asks."""
    if session.registered or not session.nick or not session.username or session.cap_negotiating:
        return
    if session.auth_pending is not None or session.webirc == WEBIRC_PENDING or session.closing:
        return
    if session.sasl_mech:
        session.sasl_mech = session.sasl_data = ""
        session.numeric(n.ERR_SASLABORTED, "SASL authentication aborted")
    link = session.link
    if not server_password_ok(session):
        session.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
        session.send(line(f"ERROR :Closing Link: {link.peer_host} (Bad password)"))
        session.close("Bad password")
        return
    hub = session.hub
    try:
        user = hub.connect(
            session,
            link,
            nick=session.nick,
            username=session.username,
            host=link.peer_host,
            realname=session.realname,
            account=session.account,
        )
    except ChatError as exc:
        if exc.reason is Reason.K_LINED:
            _close_klined(session, exc.subject)
            return
        session.nick = ""
        session.chat_error(exc)
        return
    session.user = user
    session.registered = True
    session.uncount()
    session.password = None
    session.hub.set_user_modes(user, [("+i", None)])
    welcome(session, user)
    held, session.held = session.held, []
    for data in held:
        session.send(data)
    if user.account:  # logged in before registering (SASL): what was left for it meanwhile
        deliver_memos(session, user.account)


def deliver_memos(session: IrcSession, account: str) -> None:
    """The messages left for ``account`` while nobody was connected as it, between two notices."""
    waiting = memos.take(session.hub, account)
    if not waiting:
        return
    caps = session.caps
    count = f"{len(waiting)} messages" if len(waiting) > 1 else "a message"
    out = [line(f":{session.options.server_name} NOTICE {session.me} :While you were away, {count} came:")]
    out += [stored_message(msg, caps) for msg in waiting]
    out.append(line(f":{session.options.server_name} NOTICE {session.me} :--- end of messages ---"))
    session.send(b"".join(out))


def welcome(session: IrcSession, user: User) -> None:
    """The registration burst (001-005, LUSERS, MOTD, the user mode), as one write: its static part is
    rendered once per server (IrcOptions.welcome_lines)."""
    options = session.options
    me = user.nick
    burst = (
        f":{options.server_name} {n.RPL_WELCOME} {me}"
        f" :Welcome to the {options.network} IRC Network {user.hostmask}\r\n"
        + me.join(options.welcome_lines())
        + lusers_text(session)
        + motd_text(session)
        + f":{me} MODE {me} :+i\r\n"
    )
    session.send(burst.encode("utf-8", "replace"))


@command("PING", min_params=1, pre_registration=True)
def ping(session: IrcSession, msg: Message) -> None:
    """PING <token>: the server answers PONG with the same token."""
    server = session.options.server_name
    head = f":{server} PONG {server} :"
    # A token that would make the reply longer than 512 bytes is cut short, as ergo does.
    room = 510 - len(head.encode())
    token = msg.params[0].encode()[:room].decode("utf-8", "ignore")
    session.send(line(head + token))


@command("PONG", pre_registration=True)
def pong(session: IrcSession, msg: Message) -> None:
    """PONG <token>: the answer to the server's PING."""
    session.ping_sent = 0.0


@command("QUIT", pre_registration=True)
def quit_(session: IrcSession, msg: Message) -> None:
    """QUIT [:<reason>]: leave the server."""
    reason = msg.params[0] if msg.params and msg.params[0] else ""
    full = f"Quit: {reason}" if reason else "Quit"
    host = session.link.peer_host
    session.send(line(f"ERROR :Closing Link: {host} ({full})"))
    session.close(full)
