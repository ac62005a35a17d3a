"""The plain-text protocol: chat from netcat or telnet, one line at a time.

A plain-text user is in at most one room at a time (``#lobby`` on arrival); every line it types goes to that
room, and lines starting with ``/`` are commands (``/help`` lists them). Output lines end with CRLF so that
telnet and netcat both show them well:

====================================  ===============================================
``<alice> hello``                     a line alice said in your room
``* alice waves``                     an action (``/me waves``)
``*alice* psst``                      a private message to you (``/msg``)
``-> *bob* psst``                     your private message, as sent
``* alice joined #lobby``             room events, and answers to commands
``! No such nickname: bob``           an error: the session carries on
====================================  ===============================================

The session is sans-I/O: bytes in through :meth:`PlainSession.data_received`, bytes out through its link.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from ..core.errors import ChatError
from ..core.events import (
    Event,
    Invite,
    Join,
    Kick,
    Message,
    MessageKind,
    ModeChange,
    NickChange,
    Part,
    Quit,
    Topic,
    Wallops,
)
from ..core.hub import Hub
from ..core.model import Room, User
from ..wire.lines import LineBuffer, LineTooLong
from ..wire.text import clean_line, strip_formatting
from .base import Link

__all__ = ["PlainOptions", "PlainSession"]

CRLF = "\r\n"
#: On joining, at most this many of the other members are named.
NAMES_SHOWN = 10


class PlainOptions:
    """Settings shared by every plain-text session of a server."""

    __slots__ = ("default_room", "history_replay", "max_line", "server_name")

    def __init__(
        self,
        *,
        max_line: int = 2048,
        default_room: str = "#lobby",
        server_name: str = "hubbub",
        history_replay: int = 20,
    ):
        self.max_line = max_line
        self.default_room = default_room
        self.server_name = server_name
        #: Lines of a room's history shown on joining it (0: none).
        self.history_replay = history_replay


HELP = """\
Commands:
  /nick NAME         change your nickname
  /join #room        go to a room (it is created if it does not exist)
  /part              leave the current room
  /rooms             list the rooms and how many are in each
  /who               list the members of the current room
  /msg NICK text     send a private message
  /me action         describe an action (* you wave)
  /quit [reason]     leave the server
  /help              this text
A line that starts with / is a command; start it with // to say it as text."""


def _line(text: str) -> bytes:
    return (text + CRLF).encode("utf-8", "replace")


