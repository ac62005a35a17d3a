"""Events the hub fans out to clients. Each protocol renders them in its own way.

Events are immutable records created once per action and shared by every recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .model import Room, User

__all__ = ["Event", "Join", "Message", "MessageKind", "NickChange", "Part", "Quit"]


class MessageKind(Enum):
    SAY = "PRIVMSG"
    ACTION = "ACTION"
    NOTICE = "NOTICE"


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
