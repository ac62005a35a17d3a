"""IRC history in memory: CHATHISTORY (draft/chathistory) and the replay of a channel's lines on JOIN."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

import hubbub.core.hub as hub_module
from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions, IrcSession
from hubbub.protocols.irc.render import format_time
from hubbub.wire.irc import Message, parse

from .irc_harness import IrcClient, make_world

SERVER = ":irc.test"
T0 = 1_700_000_000
HISTORY_CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")


class Clock:
    """Stands for the ``time`` module in the hub, so that every message has a known time."""

    def __init__(self) -> None:
        self.now = float(T0)

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(hub_module, "time", fake)
    return fake


def at(i: int) -> float:
    """When message ``i`` is sent: half a millisecond into second ``i`` (server-time shows ``.000``)."""
    return T0 + i + 0.0005


def stamp(i: int, ms: int = 0) -> str:
    return "timestamp=" + format_time(T0 + i + ms / 1000)


class Room:
    """alice (who asks for history) and bob in #room, where bob said m1 ... m10 at times at(1) ... at(10)."""

    def __init__(self, clock: Clock, *caps: str, **options: object) -> None:
        self.hub, self.options, connect = make_world(**options)
        self.alice = connect("alice", *(caps or HISTORY_CAPS))
        self.bob = connect("bob")
        self.alice.send("JOIN #room")
        self.bob.send("JOIN #room")
        for i in range(1, 11):
            clock.now = at(i)
            self.bob.send(f"PRIVMSG #room :m{i}")
        self.alice.take()
        self.ids = {f"m{i}": msg.msgid for i, msg in enumerate(self.hub.store.latest("#room", 100), 1)}

    def msgid(self, i: int) -> str:
        return "msgid=" + self.ids[f"m{i}"]


def batch(client: IrcClient, command: str, kind: str = "chathistory") -> tuple[list[str], list[Message]]:
    """Send a command answered by one batch: the batch's parameters after its type, and its messages."""
    out = client.send_msgs(command)
    first, last = out[0], out[-1]
    assert first.verb == "BATCH" and first.params[0][0] == "+" and first.params[1] == kind, out
    ref = first.params[0][1:]
    assert last.verb == "BATCH" and last.params == ["-" + ref], out
    body = out[1:-1]
    for msg in body:
        assert msg.tags is not None and msg.tags["batch"] == ref
    return first.params[2:], body


def texts(client: IrcClient, command: str) -> list[str]:
    _, body = batch(client, command)
    return [msg.params[1] for msg in body]


# -- the subcommands -----------------------------------------------------------------------------------------


def test_the_rows_returned_are_charged_to_the_flood_budget(clock: Clock) -> None:
    room = Room(clock)
    assert room.alice.link.charged == 0
    batch(room.alice, "CHATHISTORY LATEST #room * 3")
    assert room.alice.link.charged == 3
    batch(room.alice, "CHATHISTORY BEFORE #room timestamp=2030-01-01T00:00:00.000Z 1000")
    assert room.alice.link.charged == 13
    batch(room.alice, f"CHATHISTORY TARGETS {stamp(0)} {stamp(20)} 10", "draft/chathistory-targets")
    assert room.alice.link.charged == 14


def test_latest(clock: Clock) -> None:
    room = Room(clock)
    params, body = batch(room.alice, "CHATHISTORY LATEST #room * 3")
    assert params == ["#room"]
    assert [msg.params for msg in body] == [["#room", "m8"], ["#room", "m9"], ["#room", "m10"]]
    first = body[0]
    assert first.source == "bob!~u@192.0.2.1" and first.verb == "PRIVMSG"
    assert first.tags is not None
    assert first.tags["time"] == format_time(at(8)) and first.tags["msgid"] == room.ids["m8"]
    assert texts(room.alice, f"CHATHISTORY LATEST #ROOM {room.msgid(7)} 10") == ["m8", "m9", "m10"]
    assert texts(room.alice, f"CHATHISTORY LATEST #room {stamp(7)} 10") == ["m8", "m9", "m10"]
    assert texts(room.alice, "CHATHISTORY latest #room * 2") == ["m9", "m10"]