class PlainSession:
    """One plain-text client."""

    __slots__ = ("hub", "lines", "link", "options", "room", "user")

    #: Every plain-text session renders events the same way.
    variant: ClassVar[str] = "plain"

    def __init__(self, link: Link, hub: Hub, options: PlainOptions) -> None:
        self.link = link
        self.hub = hub
        self.options = options
        self.lines = LineBuffer(options.max_line)
        self.user: User | None = None
        self.room: Room | None = None

    # -- lifecycle (called by the network layer) ------------------------------------------------------------

    def start(self) -> None:
        user = self.user = self.hub.connect(
            self, self.link, username="plain", realname="plain-text user", host=self.link.peer_host
        )
        self._notice(f"Welcome to {self.options.server_name}, {user.nick}! Type /help for commands.")
        self._join(self.options.default_room)

    def data_received(self, data: bytes) -> None:
        for line in self.lines.feed(data):
            if self.user is None:
                return
            if isinstance(line, LineTooLong):
                self._error(f"Line too long (the limit is {line.limit} bytes); it was not sent")
            else:
                self.handle_line(line)

    def eof_received(self) -> None:
        # A last line without a newline still counts.
        for line in self.lines.feed(b"\n"):
            if self.user is None:
                break
            if not isinstance(line, LineTooLong):
                self.handle_line(line)
        self._leave("connection closed")

    def connection_lost(self, reason: str) -> None:
        user, self.user = self.user, None
        if user is not None:
            self.hub.quit(user, reason)

    def shutdown(self) -> None:
        if self.user is not None:
            self._notice("Server shutting down. Goodbye!")

    # -- the core's Client interface ------------------------------------------------------------------------

    def disconnect(self, reason: str) -> None:
        self._leave(reason)

    def render(self, event: Event) -> bytes | None:
        renderer = _RENDERERS.get(type(event))
        return renderer(event) if renderer is not None else None

    def _current_room(self) -> Room | None:
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
        handler = _COMMANDS.get(verb.lower())
        if handler is None:
            self._error(f"Unknown command /{verb}; type /help for the list")
            return
        try:
            handler(self, arg.strip())
        except ChatError as exc:
            self._error(exc.message)

    def _say(self, text: str, kind: MessageKind) -> None:
        assert self.user is not None
        room = self._current_room()
        if room is None:
            self._error("You are not in a room: /join #room first")
            return
        try:
            self.hub.say(self.user, room, text, kind)
        except ChatError as exc:
            self._error(exc.message)

    # -- commands -------------------------------------------------------------------------------------------

    def cmd_help(self, arg: str) -> None:
        self.link.send(_line(HELP.replace("\n", CRLF)))

    def cmd_nick(self, arg: str) -> None:
        assert self.user is not None
        if not arg:
            self._notice(f"You are {self.user.nick}. Usage: /nick NAME")
            return
        if self.hub.change_nick(self.user, arg.split(maxsplit=1)[0]) is not None:
            self._notice(f"You are now known as {self.user.nick}")

    def cmd_join(self, arg: str) -> None:
        if not arg:
            self._error("Usage: /join #room")
            return
        self._join(arg.split(maxsplit=1)[0])

    def cmd_part(self, arg: str) -> None:
        assert self.user is not None
        room = self._current_room()
        if room is None:
            self._error("You are not in a room")
            return
        self.room = None
        self.hub.part(self.user, room, arg)
        self._notice(f"You left {room.name}. /join #room to go to another room, /rooms to list them")

    def cmd_rooms(self, arg: str) -> None:
        rooms = self.hub.room_list()
        if not rooms:
            self._notice("There are no rooms; /join #room creates one")
            return
        lines = [f"* {len(rooms)} room{'s' if len(rooms) != 1 else ''}:"]
        lines += [f"*   {room.name} ({len(room)} member{'s' if len(room) != 1 else ''})" for room in rooms]
        self.link.send(_line(CRLF.join(lines)))

    def cmd_who(self, arg: str) -> None:
        room = self._current_room()
        if arg:
            found = self.hub.find_room(arg if arg.startswith("#") else "#" + arg)
            if found is None:
                self._error(f"No such room: {arg}")
                return
            room = found
        if room is None:
            self._error("You are not in a room; /who #room names one")
            return
        nicks = sorted((m.nick for m in room.members), key=str.lower)
        self._notice(f"{len(nicks)} in {room.name}: {', '.join(nicks)}")

    def cmd_msg(self, arg: str) -> None:
        assert self.user is not None
        nick, _, text = arg.partition(" ")
        if not nick or not text.strip():
            self._error("Usage: /msg NICK text")
            return
        event = self.hub.private(self.user, nick, text)
        target = event.target
        assert isinstance(target, User)
        self._notice_raw(f"-> *{target.nick}* {text}")

    def cmd_me(self, arg: str) -> None:
        if not arg:
            self._error("Usage: /me action")
            return
        self._say(arg, MessageKind.ACTION)

    def cmd_quit(self, arg: str) -> None:
        self._notice("Goodbye!")
        self._leave(arg or "quit")

    # -- helpers --------------------------------------------------------------------------------------------

    def _join(self, name: str) -> None:
        assert self.user is not None
        hub = self.hub
        name = hub.normalize_room(name)
        target = hub.find_room(name)
        current = self._current_room()
        if target is not None and target is current:
            self._error(f"You are already in {target.name}")
            return
        if current is not None:
            self.room = None
            hub.part(self.user, current, "")
        room = self.room = hub.join(self.user, name).room
        count = len(room.members) - 1
        if not count:
            self._notice(f"You are in {room.name}, alone for now")
        elif count <= NAMES_SHOWN:
            others = sorted((m.nick for m in room.members if m is not self.user), key=str.lower)
            self._notice(f"You are in {room.name} with {', '.join(others)}")
        else:
            # A big room: name the first few to arrive, not thousands (/who lists them all).
            first = [
                m.nick
                for m, _ in zip(room.members, range(NAMES_SHOWN + 1), strict=False)
                if m is not self.user
            ]
            names = ", ".join(first[:NAMES_SHOWN])
            self._notice(
                f"You are in {room.name} with {names} and {count - NAMES_SHOWN} others (/who lists them)"
            )
        if room.topic:
            self._notice(f"Topic: {room.topic}")

    def _leave(self, reason: str) -> None:
        """Quit the hub now (others are told ``reason``), then flush and close the connection."""
        user, self.user = self.user, None
        self.room = None
        if user is not None:
            self.hub.quit(user, reason)
        self.link.close(reason)

    def _notice(self, text: str) -> None:
        self.link.send(_line("* " + text))

    def _notice_raw(self, text: str) -> None:
        self.link.send(_line(text))

    def _error(self, text: str) -> None:
        self.link.send(_line("! " + text))


