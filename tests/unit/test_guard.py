"""The connection limits (net.guard), with an injected clock: no sockets, no waiting."""

from __future__ import annotations

import pytest

from hubbub.net import guard as guard_module
from hubbub.net.guard import EXEMPT, FD_MARGIN, Guard, GuardLimits, Refused, closing_line, default_max_clients


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock | None = None, **limits: object) -> Guard:
    settings: dict[str, object] = {"max_clients": 1000, "exempt": ()}
    settings.update(limits)
    return Guard(GuardLimits(**settings), clock or Clock())  # type: ignore[arg-type]


def refused(guard: Guard, host: str) -> Refused:
    with pytest.raises(Refused) as info:
        guard.admit(host)
    return info.value


def test_the_closing_line_is_an_irc_error_a_person_can_read() -> None:
    assert closing_line("192.0.2.1", "The server is full") == (
        b"ERROR :Closing Link: 192.0.2.1 (The server is full)\r\n"
    )


def test_clients_per_address() -> None:
    guard = make(max_per_ip=2)
    first = guard.admit("192.0.2.1")
    guard.admit("192.0.2.1")
    refusal = refused(guard, "192.0.2.1")
    assert (refusal.kind, refusal.message) == ("address", "Too many connections from your address")
    guard.admit("192.0.2.2")  # another address is not concerned
    guard.release(first)
    guard.admit("192.0.2.1")  # a released place is free again
    assert guard.total == 3
    assert guard.refusals["address"] == 1


def test_clients_per_ipv4_network() -> None:
    guard = make(max_per_ip=5, max_per_cidr=2, cidr_v4=24)
    a = guard.admit("198.51.100.1")
    guard.admit("198.51.100.200")
    refusal = refused(guard, "198.51.100.7")
    assert (refusal.kind, refusal.message) == ("network", "Too many connections from your network")
    guard.admit("198.51.101.1")  # the next /24
    guard.release(a)
    guard.admit("198.51.100.7")


def test_clients_per_ipv6_network() -> None:
    guard = make(max_per_ip=5, max_per_cidr=2, cidr_v6=64)
    guard.admit("2001:db8::1")
    guard.admit("2001:db8::ffff:1")
    assert refused(guard, "2001:db8::2").kind == "network"
    guard.admit("2001:db8:0:1::1")  # another /64


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address() -> None:
    guard = make(max_per_ip=1)
    ticket = guard.admit("::ffff:192.0.2.9")
    assert ticket.address == "192.0.2.9"
    assert refused(guard, "192.0.2.9").kind == "address"
    guard.release(ticket)
    guard.admit("192.0.2.9")


def test_exempt_networks_skip_the_per_address_limits_but_not_the_total() -> None:
    guard = make(
        max_clients=5, max_per_ip=1, max_per_cidr=1, connect_rate=1, exempt=("127.0.0.0/8", "::1/128")
    )
    tickets = [
        guard.admit(host) for host in ("127.0.0.1", "127.0.0.1", "::1", "::ffff:127.0.0.1", "127.1.2.3")
    ]
    assert all(ticket is EXEMPT for ticket in tickets)
    assert not guard.addresses  # nothing is kept for an exempt address
    assert refused(guard, "127.0.0.1").message == "The server is full"
    for ticket in tickets:
        guard.release(ticket)
    assert guard.total == 0


def test_an_exempt_ipv4_mapped_network_exempts_the_ipv4_addresses() -> None:
    guard = make(max_per_ip=1, exempt=("::ffff:10.0.0.0/104",))
    assert guard.admit("10.1.2.3") is EXEMPT
    assert guard.admit("10.1.2.3") is EXEMPT
    assert guard.admit("11.0.0.1") is not EXEMPT


def test_the_server_is_full() -> None:
    guard = make(max_clients=2)
    one = guard.admit("192.0.2.1")
    guard.admit("192.0.2.2")
    refusal = refused(guard, "192.0.2.3")
    assert (refusal.kind, refusal.message) == ("full", "The server is full")
    guard.release(one)
    guard.admit("192.0.2.3")
    assert guard.refusals == {"full": 1, "address": 0, "network": 0, "rate": 0}


