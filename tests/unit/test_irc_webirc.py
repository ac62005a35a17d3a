"""WEBIRC in memory: a trusted gateway gives its user's address before registration (clear and hashed
passwords, the latter answered later while registration waits); an untrusted address, an unknown gateway, a
wrong password or an invalid IP is refused and closed; ``secure`` is believed over TLS or from the loopback;
a second WEBIRC, or one after registration, is ignored, as ergo ignores it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubbub.core.hub import Hub
from hubbub.protocols.irc import IrcOptions
from hubbub.store.passwords import hash_password

from .irc_harness import IrcClient

REFUSED = "WEBIRC command is not usable from your address or incorrect password given"


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


def gateway(
    webirc: dict[str, str] | None = None,
    *,
    host: str = "10.0.0.5",
    trusted: bool = True,
    hub: Hub | None = None,
) -> tuple[Hub, IrcClient]:
    hub = hub or Hub()
    options = IrcOptions(server_name="irc.test", webirc=webirc if webirc is not None else {"thelounge": "pw"})
    client = IrcClient(hub, options, host)
    client.link.trusted_proxy = trusted
    return hub, client


def test_a_trusted_gateway_gives_the_address() -> None:
    hub, client = gateway()
    out = client.send("WEBIRC pw thelounge user.example.net 203.0.113.7", "NICK alice", "USER a 0 * :Alice")
    assert any(" 001 alice " in line and "alice!~a@203.0.113.7" in line for line in out), out
    assert client.link.addresses == [("203.0.113.7", "WEBIRC gateway thelounge")]
    assert hub.users["alice"].host == "203.0.113.7"
    assert not client.link.secure


def test_ipv6_and_a_mapped_address() -> None:
    hub, client = gateway()
    client.send("WEBIRC pw thelounge host 2001:DB8::7", "NICK a", "USER a 0 * :A")
    assert hub.users["a"].host == "2001:db8::7"
    hub, client = gateway()
    # An address that starts with a colon is written with a leading 0, as a middle parameter must be.
    client.send("WEBIRC pw thelounge host 0::ffff:203.0.113.9", "NICK b", "USER b 0 * :B")
    assert hub.users["b"].host == "203.0.113.9"


def test_a_hashed_password_is_checked_while_registration_waits() -> None:
    hub = Hub()
    deferred = hub.run_blocking = Deferred()  # type: ignore[assignment]
    _, client = gateway({"kiwi": hash_password("s3cret")}, hub=hub)
    out = client.send("WEBIRC s3cret kiwi host 203.0.113.7", "NICK alice", "USER a 0 * :Alice")
    assert not any(" 001 " in line for line in out) and "alice" not in hub.users
    deferred.finish()
    assert any(" 001 alice " in line for line in client.take())
    assert hub.users["alice"].host == "203.0.113.7"


def test_a_wrong_hashed_password_is_refused_after_the_check() -> None:
    hub = Hub()
    deferred = hub.run_blocking = Deferred()  # type: ignore[assignment]
    _, client = gateway({"kiwi": hash_password("s3cret")}, hub=hub)
    client.send("WEBIRC nope kiwi host 203.0.113.7", "NICK alice", "USER a 0 * :Alice")
    deferred.finish()
    assert client.take() == [f"ERROR :Closing Link: 10.0.0.5 ({REFUSED})"]
    assert client.link.closed == REFUSED and "alice" not in hub.users


def test_an_answer_after_the_client_left_is_dropped() -> None:
    hub = Hub()
    deferred = hub.run_blocking = Deferred()  # type: ignore[assignment]
    _, client = gateway({"kiwi": hash_password("s3cret")}, hub=hub)
    client.send("WEBIRC s3cret kiwi host 203.0.113.7", "NICK alice", "USER a 0 * :Alice")
    client.session.connection_lost("connection reset")
    deferred.finish()
    assert client.link.addresses == [] and "alice" not in hub.users


def test_refusals_close_the_connection() -> None:
    cases = [
        ({"trusted": False}, "WEBIRC pw thelounge host 203.0.113.7", REFUSED),
        ({}, "WEBIRC wrong thelounge host 203.0.113.7", REFUSED),
        ({}, "WEBIRC pw unknown-gateway host 203.0.113.7", REFUSED),
        ({}, "WEBIRC pw thelounge host not-an-ip", "proxied IP is not valid"),
        ({}, "WEBIRC pw thelounge host fe80::1%eth0", "proxied IP is not valid"),
    ]
    for settings, command, told in cases:
        hub, client = gateway(**settings)  # type: ignore[arg-type]
        out = client.send(command, "NICK alice", "USER a 0 * :Alice")
        assert out == [f"ERROR :Closing Link: 10.0.0.5 ({told})"], (command, out)
        assert client.link.closed == told and client.link.addresses == []
        assert "alice" not in hub.users


def test_no_gateways_configured_refuses_everyone() -> None:
    _, client = gateway({})
    out = client.send("WEBIRC pw thelounge host 203.0.113.7")
    assert out == [f"ERROR :Closing Link: 10.0.0.5 ({REFUSED})"]


def test_too_few_parameters() -> None:
    _, client = gateway()
    assert client.send("WEBIRC pw thelounge host") == [":irc.test 461 * WEBIRC :Not enough parameters"]


def test_secure_is_believed_over_tls_or_from_the_loopback() -> None:
    _, client = gateway(host="127.0.0.1")
    client.send("WEBIRC pw thelounge host 203.0.113.7 :secure local-port=6697", "NICK a", "USER a 0 * :A")
    assert client.link.secure
    _, client = gateway()
    client.link.secure = True
    client.send("WEBIRC pw thelounge host 203.0.113.7 :tls=1", "NICK a", "USER a 0 * :A")
    assert client.link.secure
    _, client = gateway()  # plain TCP from another machine: it could have been read on the way
    client.send("WEBIRC pw thelounge host 203.0.113.7 :secure", "NICK a", "USER a 0 * :A")
    assert not client.link.secure
    _, client = gateway()  # over TLS, a user the gateway does not call secure is not
    client.link.secure = True
    client.send("WEBIRC pw thelounge host 203.0.113.7", "NICK a", "USER a 0 * :A")
    assert not client.link.secure


def test_a_second_webirc_and_one_after_registration_are_ignored() -> None:
    hub, client = gateway()
    assert client.send("WEBIRC pw thelounge host 203.0.113.7") == []
    assert client.send("WEBIRC pw thelounge host 198.51.100.1") == []
    client.send("NICK alice", "USER a 0 * :Alice")
    assert client.send("WEBIRC pw thelounge host 198.51.100.2") == []
    assert client.link.addresses == [("203.0.113.7", "WEBIRC gateway thelounge")]
    assert hub.users["alice"].host == "203.0.113.7"


def test_an_address_the_limits_refuse_ends_the_session() -> None:
    hub, client = gateway()
    client.link.refuse_address = True
    out = client.send("WEBIRC pw thelounge host 203.0.113.7", "NICK alice", "USER a 0 * :Alice")
    assert out == ["ERROR :Closing Link: 203.0.113.7 (Too many connections from your address)"]
    assert "alice" not in hub.users and client.session.closing


def test_a_kline_on_the_given_address_refuses_that_user_only() -> None:
    hub = Hub()
    _, op = gateway(hub=hub)
    op.send("WEBIRC pw thelounge host 198.51.100.1", "NICK op", "USER op 0 * :Op")
    hub.users["op"].oper = "admin"
    hub.klines.add(hub.users["op"], "*@203.0.113.7", "spam", None)
    _, banned = gateway(hub=hub)
    out = banned.send("WEBIRC pw thelounge host 203.0.113.7", "NICK spammer", "USER s 0 * :S")
    assert ":irc.test 465 spammer :You are banned from this server (spam)" in out
    _, fine = gateway(hub=hub)
    out = fine.send("WEBIRC pw thelounge host 203.0.113.8", "NICK fine", "USER f 0 * :F")
    assert any(" 001 fine " in line for line in out)
