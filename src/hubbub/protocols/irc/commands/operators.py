"""Server operators: OPER, KILL, WALLOPS, KLINE, UNKLINE, STATS and REHASH.

OPER checks the configured password (a scrypt hash off the loop, or clear text, see core.opers); while a
check runs the session holds an attempt token in ``auth_pending``, as account logins do, so a second attempt
waits its turn and an answer arriving after the client left is dropped.

K-lines (core.klines) take ergo's and ratbox's syntax::

    KLINE [ANDKILL] [MYSELF] [<duration>] <mask> [ON <server>] [:<reason>]
    KLINE LIST                      (ergo)  /  STATS k   (ratbox: 216 n.RPL_STATSKLINE, 219)
    UNKLINE <mask>

A duration is minutes (``10``) or has units (``2h``, ``1d12h``); without one a K-line is permanent. Matching
users are always disconnected (ANDKILL is accepted and implied); a mask matching the operator is refused
unless MYSELF is given. Answers are server NOTICEs, as ergo sends them; the other operators are told too.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ....core.errors import ChatError
from ....core.klines import added_notice, describe, parse_duration, shown_reason
from ....core.model import User
from ....core.opers import check_oper
from ....wire import numerics as n
from ....wire.irc import Message, line
from ..render import mode_params
from ..table import NOT_OPER, command
from .accounts import begin, finish

if TYPE_CHECKING:
    from ..session import IrcSession

log = logging.getLogger("hubbub.oper")


#: What n.RPL_REHASHING names as the configuration file (the protocol layer does not know its path).
CONFIG_NAME = "config"


@command("OPER", min_params=2)
def oper(session: IrcSession, user: User, msg: Message) -> None:
    """OPER <name> <password>: become a server operator."""
    name, password = msg.params[0], msg.params[1]
    if session.auth_pending is not None:
        session.fail("OPER", "IN_PROGRESS", description="Another password check is in progress")
        return
    token = begin(session)

    def done(ok: bool | None) -> None:
        if not finish(session, token) or session.user is not user:
            return  # the client left meanwhile
        if not ok:  # no such operator (None) or a wrong password: the same answer, as ergo gives
            session.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
        else:
            changes = session.hub.make_oper(user, name)
            session.numeric(n.RPL_YOUREOPER, "You are now an IRC operator")
            if changes:
                session.send(line(f":{user.nick} MODE {user.nick} :{mode_params(changes)[0]}"))

    check_oper(session.hub, session.options.opers, user, name, password, done)


@command("KILL", min_params=1, oper=True)
def kill(session: IrcSession, user: User, msg: Message) -> None:
    """KILL <nick> :<reason>: disconnect someone from the server (operators only)."""
    reason = msg.params[1] if len(msg.params) > 1 and msg.params[1] else "No reason given"
    target = session.hub.kill(user, msg.params[0], reason)
    log.info("KILL: %s killed %s (%s)", user.real_hostmask, target.real_hostmask, reason[:200])


@command("WALLOPS", min_params=1, oper=True)
def wallops(session: IrcSession, user: User, msg: Message) -> None:
    """WALLOPS :<text>: send a message to everyone with user mode +w (operators only)."""
    session.hub.wallops(user, msg.params[0])


def tell_opers(session: IrcSession, me: User, text: str) -> None:
    """A server notice to the operator acting (as a reply) and to every other operator."""
    hub = session.hub
    session.server_line("NOTICE", me.nick, text)
    for other in list(hub.users.values()):
        if other.oper and other is not me:
            hub.notify(other, text)


@command("KLINE", min_params=1, oper=True)
def kline(session: IrcSession, user: User, msg: Message) -> None:
    """KLINE [duration] <user@host> :<reason>: ban a mask from the server (minutes, or 2h, 1d; none:
    permanent); KLINE LIST shows the K-lines (operators only)."""
    hub = session.hub
    params = list(msg.params)
    if params[0].upper() == "LIST":
        records = hub.klines.records()
        now = hub.klines.now()
        count = len(records)
        session.server_line(
            "NOTICE", user.nick, f"There {'is 1 K-line' if count == 1 else f'are {count} K-lines'}"
        )
        for record in records:
            session.server_line("NOTICE", user.nick, describe(record, now))
        return
    myself = False
    while params and params[0].upper() in ("ANDKILL", "MYSELF"):
        if params.pop(0).upper() == "MYSELF":
            myself = True
    try:
        duration = parse_duration(params[0]) if params else None
        if duration is not None:
            params.pop(0)
        if not params or not params[0]:
            session.numeric(n.ERR_NEEDMOREPARAMS, "KLINE", "Not enough parameters")
            return
        mask = params.pop(0)
        if len(params) >= 2 and params[0].upper() == "ON":
            del params[:2]  # one server: every K-line is ours
        reason = " ".join(params) or "No reason given"
        record, killed = hub.klines.add(user, mask, reason, duration, myself=myself)
    except ChatError as exc:
        session.server_line("NOTICE", user.nick, exc.message)
        return
    tell_opers(session, user, added_notice(user, record, duration, killed))


@command("UNKLINE", min_params=1, oper=True)
def unkline(session: IrcSession, user: User, msg: Message) -> None:
    """UNKLINE <user@host>: lift a K-line (operators only)."""
    try:
        record = session.hub.klines.remove(user, msg.params[0])
    except ChatError as exc:
        session.server_line("NOTICE", user.nick, exc.message)
        return
    log.info("UNKLINE: %s lifted the K-line on %s", user.real_hostmask, record.mask)
    tell_opers(session, user, f"{user.nick} removed the K-line on {record.mask}")


@command("STATS", min_params=1)
def stats(session: IrcSession, user: User, msg: Message) -> None:
    """STATS <letter>: server statistics; k: the K-lines (operators only), u: the uptime."""
    letter = msg.params[0][:1]
    if letter in ("k", "K"):
        if not user.oper:
            session.numeric(n.ERR_NOPRIVILEGES, NOT_OPER)
            return
        rows = []
        for record in session.hub.klines.records():
            userpart, _, host = record.mask.rpartition("@")
            rows.append(("K", host, "*", userpart, shown_reason(record.reason)))
        if rows:
            session.numerics(rows, n.RPL_STATSKLINE)
    elif letter == "u":
        up = int(time.time() - session.hub.started)
        days, rest = divmod(up, 86400)
        clock = time.strftime("%H:%M:%S", time.gmtime(rest))
        session.numeric(n.RPL_STATSUPTIME, f"Server Up {days} days {clock}")
    session.numeric(n.RPL_ENDOFSTATS, letter or "*", "End of /STATS report")


@command("REHASH", oper=True)
def rehash(session: IrcSession, user: User, msg: Message) -> None:
    """REHASH: reload the server's configuration file (operators only)."""
    ok, why = session.hub.rehash()
    log.log(logging.INFO if ok else logging.WARNING, "REHASH by %s: %s", user.real_hostmask, why)
    if ok:
        session.numeric(n.RPL_REHASHING, CONFIG_NAME, "Rehashing")
        session.server_line("NOTICE", user.nick, why)
    else:
        session.server_line("NOTICE", user.nick, f"REHASH failed: {why}")
