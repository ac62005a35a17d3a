"""Connection limits, checked when a connection is accepted and before any session starts.

:class:`Guard` counts the live connections in total, per address and per network (``cidr_v4`` / ``cidr_v6``
bits; an IPv4-mapped IPv6 address counts as its IPv4 address), and the connection attempts per address (a
token bucket: ``connect_rate`` attempts per ``connect_window`` seconds, refilled continuously). A refused
client is told why in one line, then closed (see :func:`closing_line`).

Addresses in ``limit_exempt`` skip the per-address, per-network and rate limits, but not the total. The checks
cost a few dictionary lookups; an exempt address costs one parse and one network test, and nothing is kept
for it.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config

__all__ = [
    "EXEMPT",
    "FD_MARGIN",
    "REFUSALS",
    "Guard",
    "GuardLimits",
    "Refused",
    "Ticket",
    "closing_line",
    "default_max_clients",
]

#: File descriptors kept for the listeners, the store, the logs and the metrics endpoint (``max_clients`` 0).
FD_MARGIN = 100
#: Without an open-file limit to go by (or an unlimited one), at most this many clients.
UNLIMITED_CLIENTS = 1_000_000

#: The reasons a connection is refused (the metrics label), with their one-line explanations.
REFUSALS = {
    "full": "The server is full",
    "address": "Too many connections from your address",
    "network": "Too many connections from your network",
    "rate": "Connecting too fast",
}


def closing_line(host: str, reason: str) -> bytes:
    """The line a client gets right before the server closes its connection: an IRC ``ERROR``, which a person
    with netcat reads just as well."""
    return f"ERROR :Closing Link: {host} ({reason})\r\n".encode()


def default_max_clients() -> int:
    """Clients at once when ``max_clients`` is 0: the soft open-file limit less :data:`FD_MARGIN`."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return UNLIMITED_CLIENTS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft > UNLIMITED_CLIENTS:
        return UNLIMITED_CLIENTS
    return max(1, soft - FD_MARGIN)


class Refused(Exception):
    """A connection the limits turn away: ``kind`` is a key of :data:`REFUSALS`, ``message`` the line's
    explanation."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class GuardLimits:
    #: Clients at once (0: :func:`default_max_clients`).
    max_clients: int = 0
    max_per_ip: int = 16
    max_per_cidr: int = 64
    cidr_v4: int = 24
    cidr_v6: int = 64
    #: Attempts per address per ``connect_window`` seconds.
    connect_rate: int = 30
    connect_window: float = 60.0
    #: Networks (CIDR notation) exempt from the per-address, per-network and rate limits.
    exempt: tuple[str, ...] = ("127.0.0.0/8", "::1/128")

    @classmethod
    def from_config(cls, config: Config) -> GuardLimits:
        return cls(
            max_clients=config.max_clients,
            max_per_ip=config.max_per_ip,
            max_per_cidr=config.max_per_cidr,
            cidr_v4=config.cidr_v4,
            cidr_v6=config.cidr_v6,
            connect_rate=config.connect_rate,
            connect_window=config.connect_window,
            exempt=config.limit_exempt,
        )


class Ticket:
    """An admitted connection's place in the counts, handed back to :meth:`Guard.release`."""

    __slots__ = ("address", "network")

    def __init__(self, address: str | None, network: tuple[int, int] | None) -> None:
        self.address = address
        self.network = network


#: The ticket of every connection from an exempt (or unparsable) address: counted in the total only.
EXEMPT = Ticket(None, None)


class _Address:
    """What is known of one address: its live connections, its network, and its attempt bucket."""

    __slots__ = ("count", "network", "stamp", "tokens")

    def __init__(self, network: tuple[int, int], tokens: float, stamp: float) -> None:
        self.count = 0
        self.network = network
        self.tokens = tokens
        self.stamp = stamp


