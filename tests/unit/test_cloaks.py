"""Host cloaking (core.cloaks): ergo's algorithm (its own test vectors), the format, determinism, no trace of
the address, networks sharing a cloak, and how the secret is settled from the setting and the store."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hubbub.config import Config
from hubbub.core.cloaks import ALPHABET, SECRET_META, Cloaks, cloak, new_secret, settle
from hubbub.core.errors import ChatError
from hubbub.core.hub import Hub
from hubbub.core.model import ListEntry
from hubbub.core.rooms import check_entry, is_banned
from hubbub.store import MemoryStore
from hubbub.store.schema import MetaFile
from hubbub.workers import shared_cloak_secret

SECRET = "_BdVPWB5sray7McbFmeuJL996yaLgG4l9tEyficGXKg"
CLOAK = re.compile(rf"[{ALPHABET}]{{13}}\.irc\Z")

ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
addresses = st.one_of(ipv4, ipv6)
secrets = st.text(min_size=1, max_size=64)


def test_ergo_test_vectors() -> None:
    """irc/cloaks/cloak_test.go: the same secret and address give ergo's cloak, byte for byte."""
    assert cloak("8.8.8.8", SECRET, "oragono", bits=80) == "d2z5guriqhzwazyr.oragono"
    assert cloak("::ffff:8.8.8.8", SECRET, "oragono", bits=80) == "d2z5guriqhzwazyr.oragono"
    assert cloak("2001:0db8::1", SECRET, "oragono", bits=80) == "w7ren6nxii6f3i3d.oragono"
    assert cloak("2001:0db8::2", SECRET, "oragono", bits=80) == "w7ren6nxii6f3i3d.oragono"
    assert cloak("2001:0db9::1", SECRET, "oragono", bits=80) == "ccmptyrjwsxv4f4d.oragono"
    other = "HJcXK4lLawxBE4-9SIdPji_21YiL3N5r5f5-SPNrGVY"
    assert cloak("8.8.8.8", other, "oragono", bits=80) == "4khy3usk8mfu42pe.oragono"
    assert cloak("2001:0db8::1", other, "oragono", bits=80) == "mxpk3c83vdxkek9j.oragono"
    assert cloak("8.8.8.8", SECRET, "oragono", 24, 64, 60) == "3cay3zc72tnui.oragono"
    assert cloak("8.8.8.9", SECRET, "oragono", 24, 64, 60) == "3cay3zc72tnui.oragono"


@given(addresses, secrets)
def test_a_cloak_is_deterministic_and_shaped_like_ergos(address: str, secret: str) -> None:
    shown = cloak(address, secret)
    assert CLOAK.match(shown), shown
    assert cloak(address, secret) == shown
    assert Cloaks(secret).host(address) == shown


@given(addresses, secrets)
def test_no_part_of_the_address_is_in_the_cloak(address: str, secret: str) -> None:
    shown = cloak(address, secret)
    assert address not in shown
    packed = ipaddress.ip_address(address).packed
    # Nothing of the address but its hash: 13 characters of the base32 alphabet, whatever the address (an
    # address's text, with its dots and colons, cannot be there), and not its bytes in hex either.
    assert len(shown) == len("xxxxxxxxxxxxx.irc") and packed.hex() not in shown


@given(ipv4, secrets, secrets)
def test_the_cloak_depends_on_the_secret(address: str, one: str, two: str) -> None:
    if one != two:
        assert cloak(address, one) != cloak(address, two)


@given(ipv4, ipv4, secrets)
def test_different_ipv4_addresses_get_different_cloaks(one: str, two: str, secret: str) -> None:
    if one != two:  # 64 bits of SHA3: a collision here would be news
        assert cloak(one, secret) != cloak(two, secret)


@given(st.integers(0, 2**32 - 1), secrets)
def test_an_ipv4_network_shares_its_cloak_with_the_cidr_setting(number: int, secret: str) -> None:
    address = ipaddress.IPv4Address(number)
    neighbour = ipaddress.IPv4Address(number ^ 0x7F)  # the same /24
    assert cloak(str(address), secret, cidr_v4=24) == cloak(str(neighbour), secret, cidr_v4=24)
    mapped = f"::ffff:{address}"
    assert cloak(mapped, secret) == cloak(str(address), secret)


@given(st.integers(0, 2**128 - 1), secrets)
def test_an_ipv6_slash_64_shares_one_cloak_by_default(number: int, secret: str) -> None:
    address = ipaddress.IPv6Address(number)
    if address.ipv4_mapped is not None:
        return
    neighbour = ipaddress.IPv6Address(number ^ 0xFFFF_FFFF)
    assert cloak(str(address), secret) == cloak(str(neighbour), secret)
    assert cloak(str(address), secret, cidr_v6=128) != cloak(str(neighbour), secret, cidr_v6=128)


