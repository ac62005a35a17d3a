"""Fan-out batches keep every member's order and leave out each sender's own lines."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubbub.core.fanout import Batch

from .irc_harness import make_world


def test_several_senders_in_one_turn_share_a_batch_but_never_get_their_own_lines() -> None:
    hub, _, connect = make_world()
    hub.fanout.small_room = 0  # batch even three members
    alice, bob, carol = connect("alice"), connect("bob"), connect("carol")
    for client in (alice, bob, carol):
        client.send("JOIN #b")
    for client in (alice, bob, carol):
        client.take()
    # One "turn": three messages, no flush in between.
    for client, text in ((alice, "a1"), (bob, "b1"), (alice, "a2")):
        client.session.data_received(f"PRIVMSG #b :{text}\r\n".encode())
    batches = [item for item in carol.link.out if isinstance(item, Batch)]
    assert len(batches) == 1 and len(batches[0].items) == 3  # one shared batch, three lines
    assert [line.rsplit(":", 1)[1] for line in carol.take()] == ["a1", "b1", "a2"]
    assert [line.rsplit(":", 1)[1] for line in alice.take()] == ["b1"]
    assert [line.rsplit(":", 1)[1] for line in bob.take()] == ["a1", "a2"]


def test_anything_queued_behind_a_batch_closes_it_so_order_is_kept() -> None:
    hub, _, connect = make_world()
    hub.fanout.small_room = 0
    alice, bob = connect("alice"), connect("bob")
    alice.send("JOIN #o")
    bob.send("JOIN #o")
    alice.take()
    bob.take()
    alice.session.data_received(b"PRIVMSG #o :first\r\n")
    alice.session.data_received(b"PRIVMSG bob :private\r\n")
    alice.session.data_received(b"PRIVMSG #o :second\r\n")
    lines = bob.take()
    assert [line.rsplit(":", 1)[1] for line in lines] == ["first", "private", "second"]


def test_a_batch_is_closed_once_written() -> None:
    batch = Batch(b"x\r\n")
    batch.items.append(b"y\r\n")
    assert batch.bytes_for(object()) == b"x\r\ny\r\n"
    assert batch.closed


def test_a_small_room_gets_direct_sends_in_order() -> None:
    _, _, connect = make_world()
    alice, bob = connect("alice"), connect("bob")
    for client in (alice, bob):
        client.send("JOIN #s")
    for client in (alice, bob):
        client.take()
    for text in ("one", "two"):
        alice.session.data_received(f"PRIVMSG #s :{text}\r\n".encode())
    assert not any(isinstance(item, Batch) for item in bob.link.out)
    assert [line.rsplit(":", 1)[1] for line in bob.take()] == ["one", "two"]
    assert alice.take() == []


# -- the groups kept in step with joins, parts and quits ---------------------------------------------------

_CAPS = ((), ("message-tags",))


@settings(max_examples=200, deadline=None)
# A member joins while the room's batch is open (it must get the later lines only), then one leaves without a
# reply closing that batch (it must get no later line).
@example(ops=[("join", 0), ("join", 2), ("say", 0), ("join", 4), ("say", 2), ("flush", 0)])
@example(ops=[("join", 0), ("join", 2), ("join", 4), ("say", 0), ("leave", 4), ("say", 2), ("flush", 0)])
@example(ops=[("join", 0), ("join", 2), ("say", 0), ("leave", 2), ("enter", 2), ("say", 0), ("flush", 0)])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["join", "enter", "part", "leave", "quit", "say", "say", "say", "flush"]),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_every_member_gets_each_room_line_once_through_joins_parts_and_quits(
    ops: list[tuple[str, int]],
) -> None:
    """Any mix of joins and parts (with or without replies to the one coming or leaving), quits and lines in
    one loop turn (or several: "flush" writes every queue): each client gets exactly the room's lines said
    while it was a member, in order, never its own, and is woken for them; the room's groups always hold
    exactly its members."""
    hub, _, connect = make_world(history_replay=0)  # a joiner's replay is not what is tested here
    hub.fanout.small_room = 0
    clients = [connect(f"u{i}", *_CAPS[i % len(_CAPS)]) for i in range(8)]
    woken: set[int] = set()
    hub.fanout.on_output = lambda mailboxes: woken.update(id(mailbox) for mailbox in mailboxes)
    gone: set[int] = set()
    inside: set[int] = set()
    expected: dict[int, list[str]] = {i: [] for i in range(8)}
    got: dict[int, list[str]] = {i: [] for i in range(8)}

    def collect(i: int) -> None:
        link = clients[i].link
        assert id(link) in woken or not any(isinstance(item, Batch) for item in link.out)
        for line in clients[i].take():
            if " PRIVMSG #g :" in line:
                got[i].append(line.rsplit(":", 1)[1])

    for i in range(8):
        clients[i].take()
    for n, (op, i) in enumerate(ops):
        if i in gone:
            continue
        client = clients[i]
        if op == "join" and i not in inside:
            client.session.data_received(b"JOIN #g\r\n")
            inside.add(i)
        elif op == "enter" and i not in inside:  # added by the core, nothing sent to it (as a cluster's join)
            user = client.session.user
            assert user is not None
            hub.join(user, "#g")
            inside.add(i)
        elif op == "part" and i in inside:
            client.session.data_received(b"PART #g\r\n")
            inside.discard(i)
        elif op == "leave" and i in inside:  # taken out by the core, nothing sent to it (as a cluster's part)
            user = client.session.user
            assert user is not None
            hub.part(user, hub.rooms["#g"])
            inside.discard(i)
        elif op == "quit":
            collect(i)
            client.session.connection_lost("gone")
            client.link.take()  # a closing connection writes what it holds: that must not upset the others
            gone.add(i)
            inside.discard(i)
        elif op == "say" and i in inside:
            client.session.data_received(f"PRIVMSG #g :m{n}\r\n".encode())
            for other in inside - {i}:
                expected[other].append(f"m{n}")
        elif op == "flush":
            for j in range(8):
                if j not in gone:
                    collect(j)
            woken.clear()
        room = hub.rooms.get("#g")
        if room is not None and room.groups is not None:
            grouped = {user for group in room.groups for user in group.users}
            assert grouped == set(room.members)
            for group in room.groups:
                assert group.outs == [user.out for user in group.users]
                assert all(group.position[user] == k for k, user in enumerate(group.users))
    for j in range(8):
        if j not in gone:
            collect(j)
    assert got == {j: expected[j] for j in range(8)}


def test_a_quit_reaches_everyone_sharing_any_of_its_rooms_once() -> None:
    hub, _, connect = make_world(history_replay=0)
    hub.fanout.small_room = 0
    quitter = connect("quitter")
    big = [connect(f"big{i}") for i in range(6)]
    small = [connect(f"small{i}", "message-tags") for i in range(2)]
    both = connect("both")
    quitter.send("JOIN #big,#small")
    for client in big:
        client.send("JOIN #big")
    for client in small:
        client.send("JOIN #small")
    both.send("JOIN #big,#small")
    outsider = connect("outsider")
    outsider.send("JOIN #elsewhere")
    for client in (quitter, *big, *small, both, outsider):
        client.take()
    quitter.session.connection_lost("bye now")
    for client in (*big, *small, both):
        quits = [line for line in client.take() if " QUIT " in line]
        assert len(quits) == 1 and quits[0].endswith(":quitter!~u@192.0.2.1 QUIT :Bye now"), quits
    assert outsider.take() == []
    assert {user.nick for user in hub.rooms["#big"].members} == {f"big{i}" for i in range(6)} | {"both"}
    assert {user.nick for user in hub.rooms["#small"].members} == {"small0", "small1", "both"}


@given(
    st.integers(1, 30),
    st.lists(st.integers(0, 29), max_size=5),
    st.integers(0, 30),
    st.one_of(st.none(), st.integers(0, 30)),
)
def test_a_members_part_of_a_batch_is_its_items_from_arrival_to_departure_without_its_own(
    size: int, skip: list[int], start: int, end: int | None
) -> None:
    batch = Batch(b"0,")
    for i in range(1, size):
        batch.items.append(f"{i},".encode())
    me = object()
    for index in skip:
        if index < size:
            batch.exclude(me, index)
    start = min(start, size)
    if start:
        batch.late = {me: start}
    if end is not None:
        end = min(max(end, start), size)
        batch.ends = {me: end}
    stop = size if end is None else end
    dropped = {index for index in skip if index < size}
    expected = b"".join(f"{i},".encode() for i in range(start, stop) if i not in dropped)
    assert batch.bytes_for(me) == expected
    assert batch.closed == (end is None)  # one that left does not close the batch for the others
    assert batch.bytes_for(object()) == b"".join(batch.items)
