"""Plain-text rendering: hub events and stored messages as terminal lines.

Most events render the same for every plain-text session (one function per event type, called once per
fan-out and shared by every recipient). A few concern one user only and depend on who reads them: the
session renders those with :data:`PERSONAL`.

Every byte a plain-text session writes comes from :func:`line` or :func:`lines`, which pass each line through
:func:`~hubbub.wire.text.terminal_safe`: whatever users put in nicknames, room names, topics, reasons, masks,
keys or messages, it cannot drive the reader's terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ...core.events import (
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
    ServerNotice,
    Topic,
    Wallops,
)
from ...core.model import Room, User
from ...store import StoredMessage
from ...wire.text import strip_formatting, terminal_safe

__all__ = [
    "CRLF",
    "PERSONAL",
    "RENDERERS",
    "history_line",
    "kick_reason",
    "line",
    "lines",
    "mode_words",
    "stamp",
]

CRLF = "\r\n"


def line(text: str) -> bytes:
    """One terminal line: ``text`` made safe (no control, escape or format character is left) and CRLF."""
    if not text.isprintable():  # the common case needs no call: nothing to drop
        text = terminal_safe(text)
    return (text + CRLF).encode("utf-8", "replace")


def lines(texts: Iterable[str]) -> bytes:
    """Several terminal lines in one piece, each made safe as :func:`line` makes it."""
    return "".join(terminal_safe(text) + CRLF for text in texts).encode("utf-8", "replace")


# -- events shared by every plain-text session ---------------------------------------------------------------


def _render_message(event: Event) -> bytes | None:
    assert isinstance(event, Message)
    if event.kind is MessageKind.TAGS or event.text[:1] == "\x01":
        return None  # tags only, or a CTCP request: nothing a person reads
    text = strip_formatting(event.text)
    if event.kind is MessageKind.NOTICE:  # to a room or to one user alike, as history shows it
        return line(f"-{event.nick}- {text}")
    if isinstance(event.target, User):
        if event.kind is MessageKind.ACTION:
            return line(f"* {event.nick} {text} (private)")
        return line(f"*{event.nick}* {text}")
    if event.kind is MessageKind.ACTION:
        return line(f"* {event.nick} {text}")
    return line(f"<{event.nick}> {text}")


def _render_join(event: Event) -> bytes:
    assert isinstance(event, Join)
    return line(f"* {event.user.nick} joined {event.room.name}")


def _render_part(event: Event) -> bytes:
    assert isinstance(event, Part)
    reason = f" ({strip_formatting(event.reason)})" if event.reason else ""
    return line(f"* {event.user.nick} left {event.room.name}{reason}")


def _render_quit(event: Event) -> bytes:
    assert isinstance(event, Quit)
    return line(f"* {event.user.nick} left ({strip_formatting(event.reason)})")


def _render_topic(event: Event) -> bytes:
    assert isinstance(event, Topic)
    if not event.topic:
        return line(f"* {event.user.nick} cleared the topic of {event.room.name}")
    return line(f"* {event.user.nick} set the topic of {event.room.name}: {strip_formatting(event.topic)}")


def kick_reason(event: Kick) -> str:
    """`` (reason)``, or nothing when the kicker gave none (the server puts the kicker's nickname there)."""
    reason = event.reason
    if not reason or reason == event.user.nick:
        return ""
    return f" ({strip_formatting(reason)})"


def _render_kick(event: Event) -> bytes:
    assert isinstance(event, Kick)
    reason = kick_reason(event)
    return line(f"* {event.target.nick} was kicked from {event.room.name} by {event.user.nick}{reason}")


#: Room flags in words: (when set, when unset), said of the room.
FLAG_WORDS = {
    "i": ("is now invite-only: /invite lets people in", "is no longer invite-only"),
    "m": ("is now moderated: only voiced users may talk", "is no longer moderated: everyone may talk"),
    "n": (
        "now takes messages from its members only",
        "now takes messages from people outside it too",
    ),
    "s": ("is now secret: it is hidden from /rooms and /who", "is no longer secret"),
    "t": ("now lets only its operators change the topic", "now lets everyone in it change the topic"),
}


def mode_words(actor: str, room: str, change: str, arg: str | None) -> str:
    """One room mode change in words (``actor``: who made it, empty for the server)."""
    sign, letter = change[:1], change[1:]
    on = sign == "+"
    who = actor or "The server"
    by = f" (changed by {actor})" if actor else ""
    if letter == "o" and arg:
        if on:
            return f"{who} made {arg} an operator of {room}"
        return f"{who} took operator status from {arg} in {room}"
    if letter == "v" and arg:
        if on:
            return f"{who} gave {arg} voice in {room}"
        return f"{who} took voice from {arg} in {room}"
    if letter == "b" and arg:
        if on:
            return f"{who} banned {arg} from {room}"
        return f"{who} lifted the ban on {arg} in {room}"
    if letter == "e" and arg:
        if on:
            return f"{who} let {arg} into {room} whatever its bans"
        return f"{who} took back the ban exception of {arg} in {room}"
    if letter == "I" and arg:
        if on:
            return f"{who} let {arg} into {room} without an invitation"
        return f"{who} took back the invite exception of {arg} in {room}"
    if letter == "k":
        if on and arg:
            return f"{room} now needs a key to join: /join {room} {arg}{by}"
        if not on:
            return f"{room} no longer needs a key to join{by}"
    if letter == "l":
        if on and arg:
            return f"{room} is now limited to {arg} members{by}"
        if not on:
            return f"{room} no longer has a member limit{by}"
    words = FLAG_WORDS.get(letter)
    if words is not None:
        return f"{room} {words[0] if on else words[1]}{by}"
    shown = change + (f" {arg}" if arg else "")
    return f"{who} set mode {shown} on {room}"


def _render_mode(event: Event) -> bytes | None:
    assert isinstance(event, ModeChange)
    if not isinstance(event.target, Room):
        return None
    actor = "" if event.by_server else event.user.nick
    room = event.target.name
    return lines(f"* {mode_words(actor, room, change, arg)}" for change, arg in event.changes)


def _render_invite(event: Event) -> bytes:
    assert isinstance(event, Invite)
    return line(
        f"* {event.user.nick} invited {event.target.nick} to {event.room_name} (/join {event.room_name})"
    )


def _render_wallops(event: Event) -> bytes:
    assert isinstance(event, Wallops)
    return line(f"* Wallops from {event.user.nick}: {strip_formatting(event.text)}")


#: Renderers of the events that read the same for every plain-text user. Events missing here and from
#: PERSONAL (AccountChange, Away, Presence, ...) are not shown: plain text stays quiet about them.
RENDERERS: dict[type[Event], Callable[[Event], bytes | None]] = {
    Message: _render_message,
    Join: _render_join,
    Part: _render_part,
    Quit: _render_quit,
    Topic: _render_topic,
    ModeChange: _render_mode,
    Invite: _render_invite,
    Wallops: _render_wallops,
}


# -- events that depend on who reads them ------------------------------------------------------------------


def _render_nick(me: User | None, event: Event) -> bytes:
    assert isinstance(event, NickChange)
    if event.user is me:  # the server renamed us (nickname protection)
        return line(f"* You are now known as {event.new}")
    return line(f"* {event.old} is now known as {event.new}")


def _render_kick_personal(me: User | None, event: Event) -> bytes:
    assert isinstance(event, Kick)
    if event.target is me:
        return line(f"* You were kicked from {event.room.name} by {event.user.nick}{kick_reason(event)}")
    return _render_kick(event)


def _render_server_notice(me: User | None, event: Event) -> bytes:
    assert isinstance(event, ServerNotice)
    if event.hint == "login":
        return line(f"* {event.text} Type /login PASSWORD (or /nick to choose another name).")
    return line(f"* {event.text}")


#: Renderers given the reading session's user. The hub never fans these out to their subject (a NickChange
#: goes to the renamed user alone, apart from its neighbours; a Kick is rendered for the kicked user on its
#: own, after it left the room), so a render shared by a variant stays right.
PERSONAL: dict[type[Event], Callable[[User | None, Event], bytes | None]] = {
    NickChange: _render_nick,
    Kick: _render_kick_personal,
    ServerNotice: _render_server_notice,
}


# -- stored messages (history) -------------------------------------------------------------------------------


def stamp(when: float, now: float, *, date: bool = False) -> str:
    """``HH:MM`` in UTC, preceded by ``YYYY-MM-DD`` when ``date`` or when ``when`` is not today (UTC)."""
    moment = time.gmtime(when)
    if date or moment[:3] != time.gmtime(now)[:3]:
        return time.strftime("%Y-%m-%d %H:%M", moment)
    return time.strftime("%H:%M", moment)


def history_line(msg: StoredMessage, now: float, *, date: bool = False) -> str | None:
    """A stored message as a line: ``[HH:MM] <nick> text``, ``[HH:MM] * nick action`` or ``[HH:MM] -nick-
    text``; ``None`` for what a person does not read (a CTCP request)."""
    if msg.text[:1] == "\x01":
        return None
    nick = msg.sender.partition("!")[0]
    text = strip_formatting(msg.text)
    if msg.kind == MessageKind.ACTION.value:
        body = f"* {nick} {text}"
    elif msg.kind == MessageKind.NOTICE.value:
        body = f"-{nick}- {text}"
    else:
        body = f"<{nick}> {text}"
    return f"[{stamp(msg.time, now, date=date)}] {body}"