def test_connection_rate_per_address_refills_over_the_window() -> None:
    clock = Clock()
    guard = make(clock, connect_rate=3, connect_window=60.0)
    for _ in range(3):
        guard.release(guard.admit("203.0.113.5"))
    refusal = refused(guard, "203.0.113.5")
    assert refusal.kind == "rate"
    assert refusal.message == "Connecting too fast; try again in 20 seconds"
    guard.admit("203.0.113.6")  # another address has its own budget
    clock.now += 10
    assert refused(guard, "203.0.113.5").message == "Connecting too fast; try again in 10 seconds"
    clock.now += 10
    guard.admit("203.0.113.5")
    assert refused(guard, "203.0.113.5").kind == "rate"  # a refused attempt costs nothing...
    clock.now += 19.5
    assert refused(guard, "203.0.113.5").message == "Connecting too fast; try again in 1 second"
    clock.now += 0.5
    guard.admit("203.0.113.5")  # ...so the wait it was told is the right one


def test_a_refusal_counts_nothing_but_the_attempt() -> None:
    guard = make(max_per_ip=1, connect_rate=100)
    guard.admit("192.0.2.1")
    for _ in range(5):
        refused(guard, "192.0.2.1")
    assert guard.total == 1
    assert guard.addresses["192.0.2.1"].count == 1
    assert guard.networks == {(4, 0xC00002): 1}


def test_idle_addresses_are_forgotten_once_their_bucket_is_full() -> None:
    clock = Clock()
    guard = make(clock, connect_rate=2, connect_window=10.0)
    guard.release(guard.admit("192.0.2.1"))
    live = guard.admit("192.0.2.2")
    assert set(guard.addresses) == {"192.0.2.1", "192.0.2.2"}
    clock.now += 11
    guard.admit("192.0.2.3")  # a new address sweeps (at most once a window)
    assert set(guard.addresses) == {"192.0.2.2", "192.0.2.3"}  # the live one stays
    guard.release(live)
    assert guard.networks == {(4, 0xC00002): 1}


def test_an_address_that_is_not_ip_is_only_counted_in_the_total() -> None:
    guard = make(max_per_ip=1)
    assert guard.admit("unknown") is EXEMPT
    assert guard.admit("unknown") is EXEMPT
    assert guard.total == 2


def test_ipv6_scope_ids_are_ignored() -> None:
    guard = make(max_per_ip=1)
    guard.admit("fe80::1%eth0")
    assert refused(guard, "fe80::1%eth1").kind == "address"


def test_max_clients_zero_follows_the_open_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (4096, 8192))
    assert default_max_clients() == 4096 - FD_MARGIN
    assert Guard(GuardLimits(max_clients=0)).max_clients == 4096 - FD_MARGIN
    assert Guard(GuardLimits(max_clients=7)).max_clients == 7
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert default_max_clients() == guard_module.UNLIMITED_CLIENTS


def test_a_connection_moves_to_its_real_address() -> None:
    guard = make(max_per_ip=1, max_clients=2, exempt=("127.0.0.0/8",))
    proxy = guard.admit("127.0.0.1")
    assert proxy is EXEMPT and guard.total == 1
    moved = guard.move(proxy, "203.0.113.7")
    assert moved.address == "203.0.113.7" and guard.total == 1
    assert guard.addresses["203.0.113.7"].count == 1
    # The real address is limited as a direct connection from it would be; the refusal changes nothing.
    second = guard.admit("127.0.0.1")
    assert guard.total == 2
    with pytest.raises(Refused) as info:
        guard.move(second, "203.0.113.7")
    assert info.value.kind == "address" and guard.total == 2
    # The server is full, but a move is no new connection.
    third = guard.move(second, "203.0.113.8")
    assert guard.total == 2 and guard.networks[third.network] == 2  # type: ignore[index]
    # And back: released under the addresses it had last.
    fourth = guard.move(moved, "127.0.0.2")
    assert fourth is EXEMPT and guard.addresses["203.0.113.7"].count == 0
    guard.release(third)
    guard.release(fourth)
    assert guard.total == 0 and not guard.networks