_COMMANDS: dict[str, Callable[[PlainSession, str], None]] = {
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
}


# -- rendering: one function per event type, shared by every plain-text session ------------------------------


def _render_message(event: Event) -> bytes | None:
    assert isinstance(event, Message)
    if event.kind is MessageKind.TAGS or event.text[:1] == "\x01":
        return None  # tags only, or a CTCP request: nothing a person reads
    text = strip_formatting(event.text)
    if isinstance(event.target, User):
        if event.kind is MessageKind.ACTION:
            return _line(f"* {event.nick} {text} (private)")
        return _line(f"*{event.nick}* {text}")
    if event.kind is MessageKind.ACTION:
        return _line(f"* {event.nick} {text}")
    if event.kind is MessageKind.NOTICE:
        return _line(f"-{event.nick}- {text}")
    return _line(f"<{event.nick}> {text}")


def _render_join(event: Event) -> bytes:
    assert isinstance(event, Join)
    return _line(f"* {event.user.nick} joined {event.room.name}")


def _render_part(event: Event) -> bytes:
    assert isinstance(event, Part)
    reason = f" ({strip_formatting(event.reason)})" if event.reason else ""
    return _line(f"* {event.user.nick} left {event.room.name}{reason}")


def _render_quit(event: Event) -> bytes:
    assert isinstance(event, Quit)
    return _line(f"* {event.user.nick} left ({strip_formatting(event.reason)})")


def _render_nick(event: Event) -> bytes:
    assert isinstance(event, NickChange)
    return _line(f"* {event.old} is now known as {event.new}")


def _render_topic(event: Event) -> bytes:
    assert isinstance(event, Topic)
    if not event.topic:
        return _line(f"* {event.user.nick} cleared the topic of {event.room.name}")
    return _line(f"* {event.user.nick} set the topic of {event.room.name}: {strip_formatting(event.topic)}")


def _render_kick(event: Event) -> bytes:
    assert isinstance(event, Kick)
    reason = strip_formatting(event.reason)
    return _line(f"* {event.target.nick} was kicked from {event.room.name} by {event.user.nick} ({reason})")


def _render_mode(event: Event) -> bytes | None:
    assert isinstance(event, ModeChange)
    if not isinstance(event.target, Room):
        return None
    modes = " ".join(change + (f" {arg}" if arg else "") for change, arg in event.changes)
    return _line(f"* {event.user.nick} set mode {modes} on {event.target.name}")


def _render_invite(event: Event) -> bytes:
    assert isinstance(event, Invite)
    return _line(
        f"* {event.user.nick} invited {event.target.nick} to {event.room_name} (/join {event.room_name})"
    )


def _render_wallops(event: Event) -> bytes:
    assert isinstance(event, Wallops)
    return _line(f"* Wallops from {event.user.nick}: {strip_formatting(event.text)}")


_RENDERERS: dict[type[Event], Callable[[Event], bytes | None]] = {
    Message: _render_message,
    Join: _render_join,
    Part: _render_part,
    Quit: _render_quit,
    NickChange: _render_nick,
    Topic: _render_topic,
    Kick: _render_kick,
    ModeChange: _render_mode,
    Invite: _render_invite,
    Wallops: _render_wallops,
}
