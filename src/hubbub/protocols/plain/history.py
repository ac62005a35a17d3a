"""History for plain-text users: recent lines on joining a room, ``/history`` and ``/search``.

Lines read ``[HH:MM] <nick> text`` (UTC), with the date before the time when the message is not from today;
search results always show the date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.model import Room, User
from ...core.names import casefold
from ...store import ByTime, StoredMessage, StoreError, search_phrases
from .render import history_line
from .table import HISTORY, command

if TYPE_CHECKING:
    from .session import PlainSession

__all__ = ["HISTORY_DEFAULT", "HISTORY_MAX", "SEARCH_MAX", "cmd_history", "cmd_search", "replay"]

#: Lines ``/history`` shows by default, and at most.
HISTORY_DEFAULT = 20
HISTORY_MAX = 500
#: Results ``/search`` shows at most.
SEARCH_MAX = 20

#: The account setting that turns replay on joining off ("off"; anything else or unset: on).
REPLAY_SETTING = "replay"

_UNAVAILABLE = "History is not available right now; try again later"


def _lines(session: PlainSession, messages: list[StoredMessage], *, date: bool = False) -> list[str]:
    now = session.hub.now()
    ignored = session.ignored
    if ignored:  # /ignore: their stored lines are left out too
        messages = [msg for msg in messages if casefold(msg.sender.partition("!")[0]) not in ignored]
    return [text for msg in messages if (text := history_line(msg, now, date=date)) is not None]


def replay_wanted(session: PlainSession, user: User) -> bool:
    if not user.account:
        return True
    return session.hub.accounts.setting(user.account, REPLAY_SETTING, "on") != "off"


def replay(session: PlainSession, user: User, room: Room) -> None:
    """Show the last lines of ``room`` to ``user``, who just joined it (nothing when there are none), between
    two marks; coming back soon after leaving, only what was said meanwhile (see core.history.Seen)."""
    limit = session.options.history_replay
    if limit <= 0 or not replay_wanted(session, user):
        return
    since = session.hub.seen.since(user, room.key, session.hub.now())  # back soon: only what it missed
    try:
        messages = session.hub.store.latest(room.key, limit, None if since is None else ByTime(since))
    except StoreError:
        session.error(_UNAVAILABLE)
        return
    lines = _lines(session, messages)
    if lines:
        head = f"* Recent messages in {room.name}:" if since is None else f"* Since you left {room.name}:"
        session.send_lines([head, *lines, "* --- end of replay ---"])


def _count(text: str) -> int | None:
    """A line count typed by a user (capped at HISTORY_MAX), or None if it is not one."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        return None
    return min(int(text), HISTORY_MAX)


@command("history", usage=("/history [N]", "/history NICK [N]"), section=HISTORY)
def cmd_history(session: PlainSession, user: User, arg: str) -> None:
    """the last N lines of this room (default 20, at most 500)

    your private conversation with NICK"""
    words = arg.split()
    target = words.pop(0) if words and not words[0].lstrip("-").isdigit() else None
    count: int | None = HISTORY_DEFAULT
    if words:
        count = _count(words[0]) if len(words) == 1 else None
    if count is None:
        session.error(f"Usage: /history [N] or /history NICK [N] (N from 1 to {HISTORY_MAX})")
        return
    if target is None:
        room = session.current_room()
        if room is None:
            session.error("You are not in a room: /join #room first, or /history NICK")
            return
        key, where = room.key, f"in {room.name}"
    else:
        key, name = session.hub.conversation(user, target)
        where = f"in {name}" if name.startswith("#") else f"with {name}"
    try:
        messages = session.hub.store.latest(key, count)
    except StoreError:
        session.error(_UNAVAILABLE)
        return
    session.link.charge_history(len(messages))
    lines = _lines(session, messages)
    if not lines:
        session.notice(f"No messages {where} yet")
        return
    plural = "s" if len(lines) != 1 else ""
    session.send_lines([f"* Last {len(lines)} message{plural} {where}:", *lines])


@command("search", usage="/search WORDS", section=HISTORY)
def cmd_search(session: PlainSession, user: User, arg: str) -> None:
    """lines of this room holding every word (newest first)"""
    if not arg:
        session.error("Usage: /search WORDS")
        return
    room = session.current_room()
    if room is None:
        session.error("You are not in a room: /join #room first")
        return
    if not search_phrases(arg):
        session.error("Search for words made of letters or digits")
        return
    try:
        found = session.hub.store.search(room.key, arg, SEARCH_MAX)
    except StoreError:
        session.error(_UNAVAILABLE)
        return
    lines = _lines(session, found, date=True)
    if not lines:
        session.notice(f"Nothing in {room.name} matches {arg}")
        return
    plural = "s" if len(lines) != 1 else ""
    verb = "match" if len(lines) != 1 else "matches"
    session.send_lines(
        [f"* {len(lines)} message{plural} in {room.name} {verb} {arg} (newest first):", *lines]
    )
