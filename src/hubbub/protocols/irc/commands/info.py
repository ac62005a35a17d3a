"""Server information: LUSERS and MOTD (sent after registration too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....wire import numerics as n
from ....wire.irc import Message
from ..table import command

if TYPE_CHECKING:
    from ..session import IrcSession


def send_lusers(session: IrcSession) -> None:
    hub = session.hub
    users = len(hub.users)
    invisible = hub.invisible
    session.numeric(
        n.RPL_LUSERCLIENT, f"There are {users - invisible} users and {invisible} invisible on 1 server(s)"
    )
    session.numeric(n.RPL_LUSEROP, str(hub.opers), "IRC Operators online")
    session.numeric(n.RPL_LUSERUNKNOWN, str(hub.unregistered), "unregistered connections")
    session.numeric(n.RPL_LUSERCHANNELS, str(len(hub.rooms)), "channels formed")
    session.numeric(n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    session.numeric(
        n.RPL_LOCALUSERS, str(users), str(hub.max_users), f"Current local users {users}, max {hub.max_users}"
    )
    session.numeric(
        n.RPL_GLOBALUSERS,
        str(users),
        str(hub.max_users),
        f"Current global users {users}, max {hub.max_users}",
    )


def send_motd(session: IrcSession) -> None:
    motd = session.options.motd
    if motd is None:
        session.numeric(n.ERR_NOMOTD, "MOTD File is missing")
        return
    server = session.options.server_name
    rows = [(f"- {server} Message of the day - ",)]
    rows += [(f"- {text}",) for text in motd]
    session.numerics(rows[:1], n.RPL_MOTDSTART)
    session.numerics(rows[1:], n.RPL_MOTD)
    session.numeric(n.RPL_ENDOFMOTD, "End of /MOTD command.")


@command("LUSERS")
def lusers(session: IrcSession, msg: Message) -> None:
    """LUSERS: how many users, operators and channels there are."""
    send_lusers(session)


@command("MOTD")
def motd(session: IrcSession, msg: Message) -> None:
    """MOTD: the message of the day."""
    send_motd(session)
