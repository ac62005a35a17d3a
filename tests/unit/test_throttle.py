"""The guards against password guessing and mass registration (core.throttle, core.accounts), alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hubbub.core.errors import ChatError, Reason
from hubbub.core.hub import Hub, HubLimits
from hubbub.core.throttle import MAX_DOUBLINGS, Backoff, Rate


def test_backoff_doubles_after_the_free_failures_and_is_forgotten() -> None:
    backoff = Backoff()
    for _ in range(3):
        assert backoff.wait("a", 100.0, 3, 1.0) == 0.0
        backoff.fail("a", 100.0, 1.0)
    assert backoff.wait("a", 100.0, 3, 1.0) == 1.0
    assert backoff.wait("a", 101.0, 3, 1.0) == 0.0
    backoff.fail("a", 101.0, 1.0)
    assert backoff.wait("a", 101.0, 3, 1.0) == 2.0
    for _ in range(20):
        backoff.fail("a", 101.0, 1.0)
    assert backoff.wait("a", 101.0, 3, 1.0) == 2.0**MAX_DOUBLINGS
    assert backoff.wait("b", 101.0, 3, 1.0) == 0.0
    # Quiet for twice the longest wait: forgotten.
    assert backoff.wait("a", 101.0 + 2 * 2.0**MAX_DOUBLINGS + 1, 3, 1.0) == 0.0
    assert "a" not in backoff.entries


def test_rate_is_a_sliding_window() -> None:
    rate = Rate()
    rate.add("a", 0.0)
    rate.add("a", 5.0)
    assert rate.wait("a", 6.0, 2, 10.0) == 4.0
    assert rate.wait("a", 6.0, 3, 10.0) == 0.0
    assert rate.wait("a", 10.5, 2, 10.0) == 0.0
    rate.cancel("a")
    assert rate.wait("a", 10.5, 1, 10.0) == 0.0


def test_the_hash_queue_is_bounded_and_a_full_queue_queues_nothing() -> None:
    hub = Hub(HubLimits(hash_queue=2))
    jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []
    hub.run_blocking = lambda job, done: jobs.append((job, done))
    answers: list[str | None] = []
    hub.accounts.verify("alice", "secret1", answers.append, address="192.0.2.1")
    hub.accounts.change_password("alice", "secret2", lambda error: None)
    with pytest.raises(ChatError) as caught:
        hub.accounts.verify("alice", "secret3", answers.append, address="192.0.2.2")
    assert caught.value.reason is Reason.TRY_LATER
    assert "try again later" in caught.value.message
    with pytest.raises(ChatError):
        hub.accounts.create("bob", "secret4", lambda error: None, address="192.0.2.3")
    assert len(jobs) == 2
    job, done = jobs.pop(0)
    done(job())
    assert answers == [None]
    assert hub.accounts.hashing == 1
    hub.accounts.verify("alice", "secret3", answers.append, address="192.0.2.2")
    assert len(jobs) == 2


def test_a_hash_job_that_raises_gives_its_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub(HubLimits(hash_queue=1))
    monkeypatch.setattr("hubbub.core.accounts.verify_password", _raise)
    answers: list[str | None] = []
    hub.accounts.verify("alice", "secret1", answers.append)
    assert hub.accounts.hashing == 0
    assert answers == []  # the answer never comes (the error is logged)


def _raise(password: str, stored: str) -> bool:
    raise RuntimeError("broken")


def test_attempts_sent_together_are_not_all_checked() -> None:
    hub = Hub(HubLimits(login_failures=2))
    jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []
    hub.run_blocking = lambda job, done: jobs.append((job, done))
    for _ in range(2):
        hub.accounts.verify("alice", "guess-guess", lambda account: None, address="192.0.2.1")
    with pytest.raises(ChatError) as caught:
        hub.accounts.verify("bob", "guess-guess", lambda account: None, address="192.0.2.1")
    assert caught.value.reason is Reason.TRY_LATER
    for job, done in jobs:
        done(job())
    assert hub.accounts.failures_by_address.pending == {}
    with pytest.raises(ChatError):
        hub.accounts.verify("bob", "guess-guess", lambda account: None, address="192.0.2.1")
    # Another address, another account: checked.
    hub.accounts.verify("carol", "guess-guess", lambda account: None, address="192.0.2.2")
    assert len(jobs) == 3