class Guard:
    def __init__(self, limits: GuardLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.reconfigure(limits)
        #: Live connections, all addresses together.
        self.total = 0
        self.addresses: dict[str, _Address] = {}
        self.networks: dict[tuple[int, int], int] = {}
        #: Connections refused, by kind (see REFUSALS).
        self.refusals = dict.fromkeys(REFUSALS, 0)
        self._next_sweep = 0.0

    def reconfigure(self, limits: GuardLimits) -> None:
        """Apply new limits; the connections counted so far stay counted (and are released as before)."""
        self.limits = limits
        self.max_clients = limits.max_clients or default_max_clients()
        #: (version, network bits, mask) of each exempt network.
        self.exempt = _networks(limits.exempt)
        self.shift_v4 = 32 - min(32, limits.cidr_v4)
        self.shift_v6 = 128 - min(128, limits.cidr_v6)
        #: Attempts regained per second.
        self.refill = limits.connect_rate / limits.connect_window

    def admit(self, host: str) -> Ticket:
        """Count a new connection from ``host`` (its IP address as text) and return its ticket, or raise
        :class:`Refused` (nothing is counted then)."""
        if self.total >= self.max_clients:
            self._refuse("full")
        parsed = _parse(host)
        if parsed is None or self._is_exempt(parsed[0], parsed[1]):
            self.total += 1
            return EXEMPT
        version, value, key = parsed
        limits = self.limits
        now = self.clock()
        address = self.addresses.get(key)
        if address is None:
            if now >= self._next_sweep:
                self._sweep(now)
            network = (4, value >> self.shift_v4) if version == 4 else (6, value >> self.shift_v6)
            address = self.addresses[key] = _Address(network, float(limits.connect_rate), now)
        else:
            address.tokens = min(
                float(limits.connect_rate), address.tokens + (now - address.stamp) * self.refill
            )
            address.stamp = now
        if address.tokens < 1.0:
            wait = max(1, math.ceil((1.0 - address.tokens) / self.refill))
            self._refuse("rate", f"{REFUSALS['rate']}; try again in {wait} second{'s' if wait != 1 else ''}")
        address.tokens -= 1.0
        if address.count >= limits.max_per_ip:
            self._refuse("address")
        network = address.network
        networks = self.networks
        if networks.get(network, 0) >= limits.max_per_cidr:
            self._refuse("network")
        address.count += 1
        networks[network] = networks.get(network, 0) + 1
        self.total += 1
        return Ticket(key, network)

    def move(self, ticket: Ticket, host: str) -> Ticket:
        """Count a live connection (of ``ticket``) under ``host`` instead, the client's real address a trusted
        proxy gave: ``host`` is checked as a new connection from it would be, but for the total, which already
        counts this one. Return the new ticket; :class:`Refused` leaves the connection counted as it was."""
        self.total -= 1
        try:
            moved = self.admit(host)
        except Refused:
            self.total += 1
            raise
        self._uncount(ticket)
        return moved

    def release(self, ticket: Ticket) -> None:
        """The connection of ``ticket`` is gone."""
        self.total -= 1
        self._uncount(ticket)

    def _uncount(self, ticket: Ticket) -> None:
        key = ticket.address
        if key is None:
            return
        address = self.addresses.get(key)
        if address is not None:
            address.count -= 1
        network = ticket.network
        assert network is not None
        left = self.networks[network] - 1
        if left:
            self.networks[network] = left
        else:
            del self.networks[network]

    def _refuse(self, kind: str, message: str = "") -> None:
        self.refusals[kind] += 1
        raise Refused(kind, message or REFUSALS[kind])

    def is_exempt(self, host: str) -> bool:
        """Whether ``host`` (an IP address as text) is exempt from the per-address limits (or unparsable)."""
        parsed = _parse(host)
        return parsed is None or self._is_exempt(parsed[0], parsed[1])

    def _is_exempt(self, version: int, value: int) -> bool:
        return any(version == v and value & mask == bits for v, bits, mask in self.exempt)

    def _sweep(self, now: float) -> None:
        """Forget the addresses with no connection whose attempt bucket has refilled (at most once a window,
        when a new address arrives: the cost is spread over the arrivals)."""
        self._next_sweep = now + self.limits.connect_window
        full = float(self.limits.connect_rate)
        refill = self.refill
        stale = [
            key
            for key, address in self.addresses.items()
            if not address.count and address.tokens + (now - address.stamp) * refill >= full
        ]
        for key in stale:
            del self.addresses[key]


def _parse(host: str) -> tuple[int, int, str] | None:
    """``host`` as (IP version, address as a number, canonical text); an IPv4-mapped IPv6 address becomes its
    IPv4 address; None if ``host`` is no IP address. (inet_pton: a fraction of ipaddress's cost.)"""
    try:
        if ":" not in host:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, host), "big"), host
        packed = socket.inet_pton(socket.AF_INET6, host.partition("%")[0])
    except (OSError, ValueError):
        return None
    value = int.from_bytes(packed, "big")
    if value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF, socket.inet_ntop(socket.AF_INET, packed[12:])
    return 6, value, socket.inet_ntop(socket.AF_INET6, packed)


def _networks(specs: Iterable[str]) -> tuple[tuple[int, int, int], ...]:
    nets: list[tuple[int, int, int]] = []
    for spec in specs:
        net = ipaddress.ip_network(spec, strict=False)
        bits, mask = int(net.network_address), int(net.netmask)
        nets.append((net.version, bits, mask))
        if net.version == 6 and net.prefixlen >= 96 and bits >> 32 == 0xFFFF:
            # An exempt IPv4-mapped network exempts its IPv4 addresses (they are counted as IPv4).
            nets.append((4, bits & 0xFFFFFFFF, mask & 0xFFFFFFFF))
    return tuple(nets)
