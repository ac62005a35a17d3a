"""Server information: LUSERS and MOTD (sent after registration too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....wire import numerics as n
from ....wire.irc import Message
from ..table import command

if TYPE_CHECKING:
    from ....core.model import User
    from ..session import IrcSession


def lusers_text(session: IrcSession) -> str:
    """The LUSERS replies (251-255, 265, 266) as wire text."""
    hub = session.hub
    users = len(hub.users)
    hidden = hub.invisible
    most = hub.max_users
    head = f":{session.options.server_name} "
    me = session.me
    shown = users - hidden
    return (
        f"{head}{n.RPL_LUSERCLIENT} {me} :There are {shown} users and {hidden} invisible on 1 server(s)\r\n"
        f"{head}{n.RPL_LUSEROP} {me} {hub.opers} :IRC Operators online\r\n"
        f"{head}{n.RPL_LUSERUNKNOWN} {me} {hub.unregistered} :unregistered connections\r\n"
        f"{head}{n.RPL_LUSERCHANNELS} {me} {len(hub.rooms)} :channels formed\r\n"
        f"{head}{n.RPL_LUSERME} {me} :I have {users} clients and 0 servers\r\n"
        f"{head}{n.RPL_LOCALUSERS} {me} {users} {most} :Current local users {users}, max {most}\r\n"
        f"{head}{n.RPL_GLOBALUSERS} {me} {users} {most} :Current global users {users}, max {most}\r\n"
    )


def motd_text(session: IrcSession) -> str:
    """The MOTD (375, 372..., 376) or 422 as wire text."""
    return session.me.join(session.options.motd_lines())


@command("LUSERS")
def lusers(session: IrcSession, user: User, msg: Message) -> None:
    """LUSERS: how many users, operators and channels there are."""
    session.send(lusers_text(session).encode())


@command("MOTD")
def motd(session: IrcSession, user: User, msg: Message) -> None:
    """MOTD: the message of the day."""
    session.send(motd_text(session).encode("utf-8", "replace"))
