"""Fan-out batches keep every member's order and leave out each sender's own lines."""

from __future__ import annotations

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
