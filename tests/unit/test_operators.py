"""Server operators in memory: OPER (clear and hashed passwords), KILL, WALLOPS, KLINE/UNKLINE/STATS k,
REHASH over IRC, and the plain-text commands (/oper, /kick, /ban, /unban, /kill, /kline, /unkline,
/wallops). Password checks run inline unless a test defers them; K-line expiry uses a clock the test moves."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubbub.core.errors import ChatError
from hubbub.core.hub import Hub
from hubbub.core.klines import canonical_mask, format_duration, parse_duration, shown_reason
from hubbub.protocols.irc import IrcOptions
from hubbub.protocols.plain import PlainOptions, PlainSession
from hubbub.store import KLineRecord, MemoryStore
from hubbub.store.passwords import hash_password
from hubbub.store.sqlite import SqliteStore

from .irc_harness import IrcClient, MemoryLink

OPER_PASSWORD = "letmein-please"
HASHED: list[str] = []


def hashed() -> str:
    if not HASHED:
        HASHED.append(hash_password(OPER_PASSWORD))
    return HASHED[0]


class Deferred:
    """A run_blocking that keeps the jobs until ``finish()``, as a worker thread answers later."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def __call__(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.jobs.append((job, done))

    def finish(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job, done in jobs:
            done(job())


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class World:
    def __init__(self, store: Any = None) -> None:
        self.hub = Hub(store=store)
        self.clock = Clock()
        self.hub.klines.now = self.clock
        opers = {"admin": OPER_PASSWORD, "hashed": hashed()}
        self.irc_options = IrcOptions(server_name="irc.test", network="TestNet", opers=opers)
        self.plain_options = PlainOptions(opers=self.irc_options.opers)

    def irc(self, nick: str, host: str = "192.0.2.1") -> IrcClient:
        client = IrcClient(self.hub, self.irc_options, host)
        client.register(nick)
        return client

    def irc_oper(self, nick: str = "op", host: str = "192.0.2.99") -> IrcClient:
        client = self.irc(nick, host)
        assert " 381 " in " ".join(client.send(f"OPER admin {OPER_PASSWORD}"))
        return client

    def plain(self, nick: str, host: str = "198.51.100.7") -> Plain:
        return Plain(self, nick, host)


class Plain:
    def __init__(self, world: World, nick: str | None, host: str) -> None:
        self.link = MemoryLink(host)
        self.session = PlainSession(self.link, world.hub, world.plain_options)
        self.session.start()
        if nick is not None:
            assert self.send(f"/nick {nick}") == [f"* You are now known as {nick}"]
            self.link.take()

    def send(self, *lines: str) -> list[str]:
        self.link.take()
        self.session.data_received("".join(line + "\n" for line in lines).encode())
        return self.link.take()

    def take(self) -> list[str]:
        return self.link.take()


@pytest.fixture
def world() -> World:
    return World()


def joined(*clients: IrcClient, room: str = "#chat") -> None:
    for client in clients:
        client.send(f"JOIN {room}")
    for client in clients:
        client.take()


# -- durations and masks ------------------------------------------------------------------------------------


def test_durations() -> None:
    assert parse_duration("10") == 600.0  # minutes, as ratbox
    assert parse_duration("0") == 0.0
    assert parse_duration("90s") == 90.0
    assert parse_duration("2h") == 7200.0
    assert parse_duration("1d12h") == 36 * 3600.0
    assert parse_duration("1W") == 7 * 86400.0
    for text in ("", "*@host", "10x", "h1", "1.5", "-5", "\uff11\uff10", "1234567890"):
        assert parse_duration(text) is None, text
    with pytest.raises(ChatError):
        parse_duration("999999999d")
    assert format_duration(45) == "45s"
    assert format_duration(600) == "10m"
    assert format_duration(599.5) == "10m"
    assert format_duration(90061) == "1d1h2m"


def test_masks() -> None:
    assert canonical_mask("*@203.0.113.*") == "*@203.0.113.*"
    assert canonical_mask("203.0.113.5") == "*@203.0.113.5"
    assert canonical_mask("bad!*@*") == "bad!*@*"
    assert canonical_mask("*!~x@host") == "~x@host"
    assert canonical_mask("nick!") == "nick!*@*"
    assert canonical_mask("user@") == "user@*"
    for bad in ("", "a b", "a@b@c", "u@h!x", "a,b", "x" * 301, "a\x00b"):
        with pytest.raises(ChatError):
            canonical_mask(bad)
    assert shown_reason("spam | seen in #help") == "spam"
    assert shown_reason(" | only for opers") == "No reason given"


# -- OPER ---------------------------------------------------------------------------------------------------


def test_oper_with_a_clear_text_password(world: World, caplog: pytest.LogCaptureFixture) -> None:
    alice = world.irc("alice")
    with caplog.at_level(logging.INFO, logger="hubbub.oper"):
        assert " 464 " in alice.send("OPER admin wrong-password")[0]
        assert " 464 " in alice.send("OPER nobody whatever")[0]
        out = alice.send(f"OPER admin {OPER_PASSWORD}")
    assert out == [":irc.test 381 alice :You are now an IRC operator", ":alice MODE alice :+o"]
    assert world.hub.opers == 1
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "wrong password from alice!~u@192.0.2.1 for operator admin" in text
    assert "unknown operator 'nobody'" in text
    assert "alice!~u@192.0.2.1 is now operator admin" in text
    assert OPER_PASSWORD not in text and "wrong-password" not in text and "whatever" not in text


def test_oper_with_a_hashed_password_is_checked_off_the_loop(world: World) -> None:
    deferred = Deferred()
    world.hub.run_blocking = deferred
    alice = world.irc("alice")
    assert alice.send(f"OPER hashed {OPER_PASSWORD}") == []
    assert alice.send("OPER hashed again") == [
        ":irc.test FAIL OPER IN_PROGRESS :Another password check is in progress"
    ]
    deferred.finish()
    assert alice.take() == [":irc.test 381 alice :You are now an IRC operator", ":alice MODE alice :+o"]
    bob = world.irc("bob")
    bob.send("OPER hashed not-the-password")
    deferred.finish()
    assert " 464 " in bob.take()[0]


def test_an_oper_answer_after_the_client_left_is_dropped(world: World) -> None:
    deferred = Deferred()
    world.hub.run_blocking = deferred
    alice = world.irc("alice")
    alice.send(f"OPER hashed {OPER_PASSWORD}")
    alice.send("QUIT :bye")
    alice.session.connection_lost("gone")
    deferred.finish()  # nothing to tell, nobody made operator
    assert world.hub.opers == 0
    assert alice.take() == []
    plain = world.plain("carol")
    plain.send(f"/oper hashed {OPER_PASSWORD}")
    assert plain.send(f"/oper hashed {OPER_PASSWORD}") == [
        "! Wait: your last password is still being checked"
    ]
    plain.send("/quit")
    plain.session.connection_lost("gone")
    deferred.finish()
    assert world.hub.opers == 0


# -- KILL and WALLOPS ---------------------------------------------------------------------------------------


def test_kill_tells_a_plain_text_target_why(world: World) -> None:
    op = world.irc_oper()
    victim = world.plain("victim")
    watcher = world.plain("watcher")
    victim.take()
    op.send("KILL victim :enough")
    assert victim.take() == ["! You were disconnected (Killed by op (enough))"]
    assert victim.link.closed == "Killed by op (enough)"
    assert watcher.take() == ["* victim left (Killed by op (enough))"]
    assert " 401 " in op.send("KILL nobody :x")[0]
    assert " 481 " in world.irc("alice").send("KILL op")[0]


def test_wallops_reach_plain_text_operators(world: World) -> None:
    op = world.irc_oper()
    op.send("MODE op +w")
    plain_op = world.plain("pop")
    assert plain_op.send(f"/oper admin {OPER_PASSWORD}") == [
        "* You are now a server operator (admin). /help lists the operator commands"
    ]
    bystander = world.plain("bystander")
    assert plain_op.send("/wallops hello opers") == ["* Wallops from pop: hello opers"]
    assert op.take() == [":pop!plain@198.51.100.7 WALLOPS :hello opers"]
    assert bystander.take() == []
    assert bystander.send("/wallops hi") == ["! You are not a server operator: /oper NAME PASSWORD first"]
    assert " 481 " in world.irc("alice").send("WALLOPS :hi")[0]


# -- K-lines over IRC ---------------------------------------------------------------------------------------


def test_a_kline_disconnects_matching_users_and_is_stored(world: World) -> None:
    op = world.irc_oper()
    spammer = world.irc("spammer", "203.0.113.5")
    other = world.irc("other", "203.0.113.77")
    safe = world.irc("safe", "198.51.100.1")
    watcher = world.plain("watcher")
    joined(op, spammer, other, safe)
    watcher.send("/join #chat")
    for client in (spammer, other, safe):
        client.take()
    out = op.send("KLINE 10 *@203.0.113.* :spamming | seen in #chat")
    assert out == [
        ":spammer!~u@203.0.113.5 QUIT :K-Lined",
        ":other!~u@203.0.113.77 QUIT :K-Lined",
        ":irc.test NOTICE op :op added a K-line for 10m on *@203.0.113.*: spamming | seen in #chat"
        " (disconnected: spammer, other)",
    ]
    assert spammer.take() == ["ERROR :Closing Link: 203.0.113.5 (K-Lined: spamming)"]
    assert spammer.link.closed == "K-Lined: spamming"
    assert other.link.closed == "K-Lined: spamming"
    assert safe.take() == [
        ":spammer!~u@203.0.113.5 QUIT :K-Lined",
        ":other!~u@203.0.113.77 QUIT :K-Lined",
    ]
    assert watcher.take() == ["* spammer left (K-Lined)", "* other left (K-Lined)"]
    assert set(world.hub.users) == {"op", "safe", "watcher"}
    assert world.hub.store.load_klines() == [
        KLineRecord("*@203.0.113.*", "spamming | seen in #chat", "op", world.clock.now, world.clock.now + 600)
    ]


def test_a_klined_client_is_refused_at_registration(world: World) -> None:
    op = world.irc_oper()
    op.send("KLINE *@203.0.113.* :go away")
    assert world.hub.store.load_klines()[0].expires is None  # no duration: permanent
    before = world.hub.unregistered
    client = IrcClient(world.hub, world.irc_options, "203.0.113.9")
    out = client.send("NICK late", "USER u 0 * :Late")
    assert out == [
        ":irc.test 465 late :You are banned from this server (go away)",
        "ERROR :Closing Link: 203.0.113.9 (K-Lined: go away)",
    ]
    assert client.link.closed == "K-Lined"
    assert "late" not in world.hub.users
    assert world.hub.unregistered == before
    plain = Plain(world, None, "203.0.113.10")
    assert plain.take() == ["! You are banned from this server (go away)"]
    assert plain.link.closed == "K-Lined"
    assert plain.session.user is None
    plain.session.data_received(b"/nick x\nhello\n")  # ignored: it was never let in
    plain.session.eof_received()
    assert plain.take() == []
    world.irc("fine", "198.51.100.2")


def test_kline_by_user_and_nick_masks(world: World) -> None:
    op = world.irc_oper()
    alice = world.irc("alice", "192.0.2.50")
    plain = world.plain("pl", "192.0.2.60")
    op.send("KLINE 1h ~u@192.0.2.50 :by user@host")
    assert alice.link.closed == "K-Lined: by user@host"
    assert plain.link.closed is None  # plain-text users have user "plain"
    op.send("KLINE 5 pl!*@* :by nick")
    assert plain.take() == ["! You were disconnected (K-Lined: by nick)"]
    again = IrcClient(world.hub, world.irc_options, "10.0.0.1")
    assert " 465 pl " in again.send("NICK pl", "USER x 0 * :x")[0]
    ok = IrcClient(world.hub, world.irc_options, "10.0.0.1")
    assert " 001 " in ok.send("NICK notpl", "USER x 0 * :x")[0]


def test_kline_by_nickname_bans_their_host(world: World) -> None:
    op = world.irc_oper()
    world.irc("target", "203.0.113.40")
    op.send("KLINE 30 target :the nickname stands for its host")
    assert [r.mask for r in world.hub.klines.records()] == ["*@203.0.113.40"]


def test_kline_refuses_a_mask_matching_the_operator_unless_myself(world: World) -> None:
    op = world.irc_oper(host="192.0.2.99")
    assert op.send("KLINE *@192.0.2.* :everyone") == [
        ":irc.test NOTICE op :The K-line *@192.0.2.* would match you (op!~u@192.0.2.99);"
        " choose a narrower mask"
    ]
    assert op.send("KLINE 10")[0].startswith(":irc.test 461 op KLINE ")
    assert op.send("KLINE bad@@mask :x") == [":irc.test NOTICE op :Invalid K-line mask: 'bad@@mask'"]
    bystander = world.irc("bystander", "192.0.2.5")
    out = op.send("KLINE ANDKILL MYSELF 1 *@192.0.2.* ON irc.test :everyone but me")
    assert out[0].startswith(":irc.test NOTICE op :op added a K-line for 1m on *@192.0.2.*: everyone but me")
    assert bystander.link.closed is not None
    assert op.link.closed is None


def test_kline_keywords_repeated(world: World) -> None:
    """Regression (found by fuzz_irc_session): a second MYSELF looped forever."""
    op = world.irc_oper(host="192.0.2.99")
    out = op.send("KLINE MYSELF MYSELF ANDKILL myself 5 *@192.0.2.* :x")
    assert out == [":irc.test NOTICE op :op added a K-line for 5m on *@192.0.2.*: x"]
    assert op.send("KLINE MYSELF ANDKILL") == [":irc.test 461 op KLINE :Not enough parameters"]
    assert op.send("KLINE 99999999w *@x :too long") == [
        ":irc.test NOTICE op :A K-line lasts at most 3650 days"
    ]
    assert op.send("KLINE LIST")[0] == ":irc.test NOTICE op :There is 1 K-line"


def test_non_operators_cannot_use_kline_unkline_stats_k_or_rehash(world: World) -> None:
    alice = world.irc("alice")
    for command in ("KLINE 10 *@x :r", "KLINE LIST", "UNKLINE *@x", "STATS k", "REHASH"):
        assert alice.send(command) == [
            ":irc.test 481 alice :Permission Denied- You're not an IRC operator"
        ], command


def test_kline_list_stats_k_and_unkline(world: World) -> None:
    op = world.irc_oper()
    op.send("KLINE 10 *@203.0.113.* :spam | note")
    world.clock.now += 60
    op.send("KLINE bad!*@* :flood")
    world.clock.now += 60
    assert op.send("KLINE LIST") == [
        ":irc.test NOTICE op :There are 2 K-lines",
        ":irc.test NOTICE op :*@203.0.113.* (set by op 2m ago, expires in 8m): spam | note",
        ":irc.test NOTICE op :bad!*@* (set by op 1m ago, permanent): flood",
    ]
    assert op.send("STATS k") == [
        ":irc.test 216 op K 203.0.113.* * * :spam",
        ":irc.test 216 op K * * bad!* :flood",
        ":irc.test 219 op k :End of /STATS report",
    ]
    assert op.send("UNKLINE *@203.0.113.*") == [":irc.test NOTICE op :op removed the K-line on *@203.0.113.*"]
    assert op.send("UNKLINE *@203.0.113.*") == [":irc.test NOTICE op :There is no K-line on *@203.0.113.*"]
    assert op.send("UNKLINE BAD!*@*") == [":irc.test NOTICE op :op removed the K-line on bad!*@*"]
    assert world.hub.store.load_klines() == []
    world.irc("back", "203.0.113.5")
    assert op.send("STATS x") == [":irc.test 219 op x :End of /STATS report"]
    assert op.send("STATS u")[0].startswith(":irc.test 242 op :Server Up 0 days ")


def test_other_operators_are_told_of_klines(world: World) -> None:
    op = world.irc_oper()
    other = world.irc_oper("op2", "192.0.2.98")
    plain_op = world.plain("pop")
    plain_op.send(f"/oper admin {OPER_PASSWORD}")
    op.send("KLINE 5 *@203.0.113.1 :r")
    assert other.take() == [":irc.test NOTICE op2 :op added a K-line for 5m on *@203.0.113.1: r"]
    assert plain_op.take() == ["* op added a K-line for 5m on *@203.0.113.1: r"]


def test_expired_klines_are_ignored_and_pruned(world: World) -> None:
    op = world.irc_oper()
    op.send("KLINE 10 *@203.0.113.* :ten minutes")
    refused = IrcClient(world.hub, world.irc_options, "203.0.113.5")
    assert " 465 " in refused.send("NICK a", "USER a 0 * :a")[0]
    world.clock.now += 601
    ok = IrcClient(world.hub, world.irc_options, "203.0.113.5")
    assert " 001 " in ok.send("NICK a", "USER a 0 * :a")[0]
    assert world.hub.store.load_klines() == []
    assert op.send("KLINE LIST") == [":irc.test NOTICE op :There are 0 K-lines"]


def test_a_kline_on_the_same_mask_replaces_the_old_one(world: World) -> None:
    op = world.irc_oper()
    op.send("KLINE 10 *@Host.Example :first")
    op.send("KLINE *@host.example :second")
    assert world.hub.store.load_klines() == [
        KLineRecord("*@host.example", "second", "op", world.clock.now, None)
    ]


def test_klines_persist_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    first = World(SqliteStore(path))
    op = first.irc_oper()
    op.send("KLINE 10 *@203.0.113.* :temporary")
    op.send("KLINE *@198.51.100.* :permanent")
    first.hub.store.close()

    second = World(SqliteStore(path))
    try:
        assert sorted(r.mask for r in second.hub.klines.records()) == ["*@198.51.100.*", "*@203.0.113.*"]
        refused = IrcClient(second.hub, second.irc_options, "198.51.100.3")
        assert " 465 " in refused.send("NICK a", "USER a 0 * :a")[0]
    finally:
        second.hub.store.close()

    # An expired K-line is pruned when loaded.
    store = SqliteStore(path)
    try:
        store.add_kline("*@old", "expired", "op", 1.0, 2.0)
        hub = Hub(store=store)
        assert sorted(r.mask for r in hub.klines.records()) == ["*@198.51.100.*", "*@203.0.113.*"]
        assert [r.mask for r in store.load_klines()] == ["*@198.51.100.*", "*@203.0.113.*"]
    finally:
        store.close()


def test_too_many_klines_are_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hubbub.core.klines.MAX_KLINES", 2)
    op = world.irc_oper()
    op.send("KLINE *@a.example :1")
    op.send("KLINE *@b.example :2")
    assert op.send("KLINE *@c.example :3") == [":irc.test NOTICE op :There are 2 K-lines already"]
    assert op.send("KLINE *@a.example :replaced")[0].startswith(":irc.test NOTICE op :op added")


# -- REHASH -------------------------------------------------------------------------------------------------


def test_rehash(world: World) -> None:
    op = world.irc_oper()
    assert op.send("REHASH") == [
        ":irc.test NOTICE op :REHASH failed: this server has no configuration file to reload"
    ]
    world.hub.rehash = lambda: (True, "configuration reloaded: changed motd")
    assert op.send("REHASH") == [
        ":irc.test 382 op config :Rehashing",
        ":irc.test NOTICE op :configuration reloaded: changed motd",
    ]


# -- plain text ---------------------------------------------------------------------------------------------


def test_plain_help_lists_the_operator_commands(world: World) -> None:
    text = "\n".join(world.plain("a").send("/help"))
    for command in ("/oper", "/kick", "/ban", "/unban", "/kill", "/kline", "/unkline", "/wallops"):
        assert command in text


def test_plain_oper(world: World) -> None:
    alice = world.plain("alice")
    assert alice.send("/oper") == ["! Usage: /oper NAME PASSWORD"]
    assert alice.send("/oper admin wrong") == ["! OPER failed: wrong name or password"]
    assert alice.send("/oper nobody wrong") == ["! OPER failed: wrong name or password"]
    assert alice.send(f"/oper hashed {OPER_PASSWORD}") == [
        "* You are now a server operator (hashed). /help lists the operator commands"
    ]
    assert alice.send(f"/oper admin {OPER_PASSWORD}") == ["! You are already operator hashed"]
    assert world.hub.opers == 1


def test_plain_kick_and_bans(world: World) -> None:
    op = world.plain("chief")  # first in #lobby: its operator
    bob = world.plain("bob", "203.0.113.8")
    carol = world.plain("carol")
    op.take()
    assert bob.send("/kick carol") == ["! You are not an operator of #lobby"]
    assert op.send("/kick") == ["! Usage: /kick NICK [reason]"]
    assert op.send("/kick nobody") == ["! No such nickname: nobody"]
    assert op.send("/kick bob behave") == ["* You kicked bob from #lobby (behave)"]
    assert bob.take() == ["* You were kicked from #lobby by chief (behave)"]
    assert carol.take() == ["* bob was kicked from #lobby by chief (behave)"]
    assert bob.send("hello?") == ["! You are not in a room: /join #room first"]
    assert op.send("/ban") == ["* Nobody is banned from #lobby"]
    assert op.send("/ban *!*@203.0.113.*") == ["* Banned *!*@203.0.113.* on #lobby"]
    assert carol.take() == ["* chief banned *!*@203.0.113.* from #lobby"]
    assert op.send("/ban *!*@203.0.113.*") == ["! *!*@203.0.113.* is already banned on #lobby"]
    assert op.send("/ban dave") == ["* Banned dave!*@* on #lobby"]
    assert bob.send("/join #lobby") == ["! You are banned from #lobby"]
    assert op.send("/ban") == [
        "* 2 bans on #lobby:",
        "*   *!*@203.0.113.* (set by chief)",
        "*   dave!*@* (set by chief)",
    ]
    assert carol.send("/ban x") == ["! You are not an operator of #lobby"]
    assert op.send("/unban") == ["! Usage: /unban MASK"]
    assert op.send("/unban *!*@203.0.113.*") == ["* Unbanned *!*@203.0.113.* on #lobby"]
    assert op.send("/unban *!*@203.0.113.*") == ["! *!*@203.0.113.* is not banned on #lobby"]
    assert bob.send("/join #lobby")[0].startswith("* You are in #lobby")
    op.send("/part")
    assert op.send("/kick bob") == ["! You are not in a room: /join #room first"]


def test_plain_kill_kline_unkline(world: World) -> None:
    op = world.plain("chief", "192.0.2.99")
    victim = world.plain("victim", "203.0.113.8")
    irc_victim = world.irc("ircv", "203.0.113.9")
    irc_victim.send("JOIN #lobby")
    watcher = world.plain("watcher")
    victim.take()
    irc_victim.take()
    for command in ("/kill victim", "/kline *@x", "/unkline *@x", "/kline"):
        assert op.send(command) == ["! You are not a server operator: /oper NAME PASSWORD first"], command
    op.send(f"/oper admin {OPER_PASSWORD}")
    watcher.take()
    assert op.send("/kill") == ["! Usage: /kill NICK [reason]"]
    assert op.send("/kline") == ["* There are no K-lines. Usage: /kline [TIME] MASK [reason]"]
    assert op.send("/kline 2h") == ["! Usage: /kline [TIME] MASK [reason]"]
    assert op.send("/kline 2h *@203.0.113.* spam bots") == [
        "* victim left (K-Lined)",
        "* ircv left (K-Lined)",
        "* chief added a K-line for 2h on *@203.0.113.*: spam bots (disconnected: victim, ircv)",
    ]
    assert victim.take() == ["! You were disconnected (K-Lined: spam bots)"]
    assert irc_victim.take() == [
        ":victim!plain@203.0.113.8 QUIT :K-Lined",
        "ERROR :Closing Link: 203.0.113.9 (K-Lined: spam bots)",
    ]
    assert watcher.take() == ["* victim left (K-Lined)", "* ircv left (K-Lined)"]
    assert op.send("/kline *@192.0.2.* oops") == [
        "! The K-line *@192.0.2.* would match you (chief!plain@192.0.2.99); choose a narrower mask"
    ]
    world.clock.now += 30
    assert op.send("/kline list") == [
        "* 1 K-line:",
        "*   *@203.0.113.* (set by chief 30s ago, expires in 2h): spam bots",
    ]
    assert op.send("/unkline") == ["! Usage: /unkline MASK"]
    assert op.send("/unkline *@nothing") == ["! There is no K-line on *@nothing"]
    assert op.send("/unkline *@203.0.113.*") == ["* chief removed the K-line on *@203.0.113.*"]
    assert op.send("/kill watcher bye now") == [
        "* watcher left (Killed by chief (bye now))",
        "* You disconnected watcher (bye now)",
    ]
    assert watcher.take() == ["! You were disconnected (Killed by chief (bye now))"]
    assert op.send("/wallops") == ["! Usage: /wallops text"]


def test_a_plain_operator_kline_by_nickname(world: World) -> None:
    op = world.plain("chief", "192.0.2.99")
    op.send(f"/oper admin {OPER_PASSWORD}")
    world.plain("pest", "203.0.113.66")
    assert op.send("/kline 10 pest") == [
        "* pest left (K-Lined)",
        "* chief added a K-line for 10m on *@203.0.113.66: No reason given (disconnected: pest)",
    ]


def test_oper_table_is_shared_so_a_reload_updates_both(world: World) -> None:
    world.irc_options.opers["late"] = "added-later"
    assert world.plain("x").send("/oper late added-later")[0].startswith("* You are now a server operator")
    assert isinstance(world.hub.store, MemoryStore)
