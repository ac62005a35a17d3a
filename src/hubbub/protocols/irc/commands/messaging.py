"""Messages: PRIVMSG, NOTICE and TAGMSG to channels and nicknames, with CTCP ACTION as an action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....core import memos
from ....core.errors import ChatError, Reason
from ....core.events import MessageKind
from ....core.model import User
from ....wire import numerics as n
from ....wire.irc import Message
from ..caps import Cap
from ..options import MAX_TARGETS
from ..table import command
from .services import run as run_service
from .services import service_name

if TYPE_CHECKING:
    from ..session import IrcSession


def _client_tags(msg: Message) -> dict[str, str] | None:
    """The client-only tags (``+name``) of a message, which are relayed to clients that accept tags."""
    if not msg.tags:
        return None
    tags = {key: value for key, value in msg.tags.items() if key[:1] == "+"}
    return tags or None


def _fit(text: str, room: int) -> str:
    """``text`` cut, at a character boundary, to at most ``room`` bytes of UTF-8."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= room:
        return text
    return data[: max(room, 0)].decode("utf-8", "ignore")


def _deliver(session: IrcSession, user: User, msg: Message, kind: MessageKind) -> None:
    verb = msg.verb.upper()
    notice = kind is MessageKind.NOTICE
    if not msg.params or not msg.params[0]:
        if not notice:
            session.numeric(n.ERR_NORECIPIENT, f"No recipient given ({verb})")
        return
    if kind is not MessageKind.TAGS and (len(msg.params) < 2 or not msg.params[1]):
        if not notice:
            session.numeric(n.ERR_NOTEXTTOSEND, "No text to send")
        return
    text = msg.params[1] if kind is not MessageKind.TAGS else ""
    if kind is MessageKind.SAY and text.startswith("\x01ACTION ") and len(text) > 8:
        kind = MessageKind.ACTION
        text = text[8:].removesuffix("\x01")
    tags = _client_tags(msg) if session.caps & Cap.MESSAGE_TAGS else None
    hub = session.hub
    targets = msg.params[0].split(",")
    if len(targets) > MAX_TARGETS:
        session.numeric(n.ERR_TOOMANYTARGETS, msg.params[0], f"Too many targets (at most {MAX_TARGETS})")
        return
    echo = session.caps & Cap.ECHO_MESSAGE
    # What the relayed line adds around the text: ":<nick!user@host> <VERB> <target> :", and the CTCP framing.
    overhead = len(user.hostmask.encode()) + len(verb) + 5 + (9 if kind is MessageKind.ACTION else 0)
    for target in targets:
        status = ""
        name = target
        while name[:1] in ("@", "+"):
            status = "@" if status == "@" or name[0] == "@" else "+"
            name = name[1:]
        # A text that fit in the client's line but not in the relayed one is cut short, as ergo does.
        budget = 510 - overhead - len(status) - len(name.encode())
        body = text if len(text) * 4 <= budget else _fit(text, budget)
        service = service_name(name) if not status else None
        if service is not None:
            # A command for NickServ or ChanServ: never relayed, recorded or echoed (it may hold a password).
            if kind is MessageKind.SAY:
                run_service(session, user, service, text)
            continue
        try:
            if name.startswith("#"):
                room = hub.require_room(name)
                event = hub.say(user, room, body, kind, tags, status)
            else:
                event = hub.private(user, target, body, kind, tags)
                recipient = event.target
                if (
                    not notice
                    and kind is not MessageKind.TAGS
                    and isinstance(recipient, User)
                    and recipient.away
                ):
                    session.numeric(n.RPL_AWAY, recipient.nick, recipient.away)
        except ChatError as exc:
            if notice:
                continue
            if (
                exc.reason is Reason.NO_SUCH_NICK
                and kind is MessageKind.SAY
                and not name.startswith("#")
                and hub.find_user(name) is None  # nobody at all under that name
            ):
                try:  # a registered account nobody is connected as: kept for its next login
                    account = memos.leave(hub, user, name, body)
                except ChatError:
                    pass
                else:
                    session.server_line(
                        "NOTICE",
                        user.nick,
                        f"{account} is not connected: your message will be delivered when {account} logs in",
                    )
                    continue
            session.chat_error(exc)
            continue
        if echo:
            session.echo(event)


@command("PRIVMSG")
def privmsg(session: IrcSession, user: User, msg: Message) -> None:
    """PRIVMSG <target>[,<target>...] :<text>: send a message to channels or nicknames."""
    _deliver(session, user, msg, MessageKind.SAY)


@command("NOTICE")
def notice(session: IrcSession, user: User, msg: Message) -> None:
    """NOTICE <target>[,<target>...] :<text>: like PRIVMSG, but never answered automatically."""
    _deliver(session, user, msg, MessageKind.NOTICE)


@command("TAGMSG")
def tagmsg(session: IrcSession, user: User, msg: Message) -> None:
    """TAGMSG <target>: a message of tags only (typing notifications, reactions)."""
    _deliver(session, user, msg, MessageKind.TAGS)
