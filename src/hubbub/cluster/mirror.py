"""The mirror of the other nodes' users in this node's hub, and the snapshots it is made from.

A user of another node is a :class:`~hubbub.core.model.User` like any other (so NAMES, WHO, WHOIS, LIST and
the nickname checks need nothing special), whose ``node`` is set and whose client renders nothing: its own
node delivers to it. :class:`Mirror` keeps these users in step with what their nodes say (claims,
snapshots) and decides who holds a nickname when two say they do.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Hashable
from typing import Any

from ..core.events import Event
from ..core.hub import Hub
from ..core.model import ListEntry, Room, User
from ..core.names import casefold

__all__ = ["REMOTE", "Mirror", "RemoteClient", "Snapshot", "room_meta", "room_state", "user_snapshot"]

log = logging.getLogger("hubbub.cluster")

Snapshot = dict[str, Any]


class _RemoteVariant:
    """The rendering variant of every remote user: nothing is rendered for them here (their node does)."""

    def __repr__(self) -> str:
        return "<remote>"


REMOTE: Hashable = _RemoteVariant()


class RemoteClient:
    """The Client of a user connected to another node."""

    __slots__ = ("node", "user")

    def __init__(self, node: Mirror) -> None:
        self.node = node
        self.user: User | None = None

    @property
    def variant(self) -> Hashable:
        return REMOTE

    def render(self, event: Event) -> bytes | None:
        return None

    def disconnect(self, reason: str) -> None:
        if self.user is not None:
            self.node.kill(self.user, reason)


class _NoMailbox:
    """Where a remote user's output would go: nowhere (render gives nothing for them anyway)."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: list[Any] = []

    def send(self, data: bytes) -> None:
        pass


_NO_MAILBOX = _NoMailbox()


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def user_snapshot(user: User) -> Snapshot:
    """What the other nodes need to know of a local user."""
    return {
        "i": user.id,
        "n": user.nick,
        "u": user.username,
        "h": user.host,
        "ip": user.ip,  # the real address, for operators and bans here (a node before cloaking omits it)
        "r": user.realname,
        "a": user.account,
        "w": user.away,
        "m": "".join(sorted(user.modes)),
        "o": user.oper,
        "s": user.signon,
        "c": [
            [room.name, status]
            for room, status in ((r, r.members.get(user, "")) for r in user.rooms.values())
        ],
    }


def room_meta(room: Room) -> Snapshot:
    return {
        "f": "".join(sorted(room.flags)),
        "k": room.password,
        "l": room.limit,
        "L": {mode: [list(entry) for entry in entries] for mode, entries in room.lists.items()},
        "F": room.founder,
        "c": room.created,
    }


def room_state(room: Room) -> Snapshot:
    """A room's topic and modes, kept in Redis for nodes joining later."""
    return {"t": room.topic, "b": room.topic_by, "w": room.topic_time, **room_meta(room)}


def _has_state(room: Room) -> bool:
    """Whether a topic or modes were set on ``room`` (and so kept in Redis)."""
    return bool(
        room.topic_time or room.flags != {"n", "t"} or room.password or room.limit or any(room.lists.values())
    )


def _apply_meta(hub: Hub, room: Room, meta: Snapshot) -> None:
    hub.replica.apply_room_modes(
        room,
        flags=meta["f"],
        password=meta["k"],
        limit=meta["l"],
        lists={mode: [ListEntry(*entry) for entry in entries] for mode, entries in meta["L"].items()},
        founder=meta["F"],
    )