def test_before_after_around(clock: Clock) -> None:
    room = Room(clock)
    alice = room.alice
    assert texts(alice, f"CHATHISTORY BEFORE #room {room.msgid(5)} 2") == ["m3", "m4"]
    assert texts(alice, f"CHATHISTORY BEFORE #room {stamp(5)} 2") == ["m3", "m4"]
    assert texts(alice, f"CHATHISTORY BEFORE #room {stamp(5, 1)} 2") == ["m4", "m5"]
    assert texts(alice, f"CHATHISTORY AFTER #room {room.msgid(5)} 2") == ["m6", "m7"]
    # The millisecond shown in m5's server-time covers m5 itself: AFTER it starts at m6.
    assert texts(alice, f"CHATHISTORY AFTER #room {stamp(5)} 2") == ["m6", "m7"]
    assert texts(alice, f"CHATHISTORY AROUND #room {room.msgid(5)} 3") == ["m4", "m5", "m6"]
    assert texts(alice, f"CHATHISTORY AROUND #room {stamp(5)} 2") == ["m4", "m5"]
    assert texts(alice, "CHATHISTORY BEFORE #room * 2") == ["m9", "m10"]  # as LATEST *, for Kiwi


def test_between(clock: Clock) -> None:
    room = Room(clock)
    alice = room.alice
    assert texts(alice, f"CHATHISTORY BETWEEN #room {room.msgid(2)} {room.msgid(6)} 10") == ["m3", "m4", "m5"]
    assert texts(alice, f"CHATHISTORY BETWEEN #room {room.msgid(2)} {room.msgid(6)} 2") == ["m3", "m4"]
    # Backwards: the messages nearest the start are kept, still in order.
    assert texts(alice, f"CHATHISTORY BETWEEN #room {room.msgid(8)} {room.msgid(2)} 2") == ["m6", "m7"]
    assert texts(alice, f"CHATHISTORY BETWEEN #room {stamp(2)} {stamp(6)} 10") == ["m3", "m4", "m5"]
    assert texts(alice, f"CHATHISTORY BETWEEN #room {stamp(6)} {stamp(2)} 10") == ["m3", "m4", "m5"]
    assert texts(alice, f"CHATHISTORY BETWEEN #room {room.msgid(2)} {stamp(5)} 10") == ["m3", "m4"]


def test_limits(clock: Clock) -> None:
    room = Room(clock, chathistory_max=4)
    alice = room.alice
    assert texts(alice, "CHATHISTORY LATEST #room * 100") == ["m7", "m8", "m9", "m10"]
    assert texts(alice, "CHATHISTORY LATEST #room * 0") == ["m7", "m8", "m9", "m10"]
    assert texts(alice, "CHATHISTORY LATEST #room * many") == ["m7", "m8", "m9", "m10"]
    assert texts(alice, "CHATHISTORY LATEST #room * -3") == []
    out = alice.send("VERSION")
    assert "CHATHISTORY=4" in " ".join(out).split()


def test_unknown_msgid_gives_an_empty_batch(clock: Clock) -> None:
    room = Room(clock)
    assert texts(room.alice, "CHATHISTORY BEFORE #room msgid=nosuchid 10") == []
    assert texts(room.alice, "CHATHISTORY LATEST #room * 10")[-1] == "m10"
    # A room nobody spoke in.
    room.alice.send("JOIN #quiet")
    assert texts(room.alice, "CHATHISTORY LATEST #quiet * 10") == []


