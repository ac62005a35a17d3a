"""Events the hub fans out to clients. Each protocol renders them in its own way.

Events are immutable records created once per action and shared by every recipient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from .model import Room, User

__all__ = [
    "AccountChange",
    "Away",
    "Event",
    "Invite",
    "Join",
    "Kick",
    "Message",
    "MessageKind",
    "ModeChange",
    "NickChange",
    "Part",
    "Presence",
    "Quit",
    "Realname",
    "ServerNotice",
    "Topic",
    "Wallops",
]


class MessageKind(Enum):
    SAY = "PRIVMSG"
    ACTION = "ACTION"
    NOTICE = "NOTICE"
    #: A message with tags and no text (IRCv3 TAGMSG): only clients that understand tags see it.
    TAGS = "TAGMSG"


@dataclass(slots=True, frozen=True, eq=False)
class Event:
    user: User
    """Who caused the event."""
    time: float


@dataclass(slots=True, frozen=True, eq=False)
class Message(Event):
    target: Room | User
    text: str
    kind: MessageKind
    msgid: str
    nick: str
    """The sender's nickname when the message was sent."""
    tags: Mapping[str, str] | None = None
    """Client-only tags (``+typing``, ``+draft/reply``, ...) to pass on to clients that understand them."""
    status: str = ""
    """For a message to a room's operators only (``@#room``): the status prefix; empty for everyone."""


@dataclass(slots=True, frozen=True, eq=False)
class Join(Event):
    room: Room


@dataclass(slots=True, frozen=True, eq=False)
class Part(Event):
    room: Room
    reason: str


@dataclass(slots=True, frozen=True, eq=False)
class Quit(Event):
    reason: str


@dataclass(slots=True, frozen=True, eq=False)
class NickChange(Event):
    old: str
    new: str


@dataclass(slots=True, frozen=True, eq=False)
class Topic(Event):
    room: Room
    topic: str


@dataclass(slots=True, frozen=True, eq=False)
class Kick(Event):
    room: Room
    target: User
    reason: str


@dataclass(slots=True, frozen=True, eq=False)
class ModeChange(Event):
    """Modes changed on a room or a user: ``changes`` holds ("+o", "bob"), ("-m", None), ..."""

    target: Room | User
    changes: tuple[tuple[str, str | None], ...]
    by_server: bool = False


@dataclass(slots=True, frozen=True, eq=False)
class Invite(Event):
    room_name: str
    target: User
    notify: bool = False
    """True for the copy sent to the room's operators (IRCv3 invite-notify), False for the target's."""


@dataclass(slots=True, frozen=True, eq=False)
class Away(Event):
    """``user`` went away (``message`` set) or came back (``message`` empty)."""

    message: str


@dataclass(slots=True, frozen=True, eq=False)
class Realname(Event):
    realname: str


@dataclass(slots=True, frozen=True, eq=False)
class Wallops(Event):
    text: str


@dataclass(slots=True, frozen=True, eq=False)
class Presence(Event):
    """A watched nickname came online (``user`` is who has it) or went offline (``nick`` is the name)."""

    nick: str
    online: bool


@dataclass(slots=True, frozen=True, eq=False)
class AccountChange(Event):
    """``user`` logged in to ``account`` (IRCv3 account-notify), or logged out (``account`` empty)."""

    account: str


@dataclass(slots=True, frozen=True, eq=False)
class ServerNotice(Event):
    """A notice from the server to ``user`` alone (nickname protection, account news, ...). ``hint`` names
    what the protocol adds in its own words: "login" (how to log in with this client)."""

    text: str
    hint: str = ""
