"""A node of a cluster: what the hub's local users do goes out; what the other nodes did comes in.

Everything here is synchronous and knows no Redis: a :class:`Transport` queues the outgoing operations (in
order, executed together at the end of the loop turn) and calls :meth:`ClusterNode.received` for each
incoming pub/sub message. Bus messages are JSON arrays ``[kind, node, ...]``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..core.events import (
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
from ..core.hub import Hub
from ..core.model import Room, User
from ..core.names import casefold
from .mirror import Mirror, _apply_meta, _dump, _has_state, room_meta, room_state, user_snapshot

__all__ = ["ClusterNode", "Transport"]

log = logging.getLogger("hubbub.cluster")


class Transport(Protocol):
    """The outgoing side of the bus. Every call only queues: the operations run in this order, together."""

    def publish(self, channel: str, payload: bytes) -> None: ...

    def claim(
        self, key: str, old: str | None, channel: str, payload: bytes, done: Callable[[bool], None]
    ) -> None:
        """Claim the nickname ``key`` (releasing ``old``) and publish ``payload``, atomically; ``done(False)``
        if a live node holds it (nothing is published then)."""
        ...

    def release(self, key: str) -> None: ...

    def save_user(self, uid: int, snapshot: bytes) -> None: ...

    def shared_put(self, table: str, field: str, value: bytes) -> None: ...

    def shared_drop(self, table: str, field: str) -> None: ...

    def drop_user(self, uid: int) -> None: ...

    def subscribe(self, channel: str) -> None: ...

    def unsubscribe(self, channel: str) -> None: ...


class ClusterNode(Mirror):
    """This node's side of the cluster (``hub.cluster``)."""

    def __init__(self, hub: Hub, transport: Transport, name: str, prefix: str) -> None:
        self.hub = hub
        self.transport = transport
        self.name = name
        self.prefix = prefix
        self.control = f"{prefix}:ctl"
        #: (node, id) -> the mirror of a user of another node
        self.remote: dict[tuple[str, int], User] = {}
        #: node -> when it was last heard from (time.monotonic)
        self.nodes: dict[str, float] = {}
        #: id -> a user connected here
        self.local: dict[int, User] = {}
        #: nickname key -> a remote user waiting for it (see _place)
        self.parked: dict[str, User] = {}
        #: Rooms whose channel is subscribed (they have local members).
        self.rooms: set[str] = set()
        #: Rooms whose membership changed this turn: subscribe or unsubscribe (see flushing).
        self._check: dict[str, Room] = {}
        #: Ask the transport for a node's users (it calls apply_node back); set by the transport.
        self.fetch_node: Callable[[str], None] = lambda node: None
        #: Counters for the metrics and the benchmark.
        self.published = 0
        self.received_count = 0
        hub.cluster = self
        self._rehash_here = hub.rehash
        hub.rehash = self._rehash
        # Guest nicknames from a per-node random range, so that two nodes rarely offer the same one.
        hub.nicks.guests_from(random.randrange(1, 90000) * 10)
        self._handlers: dict[str, Callable[[list[Any]], None]] = {
            "U": self._on_user,
            "Q": self._on_quit,
            "J": self._on_join,
            "P": self._on_part,
            "K": self._on_kick,
            "A": self._on_away,
            "R": self._on_realname,
            "L": self._on_account,
            "T": self._on_topic,
            "M": self._on_modes,
            "UM": self._on_user_modes,
            "W": self._on_wallops,
            "HB": self._on_heartbeat,
            "SYNC": self._on_sync,
            "BYE": self._on_bye,
            "ASK": self._on_ask,
            "RH": self._on_rehash,
            "m": self._on_room_message,
            "p": self._on_private,
            "k": self._on_kill,
            "i": self._on_invite,
        }

    # -- channels ------------------------------------------------------------------------------------------

    def room_channel(self, key: str) -> str:
        return f"{self.prefix}:room:{key}"

    def user_channel(self, node: str, uid: int) -> str:
        return f"{self.prefix}:user:{node}:{uid}"

    def channels(self) -> list[str]:
        """Every channel this node listens to (for a new subscription after a reconnect)."""
        found = [self.control]
        found += [self.room_channel(key) for key in sorted(self.rooms)]
        found += [self.user_channel(self.name, uid) for uid in self.local]
        return found

    def _interest(self, room: Room) -> None:
        self._check[room.key] = room

    def before_flush(self) -> None:
        """Subscribe to the rooms that got their first local member this turn, unsubscribe from those that
        lost their last (called by the transport before it sends the turn's operations)."""
        check, self._check = self._check, {}
        for key, room in check.items():
            if self.hub.rooms.get(key) is not room and _has_state(room):
                self.transport.shared_drop("live", key)  # gone: its topic and modes with it
            local = len(room.members) - room.remote > 0 and self.hub.rooms.get(key) is room
            if local and key not in self.rooms:
                self.rooms.add(key)
                self.transport.subscribe(self.room_channel(key))
            elif not local and key in self.rooms:
                self.rooms.discard(key)
                self.transport.unsubscribe(self.room_channel(key))

    # -- out: what local users do --------------------------------------------------------------------------

    def _send(self, payload: list[Any], channel: str | None = None) -> None:
        self.published += 1
        self.transport.publish(channel or self.control, _dump(payload))

    def _save(self, user: User) -> None:
        if not user.node:
            self.transport.save_user(user.id, _dump(user_snapshot(user)))

    def connected(self, user: User) -> None:
        self.local[user.id] = user
        self.transport.subscribe(self.user_channel(self.name, user.id))
        self._save(user)
        self._claim(user, None, ["U", self.name, user_snapshot(user)])

    def _claim(self, user: User, old: str | None, payload: list[Any]) -> None:
        key = user.key

        def done(ok: bool) -> None:
            if ok or self.hub.users.get(key) is not user:
                return
            log.info("nickname %s is taken on another node: %s renamed", user.nick, user)
            self._yield_nick(user)

        self.published += 1
        self.transport.claim(key, old, self.control, _dump(payload), done)

    def _yield_nick(self, user: User) -> None:
        """A local user's nickname belongs to a user of another node: give it a guest nickname."""
        taken = user.nick
        self.hub.nicks.force(user, self.hub.nicks.guest())
        self.hub.notify(user, f"You were renamed: {taken} is in use on another server of this network.")
        self._unpark(casefold(taken))

    def user_modes(self, user: User) -> None:
        self._save(user)
        self._send(["UM", self.name, user.id, "".join(sorted(user.modes)), user.oper])

    def kill(self, user: User, reason: str) -> None:
        self._send(["k", self.name, user.id, reason], self.user_channel(user.node, user.id))

    def publish(self, event: Event) -> None:
        name = self.name
        user = event.user
        if type(event) is Message:
            target = event.target
            tags = dict(event.tags) if event.tags else None
            if isinstance(target, Room):
                payload = [
                    "m",
                    name,
                    user.id,
                    target.key,
                    event.time,
                    event.kind.value,
                    event.msgid,
                    event.text,
                ]
                payload += [tags, event.status]
                self._send(payload, self.room_channel(target.key))
            else:
                payload = [
                    "p",
                    name,
                    user.id,
                    target.id,
                    event.time,
                    event.kind.value,
                    event.msgid,
                    event.text,
                ]
                payload.append(tags)
                self._send(payload, self.user_channel(target.node, target.id))
        elif isinstance(event, Join):
            room = event.room
            self._save(user)
            self._interest(room)
            self._send(["J", name, user.id, room.name, room.members.get(user, "")])
        elif isinstance(event, Part):
            self._save(user)
            self._interest(event.room)
            self._send(["P", name, user.id, event.room.key, event.reason])
        elif isinstance(event, Kick):
            target = event.target
            self._save(target)
            self._interest(event.room)
            self._send(["K", name, user.id, event.room.key, target.node or name, target.id, event.reason])
        elif isinstance(event, Quit):
            for room in user.rooms.values():
                self._interest(room)
            self.local.pop(user.id, None)
            self.transport.unsubscribe(self.user_channel(name, user.id))
            self.transport.drop_user(user.id)
            self._send(["Q", name, user.id, event.reason])
            self.transport.release(user.key)
            self._unpark(user.key)
        elif isinstance(event, NickChange):
            # The whole user, not just the new nickname: if its first claim failed, the others have not
            # met this user yet.
            self._save(user)
            old = casefold(event.old)
            self._claim(user, old if old != user.key else None, ["U", name, user_snapshot(user)])
            self._unpark(old)
        elif isinstance(event, Away):
            self._save(user)
            self._send(["A", name, user.id, event.message])
        elif isinstance(event, Realname):
            self._save(user)
            self._send(["R", name, user.id, event.realname])
        elif isinstance(event, AccountChange):
            self._save(user)
            self._send(["L", name, user.id, event.account])
        elif isinstance(event, Topic):
            room = event.room
            self._send(["T", name, user.id, room.key, room.topic, room.topic_by, room.topic_time])
            self.transport.shared_put("live", room.key, _dump(room_state(room)))
        elif isinstance(event, ModeChange) and isinstance(event.target, Room):
            room = event.target
            statuses = []
            for change, arg in event.changes:
                if change[1] in "ov" and arg is not None:
                    member = self.hub.find_user(arg)
                    if member is not None and member in room.members:
                        statuses.append([member.node or name, member.id, room.members[member]])
                        self._save(member)
            changes = [list(change) for change in event.changes]
            self._send(["M", name, user.id, room.key, changes, room_meta(room), statuses])
            self.transport.shared_put("live", room.key, _dump(room_state(room)))
        elif isinstance(event, Invite):
            target = event.target
            self._send(
                ["i", name, user.id, target.id, event.room_name], self.user_channel(target.node, target.id)
            )
        elif isinstance(event, Wallops):
            self._send(["W", name, user.id, event.text])

    # -- in: what the other nodes did ----------------------------------------------------------------------

    def received(self, data: bytes) -> None:
        """One message from the bus (our own are skipped: they were delivered here already)."""
        try:
            payload = json.loads(data)
            kind = payload[0]
        except (ValueError, IndexError, TypeError, KeyError):
            log.warning("cluster: unreadable message %r", data[:200])
            return
        if isinstance(kind, list):  # several messages published at once
            if kind and kind[1] != self.name:
                for one in payload:
                    self._apply(one)
            return
        self._apply(payload)

    def _apply(self, payload: list[Any]) -> None:
        try:
            kind, node = payload[0], payload[1]
        except (IndexError, TypeError):
            log.warning("cluster: unreadable message %r", payload)
            return
        if node == self.name:
            return
        self.received_count += 1
        if node not in self.nodes and kind not in ("HB", "SYNC", "BYE", "ASK"):
            # A node we did not know of: what it did before is in its snapshot.
            self.nodes[node] = time.monotonic()
            self.fetch_node(node)
        handler = self._handlers.get(kind)
        if handler is None:
            log.warning("cluster: unknown message kind %r from %s", kind, node)
            return
        try:
            handler(payload)
        except Exception:
            log.exception("cluster: internal error applying %r from %s", kind, node)

    def _user(self, node: str, uid: int) -> User | None:
        if node == self.name:
            return self.local.get(uid)
        return self.remote.get((node, uid))

    def heartbeat(self) -> None:
        self._send(["HB", self.name, time.time()])

    def local_users(self) -> list[User]:
        return list(self.local.values())

    def resync(self) -> None:
        """After (re)connecting: claim every local nickname again, tell the others to read our users, and ask
        them to tell us when theirs are complete (SYNC), so that we can drop users we missed leaving."""
        for user in self.local_users():
            self._save(user)
            self._claim(user, None, ["U", self.name, user_snapshot(user)])
        for key in self.rooms:  # topics and modes of our rooms, for Redis restarted empty
            room = self.hub.rooms.get(key)
            if room is not None and _has_state(room):
                self.transport.shared_put("live", key, _dump(room_state(room)))
        self._send(["SYNC", self.name])
        self._send(["ASK", self.name])

    def goodbye(self) -> None:
        self._send(["BYE", self.name])

    # -- handlers ------------------------------------------------------------------------------------------

    def _on_user(self, p: list[Any]) -> None:
        self.apply_user(p[1], p[2])

    def _on_quit(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self._drop(user, p[3])

    def _on_join(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is None:
            return
        self.hub.replica.apply_join(user, p[3], p[4])

    def _on_part(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        room = self.hub.rooms.get(p[3])
        if user is not None and room is not None and user in room.members:
            self.hub.replica.apply_part(user, room, p[4])
            self._interest(room)

    def _on_kick(self, p: list[Any]) -> None:
        actor = self.remote.get((p[1], p[2]))
        room = self.hub.rooms.get(p[3])
        target = self._user(p[4], p[5])
        if actor is None or room is None or target is None or target not in room.members:
            return
        self.hub.replica.apply_kick(actor, room, target, p[6])
        self._interest(room)
        self._save(target)

    def _on_away(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self.hub.replica.apply_away(user, p[3])

    def _on_realname(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self.hub.replica.apply_realname(user, p[3])

    def _on_account(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self.hub.replica.apply_account(user, p[3])

    def _on_topic(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        room = self.hub.rooms.get(p[3])
        if user is None or room is None:
            return
        self.hub.replica.apply_topic(room, p[4], p[5], p[6], user)

    def _on_modes(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        room = self.hub.rooms.get(p[3])
        if user is None or room is None:
            return
        _apply_meta(self.hub, room, p[5])
        statuses = []
        for node, uid, status in p[6]:
            member = self._user(node, uid)
            if member is not None and member in room.members:
                statuses.append((member, status))
        changes = tuple((change, arg) for change, arg in p[4])
        self.hub.replica.announce_room_modes(user, room, changes, statuses)
        for member, _ in statuses:
            if not member.node:
                self._save(member)

    def _on_user_modes(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self.hub.replica.apply_user_modes(user, p[3], p[4])

    def _on_wallops(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        if user is not None:
            self.hub.replica.apply_wallops(user, p[3])

    def _on_heartbeat(self, p: list[Any]) -> None:
        node = p[1]
        if node not in self.nodes:
            self.nodes[node] = time.monotonic()
            self.fetch_node(node)
        else:
            self.nodes[node] = time.monotonic()

    def _on_sync(self, p: list[Any]) -> None:
        self.nodes[p[1]] = time.monotonic()
        self.fetch_node(p[1])

    def _rehash(self) -> tuple[bool, str]:
        """An operator's REHASH: this node reloads, and every other node is told to."""
        ok, why = self._rehash_here()
        self._send(["RH", self.name])
        return ok, f"{why}; the other nodes were asked to reload theirs"

    def _on_rehash(self, p: list[Any]) -> None:
        ok, why = self._rehash_here()
        log.log(logging.INFO if ok else logging.ERROR, "REHASH from node %s: %s", p[1], why)

    def _on_ask(self, p: list[Any]) -> None:
        self._send(["SYNC", self.name])

    def _on_bye(self, p: list[Any]) -> None:
        self.forget_node(p[1], "Server shutting down")

    def _on_room_message(self, p: list[Any]) -> None:
        _, node, uid, room_key, when, kind, msgid, text, tags, status = p
        user = self.remote.get((node, uid))
        room = self.hub.rooms.get(room_key)
        if user is None or room is None:
            return
        event = Message(user, when, room, text, MessageKind(kind), msgid, user.nick, tags, status)
        self.hub.replica.apply_room_message(event, room)

    def _on_private(self, p: list[Any]) -> None:
        _, node, uid, target_id, when, kind, msgid, text, tags = p
        user = self.remote.get((node, uid))
        target = self.local.get(target_id)
        if user is None or target is None:
            return
        event = Message(user, when, target, text, MessageKind(kind), msgid, user.nick, tags)
        self.hub.replica.apply_private(event, target)

    def _on_kill(self, p: list[Any]) -> None:
        target = self.local.get(p[2])
        if target is not None:
            target.client.disconnect(p[3])

    def _on_invite(self, p: list[Any]) -> None:
        user = self.remote.get((p[1], p[2]))
        target = self.local.get(p[3])
        if user is None or target is None:
            return
        self.hub.replica.apply_invite(user, target, p[4])
