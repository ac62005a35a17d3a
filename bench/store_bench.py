"""Store throughput: persisted messages per second through the real path.

Room messages of about 60 bytes are appended on a running event loop in bursts (as a busy chat server would,
``--burst`` per loop turn), then the clock stops when ``when_durable`` reports everything committed. For
SQLite that includes the writer thread's group commits and FTS5 indexing. Run from the repository root:

    .venv/bin/python bench/store_bench.py [--count 200000] [--burst 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from hubbub.store import MemoryStore, Store, StoredMessage
from hubbub.store.sqlite import SqliteStore

_TEXT = (
    "the a to and of in is it you that he was for on are with as his they be at one have this from or "
    "had by hot word but what some we can out other were all there when up use your how said an each she "
    "which do their time if will way about many then them write would like so these her long make thing "
    "see him two"
)
WORDS = _TEXT.split()


def make_messages(count: int, rooms: int) -> list[StoredMessage]:
    """Messages as the hub would build them: a per-process msgid prefix and a counter, ~60-byte texts."""
    rng = random.Random(1)
    prefix = os.urandom(6).hex()
    now = time.time()
    out = []
    for i in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < 60:
            words.append(rng.choice(WORDS))
        room = f"#room{i % rooms}"
        out.append(
            StoredMessage(
                0,
                f"{prefix}{i + 1:x}",
                now + i * 1e-4,
                room,
                room,
                "nick!user@host",
                None,
                "PRIVMSG",
                " ".join(words),
            )
        )
    return out


async def feed(store: Store, messages: list[StoredMessage], burst: int) -> float:
    """Append ``messages`` ``burst`` per loop turn; return the seconds until all are durable."""
    loop = asyncio.get_running_loop()
    store.start(loop)
    done = loop.create_future()
    append = store.append
    started = time.perf_counter()
    for i in range(0, len(messages), burst):
        for msg in messages[i : i + burst]:
            append(msg)
        await asyncio.sleep(0)
    store.when_durable(lambda: done.set_result(time.perf_counter()))
    finished: float = await done
    return finished - started


def run(name: str, store: Store, messages: list[StoredMessage], burst: int) -> None:
    elapsed = asyncio.run(feed(store, messages, burst))
    closing = time.perf_counter()
    store.close()
    closed = time.perf_counter() - closing
    rate = len(messages) / elapsed
    print(f"{name:<18} {rate:>10,.0f} msgs/s  ({len(messages):,} in {elapsed:.2f} s; close {closed:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200_000, help="messages to append (default 200000)")
    parser.add_argument("--burst", type=int, default=1000, help="messages per loop turn (default 1000)")
    parser.add_argument(
        "--rooms", type=int, default=50, help="rooms the messages are spread over (default 50)"
    )
    parser.add_argument("--db", help="SQLite file to write (default: a fresh file in a temporary directory)")
    args = parser.parse_args()

    messages = make_messages(args.count, args.rooms)
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-") as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.sqlite3"
        run("SqliteStore + FTS5", SqliteStore(path), messages, args.burst)
        size = path.stat().st_size
        print(f"{'':<18} database {size / 1e6:.1f} MB, {size / args.count:.0f} bytes per message")
    run("MemoryStore", MemoryStore(), messages, args.burst)


if __name__ == "__main__":
    main()
