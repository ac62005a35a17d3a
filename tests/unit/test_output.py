"""The output scheduler and the connection's output, with in-memory doubles: no socket, no event loop.

A turn's output leaves in one write per connection, in the order the connections had output; output flushed
while the store has writes in flight is held until the store's barrier, released in barrier order, and a
connection closed meanwhile closes only after its held output is written. The counters and the metrics'
protocol labels come from what the connections and sessions declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from hubbub.core.fanout import Batch, enqueue
from hubbub.net.connection import SENDQ_HARD_FACTOR, Connection
from hubbub.net.output import OutputScheduler
from hubbub.net.state import READ_SIZE, NetState
from hubbub.net.stats import NetStats
from hubbub.protocols.base import FloodWords, Link
from hubbub.protocols.irc import IrcSession
from hubbub.protocols.plain import PlainSession
from hubbub.protocols.sniff import SniffSession
from hubbub.protocols.websocket import WebSocketSession

WRITES: list[tuple[str, bytes]] = []


class FakeLoop:
    """call_soon and call_later recorded; the test runs them."""

    def __init__(self) -> None:
        self.soon: list[Callable[[], Any]] = []
        self.later: list[tuple[float, Callable[[], Any]]] = []
        self.now = 100.0

    def call_soon(self, callback: Callable[[], Any]) -> None:
        self.soon.append(callback)

    def call_later(self, delay: float, callback: Callable[[], Any]) -> FakeTimer:
        self.later.append((delay, callback))
        return FakeTimer()

    def time(self) -> float:
        return self.now

    def run_soon(self) -> None:
        soon, self.soon = self.soon, []
        for callback in soon:
            callback()


class FakeTimer:
    def cancel(self) -> None:
        pass


class FakeStore:
    def __init__(self) -> None:
        self.in_flight = False
        self.waiting: list[Callable[[], None]] = []

    def pending(self) -> bool:
        return self.in_flight

    def when_durable(self, callback: Callable[[], None]) -> None:
        self.waiting.append(callback)

    def commit(self) -> None:
        """The next barrier is reached."""
        self.waiting.pop(0)()


class FakeTransport:
    def __init__(self, name: str) -> None:
        self.name = name
        self.written: list[bytes] = []
        self.backlog = 0
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.written.append(data)
        WRITES.append((self.name, data))

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def get_extra_info(self, name: str) -> Any:
        return ("192.0.2.7", 50000) if name == "peername" else None

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Quiet(FloodWords):
    """A session that records its input and sends nothing by itself."""

    protocol: ClassVar[str] = "plain"
    exempt_from_flood = False

    def __init__(self, link: Link) -> None:
        self.link = link
        self.data = b""
        self.lost: str | None = None

    def start(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> None:
        pass

    def connection_lost(self, reason: str) -> None:
        self.lost = reason

    def shutdown(self) -> None:
        pass

    def tick(self, now: float) -> None:
        pass


class Admitted:
    def __init__(self) -> None:
        self.live: list[Connection] = []
        self.gone: list[Connection] = []

    def attach(self, conn: Connection) -> bool:
        self.live.append(conn)
        conn.id = len(self.live)
        return True

    def detach(self, conn: Connection) -> None:
        self.gone.append(conn)


class Node:
    """A scheduler, counters and shared state over the doubles, and connections on fake transports."""

    def __init__(self, sendq: int = 1000) -> None:
        WRITES.clear()
        self.loop = FakeLoop()
        self.store = FakeStore()
        self.output = OutputScheduler(self.loop, self.store)
        self.stats = NetStats()
        self.admission = Admitted()
        self.state = NetState(
            self.loop,  # type: ignore[arg-type]
            self.output,
            self.stats,
            self.admission,
            sendq=sendq,
            close_timeout=5.0,
        )

    def connect(self, name: str) -> tuple[Connection, FakeTransport]:
        conn = Connection(self.state, Quiet, "plain text")
        transport = FakeTransport(name)
        conn.connection_made(transport)  # type: ignore[arg-type]
        return conn, transport


def test_a_turns_output_leaves_in_one_write_per_connection_in_the_order_they_had_output() -> None:
    node = Node()
    a, _ = node.connect("a")
    b, _ = node.connect("b")
    b.send(b"b1\r\n")
    a.send(b"a1\r\n")
    b.send(b"b2\r\n")
    a.send(b"a2\r\n")
    assert node.output.flush_scheduled and len(node.loop.soon) == 1  # one flush per turn
    assert WRITES == []
    node.loop.run_soon()
    assert WRITES == [("b", b"b1\r\nb2\r\n"), ("a", b"a1\r\na2\r\n")]
    assert not node.output.flush_scheduled and node.output.dirty == []
    assert node.stats.bytes_out == 16


def test_woken_groups_are_flushed_after_the_dirty_connections_once_each() -> None:
    node = Node()
    a, _ = node.connect("a")
    b, _ = node.connect("b")
    c, _ = node.connect("c")
    c.send(b"c\r\n")
    group = [a, b]
    for conn in group:
        enqueue(conn.out, b"fan\r\n")
    node.output.wake(group)  # type: ignore[arg-type]
    node.output.wake(group)  # type: ignore[arg-type]
    assert len(node.loop.soon) == 1
    node.loop.run_soon()
    assert WRITES == [("c", b"c\r\n"), ("a", b"fan\r\n"), ("b", b"fan\r\n")]
    assert node.output.dirty_groups == {}


class _Member:
    """A group member whose flush may take it out of the group (as a connection closed by its write does)."""

    def __init__(self, name: str, group: list[Any], leaves: bool = False) -> None:
        self.name, self.group, self.leaves = name, group, leaves
        self.out: list[Any] = [b"fan\r\n"]

    def flush(self, tag: int = 0) -> None:
        WRITES.append((self.name, b"".join(self.out)))
        self.out.clear()
        if self.leaves:
            index = self.group.index(self)
            self.group[index] = self.group[-1]  # how a group takes a member out: the last takes its place
            self.group.pop()


def test_a_connection_that_leaves_its_group_while_flushed_costs_no_other_member_its_output() -> None:
    """A write may close its connection (a send queue overrun), which takes it out of its rooms' groups:
    the list being flushed changes under the flush. The members after it are written all the same."""
    node = Node()
    group: list[Any] = []
    group += [_Member("a", group, leaves=True), _Member("b", group), _Member("c", group)]
    node.output.wake(group)
    node.loop.run_soon()
    assert sorted(WRITES) == [("a", b"fan\r\n"), ("b", b"fan\r\n"), ("c", b"fan\r\n")]


def test_held_output_is_released_in_barrier_order() -> None:
    node = Node()
    a, ta = node.connect("a")
    b, _ = node.connect("b")
    node.store.in_flight = True
    a.send(b"a1\r\n")
    node.loop.run_soon()  # barrier 1
    b.send(b"b1\r\n")
    a.send(b"a2\r\n")
    node.loop.run_soon()  # barrier 2
    assert WRITES == [] and node.output.held == {a, b}
    assert a.held == [(1, b"a1\r\n"), (2, b"a2\r\n")]
    node.store.in_flight = False
    a.send(b"a3\r\n")
    node.loop.run_soon()  # nothing in flight, but behind what a holds
    assert WRITES == [] and a.held[-1] == (2, b"a3\r\n")
    node.store.commit()
    assert WRITES == [("a", b"a1\r\n")]
    node.store.commit()
    assert sorted(WRITES[1:]) == [("a", b"a2\r\n"), ("a", b"a3\r\n"), ("b", b"b1\r\n")]
    assert ta.written == [b"a1\r\n", b"a2\r\n", b"a3\r\n"]
    assert node.output.held == set() and node.output.barriers_reached == 2


def test_a_connection_closed_with_held_output_closes_once_it_is_written() -> None:
    node = Node()
    a, ta = node.connect("a")
    node.store.in_flight = True
    a.send(b"bye\r\n")
    a.close("quit")
    assert not ta.closed and ta.written == [] and a.held == [(1, b"bye\r\n")]
    a.send(b"too late\r\n")  # nothing more is queued once closing
    node.loop.run_soon()
    node.store.commit()
    assert ta.written == [b"bye\r\n"] and ta.closed
    assert node.output.held == set()


def test_an_aborted_connection_drops_its_held_output() -> None:
    node = Node()
    a, ta = node.connect("a")
    node.store.in_flight = True
    a.send(b"x\r\n")
    node.loop.run_soon()
    a.abort("gone")
    assert ta.aborted and node.output.held == set()
    node.store.commit()
    assert ta.written == []


def test_the_counters_count_bytes_and_send_queue_drops() -> None:
    node = Node(sendq=10)
    a, ta = node.connect("a")
    view = a.get_buffer(-1)
    assert len(view) == READ_SIZE and view is node.state.read_view
    view[:6] = b"hello\n"
    a.buffer_updated(6)
    assert node.stats.bytes_in == 6
    assert isinstance(a.session, Quiet) and a.session.data == b"hello\n"
    ta.backlog = SENDQ_HARD_FACTOR * 10 + 1
    a.send(b"flood\r\n")
    node.loop.run_soon()
    assert node.stats.bytes_out == 7 and node.stats.sendq_drops == 1 and ta.aborted
    assert a.reason == "send queue exceeded"


def test_sessions_declare_their_protocol_and_the_metrics_count_by_it() -> None:
    pytest.importorskip("prometheus_client")
    from hubbub.metrics import clients_by_protocol

    assert (IrcSession.protocol, PlainSession.protocol, SniffSession.protocol) == ("irc", "plain", "sniff")
    assert WebSocketSession.protocol == "websocket"

    class Declared:
        def __init__(self, protocol: str) -> None:
            self.protocol = protocol

    protocols = ("irc", "plain", "irc", "sniff", "other", "websocket")
    sessions: list[Any] = [Declared(p) for p in protocols] + [None]
    assert clients_by_protocol(sessions) == {"irc": 2, "plain": 1, "websocket": 1, "pending": 3}
    assert clients_by_protocol([]) == {"irc": 0, "plain": 0, "websocket": 0, "pending": 0}


@pytest.mark.parametrize("exempt", [False, True])
def test_a_session_that_declares_itself_exempt_gets_its_input_over_the_budget(exempt: bool) -> None:
    from hubbub.net.flood import Flood, FloodLimits

    node = Node()
    a, _ = node.connect("a")
    a.flood = Flood(FloodLimits(lines=1.0, burst=1, bytes=1000.0, byte_burst=1000.0, kill=60.0))
    session = a.session
    assert isinstance(session, Quiet)
    session.exempt_from_flood = exempt
    for line in (b"one\n", b"two\n", b"three\n"):
        a.get_buffer(-1)[: len(line)] = line
        a.buffer_updated(len(line))
    if exempt:
        assert session.data == b"one\ntwo\nthree\n" and a.flood is None
    else:
        assert a.flood is not None and a.flood.held  # held back, passed on as the budget refills
        assert session.data + a.flood.held == b"one\ntwo\nthree\n"
    assert node.stats.bytes_in == 14


def test_a_client_that_hung_up_gets_its_answers_but_no_room_lines_on_closing() -> None:
    """On EOF the session answers what came with it, then the connection closes: the room's batch (in a
    storm of departures, the quits of all who left before it in that turn) is read by nobody: not written."""
    node = Node()
    a, _ = node.connect("a")
    batch = Batch(b"* bob left (bye)\r\n")
    enqueue(a.out, batch)
    a.send(b"* 2 in #lobby: alice, bob\r\n")
    a.eof_received()
    assert WRITES == [("a", b"* 2 in #lobby: alice, bob\r\n")]


class Typist(Quiet):
    """A session where a person types (plain text): it records what flood control tells it."""

    @property
    def pastes(self) -> bool:
        return True

    def __init__(self, link: Link) -> None:
        super().__init__(link)
        self.told: list[str] = []

    def slowed(self, queued: int) -> None:
        self.told.append(f"slowed {queued}")
        self.link.send(b"* slow down\r\n")

    def lagging(self, behind: float, limit: float) -> None:
        self.told.append(f"lagging {behind:g} {limit:g}")
        self.link.send(b"* behind\r\n")

    def flooded(self, lines: float) -> bytes | None:
        self.told.append(f"flooded {lines:g}")
        return b"! flooded\r\n"


def typist(node: Node, *, paste: int = 10) -> tuple[Connection, Typist]:
    from hubbub.net.flood import Flood, FloodLimits

    conn = Connection(node.state, Typist, "plain text")
    conn.flood = Flood(FloodLimits(lines=1.0, burst=2, bytes=1e6, byte_burst=1e6, kill=3.0, paste=paste))
    conn.connection_made(FakeTransport("t"))  # type: ignore[arg-type]
    session = conn.session
    assert isinstance(session, Typist)
    return conn, session


def feed(conn: Connection, data: bytes) -> None:
    conn.get_buffer(-1)[: len(data)] = data
    conn.buffer_updated(len(data))


def test_a_paste_is_told_once_and_passed_on_within_the_allowance() -> None:
    node = Node()
    conn, session = typist(node)
    assert conn.flood is not None and conn.flood.limit == 13.0  # 3 + 10 lines at 1 a second
    feed(conn, b"".join(b"%d\n" % i for i in range(11)))  # 9 lines over the burst: 9 seconds behind
    assert session.told == ["slowed 9"]
    assert session.data == b"0\n1\n2"  # the burst (and the start of the next line); the rest waits
    feed(conn, b"more\n")  # (read before the pause took hold) 10 seconds, still the same burst
    assert session.told == ["slowed 9"]
    assert conn.open and not node.stats.flood_kills


def test_a_paste_past_the_allowance_is_warned_before_the_disconnection() -> None:
    node = Node()
    conn, session = typist(node)
    feed(conn, b"".join(b"%d\n" % i for i in range(14)))  # 12 seconds: past the allowance, not the limit
    assert session.told == ["slowed 12", "lagging 12 13"]
    feed(conn, b"".join(b"%d\n" % i for i in range(5)))  # 17 seconds: past the limit
    assert session.told == ["slowed 12", "lagging 12 13", "flooded 1"]
    assert not conn.open and node.stats.flood_kills == 1
    assert session.lost == "Excess Flood"
    conn, session = typist(node)
    feed(conn, b"".join(b"%d\n" % i for i in range(40)))  # at once far past it: the warning comes first
    assert session.told == ["slowed 38", "lagging 38 13", "flooded 1"]
    node.loop.run_soon()
    assert WRITES[-1] == ("t", b"* slow down\r\n* behind\r\n! flooded\r\n")


def test_without_the_allowance_an_irc_client_is_slowed_silently_and_gets_the_error_line() -> None:
    from hubbub.net.flood import Flood, FloodLimits

    node = Node()
    conn, _ = node.connect("irc")
    conn.flood = Flood(FloodLimits(lines=1.0, burst=2, bytes=1e6, byte_burst=1e6, kill=3.0, paste=10))
    feed(conn, b"".join(b"%d\n" % i for i in range(10)))  # 8 seconds: over kill, and no allowance
    assert not conn.open
    node.loop.run_soon()
    assert WRITES[-1] == ("irc", b"ERROR :Closing Link: 192.0.2.7 (Excess Flood)\r\n")
