"""Message history over IRC: the CHATHISTORY command (IRCv3 draft/chathistory) and the replay of a channel's
recent lines on JOIN to clients that do not ask for history themselves.

Where the specification leaves a choice, hubbub does what ergo does: CHATHISTORY is answered whether or not
the client negotiated draft/chathistory; an unknown msgid gives an empty batch; a limit that is not a positive
number, or is over the maximum, means the maximum; a timestamp that starts a range is rounded up to the next
millisecond (server-time shows milliseconds, so the messages of that millisecond are the ones the client
already has); the lines are wrapped in a batch only for clients with the batch capability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ....core.errors import ChatError
from ....core.history import party
from ....core.model import Room, User
from ....core.names import ROOM_PREFIX
from ....store import Bound, ByMsgid, ByTime, StoredMessage, StoreError, UnknownMsgid
from ....wire.irc import Message, line
from ..caps import Cap
from ..render import format_time, stored_message
from ..table import command

if TYPE_CHECKING:
    from ..session import IrcSession

_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")

#: Parameters after the subcommand that each one needs.
_PARAMS = {"LATEST": 3, "BEFORE": 3, "AFTER": 3, "AROUND": 3, "BETWEEN": 4, "TARGETS": 3}


@dataclass(frozen=True, slots=True)
class Instant:
    """A ``timestamp=`` reference, to the nanosecond."""

    ns: int

    def bound(self) -> ByTime:
        return ByTime(self.ns / 1e9)

    def rounded_up(self) -> ByTime:
        """The bound at the next millisecond: exclusive of every message of this one."""
        return ByTime((self.ns // 1_000_000 + 1) / 1000)


Ref = ByMsgid | Instant


class InvalidParams(Exception):
    pass


def parse_ref(param: str) -> Ref:
    """``msgid=<id>`` or ``timestamp=YYYY-MM-DDThh:mm:ss.sssZ``; InvalidParams otherwise."""
    kind, sep, value = param.partition("=")
    kind = kind.lower()
    if sep and value and kind == "msgid":
        return ByMsgid(value)
    if sep and kind == "timestamp":
        found = _TIMESTAMP.fullmatch(value)
        if found:
            year, month, day, hour, minute, second, fraction = found.groups()
            try:
                moment = datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
                )
            except ValueError:
                raise InvalidParams(param) from None
            ns = int((fraction or "").ljust(9, "0"))
            return Instant(int(moment.timestamp()) * 1_000_000_000 + ns)
    raise InvalidParams(param)


def _limit(param: str, maximum: int) -> int:
    try:
        limit = int(param)
    except ValueError:
        return maximum
    return maximum if limit == 0 or limit > maximum else limit


def _bound(ref: Ref, round_up: bool = False) -> Bound:
    if isinstance(ref, Instant):
        return ref.rounded_up() if round_up else ref.bound()
    return ref


def _between_bounds(start: Ref, end: Ref) -> tuple[Bound, Bound]:
    """BETWEEN's bounds: of two timestamps, the chronologically first is rounded up (as ergo does)."""
    if isinstance(start, Instant) and isinstance(end, Instant):
        if start.ns <= end.ns:
            return start.rounded_up(), end.bound()
        return start.bound(), end.rounded_up()
    return _bound(start), _bound(end)


def send_batch(session: IrcSession, kind: str, target: str, lines: list[bytes]) -> None:
    """``lines`` (one line each) in a batch of type ``kind`` if the client has the batch capability, else as
    they are."""
    if not session.caps & Cap.BATCH:
        if lines:
            session.send(b"".join(lines))
        return
    ref = f"h{next(session.batch_ids)}"
    server = session.options.server_name
    out = [line(f":{server} BATCH +{ref} {kind}{' ' + target if target else ''}")]
    tag = b"@batch=" + ref.encode()
    for data in lines:
        out.append(tag + b";" + data[1:] if data[:1] == b"@" else tag + b" " + data)
    out.append(line(f":{server} BATCH -{ref}"))
    session.send(b"".join(out))


def send_messages(session: IrcSession, target: str, messages: list[StoredMessage]) -> None:
    caps = session.caps
    rendered = [stored_message(msg, caps) for msg in messages]
    # A long message may have been split over several lines: each needs the batch tag.
    lines = [one for data in rendered for one in data.splitlines(keepends=True)]
    send_batch(session, "chathistory", target, lines)


@command("CHATHISTORY")
def chathistory(session: IrcSession, user: User, msg: Message) -> None:
    """CHATHISTORY LATEST <target> <*|msgid=|timestamp=> <limit> | BEFORE|AFTER|AROUND <target>
    <msgid=|timestamp=> <limit> | BETWEEN <target> <ref> <ref> <limit> | TARGETS <timestamp=>
    <timestamp=> <limit>: the messages of a channel you are in or of a private conversation, or the
    conversations active in a time range (draft/chathistory)."""
    if not msg.params or not msg.params[0]:
        session.fail("CHATHISTORY", "NEED_MORE_PARAMS", "*", description="Missing parameters")
        return
    given = msg.params[0]
    sub = given.upper()
    needed = _PARAMS.get(sub)
    if needed is None:
        session.fail("CHATHISTORY", "UNKNOWN_COMMAND", given, description="Unknown command")
        return
    params = msg.params[1:]
    if len(params) < needed:
        session.fail("CHATHISTORY", "NEED_MORE_PARAMS", given, description="Missing parameters")
        return
    try:
        if sub == "TARGETS":
            _targets(session, user, given, params)
        else:
            _messages(session, user, given, sub, params)
    except InvalidParams:
        session.fail("CHATHISTORY", "INVALID_PARAMS", given, description="Invalid parameters")