def test_errors(clock: Clock) -> None:
    room = Room(clock)
    alice = room.alice
    carol = IrcClient(room.hub, room.options)
    carol.register("carol")
    assert alice.send("CHATHISTORY") == [f"{SERVER} FAIL CHATHISTORY NEED_MORE_PARAMS * :Missing parameters"]
    assert alice.send("CHATHISTORY LATEST #room *") == [
        f"{SERVER} FAIL CHATHISTORY NEED_MORE_PARAMS LATEST :Missing parameters"
    ]
    assert alice.send("CHATHISTORY FROB #room * 10") == [
        f"{SERVER} FAIL CHATHISTORY UNKNOWN_COMMAND FROB :Unknown command"
    ]
    for ref in ("*", "nonsense", "msgid=", "timestamp=yesterday", "timestamp=2023-13-01T00:00:00.000Z"):
        assert alice.send(f"CHATHISTORY AFTER #room {ref} 10") == [
            f"{SERVER} FAIL CHATHISTORY INVALID_PARAMS AFTER :Invalid parameters"
        ], ref
    assert alice.send("CHATHISTORY TARGETS msgid=x msgid=y 10") == [
        f"{SERVER} FAIL CHATHISTORY INVALID_PARAMS TARGETS :Invalid parameters"
    ]
    for target in ("#nowhere", "bad*nick"):
        assert alice.send(f"CHATHISTORY LATEST {target} * 10") == [
            f"{SERVER} FAIL CHATHISTORY INVALID_TARGET LATEST {target} :Messages could not be retrieved"
        ]
    # Not a member: no history of the room.
    assert carol.send("CHATHISTORY LATEST #room * 10") == [
        f"{SERVER} FAIL CHATHISTORY INVALID_TARGET LATEST #room :Messages could not be retrieved"
    ]


def test_without_batch_and_tags(clock: Clock) -> None:
    room = Room(clock, "draft/chathistory")
    out = room.alice.send("CHATHISTORY LATEST #room * 2")
    assert out == [":bob!~u@192.0.2.1 PRIVMSG #room :m9", ":bob!~u@192.0.2.1 PRIVMSG #room :m10"]
    assert room.alice.send("CHATHISTORY LATEST nobody * 2") == []  # no batch: nothing at all


def test_kinds_accounts_and_labels(clock: Clock) -> None:
    hub, _options, connect = make_world()
    errors: list[object] = []
    hub.accounts.create("bob", "secret-1", errors.append)
    alice = connect("alice", *HISTORY_CAPS, "account-tag", "labeled-response")
    bob = connect("bob")
    bob.send("NS IDENTIFY secret-1")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    clock.now = at(1)
    bob.send("PRIVMSG #room :\x01ACTION waves\x01")
    clock.now = at(2)
    bob.send("NOTICE #room :a notice")
    clock.now = at(3)
    bob.send("@+typing=active TAGMSG #room")  # not recorded
    alice.take()
    _, body = batch(alice, "CHATHISTORY LATEST #room * 10")
    assert [(msg.verb, msg.params[1]) for msg in body] == [
        ("PRIVMSG", "\x01ACTION waves\x01"),
        ("NOTICE", "a notice"),
    ]
    assert all(msg.tags is not None and msg.tags["account"] == "bob" for msg in body)
    # With a label, the chathistory batch sits in the labeled-response batch, each line with one batch tag.
    out = alice.send_msgs("@label=q1 CHATHISTORY LATEST #room * 10")
    assert out[0].verb == "BATCH" and out[0].params[1] == "labeled-response"
    assert out[0].tags == {"label": "q1"}
    outer = out[0].params[0][1:]
    assert out[1].verb == "BATCH" and out[1].params[1:] == ["chathistory", "#room"]
    assert out[1].tags == {"batch": outer}
    inner = out[1].params[0][1:]
    assert [msg.tags["batch"] for msg in out[2:4] if msg.tags] == [inner, inner]
    assert out[4].params == ["-" + inner] and out[4].tags == {"batch": outer}
    assert out[5].params == ["-" + outer]


