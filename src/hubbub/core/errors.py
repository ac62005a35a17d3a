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
    USER_NOT_IN_ROOM = auto()
    USER_IN_ROOM = auto()
    CANNOT_SEND = auto()
    CHANOP_NEEDED = auto()
    BANNED = auto()
    INVITE_ONLY = auto()
    ROOM_FULL = auto()
    BAD_KEY = auto()
    TOO_MANY_ROOMS = auto()
    UNKNOWN_MODE = auto()
    NEED_PARAM = auto()
    INVALID_PARAM = auto()
    LIST_FULL = auto()
    KEY_SET = auto()
    NO_PRIVILEGES = auto()
    # accounts and registered rooms
    ACCOUNT_EXISTS = auto()
    BAD_ACCOUNT_NAME = auto()
    BAD_PASSWORD = auto()
    BAD_LOGIN = auto()
    LOGGED_IN = auto()
    NOT_LOGGED_IN = auto()
    ROOM_REGISTERED = auto()
    ROOM_NOT_REGISTERED = auto()
    NOT_FOUNDER = auto()
    #: too many failed logins or registrations, or too many password checks queued: try again later
    TRY_LATER = auto()
    # history
    NO_HISTORY = auto()
    # server bans: ``subject`` is the K-line's reason as users see it
    K_LINED = auto()


class ChatError(Exception):
    """A request the hub refused.

    ``subject`` is the nickname, room name or mode character concerned; ``nick`` the other user concerned, if
    any (for "they aren't on that channel"); ``message`` a sentence for people.
    """

    def __init__(self, reason: Reason, subject: str, message: str, *, nick: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.subject = subject
        self.message = message
        self.nick = nick
