"""An in-memory server for the session fuzz targets: a Hub with a MemoryStore, and clients whose links record
output and behave as the network layer does (a closed link takes no more input, and its session hears
``connection_lost`` once), driven by a script of actions read from the fuzzer's bytes.

The script: each action is one byte (which action, modulo their number) followed by its operands. When the
first byte is odd, an operator of the protocol fuzzed and a user of the other are in #room from the start,
so the fuzzer reaches operator commands and cross-protocol fan-out at once. Actions open a client, feed one
client bytes, end its input (EOF), drop it, run its timers, answer pending password checks (run off the
loop in the real server), advance time for the IRC ping and registration timeouts, and fire the hub's
timers (nickname protection).

After every action the invariants are checked: every user the hub knows is the user of a live session and
every live session's user is known, under its case-folded nickname; rooms and members agree both ways; the
operator, invisible and unregistered counts match; presence watchers are known users; every byte a client
was sent is whole CRLF-terminated lines (IRC: each a message the codec parses back). At the end every client
disconnects and the hub must be empty.

Password hashing (scrypt, slow on purpose) is replaced by a fast fake with the same interface.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import hubbub.core.accounts
import hubbub.core.opers
from hubbub.core.fanout import Queued, enqueue, flatten
from hubbub.core.hub import Hub
from hubbub.core.names import casefold
from hubbub.protocols.base import Session
from hubbub.protocols.irc import IrcOptions, IrcSession
from hubbub.protocols.plain import PlainOptions, PlainSession
from hubbub.protocols.sniff import SniffSession
from hubbub.store import MemoryStore
from hubbub.wire.irc import parse

__all__ = ["World"]

MAX_CLIENTS = 6
HOSTS = ("192.0.2.1", "192.0.2.2", "203.0.113.7", "2001:db8::1")


def _fake_hash(password: str) -> str:
    return "scrypt$fake$" + password


def _fake_verify(password: str, stored: str) -> bool:
    return stored == _fake_hash(password)


@contextlib.contextmanager
def fast_passwords() -> Iterator[None]:
    """Replace scrypt with the fake while a script runs (and only then: the smoke test shares the process)."""
    accounts, opers = hubbub.core.accounts, hubbub.core.opers
    saved = accounts.hash_password, accounts.verify_password, opers.verify_password, list(accounts._dummy)
    accounts.hash_password = _fake_hash
    accounts.verify_password = opers.verify_password = _fake_verify
    accounts._dummy[:] = [_fake_hash("no such account")]
    try:
        yield
    finally:
        accounts.hash_password, accounts.verify_password, opers.verify_password, dummy = saved
        accounts._dummy[:] = dummy


#: What a plain session answers to a telnet option: IAC WILL/WONT/DO/DONT and the option.
_TELNET_ANSWER = re.compile(rb"\xff[\xfb-\xfe].", re.DOTALL)


class Timer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Link:
    """One connection as a session sees it (see hubbub.protocols.base.Link)."""

    secure = False
    trusted_proxy = False

    def __init__(self, world: World, host: str, kind: str) -> None:
        self.world = world
        self.peer_host = host
        self.kind = kind
        self.out: list[Queued] = []
        self.closed: str | None = None
        self.lost = False
        self.session: Session | Any = None
        self.timers: list[Timer] = []

    def send(self, data: bytes) -> None:
        assert not self.lost, "a session sent output after connection_lost"
        if self.closed is None:
            enqueue(self.out, data)

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason or "closed"

    def charge_scan(self, items: int) -> None:
        self.scanned = getattr(self, "scanned", 0) + items

    def charge_history(self, rows: int) -> None:
        assert rows >= 0, "a negative charge"

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(callback)
        self.timers.append(timer)
        return timer

    def switch(self, session: Session) -> None:
        self.session = session

    def set_client_address(self, host: str, how: str) -> bool:
        self.peer_host = host
        self.trusted_proxy = False
        return True

    def take(self) -> bytes:
        data = flatten(self.out, self) if self.out else b""
        self.out.clear()
        return data


class World:
    def __init__(self, primary: str) -> None:
        self.hub = hub = Hub(store=MemoryStore())
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []
        hub.run_blocking = lambda job, done: self.jobs.append((job, done))
        opers = {"admin": "adminpw", "hashed": _fake_hash("hashedpw")}
        self.irc_options = IrcOptions(server_name="fuzz.test", network="Fuzz", opers=opers)
        self.plain_options = PlainOptions(max_line=300, opers=opers)
        #: The kinds of client opened: mostly the protocol fuzzed, some of the other, some detected (sniffed).
        self.primary = primary
        other = "plain" if primary == "irc" else "irc"
        self.kinds = [primary, primary, primary, other, "sniff"]
        self.links: list[Link] = []
        self.clock = time.monotonic()

    # -- clients ---------------------------------------------------------------------------------------------

    def open(self, kind: str, host: str) -> Link:
        link = Link(self, host, kind)
        session: Session
        if kind == "irc":
            session = IrcSession(link, self.hub, self.irc_options)
        elif kind == "plain":
            session = PlainSession(link, self.hub, self.plain_options)
        else:

            def plain(link_: Any) -> Session:
                return PlainSession(link_, self.hub, self.plain_options)

            def irc(link_: Any) -> Session:
                return IrcSession(link_, self.hub, self.irc_options)

            session = SniffSession(link, plain, irc, 0.25)
        link.session = session
        self.links.append(link)
        session.start()
        self.settle()
        return link

    def feed(self, link: Link, data: bytes) -> None:
        if link.closed is None:
            link.session.data_received(data)
        self.settle()

    def eof(self, link: Link) -> None:
        if link.closed is None:
            link.session.eof_received()
            link.close("connection closed")
        self.settle()

    def drop(self, link: Link) -> None:
        link.close("connection reset")
        self.settle()

    def settle(self) -> None:
        """As the network layer does: a closed connection's session hears connection_lost once."""
        for link in list(self.links):
            if link.closed is not None and not link.lost:
                link.lost = True
                for timer in link.timers:
                    timer.cancel()
                link.session.connection_lost(link.closed)
                self.links.remove(link)
                link.take()

    # -- the script ------------------------------------------------------------------------------------------

    def run(self, data: bytes) -> None:
        if data:
            with fast_passwords():
                self._run(data)

    def _run(self, data: bytes) -> None:
        if data[0] & 1:
            self.seed()
        pos = 1
        actions = 9
        while pos < len(data):
            action = data[pos] % actions
            arg = data[pos + 1] if pos + 1 < len(data) else 0
            pos += 2
            links = self.links
            link = links[arg % len(links)] if links else None
            if action in (0, 1, 2) and link is not None:  # most often: input
                size = data[pos] if pos < len(data) else 0
                chunk = data[pos + 1 : pos + 1 + size]
                pos += 1 + size
                self.feed(link, chunk)
            elif action == 3 and len(links) < MAX_CLIENTS:
                self.open(self.kinds[arg % len(self.kinds)], HOSTS[(arg >> 2) % len(HOSTS)])
            elif action == 4 and link is not None:
                self.eof(link)
            elif action == 5 and link is not None:
                self.drop(link)
            elif action == 6:
                self.answer(arg)
            elif action == 7:
                self.tick(arg)
            elif action == 8:
                self.fire_timers(link)
            self.check()
        self.finish()

    def seed(self) -> None:
        """An operator of the protocol fuzzed and a user of the other, both in #room."""
        irc_op = b"CAP LS 302\r\nNICK op\r\nUSER op 0 * :Op\r\nCAP REQ :echo-message\r\nCAP END\r\n"
        irc_op += b"OPER admin adminpw\r\nJOIN #room\r\nMODE op +w\r\n"
        plain_op = b"/nick op\n/oper admin adminpw\n/join #room\n"
        irc_bob = b"NICK bob\r\nUSER bob 0 * :Bob\r\nJOIN #room\r\n"
        plain_bob = b"/nick bob\n/join #room\n"
        if self.primary == "irc":
            self.feed(self.open("irc", "192.0.2.99"), irc_op)
            self.feed(self.open("plain", "203.0.113.7"), plain_bob)
        else:
            self.feed(self.open("plain", "192.0.2.99"), plain_op)
            self.feed(self.open("irc", "203.0.113.7"), irc_bob)
        self.check()

    def answer(self, count: int) -> None:
        jobs, self.jobs = self.jobs[: count % 4 + 1], self.jobs[count % 4 + 1 :]
        for job, done in jobs:
            done(job())
        self.settle()

    def tick(self, step: int) -> None:
        self.clock += step * 2.0
        for link in list(self.links):
            tick = getattr(link.session, "tick", None)
            if tick is not None and link.closed is None:
                tick(self.clock)
        self.settle()

    def fire_timers(self, link: Link | None) -> None:
        self.hub.timers.run()
        if link is not None:
            timers, link.timers = link.timers, []
            for timer in timers:
                if not timer.cancelled and link.closed is None:
                    timer.callback()
        self.settle()

    def finish(self) -> None:
        self.answer(3)
        for link in list(self.links):
            self.drop(link)
        self.answer(3)
        self.check()
        hub = self.hub
        assert not hub.users, hub.users
        assert hub.unregistered == 0, hub.unregistered
        assert hub.opers == 0 and hub.invisible == 0, (hub.opers, hub.invisible)
        assert not hub.monitor.watchers, hub.monitor.watchers
        assert all(room.founder for room in hub.rooms.values()), hub.rooms

    # -- invariants ------------------------------------------------------------------------------------------

    def check(self) -> None:
        hub = self.hub
        live = {id(link): link for link in self.links}
        sessions = {}
        counted = 0
        for link in self.links:
            session = link.session
            if isinstance(session, IrcSession) and session.counted:
                counted += 1
            user = getattr(session, "user", None)
            if user is not None and link.closed is None:
                sessions[user.key] = user
                assert hub.users.get(user.key) is user, (user, hub.users)
            self._check_output(link)
        assert hub.unregistered == counted, (hub.unregistered, counted)
        for key, user in hub.users.items():
            assert key == casefold(user.nick) == user.key, (key, user.nick)
            assert id(user.mailbox) in live and user.mailbox.closed is None, user
            assert sessions.get(key) is user, (user, sessions)
            for room_key, room in user.rooms.items():
                assert hub.rooms.get(room_key) is room and user in room.members, (user, room)
        for key, room in hub.rooms.items():
            assert key == room.key == casefold(room.name), room
            assert room.members or room.founder, room
            for member, status in room.members.items():
                assert hub.users.get(member.key) is member and member.rooms.get(key) is room, (member, room)
                assert set(status) <= set("ov"), status
            if room.groups is not None:  # the fan-out's groups follow joins, parts and quits
                grouped = [user for group in room.groups for user in group.users]
                assert len(grouped) == len(room.members) and set(grouped) == set(room.members), room
        assert hub.opers == sum(1 for u in hub.users.values() if u.oper), hub.opers
        assert hub.invisible == sum(1 for u in hub.users.values() if "i" in u.modes), hub.invisible
        for key, watchers in hub.monitor.watchers.items():
            assert watchers, key
            for watcher in watchers:
                assert hub.users.get(watcher.key) is watcher, (key, watcher)

    def _check_output(self, link: Link) -> None:
        data = link.take()
        irc = isinstance(link.session, IrcSession)
        if not irc and b"\xff" in data:
            # a plain session's answers to telnet options (0xFF is never in UTF-8 text): taken out
            data = _TELNET_ANSWER.sub(b"", data)
            assert b"\xff" not in data, data[-200:]
        if not data:
            return
        assert data.endswith(b"\r\n"), data[-200:]
        lines = data[:-2].split(b"\r\n")
        for line in lines:
            assert line and b"\n" not in line and b"\r" not in line, (link.kind, line[:200])
            if irc:
                parse(line, max_body=1 << 20, max_tags=1 << 20)
