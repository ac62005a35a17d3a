"""Server operators: OPER, KILL and WALLOPS."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from ....wire import numerics as n
from ....wire.irc import Message
from ..render import line, mode_params
from ..table import command

if TYPE_CHECKING:
    from ..session import IrcSession

NOT_OPER = "Permission Denied- You're not an IRC operator"


@command("OPER", min_params=2)
def oper(session: IrcSession, msg: Message) -> None:
    """OPER <name> <password>: become a server operator."""
    user = session.user
    assert user is not None
    name, password = msg.params[0], msg.params[1]
    expected = session.options.opers.get(name)
    if expected is None:
        session.numeric(n.ERR_NOOPERHOST, "No O-lines for your host")
        return
    if not hmac.compare_digest(password.encode(), expected.encode()):
        session.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
        return
    changes = session.hub.make_oper(user, name)
    session.numeric(n.RPL_YOUREOPER, "You are now an IRC operator")
    if changes:
        session.send(line(f":{user.nick} MODE {user.nick} :{mode_params(changes)[0]}"))


@command("KILL", min_params=1)
def kill(session: IrcSession, msg: Message) -> None:
    """KILL <nick> :<reason>: disconnect someone from the server (operators only)."""
    user = session.user
    assert user is not None
    if not user.oper:
        session.numeric(n.ERR_NOPRIVILEGES, NOT_OPER)
        return
    reason = msg.params[1] if len(msg.params) > 1 and msg.params[1] else "No reason given"
    session.hub.kill(user, msg.params[0], reason)


@command("WALLOPS", min_params=1)
def wallops(session: IrcSession, msg: Message) -> None:
    """WALLOPS :<text>: send a message to everyone with user mode +w (operators only)."""
    user = session.user
    assert user is not None
    if not user.oper:
        session.numeric(n.ERR_NOPRIVILEGES, NOT_OPER)
        return
    session.hub.wallops(user, msg.params[0])
