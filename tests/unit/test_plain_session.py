"""The plain-text session and the hub, driven in memory: no sockets, no event loop."""

from __future__ import annotations

import pytest

from hubbub.core.events import Event
from hubbub.core.fanout import Queued, enqueue, flatten
from hubbub.core.hub import Hub
from hubbub.protocols.plain import PlainOptions, PlainSession


class MemoryLink:
    """A Link that records what the session sends."""

    def __init__(self, host: str = "192.0.2.1") -> None:
        self.peer_host = host
        self.out: list[Queued] = []
        self.closed: str | None = None
        #: History rows charged to the client's flood budget.
        self.charged = 0

    @property
    def data(self) -> bytes:
        """Everything queued and not yet taken."""
        return flatten(self.out, self) if self.out else b""

    def send(self, data: bytes) -> None:
        assert self.closed is None, "send after close"
        enqueue(self.out, data)

    def close(self, reason: str) -> None:
        self.closed = reason

    def charge_scan(self, items: int) -> None:
        self.scanned = getattr(self, "scanned", 0) + items

    def charge_history(self, rows: int) -> None:
        self.charged += rows

    def take(self) -> list[str]:
        lines = self.data.decode().split("\r\n")
        assert lines[-1] == ""
        self.out.clear()
        return lines[:-1]


class Pair:
    def __init__(self, hub: Hub, options: PlainOptions) -> None:
        self.link = MemoryLink()
        self.session = PlainSession(self.link, hub, options)
        self.session.start()

    def type(self, *lines: str) -> list[str]:
        self.link.take()
        self.session.data_received("".join(line + "\n" for line in lines).encode())
        return self.link.take()

    @property
    def nick(self) -> str:
        assert self.session.user is not None
        return self.session.user.nick


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def options() -> PlainOptions:
    return PlainOptions(max_line=200)


def connect(hub: Hub, options: PlainOptions, nick: str | None = None) -> Pair:
    pair = Pair(hub, options)
    if nick:
        pair.type(f"/nick {nick}")
    return pair


def test_start_greets_and_joins_the_lobby(hub: Hub, options: PlainOptions) -> None:
    pair = Pair(hub, options)
    assert pair.link.take() == [
        "* Welcome to hubbub, guest-1! Type /help for commands.",
        "* You are in #lobby, alone for now",
    ]
    assert [r.name for r in hub.room_list()] == ["#lobby"]


def test_say_reaches_others_only(hub: Hub, options: PlainOptions) -> None:
    alice, bob = connect(hub, options, "alice"), connect(hub, options, "bob")
    alice.link.take()
    assert bob.type("hi there") == []
    assert alice.link.take() == ["<bob> hi there"]


def test_commands_table(hub: Hub, options: PlainOptions) -> None:
    alice, bob = connect(hub, options, "alice"), connect(hub, options, "bob")
    assert alice.type("/nick BOB") == ["! Nickname BOB is already in use"]
    assert alice.type("/nick") == ["* You are alice. Usage: /nick NAME"]
    assert alice.type("/NICK Al") == ["* You are now known as Al"]
    assert bob.link.take()[-1] == "* alice is now known as Al"
    assert alice.type("/join") == ["! Usage: /join #room [key]"]
    assert alice.type("/join #a b") == ["* You are in #a, alone for now"]
    assert alice.type("/who") == ["* 1 in #a: @Al (you are an operator here)"]
    assert alice.type("/who #nowhere") == ["! No such room: #nowhere"]
    assert alice.type("/rooms") == ["* 2 rooms:", "*   #a (1 member)", "*   #lobby (1 member)"]
    assert alice.type("/msg") == ["! Usage: /msg NICK text, or /msg #room text"]
    assert alice.type("/msg bob  two  spaces ") == ["-> *bob*  two  spaces"]
    assert bob.link.take()[-1] == "*Al*  two  spaces"
    assert alice.type("/me") == ["! Usage: /me action"]
    assert alice.type("/part") == ["* You left #a. /join #room to go to another room, /rooms to list them"]
    assert alice.type("/part") == ["! You are not in a room"]
    assert alice.type("/who") == ["! You are not in a room; /who #room names one"]
    assert alice.type("/me sighs") == ["! You are not in a room: /join #room first"]
    assert alice.type("/nope") == ["! Unknown command /nope; type /help for the list"]
    assert alice.type("/help")[0] == "Commands:"
    assert alice.type("/quit") == ["* Goodbye!"]
    assert alice.link.closed == "quit"
    assert hub.find_user("Al") is None


def test_blank_and_overlong_lines(hub: Hub, options: PlainOptions) -> None:
    alice, bob = connect(hub, options, "alice"), connect(hub, options, "bob")
    alice.link.take()
    assert bob.type("   ", "\t") == []
    assert bob.type("x" * 201) == ["! Line too long (the limit is 200 bytes); it was not sent"]
    assert alice.link.take() == []


def test_eof_sends_the_last_unterminated_line_then_quits(hub: Hub, options: PlainOptions) -> None:
    alice, bob = connect(hub, options, "alice"), connect(hub, options, "bob")
    alice.link.take()
    bob.session.data_received(b"bye now")
    bob.session.eof_received()
    assert alice.link.take() == ["<bob> bye now", "* bob left (connection closed)"]
    assert bob.link.closed == "connection closed"
    bob.session.connection_lost("connection closed")  # the network layer's call afterwards is harmless
    assert hub.find_user("bob") is None


def test_empty_rooms_disappear(hub: Hub, options: PlainOptions) -> None:
    alice = connect(hub, options, "alice")
    alice.type("/join #tmp")
    assert hub.find_room("#tmp") is not None and hub.find_room("#lobby") is None
    alice.session.connection_lost("gone")
    assert hub.rooms == {} and hub.users == {}


def test_fanout_renders_once_per_variant(hub: Hub, options: PlainOptions) -> None:
    members = [connect(hub, options) for _ in range(50)]
    for member in members:
        member.link.take()
    calls: list[Event] = []
    original = PlainSession.render

    def counting(self: PlainSession, event: Event) -> bytes | None:
        calls.append(event)
        return original(self, event)

    PlainSession.render = counting  # type: ignore[method-assign]
    try:
        members[0].type("to everyone")
    finally:
        PlainSession.render = original  # type: ignore[method-assign]
    assert len(calls) == 1
    sent = [m.link.data for m in members[1:]]
    assert sent == [b"<guest-1> to everyone\r\n"] * 49


def test_msgids_are_unique(hub: Hub, options: PlainOptions) -> None:
    alice, _bob = connect(hub, options, "alice"), connect(hub, options, "bob")
    assert alice.session.user is not None and alice.session.room is not None
    ids = {hub.say(alice.session.user, alice.session.room, str(i)).msgid for i in range(1000)}
    assert len(ids) == 1000


def test_joining_a_big_room_names_only_a_few(hub: Hub, options: PlainOptions) -> None:
    for _ in range(30):
        connect(hub, options)
    newcomer = Pair(hub, options)
    lines = newcomer.link.take()
    assert lines[1] == (
        "* You are in #lobby with guest-1, guest-2, guest-3, guest-4, guest-5, guest-6, guest-7, guest-8,"
        " guest-9, guest-10 and 20 others (/who lists them)"
    )
