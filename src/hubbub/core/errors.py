"""Errors the hub raises when a request breaks a rule. Protocols turn them into their own replies."""

from __future__ import annotations

from enum import Enum, auto

__all__ = ["ChatError", "Reason"]


class Reason(Enum):
    NICK_IN_USE = auto()
    BAD_NICK = auto()
    BAD_ROOM = auto()
    NO_SUCH_NICK = auto()
    NO_SUCH_ROOM = auto()
    NOT_IN_ROOM = auto()
    ALREADY_IN_ROOM = auto()
    EMPTY_MESSAGE = auto()


class ChatError(Exception):
    """A request the hub refused. ``subject`` is the nickname or room name concerned."""

    def __init__(self, reason: Reason, subject: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.subject = subject
        self.message = message
