"""One IRC client: registration, capability negotiation, command dispatch and replies. Sans-I/O.

Bytes come in through :meth:`IrcSession.data_received`; each complete line is parsed by the codec in
:mod:`hubbub.wire.irc` and dispatched through the declarative command table (:mod:`.table`), which sends the
standard errors (451 before registration, 461 for missing parameters, 421 for unknown commands) in one place.
Replies go out through the link, or, while a ``label``-tagged command runs, are gathered and sent as IRCv3
labeled-response.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from ...core.errors import ChatError, Reason
from ...core.events import Event, Presence, ServerNotice
from ...core.hub import Hub
from ...core.model import User
from ...wire import numerics as n
from ...wire.irc import InputTooLong, Message, ParseError, escape_tag_value, line, params, parse
from ...wire.lines import LineBuffer, LineTooLong
from ..base import FloodWords, Link
from .caps import RENDER_MASK, Cap
from .render import render
from .table import COMMANDS, NOT_OPER

if TYPE_CHECKING:
    from .options import IrcOptions

__all__ = ["IrcSession"]

log = logging.getLogger("hubbub.irc")

#: The most tag data a client may send: 4094 bytes, 4096 with the ``@`` and the space (IRCv3 message-tags).
CLIENT_TAGS = 4096

#: Numerics for the hub's refusals, with the parameters each takes before its text.
ERROR_NUMERICS: dict[Reason, str] = {
    Reason.NICK_IN_USE: n.ERR_NICKNAMEINUSE,
    Reason.BAD_NICK: n.ERR_ERRONEUSNICKNAME,
    Reason.BAD_ROOM: n.ERR_NOSUCHCHANNEL,  # as ergo answers an invalid or over-long channel name
    Reason.NO_SUCH_NICK: n.ERR_NOSUCHNICK,
    Reason.NO_SUCH_ROOM: n.ERR_NOSUCHCHANNEL,
    Reason.NOT_IN_ROOM: n.ERR_NOTONCHANNEL,
    Reason.ALREADY_IN_ROOM: n.ERR_USERONCHANNEL,
    Reason.USER_NOT_IN_ROOM: n.ERR_USERNOTINCHANNEL,
    Reason.USER_IN_ROOM: n.ERR_USERONCHANNEL,
    Reason.CANNOT_SEND: n.ERR_CANNOTSENDTOCHAN,
    Reason.CHANOP_NEEDED: n.ERR_CHANOPRIVSNEEDED,
    Reason.BANNED: n.ERR_BANNEDFROMCHAN,
    Reason.INVITE_ONLY: n.ERR_INVITEONLYCHAN,
    Reason.ROOM_FULL: n.ERR_CHANNELISFULL,
    Reason.BAD_KEY: n.ERR_BADCHANNELKEY,
    Reason.TOO_MANY_ROOMS: n.ERR_TOOMANYCHANNELS,
    Reason.UNKNOWN_MODE: n.ERR_UNKNOWNMODE,
    Reason.KEY_SET: n.ERR_KEYSET,
    Reason.NO_PRIVILEGES: n.ERR_NOPRIVILEGES,
}

ERROR_TEXT: dict[str, str] = {
    n.ERR_NICKNAMEINUSE: "Nickname is already in use",
    n.ERR_ERRONEUSNICKNAME: "Erroneous nickname",
    n.ERR_BADCHANMASK: "Bad Channel Mask",
    n.ERR_NOSUCHNICK: "No such nick/channel",
    n.ERR_NOSUCHCHANNEL: "No such channel",
    n.ERR_NOTONCHANNEL: "You're not on that channel",
    n.ERR_USERNOTINCHANNEL: "They aren't on that channel",
    n.ERR_USERONCHANNEL: "is already on channel",
    n.ERR_CANNOTSENDTOCHAN: "Cannot send to channel",
    n.ERR_CHANOPRIVSNEEDED: "You're not channel operator",
    n.ERR_BANNEDFROMCHAN: "Cannot join channel (+b)",
    n.ERR_INVITEONLYCHAN: "Cannot join channel (+i)",
    n.ERR_CHANNELISFULL: "Cannot join channel (+l)",
    n.ERR_BADCHANNELKEY: "Cannot join channel (+k)",
    n.ERR_TOOMANYCHANNELS: "You have joined too many channels",
    n.ERR_NOPRIVILEGES: NOT_OPER,
}


class IrcSession(FloodWords):
    """One IRC client connection."""

    __slots__ = (
        "account",
        "active",
        "auth_pending",
        "batch_ids",
        "cap_negotiating",
        "cap_version",
        "caps",
        "closing",
        "connected_at",
        "counted",
        "held",
        "hub",
        "idle_since",
        "label",
        "lines",
        "link",
        "nick",
        "options",
        "password",
        "ping_sent",
        "realname",
        "registered",
        "replies",
        "sasl_data",
        "sasl_mech",
        "user",
        "username",
        "variant",
        "webirc",
    )

    protocol: ClassVar[str] = "irc"

    @property
    def exempt_from_flood(self) -> bool:
        return self.user is not None and bool(self.user.oper)

    def __init__(self, link: Link, hub: Hub, options: IrcOptions) -> None:
        self.link = link
        self.hub = hub
        self.options = options
        self.lines = LineBuffer(options.max_line)
        self.user: User | None = None
        self.nick = ""
        self.username = ""
        self.realname = ""
        self.password: str | None = None
        self.registered = False
        #: Enabled capabilities, as Cap bits; ``variant`` is the part of them that changes rendering.
        self.caps = 0
        self.variant = 0
        self.cap_negotiating = False
        self.cap_version = 0
        self.label: str | None = None
        self.replies: list[bytes] = []
        self.batch_ids = itertools.count(1)
        self.connected_at = self.idle_since = time.monotonic()
        self.ping_sent = 0.0
        self.active = False
        self.closing = False
        #: Whether this connection is in the hub's count of unregistered connections.
        self.counted = False
        #: The account logged in to before registration (SASL, REGISTER), passed on to the hub on registering.
        self.account = ""
        #: The SASL exchange in progress: its mechanism ("" for none) and the base64 data gathered so far.
        self.sasl_mech = ""
        self.sasl_data = ""
        #: A password check or account creation in flight (its callback clears it); registration waits for it.
        self.auth_pending: object | None = None
        #: Server notices that came before the welcome burst (nickname protection), sent right after it.
        self.held: list[bytes] = []
        #: WEBIRC: none yet (0), its password being checked (registration waits), done (commands.gateways).
        self.webirc = 0

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.hub.unregistered += 1
        self.counted = True

    def uncount(self) -> None:
        """Leave the hub's count of unregistered connections (on registering or closing; idempotent)."""
        if self.counted:
            self.counted = False
            self.hub.unregistered -= 1

    def data_received(self, data: bytes) -> None:
        self.active = True
        for raw in self.lines.feed(data):
            if self.closing:
                return
            if isinstance(raw, LineTooLong):
                self.numeric(n.ERR_INPUTTOOLONG, "Input line was too long")
                continue
            try:
                msg = parse(
                    raw, max_body=self.options.max_body, max_tags=min(self.options.max_tags, CLIENT_TAGS)
                )
            except InputTooLong:
                self.numeric(n.ERR_INPUTTOOLONG, "Input line was too long")
                continue
            except ParseError:
                continue
            if not raw.isascii() and self.registered and not _is_utf8(raw):
                # UTF8ONLY (as ergo): what others would get as U+FFFD is refused to its sender instead.
                self.dispatch(msg, invalid_utf8=True)
                continue
            self.dispatch(msg)

    def eof_received(self) -> None:
        self.close("connection closed")

    def connection_lost(self, reason: str) -> None:
        self.closing = True
        self.uncount()
        user, self.user = self.user, None
        if user is not None:
            self.hub.quit(user, reason[:1].upper() + reason[1:])

    def shutdown(self) -> None:
        self.send(line("ERROR :Server shutting down"))

    def tick(self, now: float) -> None:
        """Called every few seconds by the network layer: line, registration and ping timeouts."""
        options = self.options
        if not self.closing and self.lines.incomplete_for(now) > options.line_timeout:
            self.disconnect("Line timeout")
            return
        if not self.registered:
            if now - self.connected_at > options.registration_timeout:
                self.send(line("ERROR :Closing Link: registration timed out"))
                self.close("Registration timed out")
            return
        if self.active:
            self.active = False
            self.idle_since = now
            self.ping_sent = 0.0
            return
        if self.ping_sent:
            if now - self.ping_sent > options.ping_timeout:
                waited = int(now - self.idle_since)
                self.disconnect(f"Ping timeout: {waited} seconds")  # ERROR :Closing Link, then the close
        elif now - self.idle_since > options.ping_interval:
            self.ping_sent = now
            self.send(line(f"PING :{options.server_name}"))

    # -- the core's Client interface ------------------------------------------------------------------------

    def render(self, event: Event) -> bytes | None:
        if type(event) is ServerNotice:
            # Addressed to this client alone, by its nickname.
            assert isinstance(event, ServerNotice)
            text = event.text
            if event.hint == "login":
                text += " Use /msg NickServ IDENTIFY <password>, or SASL."
            data = line(f":{self.options.server_name} NOTICE {event.user.nick} :{text}")
            if not self.registered:
                self.held.append(data)
                return None
            return data
        if type(event) is Presence:
            # Addressed to this client by nickname: rendered for each watcher, never shared.
            assert isinstance(event, Presence)
            if event.online:
                return line(f":{self.options.server_name} {n.RPL_MONONLINE} {self.me} :{event.user.hostmask}")
            return line(f":{self.options.server_name} {n.RPL_MONOFFLINE} {self.me} :{event.nick}")
        return render(event, self.variant)

    def disconnect(self, reason: str) -> None:
        self.send(line(f"ERROR :Closing Link: {self.link.peer_host} ({reason})"))
        self.close(reason)

    # -- dispatch -------------------------------------------------------------------------------------------

    def dispatch(self, msg: Message, *, invalid_utf8: bool = False) -> None:
        verb = msg.verb.upper()
        spec = COMMANDS.get(verb)
        label = None
        if msg.tags and self.caps & Cap.LABELED_RESPONSE:
            label = msg.tags.get("label")
            if label is not None:
                self.label = label
                self.replies = []
        try:
            user = self.user
            if invalid_utf8:
                self.fail(verb, "INVALID_UTF8", description="Message rejected for containing invalid UTF-8")
            elif spec is None:
                if self.registered:
                    self.numeric(n.ERR_UNKNOWNCOMMAND, msg.verb, "Unknown command")
                else:
                    self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
            elif spec.open is None and (not self.registered or user is None):
                self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
            elif len(msg.params) < spec.min_params or (spec.min_params and not msg.params[0]):
                self.numeric(n.ERR_NEEDMOREPARAMS, verb, "Not enough parameters")
            elif spec.oper and user is not None and not user.oper:
                self.numeric(n.ERR_NOPRIVILEGES, NOT_OPER)
            else:
                try:
                    if spec.handler is not None and user is not None:
                        spec.handler(self, user, msg)
                    elif spec.open is not None:
                        spec.open(self, msg)
                except ChatError as exc:
                    self.chat_error(exc)
        finally:
            if label is not None:
                self.label = None
                self._flush_labeled(label)

    def _flush_labeled(self, label: str) -> None:
        replies, self.replies = self.replies, []
        server = self.options.server_name
        # The label comes back escaped (IRCv3 message-tags): unescaped, a \r\n, a space or a ; in it would
        # break or forge the sender's line.
        tag = "label=" + escape_tag_value(label)
        if not replies:
            self.link.send(line(f"@{tag} :{server} ACK"))
        elif len(replies) == 1 and replies[0].count(b"\n") == 1:
            self.link.send(_add_tag(replies[0], tag))
        else:
            ref = f"L{next(self.batch_ids)}"
            out = [line(f"@{tag} :{server} BATCH +{ref} labeled-response")]
            batch_tag = "batch=" + ref
            for data in replies:
                for one in data.splitlines(keepends=True):
                    # A line of a nested batch (CHATHISTORY) keeps its own batch tag; the nested batch's
                    # BATCH lines, which have none, get the outer one.
                    out.append(one if _has_batch_tag(one) else _add_tag(one, batch_tag))
            out.append(line(f":{server} BATCH -{ref}"))
            self.link.send(b"".join(out))

    # -- output ---------------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self.label is not None:
            self.replies.append(data)
        else:
            self.link.send(data)

    @property
    def me(self) -> str:
        """How numerics address this client: its nickname, or ``*`` before it has one."""
        return self.user.nick if self.user is not None else (self.nick or "*")

    def numeric(self, code: str, *args: str) -> None:
        """``:server CODE nick args``: the last of several arguments after ``:`` (its text), as servers do."""
        self.send(line(f":{self.options.server_name} {code} {self.me} {params(args, len(args) > 1)}"))

    def numerics(self, rows: Iterable[tuple[str, ...]], code: str) -> None:
        prefix = f":{self.options.server_name} {code} {self.me} "
        self.send(b"".join(line(prefix + params(row, len(row) > 1)) for row in rows))

    def server_line(self, verb: str, *args: str) -> None:
        self.send(line(f":{self.options.server_name} {verb} {params(args, len(args) > 1)}"))

    def fail(self, command: str, code: str, *context: str, description: str) -> None:
        """An IRCv3 standard reply: ``FAIL <command> <code> [context...] :<description>``."""
        self.server_line("FAIL", command, code, *context, description)

    def chat_error(self, exc: ChatError) -> None:
        code = ERROR_NUMERICS.get(exc.reason)
        if exc.reason is Reason.BAD_NICK or exc.reason is Reason.NICK_IN_USE:
            self.numeric(
                code or n.ERR_ERRONEUSNICKNAME, exc.subject, ERROR_TEXT[code or n.ERR_ERRONEUSNICKNAME]
            )
        elif exc.reason in (Reason.USER_NOT_IN_ROOM, Reason.USER_IN_ROOM):
            assert code is not None
            self.numeric(code, exc.nick, exc.subject, ERROR_TEXT[code])
        elif exc.reason is Reason.ALREADY_IN_ROOM:
            pass  # joining a channel one is in is silently ignored, as ergo does
        elif exc.reason in (Reason.INVALID_PARAM, Reason.NEED_PARAM, Reason.UNKNOWN_MODE):
            self.numeric(n.ERR_INVALIDMODEPARAM, exc.subject, exc.message)
        elif code is not None:
            self.numeric(code, exc.subject, ERROR_TEXT.get(code, exc.message))
        else:
            self.numeric(n.ERR_UNKNOWNERROR, exc.subject, exc.message)

    def echo(self, event: Event) -> None:
        """Send this client its own copy of an event it caused (the bytes fan-out rendered for its variant,
        if it did)."""
        data = self.hub.fanout.rendered(event, self.variant) or render(event, self.variant)
        if data:
            self.send(data)

    def close(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.uncount()
        user, self.user = self.user, None
        if user is not None:
            self.hub.quit(user, reason)
        self.link.close(reason)

    def set_caps(self, caps: int) -> None:
        self.caps = caps
        variant = caps & RENDER_MASK
        if variant != self.variant:
            self.variant = variant
            if self.user is not None:
                self.hub.fanout.variant_changed(self.user)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_batch_tag(data: bytes) -> bool:
    if data[:1] != b"@":
        return False
    tags = data[1 : data.find(b" ")]
    return tags.startswith(b"batch=") or b";batch=" in tags


def _add_tag(data: bytes, tag: str) -> bytes:
    """Add ``tag`` to one rendered line, merging it with the line's tags if it has some."""
    encoded = tag.encode()
    if data[:1] == b"@":
        return b"@" + encoded + b";" + data[1:]
    return b"@" + encoded + b" " + data
