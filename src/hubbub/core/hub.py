"""The hub: the one authority over users and rooms.

Protocols call the hub (``say``, ``join``, ``change_nick``, ...); the hub checks the rules, raises
:class:`~hubbub.core.errors.ChatError` when a request breaks one, and fans the resulting event out to every
client concerned. Fan-out renders the event once per client variant and hands the same bytes to each
recipient's send queue, which never blocks. Where the actor's own protocol must confirm an action in its own
way (a JOIN echo, "You are now known as"), the hub leaves the actor out of the fan-out and returns the event.
The hub knows no protocol and no socket.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from ..store import MemoryStore, RoomRecord, Store, StoredMessage
from ..wire.masks import match_mask
from .accounts import Accounts
from .errors import ChatError, Reason
from .events import (
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
    Presence,
    Quit,
    Realname,
    ServerNotice,
    Topic,
    Wallops,
)
from .fanout import Batch, Queued, enqueue
from .history import party, private_conversation
from .klines import KLines, shown_reason
from .model import Client, ListEntry, Mailbox, Room, User
from .modes import LIST_MODES, PREFIX_MODES, ModeRequest, parse_limit, valid_key
from .names import NICK_CHARS_HELP, ROOM_PREFIX, casefold, is_valid_nick, is_valid_room

__all__ = ["SERVICE_NICKS", "Cluster", "Hub", "HubLimits", "ManualTimers", "WhowasEntry"]


#: Nicknames of the server's services (IRC NickServ and ChanServ): nobody can take them.
SERVICE_NICKS = frozenset({"nickserv", "chanserv"})

#: Rooms of at most this many members get their lines sent directly, without shared batches.
SMALL_ROOM = 4


@dataclass(frozen=True, slots=True)
class HubLimits:
    nick_max: int = 32
    room_max: int = 64
    topic_max: int = 390
    kick_max: int = 390
    away_max: int = 390
    realname_max: int = 150
    list_max: int = 100
    rooms_per_user: int = 100
    #: Members one room may hold, whatever its modes (0: no limit).
    room_members: int = 0
    whowas: int = 1000
    guest_prefix: str = "guest-"
    #: Seconds someone may use a registered nickname before logging in to it, before being renamed.
    nick_grace: float = 30.0


class WhowasEntry(NamedTuple):
    nick: str
    username: str
    host: str
    realname: str
    time: float


class Timer(Protocol):
    def cancel(self) -> None: ...


class ManualTimers:
    """The hub's default scheduler, for tests without an event loop: timers fire when ``run`` is called."""

    class _Timer:
        __slots__ = ("callback", "cancelled", "delay")

        def __init__(self, delay: float, callback: Callable[[], None]) -> None:
            self.delay = delay
            self.callback = callback
            self.cancelled = False

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self) -> None:
        self.pending: list[ManualTimers._Timer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> ManualTimers._Timer:
        timer = self._Timer(delay, callback)
        self.pending.append(timer)
        return timer

    def run(self) -> int:
        """Fire every pending timer (whatever its delay); return how many fired."""
        due, self.pending = self.pending, []
        fired = 0
        for timer in due:
            if not timer.cancelled:
                timer.callback()
                fired += 1
        return fired


class Cluster(Protocol):
    """What the hub tells the other nodes of a cluster about its own users' actions (hubbub.cluster). The
    hub calls it only for users connected here (``user.node == ""``); the cluster node applies the other
    nodes' actions to the hub's mirror of their users (see hubbub.cluster.node)."""

    def connected(self, user: User) -> None: ...

    def publish(self, event: Event) -> None:
        """An event caused by a local user (a message, a join, a nick change...) that other nodes see."""
        ...

    def user_modes(self, user: User) -> None: ...


def _no_rehash() -> tuple[bool, str]:
    return False, "this server has no configuration file to reload"


def _run_inline(job: Callable[[], Any], done: Callable[[Any], None]) -> None:
    done(job())


class Hub:
    def __init__(
        self, limits: HubLimits | None = None, store: Store | None = None, *, history: bool = True
    ) -> None:
        #: Rooms of at most this many members skip fan-out batches (see fanout_room).
        self.small_room = SMALL_ROOM
        self.limits = limits or HubLimits()
        self.users: dict[str, User] = {}
        self.rooms: dict[str, Room] = {}
        self.whowas: deque[WhowasEntry] = deque(maxlen=self.limits.whowas)
        #: Presence watches (IRC MONITOR): nickname key -> the users watching it.
        self.watchers: dict[str, set[User]] = {}
        self.opers = 0
        #: How many users have user mode +i (LUSERS).
        self.invisible = 0
        self.max_users = 0
        #: Connections that have not registered a user yet (counted by the protocols, for LUSERS).
        self.unregistered = 0
        self.started = time.time()
        self._uids = itertools.count(1)
        self._guests = itertools.count(1)
        # msgids: a random per-process prefix and a counter, unique without coordination.
        self._msgid_prefix = os.urandom(6).hex()
        self._msgids = itertools.count(1)
        #: Called with the mailboxes that fan-out appended to directly, so that the network layer writes them
        #: out at the end of this loop turn. The default does nothing (in-memory tests read ``out`` lists).
        self.on_output: Callable[[list[Mailbox]], None] = _ignore
        #: Accounts, history and registered rooms live here.
        self.store: Store = store if store is not None else MemoryStore()
        #: Whether room and private messages are recorded in the store.
        self.history = history
        self.accounts = Accounts(self)
        #: Server bans (K-lines), loaded from the store: see core.klines.
        self.klines = KLines(self)
        #: Run a slow job (password hashing) off the loop, then ``done(result)`` on the loop. The network
        #: layer sets a thread pool; the default runs the job at once.
        self.run_blocking: Callable[[Callable[[], Any], Callable[[Any], None]], None] = _run_inline
        #: Schedule a callback (nickname protection); the network layer sets the loop's call_later.
        self.timers = ManualTimers()
        self.call_later: Callable[[float, Callable[[], None]], Timer] = self.timers
        #: Reload the server's configuration (IRC REHASH): (True, what changed) or (False, why not). The
        #: network layer sets it.
        self.rehash: Callable[[], tuple[bool, str]] = _no_rehash
        #: Users using a registered nickname without being logged in to it, with their grace timer.
        self._grace: dict[User, Timer] = {}
        #: The other nodes of a cluster (None: this node is alone). See hubbub.cluster.
        self.cluster: Cluster | None = None
        #: Counters for the metrics endpoint: messages sent, deliveries of them, and lines written to history.
        self.messages_in = 0
        self.messages_out = 0
        self.history_writes = 0
        for record in self.store.load_rooms():
            self.restore_room(record)

    @staticmethod
    def now() -> float:
        return time.time()

    # -- users -------------------------------------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.users.get(casefold(nick))

    def require_user(self, nick: str) -> User:
        user = self.users.get(casefold(nick))
        if user is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick, f"No such nickname: {nick}")
        return user

    def guests_from(self, number: int) -> None:
        """Number guest nicknames from ``number`` on (cluster nodes each start somewhere else)."""
        self._guests = itertools.count(number)

    def guest_nick(self) -> str:
        prefix = self.limits.guest_prefix
        while True:
            nick = f"{prefix}{next(self._guests)}"
            if casefold(nick) not in self.users:
                return nick

    def check_nick(self, nick: str, *, current: User | None = None) -> str:
        """Validate ``nick`` and return its key; raise ChatError if it is invalid or taken by someone else."""
        if not is_valid_nick(nick, self.limits.nick_max):
            raise ChatError(
                Reason.BAD_NICK,
                nick,
                f"Invalid nickname {nick!r}: use 1-{self.limits.nick_max} {NICK_CHARS_HELP}",
            )
        key = casefold(nick)
        holder = self.users.get(key)
        if (holder is not None and holder is not current) or key in SERVICE_NICKS:
            raise ChatError(Reason.NICK_IN_USE, nick, f"Nickname {nick} is already in use")
        return key

    def connect(
        self,
        client: Client,
        mailbox: Mailbox,
        *,
        nick: str | None = None,
        username: str = "",
        host: str,
        realname: str = "",
        account: str = "",
    ) -> User:
        """Register a new user for ``client`` (already logged in to ``account``, if given: IRC SASL); with no
        ``nick`` a guest nickname is chosen."""
        if nick is None:
            nick = self.guest_nick()
        key = self.check_nick(nick)
        if self.klines:
            kline = self.klines.find(f"{nick}!{username or nick}@{host}")
            if kline is not None:
                reason = shown_reason(kline.reason)
                raise ChatError(Reason.K_LINED, reason, f"You are banned from this server ({reason})")
        user = User(
            next(self._uids),
            nick,
            key,
            client,
            mailbox,
            username=username or nick,
            host=host,
            realname=realname or nick,
        )
        user.account = account
        self.users[key] = user
        self.max_users = max(self.max_users, len(self.users))
        if key in self.watchers:
            self.presence(user, nick, key, online=True)
        self._protect_nick(user)
        if self.cluster is not None:
            self.cluster.connected(user)
        return user

    def change_nick(self, user: User, new: str) -> NickChange | None:
        """Rename ``user`` and tell everyone who shares a room.

        The returned event is for the user's own protocol to confirm (``None``: the nickname did not change).
        """
        key = self.check_nick(new, current=user)
        old = user.nick
        if new == old:
            return None
        del self.users[user.key]
        user.key = key
        self.users[key] = user
        event = self.rename(user, new)
        assert event is not None
        if casefold(old) != key:
            self._protect_nick(user)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def rename(self, user: User, new: str) -> NickChange | None:
        """Give ``user`` the nickname ``new`` and tell its neighbours and watchers, without the checks (see
        change_nick; for a user of another node, its node checked). The caller has already filed ``user`` in
        ``users`` under its new key."""
        old = user.nick
        if new == old:
            return None
        key = casefold(new)
        self._remember(user)
        user.nick = new
        event = NickChange(user, time.time(), old, new)
        self.fanout(event, self._neighbours(user, include_self=False))
        old_key = casefold(old)
        if old_key != key:
            if old_key in self.watchers:
                self.presence(user, old, old_key, online=False)
            if key in self.watchers:
                self.presence(user, new, key, online=True)
        return event

    def quit(self, user: User, reason: str) -> None:
        """Remove ``user`` (its connection has ended or is ending) and tell everyone who shared a room."""
        if self.users.get(user.key) is not user:
            return
        self._remember(user)
        del self.users[user.key]
        grace = self._grace.pop(user, None)
        if grace is not None:
            grace.cancel()
        if user.oper:
            self.opers -= 1
        if "i" in user.modes:
            self.invisible -= 1
        event = Quit(user, time.time(), reason)
        if self.cluster is not None and not user.node:
            self.cluster.publish(event)  # before the rooms are left: the cluster looks at them
        recipients = list(self._neighbours(user, include_self=False))
        for room in list(user.rooms.values()):
            self._leave(user, room)
        self.fanout(event, recipients)
        self.unwatch_all(user)
        if user.key in self.watchers:
            self.presence(user, user.nick, user.key, online=False)

    # -- accounts ----------------------------------------------------------------------------------------

    def log_in(self, user: User, account: str) -> None:
        """``user`` proved it owns ``account``: record it and tell those who share a room (account-notify)."""
        if user.account == account:
            return
        user.account = account
        if casefold(account) == user.key:  # the nickname is its own: no more renaming
            grace = self._grace.pop(user, None)
            if grace is not None:
                grace.cancel()
        self.tell_neighbours(AccountChange(user, time.time(), account))

    def log_out(self, user: User) -> None:
        if not user.account:
            raise ChatError(Reason.NOT_LOGGED_IN, user.nick, "You are not logged in")
        user.account = ""
        self.tell_neighbours(AccountChange(user, time.time(), ""))
        self._protect_nick(user)

    def notify(self, user: User, text: str) -> None:
        """A notice from the server to ``user`` alone."""
        data = user.client.render(ServerNotice(user, time.time(), text))
        if data:
            user.send(data)

    def _protect_nick(self, user: User) -> None:
        """If ``user``'s nickname is a registered account it is not logged in to, warn it and rename it after
        the grace period unless it logs in by then."""
        key = user.key
        if user.node or casefold(user.account) == key or self.store.get_account(key) is None:
            return  # another node of the cluster protects its own users
        grace = self.limits.nick_grace
        self.notify(
            user,
            f"The nickname {user.nick} is registered. Log in to it within {grace:g} seconds"
            " or you will be renamed.",
        )
        old = self._grace.pop(user, None)
        if old is not None:
            old.cancel()

        def expire() -> None:
            self._grace.pop(user, None)
            if self.users.get(key) is user and casefold(user.account) != key:
                taken = user.nick
                self.force_nick(user, self.guest_nick())
                self.notify(user, f"You were renamed: {taken} is registered and you did not log in to it.")

        self._grace[user] = self.call_later(grace, expire)

    def force_nick(self, user: User, new: str) -> NickChange | None:
        """Rename ``user`` on the server's authority: ``user`` is told as well as those sharing a room."""
        event = self.change_nick(user, new)
        if event is not None:
            data = user.client.render(event)
            if data:
                user.send(data)
        return event

    # -- presence watches (MONITOR) ----------------------------------------------------------------------

    def watch(self, user: User, nicks: Iterable[str]) -> None:
        for nick in nicks:
            self.watchers.setdefault(casefold(nick), set()).add(user)

    def unwatch(self, user: User, nicks: Iterable[str]) -> None:
        for nick in nicks:
            key = casefold(nick)
            watchers = self.watchers.get(key)
            if watchers is not None:
                watchers.discard(user)
                if not watchers:
                    del self.watchers[key]

    def unwatch_all(self, user: User) -> None:
        empty = [key for key, watchers in self.watchers.items() if user in watchers and len(watchers) == 1]
        for watchers in self.watchers.values():
            watchers.discard(user)
        for key in empty:
            del self.watchers[key]

    def presence(self, user: User, nick: str, key: str, *, online: bool) -> None:
        event = Presence(user, time.time(), nick, online)
        for watcher in list(self.watchers.get(key, ())):
            if watcher is not user:
                data = watcher.client.render(event)
                if data:
                    watcher.send(data)

    def _remember(self, user: User) -> None:
        self.whowas.append(WhowasEntry(user.nick, user.username, user.host, user.realname, time.time()))

    def find_whowas(self, nick: str, count: int = 0) -> list[WhowasEntry]:
        key = casefold(nick)
        found = [entry for entry in reversed(self.whowas) if casefold(entry.nick) == key]
        return found[:count] if count > 0 else found

    def _neighbours(self, user: User, *, include_self: bool) -> Iterator[User]:
        """Every user sharing a room with ``user``, once each."""
        rooms = user.rooms
        if include_self:
            yield user
        if len(rooms) == 1:
            for room in rooms.values():
                for member in room.members:
                    if member is not user:
                        yield member
            return
        seen = {user}
        for room in rooms.values():
            for member in room.members:
                if member not in seen:
                    seen.add(member)
                    yield member

    def set_away(self, user: User, message: str) -> None:
        message = message[: self.limits.away_max]
        if message == user.away:
            return
        user.away = message
        self.tell_neighbours(Away(user, time.time(), message))

    def set_realname(self, user: User, realname: str) -> Realname:
        user.realname = realname[: self.limits.realname_max]
        event = Realname(user, time.time(), user.realname)
        self.tell_neighbours(event)
        return event

    def tell_neighbours(self, event: Event) -> None:
        """Fan ``event`` out to everyone sharing a room with its user, and to the cluster."""
        self.fanout(event, self._neighbours(event.user, include_self=False))
        if self.cluster is not None and not event.user.node:
            self.cluster.publish(event)

    def set_user_modes(
        self, user: User, changes: Iterable[tuple[str, str | None]]
    ) -> list[tuple[str, str | None]]:
        """Apply user mode changes a user asked for itself; ``+o`` is only given by :meth:`make_oper`."""
        applied: list[tuple[str, str | None]] = []
        for change, _ in changes:
            sign, mode = change[0], change[1]
            if mode == "o" and sign == "+":
                continue
            if sign == "+" and mode not in user.modes:
                user.modes.add(mode)
                if mode == "i":
                    self.invisible += 1
            elif sign == "-" and mode in user.modes:
                user.modes.discard(mode)
                if mode == "i":
                    self.invisible -= 1
                if mode == "o":
                    user.oper = ""
                    self.opers -= 1
            else:
                continue
            applied.append((change, None))
        if applied and self.cluster is not None and not user.node:
            self.cluster.user_modes(user)
        return applied

    def make_oper(self, user: User, name: str) -> list[tuple[str, str | None]]:
        if not user.oper:
            self.opers += 1
        user.oper = name
        if "o" in user.modes:
            return []
        user.modes.add("o")
        if self.cluster is not None and not user.node:
            self.cluster.user_modes(user)
        return [("+o", None)]

    def kill(self, killer: User, nick: str, reason: str) -> User:
        if not killer.oper:
            raise ChatError(Reason.NO_PRIVILEGES, nick, "Permission Denied - You're not an IRC operator")
        target = self.require_user(nick)
        target.client.disconnect(f"Killed by {killer.nick} ({reason})")
        return target

    def wallops(self, user: User, text: str) -> None:
        if not user.oper:
            raise ChatError(Reason.NO_PRIVILEGES, "WALLOPS", "Permission Denied - You're not an IRC operator")
        event = Wallops(user, time.time(), text)
        self.fanout(event, [u for u in self.users.values() if "w" in u.modes])
        if self.cluster is not None:
            self.cluster.publish(event)

    # -- rooms -------------------------------------------------------------------------------------------

    def find_room(self, name: str) -> Room | None:
        return self.rooms.get(casefold(name))

    def require_room(self, name: str) -> Room:
        room = self.rooms.get(casefold(name))
        if room is None:
            raise ChatError(Reason.NO_SUCH_ROOM, name, f"No such room: {name}")
        return room

    def normalize_room(self, name: str) -> str:
        if not name.startswith(ROOM_PREFIX):
            name = ROOM_PREFIX + name
        if not is_valid_room(name, self.limits.room_max):
            raise ChatError(
                Reason.BAD_ROOM,
                name,
                f"Invalid room name {name!r}: # and up to {self.limits.room_max - 1} characters,"
                " no spaces, commas or colons",
            )
        return name

    def is_banned(self, room: Room, user: User) -> bool:
        bans = room.lists["b"]
        if not bans:
            return False
        mask = user.hostmask
        if not any(match_mask(entry.mask, mask) for entry in bans):
            return False
        return not any(match_mask(entry.mask, mask) for entry in room.lists["e"])

    def join(self, user: User, name: str, password: str = "") -> Join:
        """Add ``user`` to the room ``name`` (creating it, with ``user`` as its operator) and tell the others.

        The returned event is for the user's own protocol to confirm.
        """
        name = self.normalize_room(name)
        key = casefold(name)
        room = self.rooms.get(key)
        if room is not None and user in room.members:
            raise ChatError(Reason.ALREADY_IN_ROOM, room.name, f"You are already in {room.name}")
        if len(user.rooms) >= self.limits.rooms_per_user:
            raise ChatError(Reason.TOO_MANY_ROOMS, name, "You have joined too many rooms")
        if room is None:
            room = self.rooms[key] = Room(name, key)
            status = "o"
        else:
            if self.limits.room_members and len(room.members) >= self.limits.room_members:
                raise ChatError(Reason.ROOM_FULL, room.name, f"{room.name} is full")
            self._check_entry(user, room, password)
            status = "o" if room.founder and casefold(user.account) == casefold(room.founder) else ""
        user.invites.discard(key)
        event = self.enter(user, room, status)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def enter(self, user: User, room: Room, status: str) -> Join:
        """Add ``user`` to ``room`` with ``status`` (the checks done) and tell the other members."""
        room.members[user] = status
        user.rooms[room.key] = room
        room.groups = None
        if user.node:
            room.remote += 1
        event = Join(user, time.time(), room)
        self.fanout_room(event, room, user)
        if user.away:
            # The members learn that the newcomer is away (IRCv3 away-notify).
            self.fanout_room(Away(user, event.time, user.away), room, user)
        return event

    def room_named(self, name: str) -> Room:
        """The room ``name`` (valid), created empty if there is none."""
        key = casefold(name)
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name, key)
        return room

    def _check_entry(self, user: User, room: Room, password: str) -> None:
        invited = room.key in user.invites
        if not invited and self.is_banned(room, user):
            raise ChatError(Reason.BANNED, room.name, f"You are banned from {room.name}")
        if "i" in room.flags and not invited:
            mask = user.hostmask
            if not any(match_mask(entry.mask, mask) for entry in room.lists["I"]):
                raise ChatError(Reason.INVITE_ONLY, room.name, f"{room.name} is invite only")
        if room.limit and len(room.members) >= room.limit and not invited:
            raise ChatError(Reason.ROOM_FULL, room.name, f"{room.name} is full")
        if room.password and password != room.password and not invited:
            raise ChatError(Reason.BAD_KEY, room.name, f"{room.name} needs the right key")

    def part(self, user: User, room: Room, reason: str = "") -> Part:
        """Remove ``user`` from ``room`` and tell the other members; the event is returned as for join."""
        _require_member(user, room)
        event = Part(user, time.time(), room, reason)
        self.fanout_room(event, room, user)
        self._leave(user, room)
        if self.cluster is not None and not user.node:
            self.cluster.publish(event)
        return event

    def _leave(self, user: User, room: Room) -> None:
        room.groups = None
        del room.members[user]
        del user.rooms[room.key]
        if user.node:
            room.remote -= 1
        if not room.members and not room.founder:
            del self.rooms[room.key]

    # -- registered rooms --------------------------------------------------------------------------------

    def register_room(self, user: User, room: Room) -> None:
        """A logged-in operator of ``room`` registers it: it keeps its topic, modes and lists across restarts
        and when empty, and ``user``'s account becomes its founder."""
        if not user.account:
            raise ChatError(Reason.NOT_LOGGED_IN, room.name, "Log in to an account to register a room")
        self._require_op(user, room)
        if room.founder:
            raise ChatError(Reason.ROOM_REGISTERED, room.name, f"{room.name} is already registered")
        room.founder = user.account
        self._save_room(room)

    def unregister_room(self, user: User, room: Room) -> None:
        if not room.founder:
            raise ChatError(Reason.ROOM_NOT_REGISTERED, room.name, f"{room.name} is not registered")
        if casefold(user.account) != casefold(room.founder) and not user.oper:
            raise ChatError(Reason.NOT_FOUNDER, room.name, f"Only the founder of {room.name} can do that")
        room.founder = ""
        self.store.drop_room(room.key)
        if not room.members:
            del self.rooms[room.key]

    def _save_room(self, room: Room) -> None:
        if not room.founder:
            return
        lists = {mode: tuple(tuple(entry) for entry in entries) for mode, entries in room.lists.items()}
        self.store.save_room(
            RoomRecord(
                key=room.key,
                name=room.name,
                founder=room.founder,
                created=room.created,
                topic=room.topic,
                topic_by=room.topic_by,
                topic_time=room.topic_time,
                modes="".join(sorted(room.flags)),
                join_key=room.password or None,
                limit=room.limit or None,
                bans=lists["b"],  # type: ignore[arg-type]
                excepts=lists["e"],  # type: ignore[arg-type]
                invites=lists["I"],  # type: ignore[arg-type]
            )
        )

    def restore_room(self, record: RoomRecord) -> None:
        room = Room(record.name, record.key)
        room.founder = record.founder
        room.created = record.created
        room.topic, room.topic_by, room.topic_time = record.topic, record.topic_by, record.topic_time
        room.flags = set(record.modes)
        room.password = record.join_key or ""
        room.limit = record.limit or 0
        for mode, entries in (("b", record.bans), ("e", record.excepts), ("I", record.invites)):
            room.lists[mode] = [ListEntry(*entry) for entry in entries]
        self.rooms[record.key] = room

    # -- history -----------------------------------------------------------------------------------------

    def conversation(self, user: User, target: str) -> tuple[str, str]:
        """The history key and display name of ``user``'s conversation with ``target`` (a room it is in, or a
        nickname); ChatError if ``user`` may not read it."""
        if target.startswith(ROOM_PREFIX):
            room = self.require_room(target)
            if user not in room.members:
                raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
            return room.key, room.name
        if not is_valid_nick(target, self.limits.nick_max):
            raise ChatError(Reason.NO_SUCH_NICK, target, f"No such nickname: {target}")
        other = self.find_user(target)
        if other is not None:
            them = party(other)
        elif self.store.get_account(casefold(target)) is not None:
            them = f"a:{casefold(target)}"
        else:
            them = f"n:{casefold(target)}"
        return private_conversation(party(user), them), other.nick if other is not None else target

    def room_list(self) -> list[Room]:
        return sorted(self.rooms.values(), key=lambda r: r.key)

    def _require_op(self, user: User, room: Room) -> None:
        if "o" not in _require_member(user, room):
            raise ChatError(Reason.CHANOP_NEEDED, room.name, f"You are not an operator of {room.name}")

    def set_topic(self, user: User, room: Room, topic: str) -> Topic | None:
        """Change the topic and tell the other members; the event is returned for ``user``'s confirmation
        (``None``: the topic was already that, and nobody is told, as in ergo)."""
        _require_member(user, room)
        if "t" in room.flags:
            self._require_op(user, room)
        topic = topic[: self.limits.topic_max]
        if topic == room.topic:
            return None
        room.topic = topic
        room.topic_by = user.hostmask
        room.topic_time = time.time()
        event = Topic(user, room.topic_time, room, room.topic)
        self.fanout_room(event, room, user)
        self._save_room(room)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def kick(self, user: User, room: Room, nick: str, reason: str) -> Kick:
        """Remove ``nick`` from ``room`` and tell every member (the kicked one too) but ``user``, to whom the
        event is returned."""
        self._require_op(user, room)
        target = self.require_user(nick)
        if target not in room.members:
            raise ChatError(
                Reason.USER_NOT_IN_ROOM, room.name, f"{target.nick} is not in {room.name}", nick=target.nick
            )
        event = self.expel(user, room, target, reason[: self.limits.kick_max] or user.nick)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def expel(self, user: User, room: Room, target: User, reason: str) -> Kick:
        """``user`` removes ``target`` from ``room`` (the checks done: see kick): every member but ``user``
        is told, the kicked one too."""
        event = Kick(user, time.time(), room, target, reason)
        self.fanout_room(event, room, user)
        self._leave(target, room)
        return event

    def invite(self, user: User, nick: str, room_name: str) -> Invite:
        """Invite ``nick`` to a room: the target and the room's operators are told."""
        target = self.require_user(nick)
        room = self.require_room(room_name)
        _require_member(user, room)
        if "i" in room.flags:
            self._require_op(user, room)
        if target in room.members:
            raise ChatError(
                Reason.USER_IN_ROOM, room.name, f"{target.nick} is already in {room.name}", nick=target.nick
            )
        target.invites.add(room.key)
        now = time.time()
        event = Invite(user, now, room.name, target)
        data = target.client.render(event)
        if data:
            target.send(data)
        elif target.node and self.cluster is not None:
            self.cluster.publish(event)
        ops = [m for m, status in room.members.items() if "o" in status and m is not user]
        self.fanout(Invite(user, now, room.name, target, notify=True), ops)
        return event

    def change_room_modes(
        self, user: User, room: Room, request: ModeRequest
    ) -> tuple[ModeChange | None, list[ChatError]]:
        """Apply what ``user`` may change and tell the other members; return the change (for ``user``'s
        confirmation; ``None`` when nothing changed) and the errors."""
        errors: list[ChatError] = []
        applied: list[tuple[str, str | None]] = []
        if not request.changes:
            return None, errors
        try:
            self._require_op(user, room)
        except ChatError as exc:
            return None, [exc]
        limits = self.limits
        for change, arg in request.changes:
            sign, mode = change[0], change[1]
            adding = sign == "+"
            if mode in PREFIX_MODES:
                assert arg is not None
                target = self.find_user(arg)
                if target is None:
                    errors.append(ChatError(Reason.NO_SUCH_NICK, arg, f"No such nickname: {arg}"))
                    continue
                status = room.members.get(target)
                if status is None:
                    errors.append(
                        ChatError(
                            Reason.USER_NOT_IN_ROOM,
                            room.name,
                            f"{target.nick} is not in {room.name}",
                            nick=target.nick,
                        )
                    )
                    continue
                if adding and mode not in status:
                    room.members[target] = "".join(m for m in PREFIX_MODES if m in status or m == mode)
                elif not adding and mode in status:
                    room.members[target] = status.replace(mode, "")
                else:
                    continue
                applied.append((change, target.nick))
            elif mode in LIST_MODES:
                assert arg is not None
                mask = _normalize_mask(arg)
                entries = room.lists[mode]
                existing = [e for e in entries if casefold(e.mask) == casefold(mask)]
                if adding and not existing:
                    if len(entries) >= limits.list_max:
                        errors.append(ChatError(Reason.INVALID_PARAM, mode, f"The {mode} list is full"))
                        continue
                    entries.append(ListEntry(mask, user.hostmask, time.time()))
                elif not adding and existing:
                    entries.remove(existing[0])
                    mask = existing[0].mask
                else:
                    continue
                applied.append((change, mask))
            elif mode == "k":
                if adding:
                    assert arg is not None
                    if not valid_key(arg):
                        errors.append(ChatError(Reason.INVALID_PARAM, "k", "Invalid key"))
                        continue
                    room.password = arg
                    applied.append((change, arg))
                elif room.password:
                    room.password = ""
                    applied.append((change, "*"))
            elif mode == "l":
                if adding:
                    assert arg is not None
                    limit = parse_limit(arg)
                    if limit <= 0:
                        errors.append(ChatError(Reason.INVALID_PARAM, "l", "Invalid limit"))
                        continue
                    room.limit = limit
                    applied.append((change, str(limit)))
                elif room.limit:
                    room.limit = 0
                    applied.append((change, None))
            else:
                if adding and mode not in room.flags:
                    room.flags.add(mode)
                elif not adding and mode in room.flags:
                    room.flags.discard(mode)
                else:
                    continue
                applied.append((change, None))
        if not applied:
            return None, errors
        event = ModeChange(user, time.time(), room, tuple(applied))
        self.fanout_room(event, room, user)
        self._save_room(room)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event, errors

    # -- messages ----------------------------------------------------------------------------------------

    def new_msgid(self) -> str:
        return f"{self._msgid_prefix}{next(self._msgids):x}"

    def say(
        self,
        user: User,
        room: Room,
        text: str,
        kind: MessageKind = MessageKind.SAY,
        tags: Mapping[str, str] | None = None,
        status: str = "",
    ) -> Message:
        """Send ``text`` from ``user`` to every other member of ``room`` (or to its operators: ``status``)."""
        members = room.members
        mode = members.get(user)
        if mode is None:
            if "n" in room.flags:
                raise ChatError(Reason.CANNOT_SEND, room.name, f"You are not in {room.name}")
            if "m" in room.flags or self.is_banned(room, user):
                raise ChatError(Reason.CANNOT_SEND, room.name, f"You cannot send to {room.name}")
        elif not mode and ("m" in room.flags or (room.lists["b"] and self.is_banned(room, user))):
            raise ChatError(
                Reason.CANNOT_SEND, room.name, f"You cannot send to {room.name} (moderated or banned)"
            )
        event = Message(user, time.time(), room, text, kind, self.new_msgid(), user.nick, tags, status)
        user.last_active = event.time
        self.messages_in += 1
        if self.history and not status and kind is not MessageKind.TAGS:
            self._record(event, room.key, room.name)
        if status:
            ops = [m for m, s in members.items() if "o" in s]
            self.messages_out += len(ops) - (user in ops)
            self.fanout(event, ops, exclude=user)
        else:
            self.messages_out += len(members) - (mode is not None)
            self.fanout_room(event, room, user)
        if room.remote and self.cluster is not None:
            self.cluster.publish(event)
        return event

    def private(
        self,
        user: User,
        nick: str,
        text: str,
        kind: MessageKind = MessageKind.SAY,
        tags: Mapping[str, str] | None = None,
    ) -> Message:
        """Send ``text`` from ``user`` to the user named ``nick``."""
        target = self.require_user(nick)
        event = Message(user, time.time(), target, text, kind, self.new_msgid(), user.nick, tags)
        user.last_active = event.time
        self.messages_in += 1
        if self.history and kind is not MessageKind.TAGS:
            one, other = party(user), party(target)
            parties = (one, other) if one != other else (one,)
            self._record(event, private_conversation(one, other), target.nick, parties)
        data = target.client.render(event)
        if data:
            self.messages_out += 1
            target.send(data)
        elif target.node and self.cluster is not None:
            self.cluster.publish(event)
        return event

    def _record(self, event: Message, conversation: str, target: str, parties: tuple[str, ...] = ()) -> None:
        """Keep ``event`` in the history of ``conversation`` (see core.history for the keys)."""
        user = event.user
        self.history_writes += 1
        self.store.append(
            StoredMessage(
                0,
                event.msgid,
                event.time,
                conversation,
                target,
                user.hostmask,
                user.account or None,
                event.kind.value,
                event.text,
                parties,
            )
        )

    # -- fan-out -----------------------------------------------------------------------------------------

    def variant_changed(self, user: User) -> None:
        """``user``'s client now renders differently (IRC capabilities changed): regroup its rooms."""
        for room in user.rooms.values():
            room.groups = None

    def fanout_room(self, event: Event, room: Room, exclude: User | None) -> None:
        """Queue ``event`` for every member of ``room`` but ``exclude``: one render per client variant, the
        bytes added to the group's open batch for this turn (or a new batch queued for every member of the
        group), and one wake call per new batch. See core.fanout. A small room skips batching: there is
        little to share, and a direct send costs less than a batch."""
        if len(room.members) <= self.small_room:
            self.fanout(event, room.members, exclude)
            return
        groups = room.groups
        if groups is None:
            groups = _regroup(room)
        excluded_group = -1
        if exclude is not None and exclude in room.members:
            excluded_group = room.group_of[exclude.client.variant]
        batches = room.batches
        for i, (client, outs, mailboxes) in enumerate(groups):
            data = client.render(event)
            if data is None:
                continue
            batch = batches[i]
            if batch is not None and not batch.closed:
                batch.items.append(data)
            else:
                batch = batches[i] = Batch(data)
                for out in outs:
                    enqueue(out, batch)
                self.on_output(mailboxes)
            if i == excluded_group:
                assert exclude is not None
                batch.exclude(exclude.mailbox, len(batch.items) - 1)

    @staticmethod
    def fanout(event: Event, users: Iterable[User], exclude: User | None = None) -> None:
        """Render ``event`` once per client variant and queue the bytes for every user but ``exclude``."""
        rendered: dict[Hashable, bytes | None] = {}
        for user in users:
            if user is exclude:
                continue
            client = user.client
            variant = client.variant
            try:
                data = rendered[variant]
            except KeyError:
                data = rendered[variant] = client.render(event)
            if data is not None:
                user.send(data)


def _require_member(user: User, room: Room) -> str:
    """``user``'s status in ``room``; ChatError if it is not a member."""
    status = room.members.get(user)
    if status is None:
        raise ChatError(Reason.NOT_IN_ROOM, room.name, f"You are not in {room.name}")
    return status


def _ignore(mailboxes: list[Mailbox]) -> None:
    pass


def _regroup(room: Room) -> list[tuple[Client, list[list[Queued]], list[Mailbox]]]:
    """Group the members of ``room`` by client variant (see Room.groups)."""
    groups: dict[Hashable, tuple[Client, list[list[Queued]], list[Mailbox]]] = {}
    for member in room.members:
        client = member.client
        group = groups.get(client.variant)
        if group is None:
            group = groups[client.variant] = (client, [], [])
        group[1].append(member.out)
        group[2].append(member.mailbox)
    room.group_of = {variant: i for i, variant in enumerate(groups)}
    room.groups = list(groups.values())
    room.batches = [None] * len(groups)
    return room.groups


def _normalize_mask(mask: str) -> str:
    """Complete a partial mask the usual way: ``nick`` -> ``nick!*@*``, ``user@host`` -> ``*!user@host``."""
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask
