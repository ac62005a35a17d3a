"""The plain-text session: lifecycle, input, the command table and the chat commands.

Account commands live in :mod:`.accounts`, history commands in :mod:`.history`, operator commands in
:mod:`.operators`; every command is a function ``(session, argument)`` in :data:`COMMANDS`, and a ChatError
it raises becomes an ``! error`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from ...core.errors import ChatError, Reason
from ...core.events import Event, MessageKind
from ...core.hub import Hub
from ...core.model import Room, User
from ...wire.lines import LineBuffer, LineTooLong
from ...wire.text import clean_line
from ..base import Link
from . import accounts, history, operators
from .options import PlainOptions
from .render import CRLF, PERSONAL, RENDERERS, line

__all__ = ["COMMANDS", "HELP", "PlainSession"]

#: On joining, at most this many of the other members are named.
NAMES_SHOWN = 10


HELP = """\
Commands:
  /nick NAME              change your nickname
  /join #room             go to a room (it is created if it does not exist)
  /part                   leave the current room
  /rooms                  list the rooms and how many are in each
  /who                    list the members of the current room
  /msg NICK text          send a private message
  /me action              describe an action (* you wave)
  /quit [reason]          leave the server
  /help                   this text
History (times are UTC):
  /history [N]            the last N lines of this room (default 20, at most 500)
  /history NICK [N]       your private conversation with NICK
  /search WORDS           lines of this room holding every word (newest first)
