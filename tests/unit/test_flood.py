"""Flood control's buckets and held input (net.flood), on a clock the tests move: no loop, no waiting."""

from __future__ import annotations

import pytest

from hubbub.config import Config
from hubbub.net.flood import BYTE_BURST_FACTOR, MIN_WAIT, SCAN_PER_LINE, Bucket, Flood, FloodLimits


def lines(first: int, count: int, width: int = 0) -> bytes:
    return b"".join(f"{i:0{width}d}\n".encode() for i in range(first, first + count))


def drain(flood: Flood, now: float) -> tuple[bytes, float]:
    """Release everything held, following the waits the flood asks for; (what passed, when it was done)."""
    passed = b""
    while True:
        out, wait = flood.release(now)
        passed += out
        if not wait:
            return passed, now
        assert wait >= MIN_WAIT
        now += wait


def test_limits_from_the_configuration() -> None:
    assert FloodLimits.from_config(Config(flood_control=False)) is None
    limits = FloodLimits.from_config(Config(flood_lines=2.5, flood_burst=7, flood_bytes=1000, flood_kill=3.0))
    assert limits == FloodLimits(
        lines=2.5, burst=7, bytes=1000.0, byte_burst=BYTE_BURST_FACTOR * 1000.0, kill=3.0
    )


def test_a_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    bucket = Bucket(rate=2.0, capacity=4.0)
    assert bucket.room(0.0) == 4.0
    assert bucket.behind(4, 0.0) == 0.0
    bucket.take(4, 0.0)
    assert bucket.room(0.0) == 0.0
    assert bucket.behind(1, 0.0) == pytest.approx(0.5)  # one token comes back in half a second
    assert bucket.room(1.0) == pytest.approx(2.0)
    assert bucket.room(100.0) == 4.0  # never more than the capacity
    with pytest.raises(ValueError):
        Bucket(rate=0.0, capacity=1.0)


def test_input_within_the_budget_passes_at_once() -> None:
    flood = Flood(FloodLimits(lines=4.0, burst=5, bytes=1000.0, byte_burst=8000.0, kill=10.0))
    assert flood.take(lines(0, 5), 0.0)
    assert not flood.take(b"one more\n", 0.0)  # the burst is spent; nothing was charged
    assert flood.take(b"one more\n", 0.25)  # a quarter of a second later, one line is allowed
    assert flood.take(b"a partial line without its end", 0.25)  # costs bytes, not a line


def test_a_burst_over_the_budget_is_delayed_not_dropped() -> None:
    limits = FloodLimits(lines=10.0, burst=5, bytes=1e6, byte_burst=1e6, kill=10.0)
    flood = Flood(limits)
    data = lines(0, 25, width=3)
    assert not flood.take(data, 0.0)
    assert flood.hold(data, 0.0) == pytest.approx((25 - 5) / 10.0)
    first, wait = flood.release(0.0)
    # The burst passes at once (with the start of the next line, which costs no line)...
    assert first == lines(0, 5, width=3) + b"005"
    assert wait == pytest.approx(0.1)  # ...then one line every tenth of a second
    second, wait = flood.release(0.1)
    assert second == b"\n006"
    rest, done = drain(flood, 0.1 + wait)
    assert first + second + rest == data  # everything, in order
    assert done == pytest.approx(2.0)  # 20 lines over the burst at 10 per second
    assert not flood.held
    assert flood.take(b"x\n", done + 0.1)  # and the client is back within its budget


def test_a_line_split_across_releases_keeps_its_bytes_in_order() -> None:
    flood = Flood(FloodLimits(lines=1.0, burst=1, bytes=1e6, byte_burst=1e6, kill=10.0))
    data = b"first\nsecond half-\nthird\n"
    assert not flood.take(data, 0.0)
    flood.hold(data, 0.0)
    out, wait = flood.release(0.0)
    # Up to the newline that does not fit: the start of a line costs no line.
    assert out == b"first\nsecond half-"
    assert wait == pytest.approx(1.0)
    rest, _ = drain(flood, wait)
    assert out + rest == data