def test_private_conversations(clock: Clock) -> None:
    _hub, _options, connect = make_world()
    alice = connect("alice", *HISTORY_CAPS)
    bob = connect("bob")
    clock.now = at(1)
    alice.send("PRIVMSG bob :hi bob")
    clock.now = at(2)
    bob.send("PRIVMSG alice :hi alice")
    clock.now = at(3)
    bob.send("PRIVMSG carol :not for alice")
    alice.take()
    params, body = batch(alice, "CHATHISTORY LATEST BOB * 10")
    assert params == ["bob"]
    assert [(msg.source, msg.params) for msg in body] == [
        ("alice!~u@192.0.2.1", ["bob", "hi bob"]),
        ("bob!~u@192.0.2.1", ["alice", "hi alice"]),
    ]
    # bob sees the same conversation from his side.
    bob_history = [line for line in bob.send("CHATHISTORY LATEST alice * 10")]
    assert bob_history == [
        ":alice!~u@192.0.2.1 PRIVMSG bob :hi bob",
        ":bob!~u@192.0.2.1 PRIVMSG alice :hi alice",
    ]
    # A conversation with someone who left is still there (by nickname).
    bob.send("QUIT")
    assert texts(alice, "CHATHISTORY LATEST bob * 10") == ["hi bob", "hi alice"]
    assert texts(alice, "CHATHISTORY LATEST nobody * 10") == []


def test_targets(clock: Clock) -> None:
    _hub, _options, connect = make_world()
    alice = connect("alice", *HISTORY_CAPS)
    bob = connect("bob")
    carol = connect("carol")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    carol.send("JOIN #other")
    clock.now = at(1)
    bob.send("PRIVMSG alice :psst")
    clock.now = at(2)
    bob.send("PRIVMSG #room :hello room")
    clock.now = at(3)
    alice.send("PRIVMSG carol :hi carol")
    clock.now = at(4)
    carol.send("PRIVMSG #other :alice is not here")
    clock.now = at(5)
    bob.send("PRIVMSG #room :again")
    alice.take()
    params, body = batch(alice, f"CHATHISTORY TARGETS {stamp(0)} {stamp(10)} 10", "draft/chathistory-targets")
    assert params == []
    assert [msg.params for msg in body] == [
        ["TARGETS", "bob", format_time(at(1))],
        ["TARGETS", "carol", format_time(at(3))],
        ["TARGETS", "#room", format_time(at(5))],
    ]
    assert all(msg.source == "irc.test" and msg.verb == "CHATHISTORY" for msg in body)
    _, body = batch(alice, f"CHATHISTORY TARGETS {stamp(0)} {stamp(10)} 2", "draft/chathistory-targets")
    assert [msg.params[1] for msg in body] == ["bob", "carol"]
    _, body = batch(alice, f"CHATHISTORY TARGETS {stamp(10)} {stamp(0)} 2", "draft/chathistory-targets")
    assert [msg.params[1] for msg in body] == ["carol", "#room"]
    _, body = batch(alice, f"CHATHISTORY TARGETS {stamp(1)} {stamp(4)} 10", "draft/chathistory-targets")
    assert [msg.params[1] for msg in body] == ["#room", "carol"]  # #room's latest in the range is at 2
    assert body[0].params[2] == format_time(at(2))
    # Without the batch capability: the lines alone.
    plain = connect("dave", "draft/chathistory")
    plain.send("PRIVMSG bob :yo")
    assert plain.send(f"CHATHISTORY TARGETS {stamp(0)} {stamp(10)} 10") == [
        f"{SERVER} CHATHISTORY TARGETS bob {format_time(at(5))}"
    ]


def test_targets_name_accounts(clock: Clock) -> None:
    hub, _options, connect = make_world()
    for name in ("Alice", "Bob"):
        errors: list[object] = []
        hub.accounts.create(name, "secret-1", errors.append)
    alice = connect("alice", *HISTORY_CAPS)
    alice.send("NS IDENTIFY secret-1")
    bob = connect("bob")
    bob.send("NS IDENTIFY secret-1")
    bob.send("NICK bobby")
    clock.now = at(1)
    bob.send("PRIVMSG alice :from bobby")
    alice.take()
    _, body = batch(alice, f"CHATHISTORY TARGETS {stamp(0)} {stamp(10)} 10", "draft/chathistory-targets")
    assert [msg.params[1] for msg in body] == ["Bob"]
    # The conversation follows the account, whatever the nickname.
    assert texts(alice, "CHATHISTORY LATEST bobby * 10") == ["from bobby"]
    assert texts(alice, "CHATHISTORY LATEST bob * 10") == ["from bobby"]  # the account
    bob.send("QUIT")
    assert texts(alice, "CHATHISTORY LATEST Bob * 10") == ["from bobby"]


