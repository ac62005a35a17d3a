"""The store of a cluster node: its own store, kept in step with the other nodes' through Redis.

Every node has a store of its own (its ``--db``) and reads only from it, so history, accounts and registered
rooms are served from local memory and disk as on a node alone. Writes go to the local store and out:

- messages into the shared Redis stream ``<cluster>:history``, which every node copies into its store (the
  position read is kept in the store, so a restarted node catches up from where it stopped, as far back as
  the stream reaches: ``--stream-max``);
- accounts, registered rooms and K-lines into Redis hashes (``<cluster>:shared:*``), read whole by a node
  joining, and announced on the control channel so the others apply them at once.

Message ids are unique across nodes (a random per-process prefix), and a node catching up skips ids it has.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..store import Account, Bound, KLineRecord, RoomRecord, Store, StoredMessage

if TYPE_CHECKING:
    from ..core.hub import Hub
    from .node import ClusterNode
    from .redis import RedisTransport

__all__ = ["ReplicatedStore"]

log = logging.getLogger("hubbub.cluster")


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class ReplicatedStore:
    """A :class:`~hubbub.store.Store` that hands its writes to the cluster as well."""

    def __init__(self, inner: Store, transport: RedisTransport) -> None:
        self.inner = inner
        self.transport = transport
        self.hub: Hub | None = None
        self.node: ClusterNode | None = None
        self._stream_meta = f"stream:{transport.prefix}"
        self._resyncing: asyncio.Task[None] | None = None

    def attach(self, hub: Hub, node: ClusterNode) -> None:
        self.hub = hub
        self.node = node
        node._handlers.update(
            {"ACC": self._on_account, "ROOM": self._on_room, "KL+": self._on_kline, "KL-": self._on_unkline}
        )

    # -- replication --------------------------------------------------------------------------------------

    def stream_position(self) -> str:
        return self.inner.get_meta(self._stream_meta) or "0-0"

    def stream_read(self, position: str) -> None:
        self.inner.set_meta(self._stream_meta, position)

    def replicate(self, msg: StoredMessage, *, check: bool) -> None:
        """A message another node recorded (``check``: skip it if it is here already)."""
        if check and self.inner.has_msgid(msg.msgid):
            return
        self.inner.append(msg)

    def resync(self) -> None:
        """After (re)joining: what we have that Redis lacks goes to Redis (a node joining a cluster for the
        first time brings its accounts, rooms and K-lines); then what Redis has is applied here."""
        # Kept: the loop holds only a weak reference to a task.
        self._resyncing = asyncio.get_running_loop().create_task(self._resync())

    async def _resync(self) -> None:
        redis = self.transport.redis
        key = self.transport.key
        try:
            accounts = await redis.hgetall(key("shared", "accounts"))
            rooms = await redis.hgetall(key("shared", "rooms"))
            klines = await redis.hgetall(key("shared", "klines"))
        except Exception as exc:
            log.warning("cluster: could not read the shared accounts: %s", exc)
            return
        mine = self.inner.all_accounts()
        for name, value in accounts.items():
            try:
                self._apply_account(name.decode(), json.loads(value))
            except (ValueError, KeyError, TypeError):
                log.warning("cluster: unreadable shared account %r", name)
        for account_key, account in mine.items():
            if account_key.encode() not in accounts:
                self.transport.shared_put("accounts", account_key, _dump(_account_json(account)))
        known_rooms = {record.key: record for record in self.inner.load_rooms()}
        for name, value in rooms.items():
            try:
                self._apply_room(_room_record(json.loads(value)))
            except (ValueError, KeyError, TypeError):
                log.warning("cluster: unreadable shared room %r", name)
        for room_key, record in known_rooms.items():
            if room_key.encode() not in rooms:
                self.transport.shared_put("rooms", room_key, _dump(dataclasses.astuple(record)))
        known_klines = {record.mask for record in self.inner.load_klines()}
        for value in klines.values():
            try:
                kline = KLineRecord(*json.loads(value))
            except (ValueError, TypeError):
                continue
            if kline.mask not in known_klines:
                self.inner.add_kline(*dataclasses.astuple(kline))
                if self.hub is not None:
                    self.hub.klines.added_elsewhere(kline)
        for kline in self.inner.load_klines():
            if kline.mask.encode() not in klines:
                self.transport.shared_put("klines", kline.mask, _dump(dataclasses.astuple(kline)))

    def _publish(self, payload: list[Any]) -> None:
        if self.node is not None:
            self.node._send(payload)

    def _account_changed(self, key: str) -> None:
        account = self.inner.get_account(key)
        if account is None:
            return
        data = _account_json(account)
        self.transport.shared_put("accounts", key, _dump(data))
        self._publish(["ACC", self.transport.name, key, data])

    def _on_account(self, p: list[Any]) -> None:
        if p[3] is None:  # expired on another node
            if self.inner.delete_account(p[2]):
                log.info("cluster: account %s expired on node %s", p[2], p[1])
                if self.hub is not None:
                    self.hub.accounts.expiry.removed_elsewhere(p[2])
            return
        self._apply_account(p[2], p[3])

    def _apply_account(self, key: str, data: dict[str, Any]) -> None:
        mine = self.inner.get_account(key)
        last_login: float = data.get("last_login") or 0.0
        # An entry written before logins were recorded counts as logged in to at the upgrade (this node's
        # copy tells when, as the migration of its database set it; else now): no account expires because
        # of the upgrade, and the shared entry is given that time, once.
        upgrade = not last_login
        if upgrade:
            last_login = mine.last_login if mine is not None else time.time()
        account = Account(data["name"], data["hash"], data["created"], dict(data["settings"]), last_login)
        if mine is not None and mine.last_login > account.last_login:  # the latest login wins
            account = dataclasses.replace(account, last_login=mine.last_login)
        if mine != account or mine.last_login != account.last_login:
            self.inner.put_account(key, account)
        if upgrade:
            self._account_changed(key)

    def _on_room(self, p: list[Any]) -> None:
        if p[3] is None:
            self.inner.drop_room(p[2])
            if self.hub is not None:
                self.hub.replica.drop_room(p[2])
        else:
            self._apply_room(_room_record(p[3]))

    def _apply_room(self, record: RoomRecord) -> None:
        self.inner.save_room(record)
        hub = self.hub
        if hub is None:
            return
        hub.replica.restore_room(record)

    def _on_kline(self, p: list[Any]) -> None:
        record = KLineRecord(*p[2])
        self.inner.add_kline(*dataclasses.astuple(record))
        if self.hub is not None:
            self.hub.klines.added_elsewhere(record)

    def _on_unkline(self, p: list[Any]) -> None:
        self.inner.remove_kline(p[2])
        if self.hub is not None:
            self.hub.klines.removed_elsewhere(p[2])

    # -- the Store interface ----------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.inner.start(loop)

    def append(self, msg: StoredMessage) -> StoredMessage:
        stored = self.inner.append(msg)
        self.transport.history(stored)
        return stored

    def when_durable(self, callback: Callable[[], None]) -> None:
        self.inner.when_durable(callback)

    def pending(self) -> bool:
        return self.inner.pending()

    def latest(self, conversation: str, limit: int, after: Bound | None = None) -> list[StoredMessage]:
        return self.inner.latest(conversation, limit, after)

    def before(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self.inner.before(conversation, bound, limit)

    def after(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self.inner.after(conversation, bound, limit)

    def around(self, conversation: str, bound: Bound, limit: int) -> list[StoredMessage]:
        return self.inner.around(conversation, bound, limit)

    def between(self, conversation: str, start: Bound, end: Bound, limit: int) -> list[StoredMessage]:
        return self.inner.between(conversation, start, end, limit)

    def targets(
        self, conversations: Iterable[str], party: str | None, start: float, end: float, limit: int
    ) -> list[tuple[str, float]]:
        return self.inner.targets(conversations, party, start, end, limit)

    def search(self, conversation: str, query: str, limit: int) -> list[StoredMessage]:
        return self.inner.search(conversation, query, limit)

    def create_account(self, key: str, name: str, password_hash: str, created: float) -> bool:
        created_here = self.inner.create_account(key, name, password_hash, created)
        if created_here:
            self._account_changed(key)
        return created_here

    def get_account(self, key: str) -> Account | None:
        return self.inner.get_account(key)

    def set_account_setting(self, key: str, setting: str, value: str | None) -> None:
        self.inner.set_account_setting(key, setting, value)
        self._account_changed(key)

    def set_password(self, key: str, password_hash: str) -> None:
        self.inner.set_password(key, password_hash)
        self._account_changed(key)

    def put_account(self, key: str, account: Account) -> None:
        self.inner.put_account(key, account)
        self._account_changed(key)

    def all_accounts(self) -> dict[str, Account]:
        return self.inner.all_accounts()

    def touch_account(self, key: str, when: float) -> None:
        self.inner.touch_account(key, when)
        self._account_changed(key)

    def idle_accounts(self, before: float) -> list[str]:
        return self.inner.idle_accounts(before)

    def delete_account(self, key: str) -> bool:
        found = self.inner.delete_account(key)
        self.transport.shared_drop("accounts", key)
        self._publish(["ACC", self.transport.name, key, None])
        return found

    def forget_party(self, party: str) -> int:
        """Every node forgets the conversations in its own store (a deleted account is announced)."""
        return self.inner.forget_party(party)

    def save_room(self, record: RoomRecord) -> None:
        self.inner.save_room(record)
        data = list(dataclasses.astuple(record))
        self.transport.shared_put("rooms", record.key, _dump(data))
        self._publish(["ROOM", self.transport.name, record.key, data])

    def drop_room(self, key: str) -> None:
        self.inner.drop_room(key)
        self.transport.shared_drop("rooms", key)
        self._publish(["ROOM", self.transport.name, key, None])

    def load_rooms(self) -> list[RoomRecord]:
        return self.inner.load_rooms()

    def add_kline(self, mask: str, reason: str, set_by: str, set_at: float, expires: float | None) -> None:
        self.inner.add_kline(mask, reason, set_by, set_at, expires)
        data = [mask, reason, set_by, set_at, expires]
        self.transport.shared_put("klines", mask, _dump(data))
        self._publish(["KL+", self.transport.name, data])

    def remove_kline(self, mask: str) -> bool:
        found = self.inner.remove_kline(mask)
        self.transport.shared_drop("klines", mask)
        self._publish(["KL-", self.transport.name, mask])
        return found

    def load_klines(self) -> list[KLineRecord]:
        return self.inner.load_klines()

    def has_msgid(self, msgid: str) -> bool:
        return self.inner.has_msgid(msgid)

    def get_meta(self, name: str) -> str | None:
        return self.inner.get_meta(name)

    def set_meta(self, name: str, value: str) -> None:
        self.inner.set_meta(name, value)

    def close(self) -> None:
        self.inner.close()


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "hash": account.password_hash,
        "created": account.created,
        "settings": dict(account.settings),
        "last_login": account.last_login,
    }


def _room_record(data: list[Any]) -> RoomRecord:
    record = RoomRecord(*data)
    # Lists of masks come back from JSON as lists: the record holds tuples.
    return dataclasses.replace(
        record,
        bans=tuple(tuple(entry) for entry in record.bans),  # type: ignore[misc]
        excepts=tuple(tuple(entry) for entry in record.excepts),  # type: ignore[misc]
        invites=tuple(tuple(entry) for entry in record.invites),  # type: ignore[misc]
    )
