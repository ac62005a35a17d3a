"""Expiry of accounts nobody logs in to (core.expiry), on a Hub with the in-memory store and a clock the test
sets: what a sweep removes (the account, its settings, the registration of its rooms, its private history,
the protection of its nickname) and what it spares (an account in use, a recent one)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from hubbub.cluster.replica import ReplicatedStore
from hubbub.core.expiry import SWEEP_BATCH, TOUCH_EVERY
from hubbub.core.hub import Hub, HubLimits
from hubbub.core.model import Room
from hubbub.store import MemoryStore, StoredMessage

from .test_hub_core import connect

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def hub_with(expire_days: float) -> tuple[Hub, Clock]:
    hub = Hub(HubLimits(account_expire=expire_days * DAY), MemoryStore())
    clock = Clock()
    hub.now = clock  # type: ignore[method-assign]
    return hub, clock


def register(hub: Hub, clock: Clock, name: str) -> None:
    assert hub.store.create_account(name.lower(), name, "hash", clock.now)


def private(hub: Hub, one: str, other: str, msgid: str) -> None:
    key = f"a:{one} a:{other}"
    hub.store.append(
        StoredMessage(
            0, msgid, 1.0, key, other, f"{one}!u@h", one, "PRIVMSG", "hi", (f"a:{one}", f"a:{other}")
        )
    )


def test_nothing_expires_when_expiry_is_off() -> None:
    hub, clock = hub_with(0)
    register(hub, clock, "Old")
    clock.now += 10_000 * DAY
    assert hub.accounts.expiry.sweep() == 0
    assert hub.store.get_account("old") is not None
    assert hub.accounts.expiry.interval == TOUCH_EVERY


def test_a_sweep_removes_idle_accounts_with_what_the_store_keeps_for_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub, clock = hub_with(30)
    register(hub, clock, "Bob")
    register(hub, clock, "Carol")
    hub.store.set_account_setting("bob", "lang", "fr")
    private(hub, "bob", "carol", "p1")
    room = Room("#bobs", "#bobs")
    room.founder = "Bob"
    hub.rooms[room.key] = room
    hub.registered.save(room)
    assert [record.founder for record in hub.store.load_rooms()] == ["Bob"]
    clock.now += 20 * DAY
    hub.accounts.expiry.logged_in("carol", hub.store.get_account("carol").last_login)  # type: ignore[union-attr]
    clock.now += 11 * DAY
    with caplog.at_level(logging.INFO, logger="hubbub.accounts"):
        assert hub.accounts.expiry.sweep() == 1
    assert hub.store.get_account("bob") is None
    assert hub.store.get_account("carol") is not None  # logged in to 11 days ago
    assert hub.store.latest("a:bob a:carol", 10) == []
    assert hub.store.load_rooms() == [] and "#bobs" not in hub.rooms  # an empty room goes with it
    assert hub.accounts.expiry.expired == 1
    assert [r.getMessage() for r in caplog.records if "expired" in r.getMessage()] == [
        "account Bob expired: not logged in to since 1970-01-12 13:46:40 UTC (--account-expire 30 days)"
    ]
    assert hub.store.create_account("bob", "bob", "new", clock.now)  # the name is free


def test_an_account_in_use_never_expires_and_counts_from_when_its_users_leave() -> None:
    hub, clock = hub_with(1)
    register(hub, clock, "Alice")
    alice, _ = connect(hub, "alice")
    hub.log_in(alice, "Alice")
    clock.now += 5 * DAY
    assert hub.accounts.expiry.sweep() == 0
    assert hub.store.get_account("alice").last_login == clock.now  # type: ignore[union-attr]
    hub.quit(alice, "bye")
    clock.now += 0.5 * DAY
    assert hub.accounts.expiry.sweep() == 0
    clock.now += 0.6 * DAY
    assert hub.accounts.expiry.sweep() == 1


def test_the_nickname_of_an_expired_account_is_no_longer_protected() -> None:
    hub, clock = hub_with(1)
    register(hub, clock, "Bob")
    squatter, _ = connect(hub, "bob")
    assert squatter in hub.nicks.grace  # warned, about to be renamed
    hub.nicks.held["bob"] = clock.now + 10 * DAY
    clock.now += 2 * DAY
    assert hub.accounts.expiry.sweep() == 1
    assert squatter not in hub.nicks.grace and "bob" not in hub.nicks.held
    hub.timers.run()
    assert squatter.nick == "bob"  # never renamed


def test_logins_are_recorded_at_most_once_per_granularity() -> None:
    hub, clock = hub_with(30)
    register(hub, clock, "Alice")
    expiry = hub.accounts.expiry
    assert expiry.granularity == TOUCH_EVERY
    created = clock.now
    clock.now += TOUCH_EVERY / 2
    expiry.logged_in("alice", created)
    assert hub.store.get_account("alice").last_login == created  # type: ignore[union-attr]
    clock.now += TOUCH_EVERY
    expiry.logged_in("alice", created)
    assert hub.store.get_account("alice").last_login == clock.now  # type: ignore[union-attr]
    short, _ = hub_with(0.0001)  # 8.64 s: a quarter of it
    assert short.accounts.expiry.granularity == pytest.approx(2.16)
    assert short.accounts.expiry.interval == pytest.approx(2.16)


def test_a_sweep_removes_a_batch_at_a_time() -> None:
    hub, clock = hub_with(1)
    for i in range(SWEEP_BATCH + 5):
        register(hub, clock, f"user{i}")
    clock.now += 2 * DAY
    assert hub.accounts.expiry.sweep() == SWEEP_BATCH
    assert hub.accounts.expiry.sweep() == 5
    assert hub.store.all_accounts() == {}


# -- the cluster's shared accounts ---------------------------------------------------------------------------


class SharedTables:
    """The part of the Redis transport a ReplicatedStore writes accounts through."""

    prefix = "hb"
    name = "B~1"

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, bytes]] = {}

    def shared_put(self, table: str, field: str, value: bytes) -> None:
        self.tables.setdefault(table, {})[field] = value

    def shared_drop(self, table: str, field: str) -> None:
        self.tables.get(table, {}).pop(field, None)

    def history(self, msg: StoredMessage) -> None:
        """A message into the shared stream (not needed here)."""


def replicated() -> tuple[ReplicatedStore, SharedTables]:
    shared = SharedTables()
    return ReplicatedStore(MemoryStore(), shared), shared  # type: ignore[arg-type]


def entry(last_login: float | None = None) -> dict[str, object]:
    data: dict[str, object] = {"name": "Bob", "hash": "h", "created": 10.0, "settings": {}}
    if last_login is not None:
        data["last_login"] = last_login
    return data


def test_the_latest_login_wins_across_nodes() -> None:
    store, shared = replicated()
    store._apply_account("bob", entry(500.0))
    assert store.get_account("bob").last_login == 500.0  # type: ignore[union-attr]
    store._apply_account("bob", entry(300.0))  # an older announcement never sets it back
    assert store.get_account("bob").last_login == 500.0  # type: ignore[union-attr]
    store.touch_account("bob", 900.0)  # a login here goes out
    assert json.loads(shared.tables["accounts"]["bob"])["last_login"] == 900.0


def test_a_shared_entry_from_before_counts_as_logged_in_at_the_upgrade() -> None:
    store, shared = replicated()
    store.inner.create_account("bob", "Bob", "h", 10.0)
    store.inner.touch_account("bob", 777.0)  # when this node's database was migrated
    store._apply_account("bob", entry())
    assert store.get_account("bob").last_login == 777.0  # type: ignore[union-attr]
    assert json.loads(shared.tables["accounts"]["bob"])["last_login"] == 777.0  # written back, once
    fresh, fresh_shared = replicated()  # a node with no copy of its own: now
    before = time.time()
    fresh._apply_account("bob", entry())
    assert fresh.get_account("bob").last_login >= before  # type: ignore[union-attr]
    assert "last_login" in json.loads(fresh_shared.tables["accounts"]["bob"])


def test_an_account_expired_on_another_node_goes_here_with_its_private_history() -> None:
    hub, _clock = hub_with(30)
    store, shared = replicated()
    hub.store = store
    store.hub = hub
    store._apply_account("bob", entry(500.0))
    private(hub, "bob", "carol", "p1")
    squatter, _ = connect(hub, "bob")
    assert squatter in hub.nicks.grace
    store._on_account(["ACC", "A~1", "bob", None])
    assert store.get_account("bob") is None
    assert store.latest("a:bob a:carol", 10) == []
    assert squatter not in hub.nicks.grace
    store.delete_account("carol")  # expired here: announced
    assert "carol" not in shared.tables.get("accounts", {})
