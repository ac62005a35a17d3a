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


# -- pastes (plain-text sessions) ----------------------------------------------------------------------------

PASTE_LIMITS = FloodLimits(lines=4.0, burst=20, bytes=1e6, byte_burst=1e6, kill=20.0, paste=200)


def test_the_paste_setting_comes_from_the_configuration() -> None:
    limits = FloodLimits.from_config(Config(flood_paste=50))
    assert limits is not None and limits.paste == 50
    assert FloodLimits.from_config(Config()) == FloodLimits()  # 200 lines by default


def test_only_a_connection_where_a_person_types_gets_the_paste_allowance() -> None:
    irc = Flood(PASTE_LIMITS)
    assert irc.allowance == 0.0 and irc.limit == 20.0
    plain = Flood(PASTE_LIMITS, paste=True)
    assert plain.allowance == pytest.approx(50.0)  # 200 lines at 4 a second
    assert plain.limit == pytest.approx(70.0)
    plain.allow_paste(False)  # the session changed (protocol detection)
    assert plain.limit == 20.0
    assert Flood(FloodLimits(paste=0), paste=True).limit == FloodLimits().kill


def test_a_200_line_paste_is_within_the_allowance_and_passes_in_order() -> None:
    flood = Flood(PASTE_LIMITS, paste=True)
    data = lines(0, 200, width=3)
    assert not flood.take(data, 0.0)
    lag = flood.hold(data, 0.0)
    assert lag == pytest.approx(45.0)  # 180 lines over the burst at 4 a second...
    assert lag < flood.allowance < flood.limit  # ...no warning, no disconnection
    assert flood.queued(0.0) == 180
    passed, done = drain(flood, 0.0)
    assert passed == data
    assert done == pytest.approx(45.0)
    # The same paste from an IRC client is 45 seconds behind: past the kill threshold.
    irc = Flood(PASTE_LIMITS)
    assert irc.hold(data, 0.0) > irc.limit


def test_a_paste_past_the_allowance_is_warned_and_far_past_it_disconnected() -> None:
    flood = Flood(PASTE_LIMITS, paste=True)
    warned = flood.hold(lines(0, 260), 0.0)  # 60 seconds: past the allowance, within the limit
    assert flood.allowance < warned < flood.limit
    flood = Flood(PASTE_LIMITS, paste=True)
    assert flood.hold(lines(0, 400), 0.0) > flood.limit  # 95 seconds


def test_a_burst_is_told_once_and_the_next_one_again_once_the_budget_is_back() -> None:
    flood = Flood(PASTE_LIMITS, paste=True)
    flood.hold(lines(0, 100), 0.0)
    flood.noticed = flood.warned = True  # what the connection does on telling the session
    _, done = drain(flood, 0.0)
    # The rest of a paste longer than one read comes at once: the budget is empty, the same burst.
    flood.hold(lines(100, 100), done)
    assert flood.noticed and flood.warned
    _, done = drain(flood, done)
    # Seconds later the client is back within its budget (half a burst at least): a new burst.
    flood.hold(lines(0, 50), done + 2.5)
    assert not flood.noticed and not flood.warned
