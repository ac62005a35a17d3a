"""In-process costs of the cheap denial-of-service requests of issue 14 (item 6), on the loop's thread:

- a quit with MONITOR watches, while many other nicknames are watched (``--keys``);
- LIST with many masks over many rooms, and a full LIST over very many rooms.

Run from the repository root; to compare with another checkout, point ``HUBBUB_SRC`` at its ``src``:

    .venv/bin/python bench/dos_costs.py
    HUBBUB_SRC=../main/src .venv/bin/python bench/dos_costs.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("HUBBUB_SRC") or str(Path(__file__).resolve().parent.parent / "src"))

from hubbub.core.hub import Hub, HubLimits
from hubbub.core.model import User
from hubbub.protocols.irc.commands.channel_ops import ListFilter

try:
    from hubbub.core.rooms import first_rooms
except ImportError:  # a checkout from before the cap
    first_rooms = None  # type: ignore[assignment]


class _Sink:
    variant = "bench"

    def __init__(self) -> None:
        self.out: list[object] = []

    def render(self, event: object) -> bytes | None:
        return None

    def disconnect(self, reason: str) -> None:
        pass

    def send(self, data: bytes) -> None:
        pass


def _user(hub: Hub, nick: str) -> User:
    sink = _Sink()
    return hub.connect(sink, sink, nick=nick, host="192.0.2.1")  # type: ignore[arg-type]


def monitor_quits(keys: int, per_user: int, quits: int) -> None:
    hub = Hub()
    watchers = [_user(hub, f"w{i}") for i in range(keys // per_user)]
    for i, user in enumerate(watchers):
        hub.monitor.watch(user, [f"n{i}x{j}" for j in range(per_user)])
    leaving = [_user(hub, f"q{i}") for i in range(quits)]
    for user in leaving:
        hub.monitor.watch(user, [f"mine{j}" for j in range(10)])
    start = time.perf_counter()
    for user in leaving:
        hub.quit(user, "bye")
    took = time.perf_counter() - start  # a mean: each quit takes its user away
    print(
        f"quit with 10 watches, {len(hub.monitor.watchers)} other keys watched: "
        f"{took / quits * 1e3:.3f} ms per quit ({quits} quits)"
    )


def list_costs(rooms: int, masks: int, big: int, repeat: int) -> None:
    hub = Hub(HubLimits(rooms_per_user=10**9))
    owner = _user(hub, "owner")
    for i in range(max(rooms, big)):
        hub.join(owner, f"#room{i:05d}-{i % 97}")
    small = dict(list(hub.rooms.items())[:rooms])
    patterns = ",".join(f"#*{i}*x" for i in range(masks))

    def run(all_rooms: dict[str, object], params: list[str]) -> tuple[float, int]:
        saved = hub.rooms
        hub.rooms = all_rooms  # type: ignore[assignment]
        try:
            best = float("inf")
            for _ in range(repeat):  # the best of several runs: the machine is shared
                start = time.perf_counter()
                wanted = ListFilter.parse(params)
                found = [room for room in wanted.select(hub) if not wanted.is_excluded(room)]
                if first_rooms is None:  # before the cap: every room, sorted
                    shown = sorted(found, key=lambda room: room.key)
                else:
                    shown, _ = first_rooms(found, hub.limits.list_rooms)
                rows = [f":hubbub 322 me {room.name} {len(room.members)} :{room.topic}\r\n" for room in shown]
                best = min(best, time.perf_counter() - start)
            return best, sum(map(len, rows))
        finally:
            hub.rooms = saved

    took, count = run(small, [patterns])
    print(f"LIST of {masks} masks over {len(small)} rooms: {took * 1e3:.1f} ms, {count} bytes")
    took, count = run(hub.rooms, [])
    print(f"full LIST over {len(hub.rooms)} rooms: {took * 1e3:.1f} ms, {count} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--rooms", type=int, default=4_800)
    parser.add_argument("--masks", type=int, default=70)
    parser.add_argument("--big", type=int, default=40_000)
    args = parser.parse_args()
    monitor_quits(args.keys, 100, 200)
    list_costs(args.rooms, args.masks, args.big, 5)


if __name__ == "__main__":
    main()