def test_the_byte_budget_slows_long_lines() -> None:
    flood = Flood(FloodLimits(lines=100.0, burst=100, bytes=1000.0, byte_burst=2000.0, kill=10.0))
    data = (b"x" * 999 + b"\n") * 6  # 6000 bytes: 2000 at once, then 1000 a second
    assert not flood.take(data, 0.0)
    assert flood.hold(data, 0.0) == pytest.approx(4.0)
    out, wait = flood.release(0.0)
    assert len(out) == 2000
    assert wait > 0
    rest, done = drain(flood, wait)
    assert out + rest == data
    assert done == pytest.approx(4.0, abs=0.6)


def test_lag_past_the_kill_threshold() -> None:
    flood = Flood(FloodLimits(lines=4.0, burst=20, bytes=1e6, byte_burst=1e6, kill=20.0))
    assert flood.lag(0.0) == 0.0
    # 100 lines: 80 over the burst, 20 seconds behind at 4 a second: still tolerated.
    assert flood.hold(lines(0, 100), 0.0) == pytest.approx(20.0)
    flood.release(0.0)
    # More while the rest waits: the client falls further behind.
    assert flood.hold(b"x\n", 0.0) == pytest.approx(20.25)


def test_a_persistent_flood_falls_behind_and_a_slow_one_does_not() -> None:
    limits = FloodLimits(lines=4.0, burst=20, bytes=1e6, byte_burst=1e6, kill=20.0)
    steady = Flood(limits)
    now = 0.0
    for _ in range(200):  # four lines a second forever: always within the budget
        assert steady.take(b"a\nb\nc\nd\n", now)
        now += 1.0
    flood = Flood(limits)
    now, lag = 0.0, 0.0
    while lag <= limits.kill and now < 100:  # forty lines a second: ten times the budget
        chunk = lines(0, 40)
        if flood.take(chunk, now):
            lag = 0.0
        else:
            lag = flood.hold(chunk, now)
            flood.release(now)
        now += 1.0
    assert lag > limits.kill
    assert now <= 3.0  # caught in the third second, 80 lines over a burst of 20


def test_what_release_returns_when_nothing_is_held() -> None:
    flood = Flood(FloodLimits())
    assert flood.release(0.0) == (b"", 0.0)


def test_history_rows_are_charged_as_lines() -> None:
    limits = FloodLimits(lines=4.0, burst=20, bytes=1e6, byte_burst=1e6, kill=20.0, history_rows=100)
    flood = Flood(limits)
    flood.charge_history(0, 0.0)
    assert flood.take(lines(0, 20), 0.0)  # nothing charged: the whole burst is there
    flood = Flood(limits)
    flood.charge_history(1000, 0.0)  # ten lines' worth
    assert flood.take(lines(0, 10), 0.0)
    assert not flood.take(b"x\n", 0.0)
    assert flood.take(b"x\n", 0.25)  # a line refills in a quarter of a second
    # a loop of big queries falls behind like a flood and reaches the kill threshold
    now = 1.0
    while flood.lag(now) <= limits.kill and now < 100:
        flood.charge_history(1000, now)
        flood.hold(b"CHATHISTORY LATEST #room * 1000\n", now)
        now += 0.1
    assert flood.lag(now) > limits.kill and now < 10


def test_rooms_a_listing_goes_through_are_charged_as_lines() -> None:
    limits = FloodLimits(lines=4.0, burst=20, bytes=1e6, byte_burst=1e6, kill=20.0, history_rows=100)
    flood = Flood(limits)
    flood.charge_scan(10 * SCAN_PER_LINE, 0.0)  # a LIST over that many rooms: ten lines' worth
    assert flood.take(lines(0, 10), 0.0)
    assert not flood.take(b"x\n", 0.0)