# -- replay on JOIN ------------------------------------------------------------------------------------------


def talk(hub: Hub, options: IrcOptions, connect: Callable[..., IrcClient], clock: Clock) -> IrcClient:
    bob = connect("bob")
    bob.send("JOIN #room")
    for i in range(1, 6):
        clock.now = at(i)
        bob.send(f"PRIVMSG #room :m{i}")
    return bob


def test_replay_on_join(clock: Clock) -> None:
    hub, options, connect = make_world(history_replay=3)
    talk(hub, options, connect, clock)
    alice = connect("alice")
    out = alice.send("JOIN #room")
    end = out.index(f"{SERVER} 366 alice #room :End of /NAMES list.")
    assert out[end + 1 :] == [
        f"{SERVER} NOTICE #room :--- last 3 messages ---",  # without batch, the replay is marked in words
        *(f":bob!~u@192.0.2.1 PRIVMSG #room :m{i}" for i in (3, 4, 5)),
        f"{SERVER} NOTICE #room :--- end of replay ---",
    ]
    # With batch and tags.
    carol = connect("carol", "batch", "server-time", "message-tags")
    msgs = [parse(line) for line in carol.send("JOIN #room")]
    start = next(i for i, msg in enumerate(msgs) if msg.verb == "BATCH")
    replay = msgs[start:]
    assert replay[0].params[1:] == ["chathistory", "#room"]
    assert [msg.params[1] for msg in replay[1:-1]] == ["m3", "m4", "m5"]
    assert replay[1].tags is not None and replay[1].tags["time"] == format_time(at(3))
    assert replay[-1].verb == "BATCH" and replay[-1].params[0][0] == "-"


def test_no_replay_for_chathistory_clients_or_when_turned_off(clock: Clock) -> None:
    hub, options, connect = make_world()
    talk(hub, options, connect, clock)
    asker = connect("alice", "draft/chathistory")
    assert asker.send("JOIN #room")[-1].endswith(" 366 alice #room :End of /NAMES list.")
    errors: list[object] = []
    hub.accounts.create("dave", "secret-1", errors.append)
    dave = connect("dave")
    dave.send("NS IDENTIFY secret-1", "NS SET REPLAY OFF")
    assert dave.send("JOIN #room")[-1].endswith(" 366 dave #room :End of /NAMES list.")
    dave.send("PART #room", "NS SET REPLAY ON")
    # Back at once: it saw everything, so nothing is replayed; what was said meanwhile is.
    assert dave.send("JOIN #room")[-1].endswith(" 366 dave #room :End of /NAMES list.")
    dave.send("PART #room")
    clock.now = at(7)
    bob = hub.users["bob"].client
    assert isinstance(bob, IrcSession)
    bob.data_received(b"PRIVMSG #room :while dave was out\r\n")
    assert dave.send("JOIN #room")[-3:] == [
        f"{SERVER} NOTICE #room :--- last message ---",
        ":bob!~u@192.0.2.1 PRIVMSG #room :while dave was out",
        f"{SERVER} NOTICE #room :--- end of replay ---",
    ]
    # SASL-logged-in users too.
    hub.accounts.set_setting("dave", "replay", "off")
    late = IrcClient(hub, options)
    late.send("CAP LS 302", "CAP REQ sasl", "NICK dave2", "USER d 0 * :D", "AUTHENTICATE PLAIN")
    late.send("AUTHENTICATE " + base64.b64encode(b"\0dave\0secret-1").decode(), "CAP END")
    assert late.send("JOIN #room")[-1].endswith(" 366 dave2 #room :End of /NAMES list.")


def test_no_replay_when_configured_off(clock: Clock) -> None:
    hub, options, connect = make_world(history_replay=0)
    talk(hub, options, connect, clock)
    alice = connect("alice")
    assert alice.send("JOIN #room")[-1].endswith(" 366 alice #room :End of /NAMES list.")