Accounts:
  /register PASSWORD      register your nickname as an account and log in to it
  /login [NAME] PASSWORD  log in (NAME is your nickname if left out)
  /logout                 log out
  /password NEW           change your password (logged in)
  /replay on|off          show a room's recent lines when you join it, or not (logged in)
  /register #room         register the room you are in (its operator, logged in): it keeps its
                          settings when empty and across restarts, and you are its operator
  /unregister [#room]     drop a room's registration (its founder)
Operators:
  /kick NICK [reason]     remove someone from this room (room operators)
  /ban [MASK]             ban nick!user@host (or a nickname) from this room; alone: list the bans
  /unban MASK             lift a ban on this room
  /oper NAME PASSWORD     become a server operator
  /kill NICK [reason]     disconnect someone (server operators)
  /kline [TIME] MASK [reason]
                          ban user@host from the server for TIME minutes (or 2h, 1d; none: for good);
                          /kline alone lists the server bans (server operators)
  /unkline MASK           lift a server ban (server operators)
  /wallops text           a message to every operator (server operators)
A password has 6 to 300 characters, no spaces, and does not start with #.
A line that starts with / is a command; start it with // to say it as text."""


class PlainSession:
    """One plain-text client."""

    __slots__ = ("busy", "deferred", "hub", "lines", "link", "options", "room", "user")

    #: Every plain-text session renders events the same way.
    variant: ClassVar[str] = "plain"
    protocol: ClassVar[str] = "plain"

    @property
    def exempt_from_flood(self) -> bool:
        return self.user is not None and bool(self.user.oper)

    def tick(self, now: float) -> None:
        pass  # no timeouts

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
        try:
            self.join(self.options.default_room)
        except ChatError as exc:  # the room is full, or bans this user
            self.error(f"{exc.message}; /join #room to go to another room")

    def data_received(self, data: bytes) -> None:
        for raw in self.lines.feed(data):
            if self.user is None:
                return
            if isinstance(raw, LineTooLong):
                self.error(f"Line too long (the limit is {raw.limit} bytes); it was not sent")
            else:
                self.handle_line(raw)

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
            self.error(f"Closing Link: {self.link.peer_host} ({reason})")
        self.leave(reason)

    def render(self, event: Event) -> bytes | None:
        kind = type(event)
        renderer = RENDERERS.get(kind)
        if renderer is not None:
            return renderer(event)
        personal = PERSONAL.get(kind)
        if personal is None:
            return None
        data = personal(self.user, event)
        if data is not None and self.deferred is not None:
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
        handler = COMMANDS.get(verb.lower())
        if handler is None:
            self.error(f"Unknown command /{verb}; type /help for the list")
            return
        self.deferred = []
        try:
            handler(self, arg.strip())
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

    def cmd_help(self, arg: str) -> None:
        self.link.send(line(HELP.replace("\n", CRLF)))

    def cmd_nick(self, arg: str) -> None:
        assert self.user is not None
        if not arg:
            self.notice(f"You are {self.user.nick}. Usage: /nick NAME")
            return
        if self.hub.change_nick(self.user, arg.split(maxsplit=1)[0]) is not None:
            self.notice(f"You are now known as {self.user.nick}")

    def cmd_join(self, arg: str) -> None:
        if not arg:
            self.error("Usage: /join #room")
            return
        self.join(arg.split(maxsplit=1)[0])

    def cmd_part(self, arg: str) -> None:
        assert self.user is not None
        room = self.current_room()
        if room is None:
            self.error("You are not in a room")
            return
        self.room = None
        self.hub.part(self.user, room, arg)
        self.notice(f"You left {room.name}. /join #room to go to another room, /rooms to list them")

    def cmd_rooms(self, arg: str) -> None:
        rooms = self.hub.room_list()
        if not rooms:
            self.notice("There are no rooms; /join #room creates one")
            return
        lines = [f"* {len(rooms)} room{'s' if len(rooms) != 1 else ''}:"]
        lines += [f"*   {room.name} ({len(room)} member{'s' if len(room) != 1 else ''})" for room in rooms]
        self.send_lines(lines)

    def cmd_who(self, arg: str) -> None:
        room = self.current_room()
        if arg:
            found = self.hub.find_room(arg if arg.startswith("#") else "#" + arg)
            if found is None:
                self.error(f"No such room: {arg}")
                return
            room = found
        if room is None:
            self.error("You are not in a room; /who #room names one")
            return
        nicks = sorted((m.nick for m in room.members), key=str.lower)
        self.notice(f"{len(nicks)} in {room.name}: {', '.join(nicks)}")

    def cmd_msg(self, arg: str) -> None:
        assert self.user is not None
        nick, _, text = arg.partition(" ")
        if not nick or not text.strip():
            self.error("Usage: /msg NICK text")
            return
        event = self.hub.private(self.user, nick, text)
        target = event.target
        assert isinstance(target, User)
        self.link.send(line(f"-> *{target.nick}* {text}"))

    def cmd_me(self, arg: str) -> None:
        if not arg:
            self.error("Usage: /me action")
            return
        self._say(arg, MessageKind.ACTION)

    def cmd_quit(self, arg: str) -> None:
        self.notice("Goodbye!")
        self.leave(arg or "quit")

    # -- helpers --------------------------------------------------------------------------------------------

    def join(self, name: str) -> None:
        assert self.user is not None
        hub = self.hub
        name = hub.normalize_room(name)
        target = hub.find_room(name)
        current = self.current_room()
        if target is not None and target is current:
            self.error(f"You are already in {target.name}")
            return
        if current is not None:
            self.room = None
            hub.part(self.user, current, "")
        room = self.room = hub.join(self.user, name).room
        count = len(room.members) - 1
        if not count:
            self.notice(f"You are in {room.name}, alone for now")
        elif count <= NAMES_SHOWN:
            others = sorted((m.nick for m in room.members if m is not self.user), key=str.lower)
            self.notice(f"You are in {room.name} with {', '.join(others)}")
        else:
            # A big room: name the first few to arrive, not thousands (/who lists them all).
            first = [
                m.nick
                for m, _ in zip(room.members, range(NAMES_SHOWN + 1), strict=False)
                if m is not self.user
            ]
            names = ", ".join(first[:NAMES_SHOWN])
            self.notice(
                f"You are in {room.name} with {names} and {count - NAMES_SHOWN} others (/who lists them)"
            )
        if room.topic:
            self.notice(f"Topic: {room.topic}")
        history.replay(self, room)

    def leave(self, reason: str) -> None:
        """Quit the hub now (others are told ``reason``), then flush and close the connection."""
        user, self.user = self.user, None
        self.room = None
        if user is not None:
            self.hub.quit(user, reason)
        self.link.close(reason)

    def notice(self, text: str) -> None:
        self.link.send(line("* " + text))

    def error(self, text: str) -> None:
        self.link.send(line("! " + text))

    def send_lines(self, lines: list[str]) -> None:
        """Several lines in one piece of output."""
        self.link.send(line(CRLF.join(lines)))


COMMANDS: dict[str, Callable[[PlainSession, str], None]] = {
    "help": PlainSession.cmd_help,
    "nick": PlainSession.cmd_nick,
    "join": PlainSession.cmd_join,
    "part": PlainSession.cmd_part,
    "leave": PlainSession.cmd_part,
    "rooms": PlainSession.cmd_rooms,
    "list": PlainSession.cmd_rooms,
    "who": PlainSession.cmd_who,
    "names": PlainSession.cmd_who,
    "msg": PlainSession.cmd_msg,
    "me": PlainSession.cmd_me,
    "quit": PlainSession.cmd_quit,
    "exit": PlainSession.cmd_quit,
    "history": history.cmd_history,
    "search": history.cmd_search,
    "replay": accounts.cmd_replay,
    "register": accounts.cmd_register,
    "unregister": accounts.cmd_unregister,
    "login": accounts.cmd_login,
    "identify": accounts.cmd_login,
    "logout": accounts.cmd_logout,
    "password": accounts.cmd_password,
    "oper": operators.cmd_oper,
    "kick": operators.cmd_kick,
    "ban": operators.cmd_ban,
    "unban": operators.cmd_unban,
    "kill": operators.cmd_kill,
    "kline": operators.cmd_kline,
    "unkline": operators.cmd_unkline,
    "wallops": operators.cmd_wallops,
}
