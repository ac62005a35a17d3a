"""IRCv3 capabilities hubbub supports, and the bits that make up an IRC session's rendering variant.

Only capabilities that change how a fanned-out event is written are part of the variant (``RENDER_MASK``):
sessions with the same rendering bits share the bytes of every event.
"""

from __future__ import annotations

__all__ = ["CAPS", "RENDER_MASK", "Cap", "sts_value"]


class Cap:
    MESSAGE_TAGS = 1 << 0
    SERVER_TIME = 1 << 1
    EXTENDED_JOIN = 1 << 2
    ACCOUNT_TAG = 1 << 3
    AWAY_NOTIFY = 1 << 4
    CHGHOST = 1 << 5
    SETNAME = 1 << 6
    INVITE_NOTIFY = 1 << 7
    ACCOUNT_NOTIFY = 1 << 8
    ECHO_MESSAGE = 1 << 9
    MULTI_PREFIX = 1 << 10
    USERHOST_IN_NAMES = 1 << 11
    CAP_NOTIFY = 1 << 12
    BATCH = 1 << 13
    LABELED_RESPONSE = 1 << 14
    STANDARD_REPLIES = 1 << 15
    SASL = 1 << 16
    ACCOUNT_REGISTRATION = 1 << 17
    CHATHISTORY = 1 << 18


#: name -> (bit, value advertised in CAP LS 302, or "").
CAPS: dict[str, tuple[int, str]] = {
    "account-notify": (Cap.ACCOUNT_NOTIFY, ""),
    "account-tag": (Cap.ACCOUNT_TAG, ""),
    "away-notify": (Cap.AWAY_NOTIFY, ""),
    "batch": (Cap.BATCH, ""),
    "cap-notify": (Cap.CAP_NOTIFY, ""),
    "chghost": (Cap.CHGHOST, ""),
    "draft/account-registration": (Cap.ACCOUNT_REGISTRATION, "before-connect"),
    "draft/chathistory": (Cap.CHATHISTORY, ""),
    "echo-message": (Cap.ECHO_MESSAGE, ""),
    "extended-join": (Cap.EXTENDED_JOIN, ""),
    "invite-notify": (Cap.INVITE_NOTIFY, ""),
    "labeled-response": (Cap.LABELED_RESPONSE, ""),
    "message-tags": (Cap.MESSAGE_TAGS, ""),
    "multi-prefix": (Cap.MULTI_PREFIX, ""),
    "sasl": (Cap.SASL, "PLAIN"),
    "server-time": (Cap.SERVER_TIME, ""),
    "setname": (Cap.SETNAME, ""),
    "standard-replies": (Cap.STANDARD_REPLIES, ""),
    "userhost-in-names": (Cap.USERHOST_IN_NAMES, ""),
}


def sts_value(port: int, duration: int, secure: bool) -> str:
    """The IRCv3 ``sts`` policy shown in CAP LS ("": none). A plain-text connection gets the upgrade policy,
    ``port=<TLS port>``; a TLS connection the persistence policy, ``duration=<seconds>``."""
    if port <= 0 or duration <= 0:
        return ""
    return f"duration={duration}" if secure else f"port={port}"


RENDER_MASK = (
    Cap.MESSAGE_TAGS
    | Cap.SERVER_TIME
    | Cap.EXTENDED_JOIN
    | Cap.ACCOUNT_TAG
    | Cap.AWAY_NOTIFY
    | Cap.CHGHOST
    | Cap.SETNAME
    | Cap.INVITE_NOTIFY
    | Cap.ACCOUNT_NOTIFY
)