def _messages(session: IrcSession, user: User, given: str, sub: str, params: list[str]) -> None:
    hub = session.hub
    target = params[0]
    maximum = session.options.chathistory_max
    if sub == "BETWEEN":
        start, end = parse_ref(params[1]), parse_ref(params[2])
        limit = _limit(params[3], maximum)
    else:
        ref: Ref | None = None
        # BEFORE * as LATEST *: ergo's compatibility with Kiwi IRC.
        if not (params[1] == "*" and sub in ("LATEST", "BEFORE")):
            ref = parse_ref(params[1])
        limit = _limit(params[2], maximum)
    try:
        key, name = hub.conversation(user, target)
    except ChatError:
        session.fail(
            "CHATHISTORY", "INVALID_TARGET", given, target, description="Messages could not be retrieved"
        )
        return
    store = hub.store
    try:
        if sub == "BETWEEN":
            first, last = _between_bounds(start, end)
            found = store.between(key, first, last, limit)
        elif ref is None:
            found = store.latest(key, limit)
        elif sub == "LATEST":
            found = store.latest(key, limit, _bound(ref, round_up=True))
        elif sub == "BEFORE":
            found = store.before(key, _bound(ref), limit)
        elif sub == "AFTER":
            found = store.after(key, _bound(ref, round_up=True), limit)
        else:
            found = store.around(key, _bound(ref), limit)
    except UnknownMsgid:
        found = []
    except StoreError:
        session.fail(
            "CHATHISTORY", "MESSAGE_ERROR", given, target, description="Messages could not be retrieved"
        )
        return
    session.link.charge_history(len(found))
    send_messages(session, name, found)


def _targets(session: IrcSession, user: User, given: str, params: list[str]) -> None:
    hub = session.hub
    start, end = parse_ref(params[0]), parse_ref(params[1])
    if not isinstance(start, Instant) or not isinstance(end, Instant):
        raise InvalidParams(params[0])
    first, last = _between_bounds(start, end)
    assert isinstance(first, ByTime) and isinstance(last, ByTime)
    limit = _limit(params[2], session.options.chathistory_max)
    me = party(user)
    try:
        found = hub.store.targets(list(user.rooms), me, first.time, last.time, limit)
    except StoreError:
        session.fail("CHATHISTORY", "MESSAGE_ERROR", given, description="Messages could not be retrieved")
        return
    session.link.charge_history(len(found))
    server = session.options.server_name
    guests: dict[str, str] | None = None
    rows = []
    for key, t in found:
        if " g:" in key or key.startswith("g:"):
            if guests is None:  # who the sessions of users not logged in are (built once, when needed)
                guests = {party(u): u.nick for u in hub.users.values() if not u.account}
            name = _target_name(session, key, me, guests)
            if name is None:
                continue  # a session that is gone: its conversation cannot be asked for any more
        else:
            name = _target_name(session, key, me, {})
        rows.append(line(f":{server} CHATHISTORY TARGETS {name} {format_time(t)}"))
    send_batch(session, "draft/chathistory-targets", "", rows)


def _target_name(session: IrcSession, key: str, me: str, guests: dict[str, str]) -> str | None:
    """How a client names the conversation ``key``: a channel's name, or the other party's nickname or
    account (a conversation with oneself is named by one's own nickname); None for a conversation with a
    session not logged in that is gone (``guests``: the nicknames of those still here, by party)."""
    hub = session.hub
    if key.startswith(ROOM_PREFIX):
        room = hub.rooms.get(key)
        return room.name if room is not None else key
    parties = key.split(" ")
    other = next((p for p in parties if p != me), me)
    if other == me and session.user is not None:
        return session.user.nick
    kind, _, name = other.partition(":")
    if kind == "a":
        return hub.accounts.name_of(name) or name
    if kind == "g":
        return guests.get(other)
    found = hub.find_user(name)
    return found.nick if found is not None else name


def replay_on_join(session: IrcSession, room: Room) -> None:
    """After a JOIN's replies: the channel's latest messages, for clients that did not negotiate
    draft/chathistory (those ask for what they need), unless the account turned replay off."""
    count = session.options.history_replay
    user = session.user
    if count <= 0 or user is None or session.caps & Cap.CHATHISTORY:
        return
    hub = session.hub
    if user.account and hub.accounts.setting(user.account, "replay", "on") == "off":
        return
    since = hub.seen.since(user, room.key, hub.now())  # back soon: only what it missed
    try:
        found = hub.store.latest(room.key, count, None if since is None else ByTime(since))
    except StoreError:
        return
    if not found:
        return
    if session.caps & Cap.BATCH:
        send_messages(session, room.name, found)  # a chathistory batch marks the replay
        return
    # No batch: say where the replay starts and ends, so that nobody takes old lines for new ones.
    server = session.options.server_name
    last = f"last {len(found)} messages" if len(found) > 1 else "last message"
    session.send(line(f":{server} NOTICE {room.name} :--- {last} ---"))
    send_messages(session, room.name, found)
    session.send(line(f":{server} NOTICE {room.name} :--- end of replay ---"))