class Mirror:
    """The part of :class:`~hubbub.cluster.node.ClusterNode` that keeps the other nodes' users."""

    hub: Hub
    #: (node, id) -> the mirror of a user of another node
    remote: dict[tuple[str, int], User]
    #: nickname key -> a remote user waiting for it (see _place)
    parked: dict[str, User]
    #: node -> when it was last heard from (time.monotonic)
    nodes: dict[str, float]

    def _interest(self, room: Room) -> None:
        raise NotImplementedError

    def _yield_nick(self, user: User) -> None:
        raise NotImplementedError

    def kill(self, user: User, reason: str) -> None:
        raise NotImplementedError

    def _place(self, user: User, key: str, *, claimed: bool) -> None:
        """Give the remote ``user`` the nickname key ``key``. ``claimed``: its node has just claimed it in
        Redis, so whoever here has it gives it up (a local user is renamed); otherwise (a snapshot, which
        proves nothing) ``user`` waits, parked under a key of its own, until the nickname is free here."""
        hub = self.hub
        holder = hub.users.get(key)
        if holder is not None and holder is not user:
            if not claimed:
                self._park(user, key)
                return
            if holder.node:
                log.warning("cluster: %s and %s both claim %s", holder, user, key)
                self._park(holder, key)
            else:
                self._yield_nick(holder)  # frees the key
        self._unlist(user)
        hub.replica.rekey_user(user, key)

    def _unlist(self, user: User) -> None:
        for wanted, waiting in list(self.parked.items()):
            if waiting is user:
                del self.parked[wanted]

    def _park(self, user: User, key: str) -> None:
        self._unlist(user)
        self.hub.replica.rekey_user(user, f"\x00{user.node}:{user.id}")
        self.parked[key] = user

    def _unpark(self, key: str) -> None:
        """``key`` was given up here: a remote user waiting for it takes it."""
        user = self.parked.get(key)
        if user is not None and key not in self.hub.users and casefold(user.nick) == key:
            del self.parked[key]
            self._place(user, key, claimed=False)

    def apply_user(self, node: str, snap: Snapshot, *, claimed: bool = True) -> User:
        """Create or bring up to date the mirror of a user of ``node``; ``claimed``: from a claim of its
        node (see _place), not a snapshot."""
        hub = self.hub
        uid = snap["i"]
        user = self.remote.get((node, uid))
        nick = snap["n"]
        key = casefold(nick)
        if user is None:
            client = RemoteClient(self)
            user = User(
                uid,
                nick,
                f"\x00{node}:{uid}",
                client,
                _NO_MAILBOX,
                username=snap["u"],
                host=snap["h"],
                realname=snap["r"],
                ip=snap.get("ip", ""),
            )
            client.user = user
            user.node = node
            user.signon = snap.get("s", user.signon)
            self.remote[(node, uid)] = user
            user.account = snap["a"]
            user.away = snap["w"]
            hub.replica.add_user(user)
            self._place(user, key, claimed=claimed)
            hub.replica.apply_user_modes(user, snap["m"], snap["o"])
            hub.replica.came_online(user)
        else:
            if user.nick != nick:
                old = casefold(user.nick)
                self._place(user, key, claimed=claimed)
                hub.replica.apply_nick(user, nick)
                self._unpark(old)
            hub.replica.apply_account(user, snap["a"])
            hub.replica.apply_away(user, snap["w"])
            hub.replica.apply_profile(user, snap["u"], snap["h"], snap["r"], snap.get("ip", ""))
            hub.replica.apply_user_modes(user, snap["m"], snap["o"])
        wanted = {casefold(name): (name, status) for name, status in snap["c"]}
        for room in list(user.rooms.values()):
            if room.key not in wanted:
                hub.replica.apply_part(user, room, "")
        for room_key, (room_name, status) in wanted.items():
            joined = user.rooms.get(room_key)
            if joined is None:
                hub.replica.apply_join(user, room_name, status)
            else:
                hub.replica.apply_status(user, joined, status)
        return user

    def apply_node(self, node: str, snaps: list[Snapshot], *, complete: bool = True) -> None:
        """The users ``node`` has now (read from Redis): the mirror is made to match. Not ``complete``: the
        node may not have written all of its users yet (it is reconnecting too), so none are removed."""
        self.nodes[node] = time.monotonic()
        seen = set()
        for snap in snaps:
            try:
                seen.add(self.apply_user(node, snap, claimed=False).id)
            except Exception:
                log.exception("cluster: internal error applying a user of %s", node)
        for (owner, uid), user in list(self.remote.items()):
            if complete and owner == node and uid not in seen:
                self._drop(user, "connection closed")

    def apply_rooms(self, states: dict[str, Snapshot]) -> None:
        """The topics and modes of the rooms, read from Redis on joining (rooms nobody is in are skipped)."""
        for key, state in states.items():
            room = self.hub.rooms.get(key)
            if room is None or not room.members:
                continue
            try:
                self.hub.replica.apply_topic(room, state["t"], state["b"], state["w"])
                _apply_meta(self.hub, room, state)
            except (KeyError, TypeError, ValueError):
                log.warning("cluster: unreadable state of room %s", key)

    def forget_node(self, node: str, reason: str) -> None:
        """``node`` is gone: its users quit with ``reason``."""
        self.nodes.pop(node, None)
        gone = [user for (owner, _), user in self.remote.items() if owner == node]
        if gone:
            log.warning("cluster: node %s is gone (%s): %d users quit", node, reason, len(gone))
        for user in gone:
            self._drop(user, reason)

    def _drop(self, user: User, reason: str) -> None:
        self.remote.pop((user.node, user.id), None)
        self._unlist(user)
        for room in user.rooms.values():
            self._interest(room)
        self.hub.replica.remove_user(user, reason)
        self._unpark(casefold(user.nick))

    def silent_nodes(self, timeout: float) -> list[str]:
        """Nodes not heard from for ``timeout`` seconds: to be taken for dead (see forget_dead)."""
        now = time.monotonic()
        return [node for node, heard in self.nodes.items() if now - heard > timeout]

    def forget_dead(self, node: str) -> None:
        """``node`` was taken for dead (and its lease removed from Redis): its users quit."""
        if node in self.nodes:
            self.forget_node(node, f"Node {node.partition('~')[0]} went away")
