"""The core alone: a Hub driven with in-memory doubles (a recording client, a mailbox queueing through
core.fanout.enqueue), no protocol."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import Event, Message, MessageKind, Presence
from hubbub.core.fanout import Batch, Queued, enqueue, flatten
from hubbub.core.hub import Hub, HubLimits
from hubbub.core.model import User
from hubbub.core.modes import ModeRequest
from hubbub.store import MemoryStore


class Box:
    """A mailbox: output queued as the connection queues it."""

    def __init__(self) -> None:
        self.out: list[Queued] = []

    def send(self, data: bytes) -> None:
        enqueue(self.out, data)

    def lines(self) -> list[str]:
        data = flatten(self.out, self) if self.out else b""
        self.out.clear()
        return data.decode().splitlines()


class Client:
    """Renders an event as its type and its main text; counts its renders."""

    def __init__(self, variant: Hashable = "v") -> None:
        self.variant = variant
        self.renders = 0
        self.gone = ""

    def render(self, event: Event) -> bytes | None:
        self.renders += 1
        if isinstance(event, Message) and event.kind is MessageKind.TAGS and self.variant == "notags":
            return None
        text = getattr(event, "text", "") or getattr(event, "nick", "") or ""
        if isinstance(event, Presence):
            text = f"{event.nick} {'on' if event.online else 'off'}"
        return f"{type(event).__name__} {event.user.nick} {text}".rstrip().encode() + b"\r\n"

    def disconnect(self, reason: str) -> None:
        self.gone = reason


def req(changes: list[tuple[str, str | None]]) -> ModeRequest:
    return ModeRequest(changes, [], [], [])


def connect(hub: Hub, nick: str, variant: Hashable = "v", **kw: str) -> tuple[User, Box]:
    box = Box()
    return hub.connect(Client(variant), box, nick=nick, host="example.org", **kw), box


def hub_with(*nicks: str, room: str = "", **limits: object) -> tuple[Hub, list[tuple[User, Box]]]:
    hub = Hub(HubLimits(**limits))  # type: ignore[arg-type]
    people = [connect(hub, nick) for nick in nicks]
    if room:
        for user, _ in people:
            hub.join(user, room)
        for _, box in people:
            box.lines()
    return hub, people


# -- users and nicknames ---------------------------------------------------------------------------------


def test_names_that_read_as_the_server_are_reserved() -> None:
    hub = Hub(HubLimits(server_name="chatbox"), MemoryStore())
    for name in ("Server", "server", "YOU", "hubbub", "Welcome", "Wallops", "ChatBox"):
        with pytest.raises(ChatError) as reserved:
            hub.nicks.check(name)
        assert reserved.value.reason is Reason.BAD_NICK and "reserved" in reserved.value.message
    assert hub.nicks.check("Servers") == "servers"


def test_nick_rules_and_guest_nicks() -> None:
    hub, ((alice, _),) = hub_with("alice")
    with pytest.raises(ChatError) as bad:
        hub.nicks.check("no spaces")
    assert bad.value.reason is Reason.BAD_NICK
    for taken in ("ALICE", "NickServ"):
        with pytest.raises(ChatError) as used:
            hub.nicks.check(taken)
        assert used.value.reason is Reason.NICK_IN_USE
    assert hub.nicks.check("Alice", current=alice) == "alice"
    hub.nicks.guests_from(7)
    connect(hub, "guest-7")
    guest = hub.connect(Client(), Box(), host="h")
    assert guest.nick == "guest-8"
    assert hub.require_user("GUEST-8") is guest
    with pytest.raises(ChatError):
        hub.require_user("nobody")


def test_rename_tells_neighbours_and_whowas_remembers() -> None:
    hub, ((alice, a), (bob, b)) = hub_with("alice", "bob", room="#r")
    assert hub.change_nick(alice, "alice") is None
    event = hub.change_nick(alice, "Alicia")
    assert event is not None and event.old == "alice"
    assert b.lines() == ["NickChange Alicia"] and a.lines() == []
    assert hub.find_user("alicia") is alice and hub.find_user("alice") is None
    hub.quit(bob, "bye")
    hub.quit(bob, "again")  # a second quit does nothing
    assert [e.nick for e in hub.whowas.find("ALICE")] == ["alice"]
    assert [e.nick for e in hub.whowas.find("bob", 1)] == ["bob"]
    assert a.lines() == ["Quit bob"]


def test_counters_follow_modes_opers_and_quits() -> None:
    hub, ((alice, _), (bob, _)) = hub_with("alice", "bob")
    assert hub.max_users == 2
    assert hub.set_user_modes(alice, [("+i", None), ("+o", None), ("+i", None)]) == [("+i", None)]
    assert hub.invisible == 1 and hub.opers == 0
    assert hub.make_oper(bob, "admin") == [("+o", None)]
    assert hub.make_oper(bob, "admin") == []
    assert hub.opers == 1
    assert hub.set_user_modes(bob, [("-o", None)]) == [("-o", None)]
    assert hub.opers == 0 and not bob.oper
    hub.make_oper(bob, "admin")
    hub.quit(alice, "")
    hub.quit(bob, "")
    assert (hub.opers, hub.invisible, hub.max_users) == (0, 0, 2)


def test_nick_protection_renames_unless_logged_in() -> None:
    store = MemoryStore()
    store.create_account("carol", "carol", "x", 0.0)
    hub = Hub(store=store)
    carol, box = connect(hub, "carol")
    assert "registered" in box.lines()[0]
    assert hub.timers.run() == 1
    assert carol.nick.startswith("guest-")
    # Renamed away, the nickname is held for its owner: only a user logged in to the account takes it.
    with pytest.raises(ChatError, match="held for its owner"):
        connect(hub, "Carol")
    dave, _ = connect(hub, "dave")
    with pytest.raises(ChatError, match="held for its owner"):
        hub.change_nick(dave, "CAROL")
    hub.log_in(dave, "carol")
    hub.change_nick(dave, "Carol")
    assert hub.timers.run() == 0  # logged in: no rename
    hub.log_out(dave)
    with pytest.raises(ChatError):
        hub.log_out(dave)
    hub.quit(dave, "")
    assert hub.timers.run() == 0  # quitting cancelled it too


def test_monitor_tells_watchers_of_arrivals_renames_and_quits() -> None:
    hub, ((alice, a),) = hub_with("alice")
    hub.monitor.watch(alice, ["Bob", "carol"])
    bob, _ = connect(hub, "bob")
    hub.change_nick(bob, "carol")
    hub.quit(bob, "")
    assert a.lines() == [
        "Presence bob bob on",
        "Presence carol bob off",
        "Presence carol carol on",
        "Presence carol carol off",
    ]
    assert sorted(hub.monitor.watched(alice)) == ["bob", "carol"]
    hub.monitor.unwatch(alice, ["bob", "nobody"])
    assert hub.monitor.watched(alice) == ["carol"]
    hub.quit(alice, "")
    assert hub.monitor.watchers == {}


def _monitor_consistent(hub: Hub) -> None:
    """The two views of the watches hold the same pairs, and neither keeps an empty entry."""
    pairs = {(key, user) for key, users in hub.monitor.watchers.items() for user in users}
    assert pairs == {(key, user) for user, keys in hub.monitor.watching.items() for key in keys}
    assert all(hub.monitor.watchers.values()) and all(hub.monitor.watching.values())


def test_monitor_keeps_per_user_watches_in_step_through_renames_clears_and_quits() -> None:
    hub, ((alice, a), (bob, b), (dave, _)) = hub_with("alice", "bob", "dave")
    hub.monitor.watch(alice, ["Zed", "carol", "bob"])
    hub.monitor.watch(bob, ["CAROL", "alice"])
    hub.monitor.watch(dave, ["zed"])
    _monitor_consistent(hub)
    assert hub.monitor.watched(alice) == ["zed", "carol", "bob"]
    # a watcher's own rename changes nothing it watches; the renamed nickname is announced to its watchers
    hub.change_nick(alice, "alicia")
    hub.change_nick(bob, "carol")
    _monitor_consistent(hub)
    assert hub.monitor.watched(alice) == ["zed", "carol", "bob"]
    assert hub.monitor.watched(bob) == ["carol", "alice"]
    assert a.lines() == ["Presence carol bob off", "Presence carol carol on"]
    assert b.lines() == ["Presence alicia alice off"]
    # MONITOR - of a key watched by another keeps theirs; of the last key drops the user's entry
    hub.monitor.unwatch(alice, ["CAROL", "nobody"])
    _monitor_consistent(hub)
    assert hub.monitor.watchers["carol"] == {bob}
    hub.monitor.unwatch(dave, ["zed"])
    assert dave not in hub.monitor.watching and hub.monitor.watchers["zed"] == {alice}
    # MONITOR C
    hub.monitor.unwatch_all(bob)
    _monitor_consistent(hub)
    assert bob not in hub.monitor.watching and "alice" not in hub.monitor.watchers
    hub.monitor.watch(bob, ["zed"])
    # a quit takes only the quitter's watches away
    hub.quit(alice, "")
    _monitor_consistent(hub)
    assert hub.monitor.watchers == {"zed": {bob}} and list(hub.monitor.watching) == [bob]
    hub.quit(bob, "")
    assert hub.monitor.watchers == {} and hub.monitor.watching == {}


# -- rooms -----------------------------------------------------------------------------------------------


def test_join_checks_bans_invites_keys_and_limits() -> None:
    hub, ((op, _), (bob, _)) = hub_with("op", "bob", room="#r", room_members=2)
    room = hub.require_room("#R")
    hub.part(bob, room)
    _, errors = hub.change_room_modes(op, room, req([("+b", "bob"), ("+i", None)]))
    assert not errors and room.lists["b"][0].mask == "bob!*@*"
    with pytest.raises(ChatError) as banned:
        hub.join(bob, "#r")
    assert banned.value.reason is Reason.BANNED
    hub.change_room_modes(op, room, req([("-b", "BOB")]))
    with pytest.raises(ChatError) as invite_only:
        hub.join(bob, "#r")
    assert invite_only.value.reason is Reason.INVITE_ONLY
    hub.change_room_modes(op, room, req([("-i", None), ("+k", "sesame"), ("+l", "1")]))
    with pytest.raises(ChatError) as full:
        hub.join(bob, "#r")
    assert full.value.reason is Reason.ROOM_FULL
    hub.change_room_modes(op, room, req([("-l", None)]))
    with pytest.raises(ChatError) as key:
        hub.join(bob, "#r", "wrong")
    assert key.value.reason is Reason.BAD_KEY
    hub.join(bob, "r", "sesame")
    hub.part(bob, room)
    hub.change_room_modes(op, room, req([("+b", "*!*@example.org"), ("+l", "1")]))
    hub.invite(op, "bob", "#r")
    hub.join(bob, "#r")  # an invitation overrides them all
    assert room.members[bob] == "" and room.key not in bob.invites
    third, _ = connect(hub, "third")
    hub.invite(op, "third", "#r")
    with pytest.raises(ChatError) as capped:
        hub.join(third, "#r")  # the server's own cap is no mode
    assert capped.value.reason is Reason.ROOM_FULL
    with pytest.raises(ChatError):
        hub.join(op, "#r")
    with pytest.raises(ChatError):
        hub.normalize_room("#no room")


def test_masks_and_keys_with_controls_or_format_characters_are_refused() -> None:
    hub, ((op, _), _) = hub_with("op", "bob", room="#r")
    room = hub.require_room("#r")
    bad = ["\x1b[2J!*@*", "a\u202e!*@*", "x\u200b@y", "\x9b2J"]
    changes: list[tuple[str, str | None]] = [("+b", mask) for mask in bad]
    changes += [("+k", "k\u200bey"), ("+k", "\x1b]52;c;eA==\x07")]
    event, errors = hub.change_room_modes(op, room, req(changes))
    assert event is None
    assert [e.reason for e in errors] == [Reason.INVALID_PARAM] * 6
    assert room.lists["b"] == [] and room.password == ""


def test_modes_lists_and_their_errors() -> None:
    hub, ((op, _), (bob, b)) = hub_with("op", "bob", room="#r", list_max=1)
    room = hub.require_room("#r")
    event, errors = hub.change_room_modes(
        op,
        room,
        req([("+o", "bob"), ("+v", "nobody"), ("+e", "x@y"), ("+e", "z"), ("+k", "bad key"), ("+l", "0")]),
    )
    assert event is not None and event.changes == (("+o", "bob"), ("+e", "*!x@y"))
    assert [e.reason for e in errors] == [Reason.NO_SUCH_NICK, Reason.LIST_FULL] + [Reason.INVALID_PARAM] * 2
    assert room.members[bob] == "o"
    assert b.lines() == ["ModeChange op"]
    assert hub.change_room_modes(op, room, req([])) == (None, [])
    assert hub.change_room_modes(op, room, req([("+o", "bob"), ("-k", None), ("+n", None)]))[0] is None
    outsider, _ = connect(hub, "outsider")
    assert hub.change_room_modes(outsider, room, req([("+m", None)]))[1][0].reason is Reason.NOT_IN_ROOM
    hub.join(outsider, "#r")
    with pytest.raises(ChatError):
        hub.kick(outsider, room, "op", "")
    _, errors = hub.change_room_modes(op, room, req([("-o", "outsider"), ("+v", "gone")]))
    hub.quit(outsider, "")
    _, errors = hub.change_room_modes(op, room, req([("+v", "op"), ("-v", "op"), ("+k", "k")]))
    assert room.password == "k"
    _, errors = hub.change_room_modes(op, room, req([("-k", None), ("-e", "x@y"), ("+t", None)]))
    assert not room.password and not room.lists["e"]


def test_topics_kicks_and_invites() -> None:
    hub, ((op, _o), (bob, b)) = hub_with("op", "bob", room="#r")
    room = hub.require_room("#r")
    with pytest.raises(ChatError) as not_op:
        hub.set_topic(bob, room, "mine")
    assert not_op.value.reason is Reason.CHANOP_NEEDED
    assert hub.set_topic(op, room, "news") is not None
    assert hub.set_topic(op, room, "news") is None
    assert b.lines() == ["Topic op"]
    with pytest.raises(ChatError) as already:
        hub.invite(op, "bob", "#r")
    assert already.value.reason is Reason.USER_IN_ROOM
    kick = hub.kick(op, room, "bob", "")
    assert kick.reason == "op" and bob not in room.members and b.lines() == ["Kick op"]
    with pytest.raises(ChatError) as absent:
        hub.kick(op, room, "bob", "again")
    assert absent.value.reason is Reason.USER_NOT_IN_ROOM
    hub.invite(op, "bob", "#r")
    assert b.lines() == ["Invite op"] and room.key in bob.invites
    hub.part(op, room, "bye")
    assert hub.find_room("#r") is None  # the last member left


def test_moderation_and_status_messages() -> None:
    hub, ((op, o), (bob, b), (carol, c)) = hub_with("op", "bob", "carol", room="#r")
    room = hub.require_room("#r")
    hub.change_room_modes(op, room, req([("+m", None), ("+v", "carol")]))
    for box in (o, b, c):
        box.lines()
    with pytest.raises(ChatError) as moderated:
        hub.say(bob, room, "hi")
    assert moderated.value.reason is Reason.CANNOT_SEND
    hub.say(carol, room, "voiced")
    hub.say(carol, room, "ops only", status="@")
    assert o.lines() == ["Message carol voiced", "Message carol ops only"]
    assert b.lines() == ["Message carol voiced"]
    outsider, _ = connect(hub, "outsider")
    with pytest.raises(ChatError):
        hub.say(outsider, room, "in")  # +n
    hub.change_room_modes(op, room, req([("-n", None), ("-m", None), ("+b", "outsider")]))
    with pytest.raises(ChatError):
        hub.say(outsider, room, "banned")
    hub.change_room_modes(op, room, req([("-b", "outsider")]))
    hub.say(outsider, room, "from outside")
    hub.private(bob, "carol", "psst")
    assert c.lines()[-2:] == ["Message outsider from outside", "Message bob psst"]
    with pytest.raises(ChatError):
        hub.private(bob, "nobody", "x")
    assert hub.messages_in == 4 and hub.history_writes == 3


# -- fan-out ---------------------------------------------------------------------------------------------


def test_fan_out_renders_once_per_variant_batches_a_turn_and_keeps_order() -> None:
    hub = Hub()
    people = [connect(hub, f"u{i}", variant=i % 2) for i in range(6)]
    for user, _ in people:
        hub.join(user, "#big")
    for _, box in people:
        box.lines()
    room = hub.require_room("#big")
    (alice, a), (bob, b) = people[0], people[1]
    renders = [user.client.renders for user, _ in people]  # type: ignore[attr-defined]
    hub.say(alice, room, "one")
    hub.private(bob, "u2", "aside")
    hub.say(bob, room, "two")
    hub.say(alice, room, "three")
    after = [user.client.renders for user, _ in people]  # type: ignore[attr-defined]
    assert sum(after) - sum(renders) == 2 * 3 + 1  # one render per variant and message, one private
    assert sum(isinstance(item, Batch) for item in people[2][1].out) == 2  # the private closed the first
    assert people[2][1].lines() == [
        "Message u0 one",
        "Message u1 aside",
        "Message u1 two",
        "Message u0 three",
    ]
    assert a.lines() == ["Message u1 two"] and b.lines() == ["Message u0 one", "Message u0 three"]
    assert hub.fanout.rendered(hub.say(alice, room, "echo"), 0) == b"Message u0 echo\r\n"
    assert hub.fanout.rendered(object(), 0) is None  # type: ignore[arg-type]
    woken: list[int] = []
    hub.on_output = lambda boxes: woken.append(len(boxes))
    assert hub.on_output is not None
    alice.client.variant = 1  # type: ignore[attr-defined]
    hub.fanout.variant_changed(alice)
    hub.say(bob, room, "regrouped")
    assert woken == [4, 2]  # u0 joined the odd group: four members and two


def test_small_rooms_send_directly_and_tags_skip_clients_without_them() -> None:
    hub = Hub()
    (alice, _), (bob, b) = connect(hub, "alice"), connect(hub, "bob", variant="notags")
    hub.join(alice, "#s")
    hub.join(bob, "#s")
    b.lines()
    room = hub.require_room("#s")
    hub.say(alice, room, "", MessageKind.TAGS)
    hub.say(alice, room, "text")
    assert b.lines() == ["Message alice text"]


def test_away_realname_wallops_and_kill() -> None:
    hub, ((op, o), (bob, b)) = hub_with("op", "bob", room="#r")
    hub.set_away(bob, "lunch")
    hub.set_away(bob, "lunch")
    hub.set_realname(bob, "Bob B")
    assert o.lines() == ["Away bob", "Realname bob"]
    hub.set_user_modes(bob, [("+w", None)])
    with pytest.raises(ChatError):
        hub.wallops(bob, "no")
    hub.make_oper(op, "admin")
    hub.wallops(op, "all")
    assert b.lines() == ["Wallops op all"]
    with pytest.raises(ChatError):
        hub.kill(bob, "op", "no")
    hub.kill(op, "bob", "out")
    assert bob.client.gone == "Killed by op (out)"  # type: ignore[attr-defined]
    hub.part(bob, hub.require_room("#r"))
    hub.join(bob, "#r")
    assert o.lines()[-2:] == ["Join bob", "Away bob"]  # a newcomer's away message follows its join


def test_registered_rooms_outlive_their_members_and_restarts() -> None:
    store = MemoryStore()
    hub = Hub(store=store)
    op, _ = connect(hub, "op")
    hub.join(op, "#reg")
    room = hub.require_room("#reg")
    with pytest.raises(ChatError) as anonymous:
        hub.register_room(op, room)
    assert anonymous.value.reason is Reason.NOT_LOGGED_IN
    hub.log_in(op, "op")
    hub.register_room(op, room)
    with pytest.raises(ChatError):
        hub.register_room(op, room)
    hub.set_topic(op, room, "kept")
    hub.change_room_modes(op, room, req([("+b", "x"), ("+k", "key"), ("+l", "5")]))
    hub.part(op, room)
    assert hub.find_room("#reg") is room
    again = Hub(store=store).require_room("#reg")
    assert (again.topic, again.password, again.limit, again.founder) == ("kept", "key", 5, "op")
    other, _ = connect(hub, "other")
    with pytest.raises(ChatError) as not_founder:
        hub.unregister_room(other, room)
    assert not_founder.value.reason is Reason.NOT_FOUNDER
    hub.unregister_room(op, room)
    assert hub.find_room("#reg") is None and not store.load_rooms()
    hub.join(op, "#reg")
    with pytest.raises(ChatError):
        hub.unregister_room(op, hub.require_room("#reg"))


def test_history_conversation_keys() -> None:
    store = MemoryStore()
    store.create_account("acct", "acct", "x", 0.0)
    hub = Hub(store=store)
    alice, _ = connect(hub, "alice")
    hub.join(alice, "#r")
    assert hub.conversation(alice, "#R") == ("#r", "#r")
    bob, _ = connect(hub, "bob")
    with pytest.raises(ChatError):
        hub.conversation(bob, "#r")
    with pytest.raises(ChatError):
        hub.conversation(bob, "bad nick")
    # Users not logged in are their sessions (never their nicknames, which others may hold next).
    me, them = f"g:{alice.id}.{alice.signon!r}", f"g:{bob.id}.{bob.signon!r}"
    assert hub.conversation(alice, "BOB") == (" ".join(sorted((me, them))), "bob")
    assert hub.conversation(alice, "acct") == (f"a:acct {me}", "acct")
    assert hub.conversation(alice, "gone") == (f"{me} n:gone", "gone")
    hub.quit(bob, "bye")
    assert hub.conversation(alice, "bob")[0] == " ".join(sorted((me, them)))  # the bob who left (WHOWAS)
    connect(hub, "bob")
    assert hub.conversation(alice, "bob")[0] != " ".join(sorted((me, them)))  # the next bob is another


# -- the replica: other nodes' changes -------------------------------------------------------------------


def remote(hub: Hub, nick: str, node: str = "n2") -> User:
    user = User(
        9000 + len(hub.users),
        nick,
        f"\x00{node}:{nick}",
        Client("remote"),
        Box(),
        username="r",
        host="far",
        realname=nick,
    )
    user.node = node
    hub.replica.add_user(user)
    hub.replica.rekey_user(user, nick.lower())
    return user


def test_remote_users_join_part_kick_and_rename_through_the_replica() -> None:
    hub, ((alice, a),) = hub_with("alice", room="#r")
    hub.monitor.watch(alice, ["zed"])
    zed = remote(hub, "zed")
    hub.replica.came_online(zed)
    assert a.lines() == ["Presence zed zed on"] and hub.max_users == 2
    room = hub.replica.apply_join(zed, "#r", "o")
    assert hub.replica.apply_join(zed, "#R", "") is room and room.members[zed] == "o" and room.remote == 1
    hub.replica.apply_status(zed, room, "v")
    assert room.members[zed] == "v"
    hub.replica.apply_topic(room, "far news", "zed!r@far", 5.0, zed)
    hub.replica.apply_topic(room, "quiet", "zed!r@far", 6.0)
    hub.replica.apply_room_modes(room, flags="nm", password="", limit=0, lists=room.lists, founder="")
    hub.replica.announce_room_modes(zed, room, (("+m", None),), [(alice, "o")])
    hub.replica.apply_room_message(Message(zed, 1.0, room, "hi", MessageKind.SAY, "m1", "zed"), room)
    hub.replica.apply_room_message(
        Message(zed, 1.0, room, "ops", MessageKind.SAY, "m2", "zed", None, "@"), room
    )
    hub.replica.apply_private(Message(zed, 1.0, alice, "psst", MessageKind.SAY, "m3", "zed"), alice)
    hub.replica.apply_invite(zed, alice, "#Elsewhere")
    assert a.lines() == [
        "Join zed",
        "Topic zed",
        "ModeChange zed",
        "Message zed hi",
        "Message zed ops",
        "Message zed psst",
        "Invite zed",
    ]
    assert room.flags == {"n", "m"} and room.topic == "quiet" and "#elsewhere" in alice.invites
    hub.replica.rekey_user(zed, "zoe")
    hub.replica.apply_nick(zed, "zoe")
    hub.replica.apply_nick(zed, "zoe")
    hub.replica.apply_account(zed, "zacct")
    hub.replica.apply_account(zed, "zacct")
    hub.replica.apply_away(zed, "afk")
    hub.replica.apply_realname(zed, "Zoe")
    hub.replica.apply_profile(zed, "z", "near", "Zoe Z")
    assert a.lines() == [
        "NickChange zoe",
        "Presence zoe zed off",
        "AccountChange zoe",
        "Away zoe",
        "Realname zoe",
    ]
    assert hub.find_user("zoe") is zed and hub.find_user("zed") is None and zed.host == "near"
    hub.replica.apply_kick(zed, room, alice, "out")
    hub.replica.apply_kick(zed, room, alice, "twice")
    assert alice not in room.members and a.lines() == ["Kick zoe"]
    hub.join(alice, "#r")
    hub.replica.apply_part(zed, room, "bye")
    hub.replica.apply_part(zed, room, "twice")
    assert room.remote == 0 and a.lines() == ["Part zoe"]


def test_remote_user_modes_keep_the_counters_right() -> None:
    hub, ((alice, a),) = hub_with("alice")
    hub.set_user_modes(alice, [("+w", None)])
    zed = remote(hub, "zed")
    hub.replica.apply_user_modes(zed, "io", "admin")
    assert (hub.invisible, hub.opers) == (1, 1)
    hub.replica.apply_user_modes(zed, "i", "admin")
    hub.replica.apply_wallops(zed, "from afar")
    assert a.lines() == ["Wallops zed from afar"]
    hub.replica.remove_user(zed, "gone")
    assert (hub.invisible, hub.opers, len(hub.users)) == (0, 0, 1)
    parked = remote(hub, "pat")
    hub.replica.rekey_user(parked, "\x00n2:pat")
    hub.replica.remove_user(parked, "gone")
    assert list(hub.users) == ["alice"]


def test_rooms_registered_or_dropped_elsewhere() -> None:
    store = MemoryStore()
    hub = Hub(store=store)
    alice, _ = connect(hub, "alice")
    other = Hub(store=MemoryStore())
    op, _ = connect(other, "op")
    other.log_in(op, "op")
    other.join(op, "#reg")
    other.register_room(op, other.require_room("#reg"))
    (record,) = other.store.load_rooms()
    hub.replica.restore_room(record)
    assert hub.require_room("#reg").founder == "op"
    hub.join(alice, "#reg")
    hub.replica.restore_room(record._replace(founder="someone") if hasattr(record, "_replace") else record)
    hub.replica.drop_room("#reg")
    assert hub.require_room("#reg").founder == "" and alice in hub.require_room("#reg").members
    hub.part(alice, hub.require_room("#reg"))
    assert hub.find_room("#reg") is None
    hub.replica.restore_room(record)
    hub.replica.drop_room("#reg")
    hub.replica.drop_room("#nothing")
    assert hub.find_room("#reg") is None


def test_ctcp_but_action_is_delivered_but_never_kept() -> None:
    store = MemoryStore()
    hub = Hub(store=store)
    (alice, _), (bob, bob_box) = connect(hub, "alice"), connect(hub, "bob")
    hub.join(alice, "#r")
    hub.join(bob, "#r")
    bob_box.lines()
    hub.say(alice, hub.rooms["#r"], "\x01VERSION\x01")
    hub.private(alice, "bob", "\x01TIME\x01")
    hub.say(alice, hub.rooms["#r"], "waves", MessageKind.ACTION)
    hub.private(alice, "bob", "hi")
    assert len(bob_box.lines()) == 4  # all delivered
    assert [m.text for m in store.latest("#r", 10)] == ["waves"]
    kept = [m.text for key in store._conversations for m in store.latest(key, 10) if key != "#r"]
    assert kept == ["hi"]
