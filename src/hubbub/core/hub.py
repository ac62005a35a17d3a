"""The hub: the one authority over users and rooms, and the facade the protocols call.

Protocols call the hub (``say``, ``join``, ``change_nick``, ...); the hub checks the rules, raises
:class:`~hubbub.core.errors.ChatError` when a request breaks one, and fans the resulting event out to every
client concerned (core.fanout). Where the actor's own protocol must confirm an action in its own way (a JOIN
echo, "You are now known as"), the hub leaves the actor out of the fan-out and returns the event. The hub
knows no protocol and no socket.

State owned here: room membership (``rooms``, ``Room.members``, ``User.rooms``, ``Room.remote``), topics,
invitations, away messages and real names, and the message counters. The rest lives in one module per noun,
each stating what it owns: ``directory`` (core.users: the users filed by nickname, the LUSERS counters),
``nicks`` (core.nicks: nickname rules, guest nicknames, protection timers), ``monitor`` (core.monitor),
``whowas`` (core.whowas), ``registered`` (core.registered: registered rooms), ``cloaks`` (core.cloaks: the
host shown for an address), core.rooms (entry rules, MODE), ``fanout`` (core.fanout), ``replica``
(core.replica: the one way in for other nodes' changes, unchecked)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..store import MemoryStore, Store, StoredMessage
from .accounts import Accounts
from .cloaks import Cloaks
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
    Quit,
    Realname,
    ServerNotice,
    Topic,
    Wallops,
)
from .fanout import Fanout, add_member, neighbours, remove_member
from .history import Seen, conversation, party, private_conversation
from .klines import KLines, shown_reason
from .limits import HubLimits
from .model import Client, Mailbox, Room, User
from .modes import ModeRequest
from .monitor import Monitor
from .names import ROOM_PREFIX, casefold, is_valid_room
from .nicks import SERVICE_NICKS, ManualTimers, Nicks, Timer
from .registered import RegisteredRooms
from .replica import Cluster, Replica
from .rooms import Listings, apply_modes, check_entry, entry_status, is_banned, require_member, require_op
from .users import Directory
from .whowas import Whowas, WhowasEntry

__all__ = ["SERVICE_NICKS", "Cluster", "Hub", "HubLimits", "ManualTimers", "WhowasEntry"]


def _no_rehash() -> tuple[bool, str]:
    return False, "this server has no configuration file to reload"


def _run_inline(job: Callable[[], Any], done: Callable[[Any], None]) -> None:
    done(job())


class Hub:
    def __init__(
        self, limits: HubLimits | None = None, store: Store | None = None, *, history: bool = True
    ) -> None:
        self.limits = limits or HubLimits()
        #: Fan-out: renders events once per variant and queues them (its ``on_output`` hook: see on_output).
        self.fanout = Fanout()
        self.directory = Directory()
        #: nickname key -> User (the directory's; read it, file users through the directory or the replica).
        self.users: dict[str, User] = self.directory.users
        self.rooms: dict[str, Room] = {}  # room key -> Room
        self.nicks = Nicks(self)
        self.monitor = Monitor()
        self.whowas = Whowas(self.limits.whowas)
        self.seen = Seen(self)
        self.listings = Listings()
        self.registered = RegisteredRooms(self)
        #: The one way in for other nodes' changes (unchecked): see core.replica.
        self.replica = Replica(self)
        #: Connections that have not registered a user yet (counted by the protocols, for LUSERS).
        self.unregistered = 0
        self.started = time.time()
        # msgids: a random per-process prefix and a counter, unique without coordination.
        self._msgid_prefix = os.urandom(6).hex()
        self._msgids = itertools.count(1)
        #: Accounts, history and registered rooms live here.
        self.store: Store = store if store is not None else MemoryStore()
        #: Whether room and private messages are recorded in the store.
        self.history = history
        self.accounts = Accounts(self)
        #: Server bans (K-lines), loaded from the store: see core.klines.
        self.klines = KLines(self)
        self.cloaks = Cloaks()  # off; the App sets the secret
        #: Run a slow job (password hashing) off the loop, then ``done(result)`` on the loop. The network
        #: layer sets a thread pool; the default runs the job at once.
        self.run_blocking: Callable[[Callable[[], Any], Callable[[Any], None]], None] = _run_inline
        #: Schedule a callback (nickname protection); the network layer sets the loop's call_later.
        self.timers = ManualTimers()
        self.call_later: Callable[[float, Callable[[], None]], Timer] = self.timers
        #: Reload the server's configuration (IRC REHASH): (True, what changed) or (False, why not). The
        #: network layer sets it.
        self.rehash: Callable[[], tuple[bool, str]] = _no_rehash
        #: The other nodes of a cluster (None: this node is alone). See hubbub.cluster.
        self.cluster: Cluster | None = None
        #: Counters for the metrics endpoint: messages sent, deliveries of them, and lines written to history.
        self.messages_in = self.messages_out = self.history_writes = 0
        for record in self.store.load_rooms():
            self.registered.restore(record)

    @property
    def on_output(self) -> Callable[[list[Mailbox]], None]:
        """Called with the mailboxes that fan-out appended to directly, so that the network layer writes them
        out at the end of this loop turn (the fan-out's hook; the default does nothing)."""
        return self.fanout.on_output

    @on_output.setter
    def on_output(self, hook: Callable[[list[Mailbox]], None]) -> None:
        self.fanout.on_output = hook

    @property
    def opers(self) -> int:
        return self.directory.opers

    @property
    def invisible(self) -> int:
        """How many users have user mode +i (LUSERS)."""
        return self.directory.invisible

    @property
    def max_users(self) -> int:
        return self.directory.max_users

    @staticmethod
    def now() -> float:
        return time.time()

    # -- users -------------------------------------------------------------------------------------------

    def find_user(self, nick: str) -> User | None:
        return self.users.get(casefold(nick))

    def require_user(self, nick: str) -> User:
        return self.directory.require(nick)

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
        """Register a new user for ``client`` at the address ``host`` (shown cloaked if cloaking is on),
        already logged in to ``account`` if given (IRC SASL); with no ``nick`` a guest nickname is chosen."""
        if nick is None:
            nick = self.nicks.guest()
        key = self.nicks.check(nick, account=account)
        shown = self.cloaks.host(host)
        if self.klines:
            kline = self.klines.find_address(nick, username or nick, host, shown)
            if kline is not None:
                reason = shown_reason(kline.reason)
                raise ChatError(Reason.K_LINED, reason, f"You are banned from this server ({reason})")
        user = User(
            self.directory.new_id(),
            nick,
            key,
            client,
            mailbox,
            username=username or nick,
            host=shown,
            realname=realname or nick,
            ip=host,
        )
        user.account = account
        self.directory.add(user)
        self.monitor.announce(user, nick, key, online=True)
        self.nicks.protect(user)
        if self.cluster is not None:
            self.cluster.connected(user)
        return user

    def change_nick(self, user: User, new: str) -> NickChange | None:
        """Rename ``user`` and tell everyone who shares a room.

        The returned event is for the user's own protocol to confirm (``None``: the nickname did not change).
        """
        key = self.nicks.check(new, current=user)
        old = user.nick
        if new == old:
            return None
        self.directory.rekey(user, key)
        event = self._rename(user, new)
        if casefold(old) != key:
            self.nicks.protect(user)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def _rename(self, user: User, new: str) -> NickChange:
        """Give ``user`` the nickname ``new`` (already filed under its key) and tell its neighbours and
        watchers."""
        old = user.nick
        key = casefold(new)
        self.whowas.remember(user)
        user.nick = new
        event = NickChange(user, time.time(), old, new)
        self.fanout.users(event, neighbours(user))
        old_key = casefold(old)
        if old_key != key:
            self.monitor.announce(user, old, old_key, online=False)
            self.monitor.announce(user, new, key, online=True)
        return event

    def quit(self, user: User, reason: str) -> None:
        """Remove ``user`` (its connection has ended or is ending) and tell everyone who shared a room."""
        if self.users.get(user.key) is not user:
            return
        self.whowas.remember(user)
        self.directory.remove(user)
        self.nicks.release(user)
        event = Quit(user, time.time(), reason)
        if self.cluster is not None and not user.node:
            self.cluster.publish(event)  # before the rooms are left: the cluster looks at them
        self.fanout.around(event, user)
        for room in list(user.rooms.values()):
            self._leave(user, room)
        self.monitor.unwatch_all(user)
        self.monitor.announce(user, user.nick, user.key, online=False)

    # -- accounts ----------------------------------------------------------------------------------------

    def log_in(self, user: User, account: str) -> None:
        """``user`` proved it owns ``account``: record it and tell those who share a room (account-notify)."""
        if user.account == account:
            return
        user.account = account
        if casefold(account) == user.key:  # the nickname is its own: no more renaming
            self.nicks.release(user)
        self._tell_neighbours(AccountChange(user, time.time(), account))

    def log_out(self, user: User) -> None:
        if not user.account:
            raise ChatError(Reason.NOT_LOGGED_IN, user.nick, "You are not logged in")
        user.account = ""
        self._tell_neighbours(AccountChange(user, time.time(), ""))
        self.nicks.protect(user)

    def notify(self, user: User, text: str, hint: str = "") -> None:
        """A notice from the server to ``user`` alone (``hint``: see ServerNotice)."""
        data = user.client.render(ServerNotice(user, time.time(), text, hint))
        if data:
            user.send(data)

    # -- presence: away, real name, neighbours -----------------------------------------------------------

    def set_away(self, user: User, message: str) -> None:
        message = message[: self.limits.away_max]
        if message == user.away:
            return
        user.away = message
        self._tell_neighbours(Away(user, time.time(), message))

    def set_realname(self, user: User, realname: str) -> Realname:
        user.realname = realname[: self.limits.realname_max]
        event = Realname(user, time.time(), user.realname)
        self._tell_neighbours(event)
        return event

    def _tell_neighbours(self, event: Event) -> None:
        """Fan ``event`` out to everyone sharing a room with its user, and to the cluster."""
        self.fanout.around(event, event.user)
        if self.cluster is not None and not event.user.node:
            self.cluster.publish(event)

    # -- user modes, operators ---------------------------------------------------------------------------

    def set_user_modes(
        self, user: User, changes: Iterable[tuple[str, str | None]]
    ) -> list[tuple[str, str | None]]:
        """Apply user mode changes a user asked for itself; ``+o`` is only given by :meth:`make_oper`."""
        applied = self.directory.change_modes(user, changes)
        if applied and self.cluster is not None and not user.node:
            self.cluster.user_modes(user)
        return applied

    def make_oper(self, user: User, name: str) -> list[tuple[str, str | None]]:
        had = "o" in user.modes
        self.directory.set_modes(user, user.modes | {"o"}, name)
        if had:
            return []
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
        self.fanout.users(event, [u for u in self.users.values() if "w" in u.modes])
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

    def room_list(self) -> list[Room]:
        return sorted(self.rooms.values(), key=lambda r: r.key)

    def normalize_room(self, name: str) -> str:
        if not name.startswith(ROOM_PREFIX):
            name = ROOM_PREFIX + name
        if not is_valid_room(name, self.limits.room_max):
            raise ChatError(
                Reason.BAD_ROOM,
                name,
                f"Invalid room name {name!r}: # and up to {self.limits.room_max - 1} characters, no spaces,"
                " commas, colons, control or invisible characters, nor look-alike letters or mixed scripts",
            )
        return name

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
            check_entry(user, room, password)
            status = entry_status(user, room)
        user.invites.discard(key)
        event = self._enter(user, room, status)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def _enter(self, user: User, room: Room, status: str) -> Join:
        """Add ``user`` to ``room`` with ``status`` and tell the other members."""
        room.members[user] = status
        user.rooms[room.key] = room
        add_member(room, user)
        if user.node:
            room.remote += 1
        event = Join(user, time.time(), room)
        self.fanout.room(event, room, user)
        if user.away:
            # The members learn that the newcomer is away (IRCv3 away-notify).
            self.fanout.room(Away(user, event.time, user.away), room, user)
        return event

    def part(self, user: User, room: Room, reason: str = "") -> Part:
        """Remove ``user`` from ``room`` and tell the other members; the event is returned as for join."""
        require_member(user, room)
        event = self._part(user, room, reason)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def _part(self, user: User, room: Room, reason: str) -> Part:
        event = Part(user, time.time(), room, reason)
        self.fanout.room(event, room, user)
        self._leave(user, room)
        return event

    def _leave(self, user: User, room: Room) -> None:
        self.seen.left(user, room.key, time.time())
        remove_member(room, user)
        del room.members[user]
        del user.rooms[room.key]
        if user.node:
            room.remote -= 1
        if not room.members and not room.founder:
            del self.rooms[room.key]

    def register_room(self, user: User, room: Room) -> None:
        """See core.registered."""
        self.registered.register(user, room)

    def unregister_room(self, user: User, room: Room) -> None:
        self.registered.unregister(user, room)

    def set_topic(self, user: User, room: Room, topic: str) -> Topic | None:
        """Change the topic and tell the other members; the event is returned for ``user``'s confirmation
        (``None``: the topic was already that, and nobody is told, as in ergo)."""
        require_member(user, room)
        if "t" in room.flags:
            require_op(user, room)
        topic = topic[: self.limits.topic_max]
        if topic == room.topic:
            return None
        room.topic = topic
        room.topic_by = user.hostmask
        room.topic_time = time.time()
        event = Topic(user, room.topic_time, room, room.topic)
        self.fanout.room(event, room, user)
        self.registered.save(room)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def kick(self, user: User, room: Room, nick: str, reason: str) -> Kick:
        """Remove ``nick`` from ``room`` and tell every member (the kicked one too) but ``user``, to whom the
        event is returned."""
        require_op(user, room)
        target = self.require_user(nick)
        if target not in room.members:
            raise ChatError(
                Reason.USER_NOT_IN_ROOM, room.name, f"{target.nick} is not in {room.name}", nick=target.nick
            )
        event = self._expel(user, room, target, reason[: self.limits.kick_max] or user.nick)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event

    def _expel(self, user: User, room: Room, target: User, reason: str) -> Kick:
        """``user`` removes ``target`` from ``room``: the members but ``user`` are told, the kicked apart."""
        event = Kick(user, time.time(), room, target, reason)
        self._leave(target, room)  # first: what the kicked one reads may differ ("You were kicked")
        self.fanout.room(event, room, user)
        self.fanout.one(event, target, user)
        return event

    def invite(self, user: User, nick: str, room_name: str) -> Invite:
        """Invite ``nick`` to a room: the target and the room's operators are told."""
        target = self.require_user(nick)
        room = self.require_room(room_name)
        require_member(user, room)
        if "i" in room.flags:
            require_op(user, room)
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
        self.fanout.users(Invite(user, now, room.name, target, notify=True), ops)
        return event

    def change_room_modes(
        self, user: User, room: Room, request: ModeRequest
    ) -> tuple[ModeChange | None, list[ChatError]]:
        """Apply what ``user`` may change and tell the other members; return the change (for ``user``'s
        confirmation; ``None`` when nothing changed) and the errors."""
        if not request.changes:
            return None, []
        try:
            require_op(user, room)
        except ChatError as exc:
            return None, [exc]
        applied, errors = apply_modes(user, room, request, self.find_user, self.limits.list_max)
        if not applied:
            return None, errors
        event = ModeChange(user, time.time(), room, tuple(applied))
        self.fanout.room(event, room, user)
        self.registered.save(room)
        if self.cluster is not None:
            self.cluster.publish(event)
        return event, errors

    # -- history -----------------------------------------------------------------------------------------

    def conversation(self, user: User, target: str) -> tuple[str, str]:
        """The history key and display name of ``user``'s conversation with ``target`` (see core.history)."""
        return conversation(self, user, target)

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
            if "m" in room.flags or is_banned(room, user):
                raise ChatError(Reason.CANNOT_SEND, room.name, f"You cannot send to {room.name}")
        elif not mode and ("m" in room.flags or (room.lists["b"] and is_banned(room, user))):
            raise ChatError(
                Reason.CANNOT_SEND, room.name, f"You cannot send to {room.name} (moderated or banned)"
            )
        event = Message(user, time.time(), room, text, kind, self.new_msgid(), user.nick, tags, status)
        user.last_active = event.time
        self.messages_in += 1
        if self.history and not status and kind is not MessageKind.TAGS and text[:1] != "\x01":
            self._record(event, room.key, room.name)  # CTCP but ACTION is relayed live, never replayed
        if status:
            ops = [m for m, s in members.items() if "o" in s]
            self.messages_out += len(ops) - (user in ops)
            self.fanout.users(event, ops, user)
        else:
            self.messages_out += len(members) - (mode is not None)
            self.fanout.room(event, room, user)
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
        target = self.directory.require(nick)
        if target.account != target.nick and target is not user:
            self.nicks.check_owner(target)
        event = Message(user, time.time(), target, text, kind, self.new_msgid(), user.nick, tags)
        user.last_active = event.time
        self.messages_in += 1
        if self.history and kind is not MessageKind.TAGS and text[:1] != "\x01":
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
