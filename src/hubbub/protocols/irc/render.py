"""Rendering hub events as IRC lines for one variant (a set of rendering capabilities).

A renderer is a plain function of (event, capability bits); the hub calls it once per variant per event and
shares the bytes among every recipient with that variant. Lines are written by :mod:`hubbub.wire.irc`'s
writer (:func:`~hubbub.wire.irc.line`; text goes last after ``" :"``, its trailing-parameter rule for text).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from ...core.events import (
    AccountChange,
    Away,
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
    Realname,
    Topic,
    Wallops,
)
from ...core.model import Room
from ...store import StoredMessage
from ...wire.irc import escape_tag_value, line, params
from .caps import Cap

__all__ = ["format_time", "render", "split_text", "stored_message"]

#: Room and nick names never contain spaces; text goes last after " :".
MAX_LINE = 512


def format_time(t: float) -> str:
    """IRCv3 server-time: ``2026-11-29T04:50:00.123Z``."""
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def _tags(event: Event, caps: int, msgid: str = "", extra: Mapping[str, str] | None = None) -> str:
    parts: list[str] = []
    if caps & Cap.SERVER_TIME:
        parts.append("time=" + format_time(event.time))
    if caps & Cap.MESSAGE_TAGS:
        if msgid:
            parts.append("msgid=" + msgid)
        if extra:
            for key, value in extra.items():
                parts.append(f"{key}={escape_tag_value(value)}" if value else key)
    if caps & Cap.ACCOUNT_TAG and event.user.account:
        parts.append("account=" + event.user.account)
    return "@" + ";".join(parts) + " " if parts else ""


def split_text(text: str, room: int) -> list[str]:
    """Split ``text`` into pieces of at most ``room`` UTF-8 bytes, at character boundaries (and preferably at
    a space), so that a long line from a plain-text user still fits IRC's 512-byte limit."""
    data = text.encode("utf-8", "replace")
    if len(data) <= room:
        return [text]
    pieces: list[str] = []
    while len(data) > room:
        cut = room
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
            cut -= 1
        space = data.rfind(b" ", room // 2, cut)
        if space > 0:
            cut = space + 1
        pieces.append(data[:cut].decode("utf-8", "replace"))
        data = data[cut:]
    if data:
        pieces.append(data.decode("utf-8", "replace"))
    return pieces


def _message(event: Event, caps: int) -> bytes | None:
    assert isinstance(event, Message)
    kind = event.kind
    if kind is MessageKind.TAGS and not caps & Cap.MESSAGE_TAGS:
        return None
    user = event.user
    source = f"{event.nick}!{user.username}@{user.host}"
    target = event.target
    name = event.status + target.name if isinstance(target, Room) else target.nick
    tags = _tags(event, caps, event.msgid, event.tags)
    if kind is MessageKind.TAGS:
        return line(f"{tags}:{source} TAGMSG {name}")
    verb = "NOTICE" if kind is MessageKind.NOTICE else "PRIVMSG"
    return _with_text(tags, f":{source} {verb} {name} :", event.text, kind is MessageKind.ACTION)


def _with_text(tags: str, head: str, text: str, action: bool) -> bytes:
    """``head`` (``:source VERB target :``) and ``text``, split over several lines if they would not fit."""
    if action:
        head += "\x01ACTION "
        tail = "\x01"
    else:
        tail = ""
    room = MAX_LINE - 2 - len(head.encode()) - len(tail)
    if len(text) * 4 <= room:  # the common case: no need to measure
        return line(f"{tags}{head}{text}{tail}")
    return b"".join(line(f"{tags}{head}{piece}{tail}") for piece in split_text(text, max(room, 16)))


def stored_message(msg: StoredMessage, caps: int) -> bytes:
    """A message of the history (CHATHISTORY, replay on JOIN) as its recipients saw it: the sender, verb,
    target and text as stored, with the tags ``caps`` allows."""
    parts: list[str] = []
    if caps & Cap.SERVER_TIME:
        parts.append("time=" + format_time(msg.time))
    if caps & Cap.MESSAGE_TAGS:
        parts.append("msgid=" + msg.msgid)
    if caps & Cap.ACCOUNT_TAG and msg.account:
        parts.append("account=" + msg.account)
    tags = "@" + ";".join(parts) + " " if parts else ""
    verb = "NOTICE" if msg.kind == "NOTICE" else "PRIVMSG"
    return _with_text(tags, f":{msg.sender} {verb} {msg.target} :", msg.text, msg.kind == "ACTION")


def _join(event: Event, caps: int) -> bytes:
    assert isinstance(event, Join)
    user = event.user
    if caps & Cap.EXTENDED_JOIN:
        account = user.account or "*"
        return line(f"{_tags(event, caps)}:{user.hostmask} JOIN {event.room.name} {account} :{user.realname}")
    return line(f"{_tags(event, caps)}:{user.hostmask} JOIN {event.room.name}")


def _part(event: Event, caps: int) -> bytes:
    assert isinstance(event, Part)
    if event.reason:
        return line(f"{_tags(event, caps)}:{event.user.hostmask} PART {event.room.name} :{event.reason}")
    return line(f"{_tags(event, caps)}:{event.user.hostmask} PART {event.room.name}")


def _quit(event: Event, caps: int) -> bytes:
    assert isinstance(event, Quit)
    return line(f"{_tags(event, caps)}:{event.user.hostmask} QUIT :{event.reason}")


def _nick(event: Event, caps: int) -> bytes:
    assert isinstance(event, NickChange)
    user = event.user
    return line(f"{_tags(event, caps)}:{event.old}!{user.username}@{user.host} NICK {event.new}")


def _topic(event: Event, caps: int) -> bytes:
    assert isinstance(event, Topic)
    return line(f"{_tags(event, caps)}:{event.user.hostmask} TOPIC {event.room.name} :{event.topic}")


def _kick(event: Event, caps: int) -> bytes:
    assert isinstance(event, Kick)
    head = f"{_tags(event, caps)}:{event.user.hostmask} KICK"
    return line(f"{head} {event.room.name} {event.target.nick} :{event.reason}")


def mode_params(changes: tuple[tuple[str, str | None], ...] | list[tuple[str, str | None]]) -> list[str]:
    """``[("+o", "bob"), ("+m", None), ("-b", "x!*@*")]`` -> ``["+om-b", "bob", "x!*@*"]``."""
    letters: list[str] = []
    args: list[str] = []
    sign = ""
    for change, arg in changes:
        if change[0] != sign:
            sign = change[0]
            letters.append(sign)
        letters.append(change[1])
        if arg is not None:
            args.append(arg)
    return ["".join(letters), *args]


def _mode(event: Event, caps: int) -> bytes:
    assert isinstance(event, ModeChange)
    target = event.target
    name = target.name if isinstance(target, Room) else target.nick
    return line(
        f"{_tags(event, caps)}:{event.user.hostmask} MODE {name} {params(mode_params(event.changes))}"
    )


def _invite(event: Event, caps: int) -> bytes | None:
    assert isinstance(event, Invite)
    if event.notify and not caps & Cap.INVITE_NOTIFY:
        return None
    return line(f"{_tags(event, caps)}:{event.user.hostmask} INVITE {event.target.nick} {event.room_name}")


def _away(event: Event, caps: int) -> bytes | None:
    assert isinstance(event, Away)
    if not caps & Cap.AWAY_NOTIFY:
        return None
    if event.message:
        return line(f"{_tags(event, caps)}:{event.user.hostmask} AWAY :{event.message}")
    return line(f"{_tags(event, caps)}:{event.user.hostmask} AWAY")


def _realname(event: Event, caps: int) -> bytes | None:
    assert isinstance(event, Realname)
    if not caps & Cap.SETNAME:
        return None
    return line(f"{_tags(event, caps)}:{event.user.hostmask} SETNAME :{event.realname}")


def _wallops(event: Event, caps: int) -> bytes:
    assert isinstance(event, Wallops)
    return line(f"{_tags(event, caps)}:{event.user.hostmask} WALLOPS :{event.text}")


def _account(event: Event, caps: int) -> bytes | None:
    assert isinstance(event, AccountChange)
    if not caps & Cap.ACCOUNT_NOTIFY:
        return None
    return line(f"{_tags(event, caps)}:{event.user.hostmask} ACCOUNT {event.account or '*'}")


RENDERERS: dict[type[Event], Callable[[Event, int], bytes | None]] = {
    AccountChange: _account,
    Message: _message,
    Join: _join,
    Part: _part,
    Quit: _quit,
    NickChange: _nick,
    Topic: _topic,
    Kick: _kick,
    ModeChange: _mode,
    Invite: _invite,
    Away: _away,
    Realname: _realname,
    Wallops: _wallops,
}


def render(event: Event, caps: int) -> bytes | None:
    renderer = RENDERERS.get(type(event))
    return renderer(event, caps) if renderer is not None else None
