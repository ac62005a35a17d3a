"""Cluster nodes in memory: several hubs joined by a bus that behaves as Redis does for them (ordered
pub/sub, atomic nickname claims), so the mirror logic is tested without sockets. The real transport is
tested end to end with redis-server in tests/e2e/test_cluster.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hubbub.cluster.node import ClusterNode
from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions
from hubbub.protocols.plain import PlainOptions

from .irc_harness import IrcClient, PlainClient


class MemoryBus:
    """Redis as the nodes see it: channels, nickname claims held by live nodes, the users hashes."""

    def __init__(self) -> None:
        self.transports: list[BusTransport] = []
        self.claims: dict[str, str] = {}
        self.live: set[str] = set()
        self.users: dict[str, dict[int, bytes]] = {}
        self.shared: dict[str, dict[str, bytes]] = {}
        self.log: list[tuple[str, bytes]] = []

    def deliver(self, sender: str, channel: str, payload: bytes) -> None:
        self.log.append((channel, payload))
        for transport in self.transports:
            if channel in transport.subscribed:
                transport.node.received(payload)

    def run(self) -> None:
        """Execute queued operations (in each node's order) until nothing is left."""
        busy = True
        while busy:
            busy = False
            for transport in self.transports:
                if transport.node is not None:
                    transport.node.before_flush()
                if transport.ops:
                    busy = True
                    ops, transport.ops = transport.ops, []
                    for op in ops:
                        op()


class BusTransport:
    def __init__(self, bus: MemoryBus, name: str) -> None:
        self.bus = bus
        self.name = name
        self.ops: list[Callable[[], None]] = []
        self.subscribed: set[str] = set()
        self.node: Any = None
        bus.transports.append(self)
        bus.live.add(name)
        bus.users[name] = {}

    def publish(self, channel: str, payload: bytes) -> None:
        self.ops.append(lambda: self.bus.deliver(self.name, channel, payload))

    def claim(
        self, key: str, old: str | None, channel: str, payload: bytes, done: Callable[[bool], None]
    ) -> None:
        def run() -> None:
            owner = self.bus.claims.get(key)
            if owner is not None and owner != self.name and owner in self.bus.live:
                done(False)
                return
            self.bus.claims[key] = self.name
            if old is not None and self.bus.claims.get(old) == self.name:
                del self.bus.claims[old]
            self.bus.deliver(self.name, channel, payload)
            done(True)

        self.ops.append(run)

    def release(self, key: str) -> None:
        def run() -> None:
            if self.bus.claims.get(key) == self.name:
                del self.bus.claims[key]

        self.ops.append(run)

    def save_user(self, uid: int, snapshot: bytes) -> None:
        self.ops.append(lambda: self.bus.users[self.name].__setitem__(uid, snapshot))

    def drop_user(self, uid: int) -> None:
        self.ops.append(lambda: self.bus.users[self.name].pop(uid, None))

    def shared_put(self, table: str, field: str, value: bytes) -> None:
        self.ops.append(lambda: self.bus.shared.setdefault(table, {}).__setitem__(field, value))

    def shared_drop(self, table: str, field: str) -> None:
        self.ops.append(lambda: self.bus.shared.get(table, {}).pop(field, None))

    def subscribe(self, channel: str) -> None:
        self.ops.append(lambda: self.subscribed.add(channel))

    def unsubscribe(self, channel: str) -> None:
        self.ops.append(lambda: self.subscribed.discard(channel))


class Node:
    def __init__(self, bus: MemoryBus, name: str) -> None:
        self.bus = bus
        self.hub = Hub()
        self.transport = BusTransport(bus, name)
        self.cluster = ClusterNode(self.hub, self.transport, name, "hb")
        self.transport.node = self.cluster
        self.transport.subscribed.add(self.cluster.control)
        self.irc_options = IrcOptions(server_name="irc.test", network="TestNet")
        self.plain_options = PlainOptions()

    def irc(self, nick: str, *caps: str) -> IrcClient:
        client = IrcClient(self.hub, self.irc_options)
        client.register(nick, *caps)
        self.bus.run()
        return client

    def plain(self) -> PlainClient:
        client = PlainClient(self.hub, self.plain_options)
        self.bus.run()
        return client


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


def nodes(bus: MemoryBus, count: int = 2) -> list[Node]:
    found = [Node(bus, name) for name in "abc"[:count]]
    for node in found:  # as the transport does on joining: read the others' users
        for other in found:
            if other is not node:
                node.cluster.apply_node(other.cluster.name, [])
    return found


def say(bus: MemoryBus, client: IrcClient | PlainClient, *lines: str) -> None:
    client.send(*lines)
    bus.run()


def test_room_messages_cross_nodes_once(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    say(bus, ann, "JOIN #t")
    say(bus, ben, "JOIN #t")
    assert ann.take() == [":ben!~u@192.0.2.1 JOIN #t"]
    say(bus, ann, "PRIVMSG #t :hello")
    assert ben.take() == [":ann!~u@192.0.2.1 PRIVMSG #t :hello"]
    assert ann.take() == []
    names = ben.send("NAMES #t")
    assert ":irc.test 353 ben = #t :@ann ben" in names


def test_a_room_channel_is_subscribed_while_the_room_has_local_members(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    channel = a.cluster.room_channel("#t")
    say(bus, ben, "JOIN #t")
    assert channel not in a.transport.subscribed
    say(bus, ann, "JOIN #t")
    assert channel in a.transport.subscribed
    say(bus, ann, "PART #t")
    assert channel not in a.transport.subscribed
    assert channel in b.transport.subscribed
    say(bus, ben, "QUIT :bye")
    assert channel not in b.transport.subscribed


def test_messages_go_out_only_when_other_nodes_have_members(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann = a.irc("ann")
    b.irc("ben")
    say(bus, ann, "JOIN #alone")
    bus.log.clear()
    say(bus, ann, "PRIVMSG #alone :nobody else")
    assert bus.log == []


def test_private_messages_cross_nodes(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    say(bus, ben, "PRIVMSG ann :psst")
    assert ann.take() == [":ben!~u@192.0.2.1 PRIVMSG ann :psst"]


def test_a_nickname_used_on_another_node_is_refused_at_once(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    a.irc("ann")
    ben = b.irc("ben")
    out = ben.send("NICK ann")
    assert any(" 433 " in line for line in out), out


def test_the_same_nickname_at_the_same_moment_ends_with_one_holder(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    one = IrcClient(a.hub, a.irc_options)
    two = IrcClient(b.hub, b.irc_options)
    one.register("same")
    two.register("same")
    bus.run()
    holders = [c for c in (one, two) if c.nick == "same"]
    assert len(holders) == 1
    loser = two if holders[0] is one else one
    lines = loser.take()
    assert any("is in use on another server" in line for line in lines), lines
    assert a.hub.find_user("same") is not None and b.hub.find_user("same") is not None
    assert bus.claims["same"] == ("a" if holders[0] is one else "b")
    # Each node knows the other's user under its final nickname.
    assert a.hub.find_user(loser.nick) is not None and b.hub.find_user(loser.nick) is not None


def test_topic_modes_and_kick_across_nodes(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    say(bus, ann, "JOIN #t")
    say(bus, ben, "JOIN #t")
    say(bus, ann, "TOPIC #t :news", "MODE #t +m")
    assert ben.take() == [":ann!~u@192.0.2.1 TOPIC #t :news", ":ann!~u@192.0.2.1 MODE #t +m"]
    out = ben.send("PRIVMSG #t :can I?")
    assert any(" 404 " in line for line in out), out
    say(bus, ann, "MODE #t +o ben")
    assert b.hub.rooms["#t"].is_op(b.hub.users["ben"])
    say(bus, ben, "KICK #t ann :out")
    assert ann.take() == [":ben!~u@192.0.2.1 KICK #t ann :out"]
    assert "#t" not in a.hub.users["ann"].rooms


def test_plain_and_irc_users_on_different_nodes_share_a_room(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    person = a.plain()
    ben = b.irc("ben")
    say(bus, ben, "JOIN #lobby")
    person.take()
    say(bus, ben, "PRIVMSG #lobby :hi there")
    assert person.take() == ["<ben> hi there"]
    say(bus, person, "hello ben")
    assert ben.take()[-1].endswith("PRIVMSG #lobby :hello ben")


def test_a_node_gone_takes_its_users_with_it(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    say(bus, ann, "JOIN #t")
    say(bus, ben, "JOIN #t")
    ben.take()
    b.cluster.forget_node("a", "Node a went away")
    assert ben.take() == [":ann!~u@192.0.2.1 QUIT :Node a went away"]
    assert b.hub.find_user("ann") is None
    assert b.cluster.remote == {}


def test_a_partial_snapshot_adds_users_and_a_complete_one_removes_the_missing(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    a.irc("ann")
    a.irc("amy")
    snaps = [json.loads(v) for v in bus.users["a"].values()]
    ann_only = [s for s in snaps if s["n"] == "ann"]
    b.cluster.apply_node("a", ann_only, complete=False)
    assert b.hub.find_user("amy") is not None
    b.cluster.apply_node("a", ann_only)
    assert b.hub.find_user("amy") is None
    assert b.hub.find_user("ann") is not None


def test_snapshots_bring_a_new_node_up_to_date(bus: MemoryBus) -> None:
    a, _ = nodes(bus)
    ann = a.irc("ann")
    say(bus, ann, "JOIN #t", "AWAY :lunch")
    c = Node(bus, "c")
    c.cluster.apply_node("a", [json.loads(v) for v in bus.users["a"].values()])
    ann_there = c.hub.find_user("ann")
    assert ann_there is not None and ann_there.away == "lunch"
    assert c.hub.rooms["#t"].members[ann_there] == "o"


def test_own_and_unreadable_messages_are_ignored(bus: MemoryBus, caplog: pytest.LogCaptureFixture) -> None:
    (a,) = nodes(bus, 1)
    a.cluster.received(b'["U","a",{}]')
    a.cluster.received(b"not json")
    a.cluster.received(b'["?","z"]')
    assert "unreadable" in caplog.text and "unknown message kind" in caplog.text


def test_wallops_and_kill_cross_nodes(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    a.irc_options.opers["op"] = "secret"
    ann = a.irc("ann")
    ben = b.irc("ben")
    say(bus, ben, "MODE ben +w")
    say(bus, ann, "OPER op secret")
    say(bus, ann, "WALLOPS :attention")
    assert ben.take()[-1].endswith("WALLOPS :attention")
    say(bus, ann, "KILL ben :enough")
    assert ben.link.closed is not None and "Killed by ann" in ben.link.closed


def test_messages_published_together_are_applied_in_order(bus: MemoryBus) -> None:
    a, b = nodes(bus)
    ann, ben = a.irc("ann"), b.irc("ben")
    say(bus, ben, "JOIN #t")
    say(bus, ann, "JOIN #t")
    ben.take()
    user = a.hub.users["ann"]
    batch = [["m", "a", user.id, "#t", 1.0, "PRIVMSG", f"id{i}", f"line {i}", None, ""] for i in range(3)]
    b.cluster.received(json.dumps(batch).encode())
    assert [line.rsplit(":", 1)[1] for line in ben.take()] == ["line 0", "line 1", "line 2"]


def test_room_topics_and_modes_are_kept_for_nodes_joining_later(bus: MemoryBus) -> None:
    a, _ = nodes(bus)
    ann = a.irc("ann")
    say(bus, ann, "JOIN #t", "TOPIC #t :kept", "MODE #t +k key")
    c = Node(bus, "c")
    c.cluster.apply_node("a", [json.loads(v) for v in bus.users["a"].values()])
    c.cluster.apply_rooms({k: json.loads(v) for k, v in bus.shared["live"].items()})
    room = c.hub.rooms["#t"]
    assert (room.topic, room.password) == ("kept", "key")
    say(bus, ann, "PART #t")
    assert "#t" not in bus.shared["live"]


def test_a_snapshot_never_takes_a_nickname_from_its_holder_here(bus: MemoryBus) -> None:
    """A user of another node read from a snapshot (no claim) whose nickname is held here waits, parked,
    until the nickname is free here; a claim (a "U" message) would have moved the local user instead."""
    a, b = nodes(bus)
    ann = a.irc("ann")
    snap = {"i": 99, "n": "ann", "u": "u", "h": "h", "r": "r", "a": "", "w": "", "m": "", "o": "", "c": []}
    b.cluster.apply_node("a", [json.loads(v) for v in bus.users["a"].values()])
    b.cluster.apply_node("c", [snap], complete=False)
    held = b.hub.find_user("ann")
    assert held is not None and held.node == "a"
    waiting = b.cluster.remote[("c", 99)]
    assert waiting.key != "ann" and b.cluster.parked["ann"] is waiting
    ann_id = a.hub.users["ann"].id
    say(bus, ann, "NICK anna")  # A's ann gives the nickname up: on B, the waiting user takes it
    assert b.hub.find_user("anna") is b.cluster.remote[("a", ann_id)]
    assert b.hub.find_user("ann") is waiting and "ann" not in b.cluster.parked
