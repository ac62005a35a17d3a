"""The plain-text session: lifecycle, input, the command dispatcher and the chat commands.

Account commands live in :mod:`.accounts`, history commands in :mod:`.history`, room commands in
:mod:`.room_commands`, commands about people and the server in :mod:`.people`, operator commands in
:mod:`.operators`; every command is declared with :func:`.table.command` (verbs, usage, help text, section,
operators only), ``/help`` is generated from that table, and a ChatError a command raises becomes an
``! error`` line.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import ClassVar

from ...core import memos
from ...core.errors import ChatError, Reason
from ...core.events import Event, Message, MessageKind
from ...core.fanout import Fanout
from ...core.hub import Hub
from ...core.model import Room, User
from ...core.names import ROOM_PREFIX, casefold
from ...core.rooms import check_entry, first_rooms, members_seen_by, visible_to
from ...wire.lines import LineBuffer, LineTooLong
from ...wire.masks import match_mask
from ...wire.telnet import IAC, Telnet
from ...wire.text import clean_line
from ..base import Link
from . import accounts, history, operators, people, room_commands  # noqa: F401 - commands join the table
from .comforts import Comforts, load
from .options import PlainOptions
from .render import PERSONAL, RENDERERS, history_line, line, lines
from .table import COMMANDS, GENERAL, NOT_OPER, command, command_help, help_text

__all__ = ["COMMANDS", "PlainSession", "help_text"]

#: On joining, at most this many of the other members are named.
NAMES_SHOWN = 10


class PlainSession:
    """One plain-text client."""

    __slots__ = (
        "busy",
        "comforts",
        "deferred",
        "hub",
        "ignored",
        "lines",
        "link",
        "options",
        "room",
        "telnet",
        "user",
        "variant",
    )

    protocol: ClassVar[str] = "plain"

    @property
    def pastes(self) -> bool:
        """A person types here: a paste is tolerated, and told how it is slowed."""
        return True

    @property
    def exempt_from_flood(self) -> bool:
        return self.user is not None and bool(self.user.oper)

    def slowed(self, queued: int) -> None:
        if queued:
            self.notice(f"slow down: {queued} line{'s' if queued != 1 else ''} queued")

    def lagging(self, behind: float, limit: float) -> None:
        self.notice(f"you are {behind:.0f} seconds behind; past {limit:.0f} you will be disconnected")

    def flooded(self, lines: float) -> bytes | None:
        return line(f"! You were disconnected for flooding (more than {lines:g} lines a second)")

    def tick(self, now: float) -> None:
        """Called every few seconds by the network layer. Someone idle stays however long; a line started and
        left unfinished (drip-fed) closes the connection after ``line_timeout``."""
        if self.user is not None and self.lines.incomplete_for(now) > self.options.line_timeout:
            self.error(f"Your line stayed unfinished for over {self.options.line_timeout:g} seconds; goodbye")
            self.leave("Line timeout")

    def __init__(self, link: Link, hub: Hub, options: PlainOptions) -> None:
        self.link = link
        self.hub = hub
        self.options = options
        self.lines = LineBuffer(options.max_line)
        self.user: User | None = None
        self.room: Room | None = None
        #: An account request (password hashing) is running off the loop: others wait for its answer.
        self.busy = False
        #: While a command runs, the server notices it causes wait here, to follow the command's own answer.
        self.deferred: list[bytes] | None = None
        #: The telnet protocol, from the first telnet command the client sends (netcat sends none).
        self.telnet: Telnet | None = None
        #: The nicknames (casefolded) whose lines and private messages this connection does not show.
        self.ignored: set[str] = set()
        #: /set timestamps, bell, colors (see .comforts)
        self.comforts = Comforts()
        #: Every plain-text session renders events the same way, but one that ignores someone (/ignore) or
        #: has comforts on (/set) renders for itself alone (kept by comforts_changed).
        self.variant: Hashable = "plain"

    # -- lifecycle (called by the network layer) ------------------------------------------------------------

    def start(self) -> None:
        try:
            user = self.user = self.hub.connect(
                self, self.link, username="plain", realname="plain-text user", host=self.link.peer_host
            )
        except ChatError as exc:  # a server ban (K-line)
            self.error(exc.message)
            self.link.close("K-Lined" if exc.reason is Reason.K_LINED else exc.message)
            return
        self.notice(f"Welcome to {self.options.server_name}, {user.nick}! Type /help for commands.")
        if self.options.motd is not None:
            self.send_motd()
        try:
            self.join(self.options.default_room)
        except ChatError as exc:  # the room is full, or bans this user
            self.error(f"{exc.message}; /join #room to go to another room")

    def data_received(self, data: bytes) -> None:
        if self.telnet is not None or IAC in data:
            data = self._telnet(data)
        for raw in self.lines.feed(data):
            if self.user is None:
                return
            if isinstance(raw, LineTooLong):
                self.error(f"Line too long (the limit is {raw.limit} bytes); it was not sent")
            else:
                self.handle_line(raw)

    def _telnet(self, data: bytes) -> bytes:
        """Take the telnet commands out of ``data`` and answer them (see wire.telnet): the option answers as
        they are, Ctrl-C and Are-You-There in words."""
        telnet = self.telnet
        if telnet is None:
            telnet = self.telnet = Telnet()
        data = telnet.feed(data)
        if telnet.replies:
            self.link.send(bytes(telnet.replies))
            telnet.replies.clear()
        if telnet.interrupts:
            telnet.interrupts = 0
            self.notice("Ctrl-C does not leave the chat here: type /quit to leave")
        if telnet.present:
            telnet.present = 0
            self.notice(f"Yes, you are connected to {self.options.server_name}")
        return data

    def eof_received(self) -> None:
        # A last line without a newline still counts.
        for raw in self.lines.feed(b"\n"):
            if self.user is None:
                break
            if not isinstance(raw, LineTooLong):
                self.handle_line(raw)
        self.leave("connection closed")

    def connection_lost(self, reason: str) -> None:
        user, self.user = self.user, None
        if user is not None:
            self.hub.quit(user, reason)

    def shutdown(self) -> None:
        if self.user is not None:
            self.notice("Server shutting down. Goodbye!")

    # -- the core's Client interface ------------------------------------------------------------------------

    def disconnect(self, reason: str) -> None:
        if self.user is not None:
            self.error(f"You were disconnected ({reason})")
        self.leave(reason)

    def render(self, event: Event) -> bytes | None:
        kind = type(event)
        if self.ignored and kind is Message and casefold(event.user.nick) in self.ignored:
            return None
        renderer = RENDERERS.get(kind)
        personal = None if renderer is not None else PERSONAL.get(kind)
        if renderer is not None:
            data = renderer(event)
        elif personal is not None:
            data = personal(self.user, event)
        else:
            return None
        if data is None:
            return None
        if self.comforts:
            data = self.comforts.decorate(event, data, self.user)
        if personal is not None and self.deferred is not None:
            self.deferred.append(data)
            return None
        return data

    def current_room(self) -> Room | None:
        """The room this user is in; ``None`` once it has left it (kicked, for instance)."""
        room = self.room
        if room is not None and self.user not in room.members:
            room = self.room = None
        return room

    # -- input ----------------------------------------------------------------------------------------------

    def handle_line(self, raw: bytes) -> None:
        text = clean_line(raw)
        if not text.strip():
            return
        if text[0] == "/":
            if text[1:2] == "/":
                text = text[1:]
            else:
                self._command(text)
                return
        self._say(text, MessageKind.SAY)

    def _command(self, text: str) -> None:
        verb, _, arg = text[1:].partition(" ")
        spec = COMMANDS.get(verb.lower())
        if spec is None:
            self.error(f"Unknown command /{verb}; type /help for the list")
            return
        user = self.user
        if user is None:
            return
        self.deferred = []
        try:
            arg = arg.strip()
            if spec.forms:
                spec = spec.form(arg)  # before the check: each form declares its own
            if spec.oper and not user.oper:
                raise ChatError(Reason.NO_PRIVILEGES, "", NOT_OPER)
            spec.handler(self, user, arg)
        except ChatError as exc:
            self.error(exc.message)
        finally:
            deferred, self.deferred = self.deferred, None
            if self.user is not None:
                for data in deferred:
                    self.link.send(data)

    def _say(self, text: str, kind: MessageKind) -> None:
        assert self.user is not None
        room = self.current_room()
        if room is None:
            self.error("You are not in a room: /join #room first")
            return
        try:
            self.hub.say(self.user, room, text, kind)
        except ChatError as exc:
            self.error(exc.message)

    # -- chat commands --------------------------------------------------------------------------------------

    @command("nick", usage="/nick NAME", section=GENERAL)
    def cmd_nick(self, user: User, arg: str) -> None:
        """change your nickname"""
        if not arg:
            self.notice(f"You are {user.nick}. Usage: /nick NAME")
            return
        if self.hub.change_nick(user, arg.split(maxsplit=1)[0]) is not None:
            self.notice(f"You are now known as {user.nick}")

    @command("join", usage="/join #room [key]", section=GENERAL)
    def cmd_join(self, user: User, arg: str) -> None:
        """go to a room (created if it does not exist; a room with a key needs it)"""
        words = arg.split()
        if not words:
            self.error("Usage: /join #room [key]")
            return
        self.join(words[0], words[1] if len(words) > 1 else "")

    @command("part", "leave", usage="/part", section=GENERAL)
    def cmd_part(self, user: User, arg: str) -> None:
        """leave the current room"""
        room = self.current_room()
        if room is None:
            self.error("You are not in a room")
            return
        self.room = None
        self.hub.part(user, room, arg)
        self.notice(f"You left {room.name}. /join #room to go to another room, /rooms to list them")

    @command("rooms", "list", usage="/rooms [pattern]", section=GENERAL)
    def cmd_rooms(self, user: User, arg: str) -> None:
        """list the rooms (those whose name holds the pattern) and how many are in each"""
        hub = self.hub
        if not hub.listings.allow(len(hub.rooms), hub.now()):  # many listings at once: the budget is spent
            self.error("The server is busy listing rooms; try again in a few seconds")
            return
        rooms: Iterable[Room] = [room for room in hub.rooms.values() if visible_to(room, user)]
        self.link.charge_scan(len(hub.rooms))  # a loop of listings is slowed like a flood
        if arg:
            pattern = arg if "*" in arg or "?" in arg else f"*{arg}*"
            rooms = [room for room in rooms if match_mask(pattern, room.name)]
            if not rooms:
                self.notice(f"No room matches {arg}")
                return
        elif not rooms:
            self.notice("There are no rooms; /join #room creates one")
            return
        shown, more = first_rooms(rooms, self.hub.limits.list_rooms)
        count = len(shown) + more
        rows = [f"* {count} room{'s' if count != 1 else ''}:"]
        rows += [f"*   {room.name} ({len(room)} member{'s' if len(room) != 1 else ''})" for room in shown]
        if more:
            rows.append(f"* {more} more: narrow with a pattern (/rooms word)")
        self.send_lines(rows)

    @command("who", "names", usage="/who [#room]", section=GENERAL)
    def cmd_who(self, user: User, arg: str) -> None:
        """list the members of the current room (or of #room);
        @ marks its operators, + those with voice"""
        room = self.current_room()
        if arg:
            found = self.hub.find_room(arg if arg.startswith("#") else "#" + arg)
            if found is None or not (user.oper or visible_to(found, user)):  # secret: no room to outsiders
                self.error(f"No such room: {arg}")
                return
            room = found
        if room is None:
            self.error("You are not in a room; /who #room names one")
            return
        members = sorted(members_seen_by(room, user, everyone=bool(user.oper)), key=lambda m: m.nick.lower())
        statuses = room.members
        nicks = [_marked(m.nick, statuses.get(m, "")) for m in members]
        mine = " (you are an operator here)" if "o" in statuses.get(user, "") else ""
        self.notice(f"{len(nicks)} in {room.name}: {', '.join(nicks)}{mine}")

    @command("msg", usage=("/msg NICK text", "/msg #room text"), section=GENERAL)
    def cmd_msg(self, user: User, arg: str) -> None:
        """send a private message

        post to a room (one you are in, or one open to outsiders)"""
        nick, _, text = arg.partition(" ")
        if not nick or not text.strip():
            self.error("Usage: /msg NICK text, or /msg #room text")
            return
        if nick.startswith(ROOM_PREFIX):
            room = self.hub.find_room(nick)
            if room is None or not (user in room.members or visible_to(room, user)):
                self.error(f"No such room: {nick}")
                return
            self.hub.say(user, room, text)
            self.link.send(line(f"-> {room.name} <{user.nick}> {text}"))
            return
        try:
            event = self.hub.private(user, nick, text)
        except ChatError as exc:
            if exc.reason is not Reason.NO_SUCH_NICK or self.hub.find_user(nick) is not None:
                raise  # (someone holds the name without its account: not delivered, as it says)
            account = memos.leave(self.hub, user, nick, text)  # a registered account nobody is connected as
            self.notice(f"{account} is not here: your message will be delivered when {account} logs in")
            return
        target = event.target
        assert isinstance(target, User)
        self.link.send(line(f"-> *{target.nick}* {text}"))
        if target.away:
            self.notice(f"{target.nick} is away: {target.away}")

    @command("me", usage="/me action", section=GENERAL)
    def cmd_me(self, user: User, arg: str) -> None:
        """describe an action (* you wave)"""
        if not arg:
            self.error("Usage: /me action")
            return
        self._say(arg, MessageKind.ACTION)

    @command("quit", "exit", usage="/quit [reason]", section=GENERAL)
    def cmd_quit(self, user: User, arg: str) -> None:
        """leave the server"""
        self.notice("Goodbye!")
        self.leave(arg or "quit")

    @command("help", usage=("/help", "/help COMMAND"), section=GENERAL)
    def cmd_help(self, user: User, arg: str) -> None:
        """this text

        the help of one command"""
        if not arg:
            self.link.send(lines(help_text().split("\n")))
            return
        verb = arg.split(maxsplit=1)[0]
        found = command_help(verb)
        if found is None:
            self.error(f"No command {verb}; type /help for the list")
            return
        self.link.send(lines(found))

    # -- helpers --------------------------------------------------------------------------------------------

    def join(self, name: str, key: str = "") -> None:
        user = self.user
        assert user is not None
        hub = self.hub
        name = hub.normalize_room(name)
        target = hub.find_room(name)
        current = self.current_room()
        if target is not None and target is current:
            self.error(f"You are already in {target.name}")
            return
        if current is not None:
            if target is not None:
                check_entry(user, target, key)  # a wrong key or a ban leaves the user where it was
            self.room = None
            hub.part(user, current, "")
        room = self.room = hub.join(user, name, key).room
        count = len(room.members) - 1
        if not count:
            self.notice(f"You are in {room.name}, alone for now")
        elif count <= NAMES_SHOWN:
            others = sorted((m.nick for m in room.members if m is not user), key=str.lower)
            self.notice(f"You are in {room.name} with {', '.join(others)}")
        else:
            # A big room: name the first few to arrive, not thousands (/who lists them all).
            first = [
                m.nick for m, _ in zip(room.members, range(NAMES_SHOWN + 1), strict=False) if m is not user
            ]
            names = ", ".join(first[:NAMES_SHOWN])
            self.notice(
                f"You are in {room.name} with {names} and {count - NAMES_SHOWN} others (/who lists them)"
            )
        if room.topic:
            self.notice(f"Topic: {room.topic}")
        history.replay(self, user, room)

    def leave(self, reason: str) -> None:
        """Quit the hub now (others are told ``reason``), then flush and close the connection."""
        user, self.user = self.user, None
        self.room = None
        if user is not None:
            self.hub.quit(user, reason)
        self.link.close(reason)

    def set_ignored(self, ignored: set[str]) -> None:
        """Ignore these nicknames (casefolded): this session renders for itself while it ignores anyone."""
        self.ignored = ignored
        self.comforts_changed()

    def deliver_memos(self, account: str) -> None:
        """Logged in to ``account``: the messages left for it while nobody was connected as it."""
        waiting = memos.take(self.hub, account)
        if waiting:
            now = self.hub.now()
            shown = [text for msg in waiting if (text := history_line(msg, now)) is not None]
            count = f"{len(waiting)} messages" if len(waiting) > 1 else "a message"
            self.send_lines([f"* While you were away, {count} came:", *shown, "* --- end of messages ---"])

    def load_comforts(self, account: str) -> None:
        """Logged in to ``account``: its /set comforts, where it keeps any."""
        load(self, account)

    def comforts_changed(self) -> None:
        """What this session renders changed (/ignore, /set): its rooms group their members again."""
        self.variant = ("plain", id(self)) if self.ignored or self.comforts else "plain"
        if self.user is not None:
            Fanout.variant_changed(self.user)

    def send_motd(self) -> None:
        """The server's message of the day, as plain lines."""
        motd = self.options.motd
        if motd is None:
            self.notice(f"{self.options.server_name} has no message of the day")
            return
        self.send_lines(
            [f"* Message of the day of {self.options.server_name}:"] + [f"*   {row}" for row in motd]
        )

    def notice(self, text: str) -> None:
        self.link.send(self.comforts.notice(line("* " + text)))

    def error(self, text: str) -> None:
        self.link.send(self.comforts.error(line("! " + text)))

    def send_lines(self, texts: list[str]) -> None:
        """Several lines in one piece of output."""
        self.link.send(lines(texts))


def _marked(nick: str, status: str) -> str:
    """``nick`` as /who shows it: ``@`` for a room operator, ``+`` for a member with voice."""
    if "o" in status:
        return "@" + nick
    if "v" in status:
        return "+" + nick
    return nick