def test_a_host_that_is_no_address_is_cloaked_too() -> None:
    assert CLOAK.match(cloak("unknown", SECRET))
    assert cloak("unknown", SECRET) != cloak("0.0.0.0", SECRET)


def test_off_shows_the_address_and_secrets_are_random() -> None:
    assert Cloaks().host("192.0.2.1") == "192.0.2.1" and not Cloaks().enabled
    one, two = new_secret(), new_secret()
    assert one != two and len(one) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", one)


def test_settle_new_old_and_explicit() -> None:
    fresh = MemoryStore()
    secret, why = settle("auto", fresh, fresh=True)
    assert secret and fresh.get_meta(SECRET_META) == secret and "new secret" in why
    assert settle("auto", fresh, fresh=False)[0] == secret  # kept: the next start uses it
    assert settle("on", fresh, fresh=False)[0] == secret
    assert settle("off", fresh, fresh=False)[0] == ""

    old = MemoryStore()  # an install from before cloaking: no secret
    secret, why = settle("auto", old, fresh=False)
    assert secret == "" and old.get_meta(SECRET_META) is None and 'cloak = "on"' in why
    secret, _ = settle("on", old, fresh=False)
    assert secret and old.get_meta(SECRET_META) == secret

    configured = MemoryStore()
    assert settle("auto", configured, fresh=False, configured="shared")[0] == "shared"
    assert configured.get_meta(SECRET_META) is None
    assert settle("off", configured, fresh=True, configured="shared")[0] == ""


class _Client:
    variant = "x"

    def render(self, event: object) -> bytes | None:
        return None

    def disconnect(self, reason: str) -> None:
        pass


class _Mailbox:
    def __init__(self) -> None:
        self.out: list[object] = []

    def send(self, data: bytes) -> None:
        pass


def test_the_hub_cloaks_and_bans_match_either_hostmask() -> None:
    hub = Hub()
    hub.cloaks = Cloaks(SECRET)
    user = hub.connect(_Client(), _Mailbox(), nick="alice", username="~a", host="192.0.2.7")
    shown = cloak("192.0.2.7", SECRET)
    assert user.host == shown and user.ip == "192.0.2.7"
    assert user.hostmask == f"alice!~a@{shown}" and user.real_hostmask == "alice!~a@192.0.2.7"
    owner = hub.connect(_Client(), _Mailbox(), nick="owner", host="198.51.100.1")
    room = hub.rooms.get("#r") or hub.join(owner, "#r").room
    for mask in (f"*!*@{shown}", "*!*@192.0.2.*"):
        room.lists["b"] = [ListEntry(mask, "owner", 0.0)]
        assert is_banned(room, user)
        for exception in (f"*!*@{shown}", "*!*@192.0.2.7"):
            room.lists["e"] = [ListEntry(exception, "owner", 0.0)]
            assert not is_banned(room, user)
        room.lists["e"] = []
    room.lists["b"] = []
    room.flags.add("i")
    for mask in (f"*!*@{shown}", "*!*@192.0.2.7"):
        room.lists["I"] = [ListEntry(mask, "owner", 0.0)]
        check_entry(user, room, "")
    room.lists["I"] = [ListEntry("*!*@203.0.113.1", "owner", 0.0)]
    try:
        check_entry(user, room, "")
    except ChatError:
        pass
    else:
        raise AssertionError("an invite exception for another address let alice in")


def test_the_supervisor_settles_one_secret_for_its_workers(tmp_path: Path) -> None:
    assert shared_cloak_secret(Config(cloak="off")) is None  # each worker: off
    assert shared_cloak_secret(Config(cloak_secret="given")) is None  # each worker: the same given secret
    assert shared_cloak_secret(Config(db=":memory:"))  # a new secret for this run
    db = str(tmp_path / "sub" / "hub.db")
    secret = shared_cloak_secret(Config(db=db))
    assert secret and shared_cloak_secret(Config(db=db)) == secret  # created, then kept
    with MetaFile(db) as meta:
        assert not meta.created and meta.get_meta(SECRET_META) == secret
    old = str(tmp_path / "old.db")
    with MetaFile(old):
        pass  # a database of this schema without a secret: an install from before cloaking
    assert shared_cloak_secret(Config(db=old)) == ""
    on = shared_cloak_secret(Config(db=old, cloak="on"))
    assert on and shared_cloak_secret(Config(db=old)) == on
