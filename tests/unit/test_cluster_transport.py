"""The pieces of the Redis transport that need no Redis: RESP packing, the pub/sub reader, splitting a turn
into script calls, and the history entries' encoding."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from hubbub.cluster.redis import _decode_messages, _encode_messages, _split
from hubbub.cluster.subscriber import Subscriber, pack
from hubbub.store import StoredMessage


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.paused = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        pass


def subscriber() -> tuple[Subscriber, list[bytes], list[Any], FakeTransport]:
    got: list[bytes] = []
    lost: list[Any] = []
    sub = Subscriber(got.append, lost.append)
    transport = FakeTransport()
    sub.connection_made(transport)  # type: ignore[arg-type]
    return sub, got, lost, transport


def test_pack_is_resp() -> None:
    assert pack("PUBLISH", "ch", b"\x00data") == b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\n\x00data\r\n"


def test_messages_wait_until_released_then_come_in_order_across_reads() -> None:
    sub, got, lost, _ = subscriber()
    stream = pack("subscribe", "ch", "1") + b"".join(pack("message", "ch", f"m{i}") for i in range(5))
    sub.data_received(stream[:17])
    sub.data_received(stream[17:40])
    assert got == []
    sub.release()
    sub.data_received(stream[40:])
    assert got == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    assert lost == []


def test_a_protocol_error_closes_and_reports() -> None:
    sub, _, lost, transport = subscriber()
    sub.release()
    sub.data_received(b"?what\r\n")
    assert transport.aborted and len(lost) == 1


def test_delivery_pauses_while_the_node_reads_a_snapshot() -> None:
    async def run() -> list[bytes]:
        got: list[bytes] = []
        gate = asyncio.Event()

        async def later() -> None:
            await gate.wait()
            got.append(b"snapshot")

        def deliver(data: bytes) -> Any:
            got.append(data)
            return later() if data == b"sync" else None

        sub = Subscriber(deliver, lambda exc: None)
        transport = FakeTransport()
        sub.connection_made(transport)  # type: ignore[arg-type]
        sub.release()
        sub.data_received(b"".join(pack("message", "ch", m) for m in ("a", "sync", "b")))
        assert got == [b"a", b"sync"] and transport.paused
        gate.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not transport.paused
        return got

    assert asyncio.run(run()) == [b"a", b"sync", b"snapshot", b"b"]


def test_a_turn_is_split_between_operations() -> None:
    args: list[Any] = []
    for i in range(10):
        args += ("P", "ch", f"m{i}")
        args += ("C", "k", "k", "ctl", "u")
    calls = _split(args, 16)
    assert [x for call in calls for x in call] == args
    for call in calls:
        assert call[0] in ("P", "C")
        assert len(call) <= 16 + 4


def test_history_entries_round_trip() -> None:
    msgs = [
        StoredMessage(0, "id1", 1.5, "#r", "#R", "ann!u@h", None, "PRIVMSG", "héllo", ()),
        StoredMessage(
            0, "id2", 2.5, "a:ann|n:bob", "bob", "ann!u@h", "ann", "NOTICE", "x", ("a:ann", "n:bob")
        ),
    ]
    assert _decode_messages(_encode_messages(msgs)) == msgs


def test_a_node_alone_imports_nothing_of_the_cluster_or_redis(tmp_path: Path) -> None:
    """Without --redis nothing changes: a server starts, serves and stops with no Redis code loaded."""
    code = textwrap.dedent(
        """
        import asyncio, socket, sys
        from hubbub.config import Config
        from hubbub.app import App

        async def main():
            server = App(Config(host="127.0.0.1", port=0, irc_port=None, db=":memory:"))
            await server.start()
            port = server.addresses[0][2]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.readline()
            writer.close()
            await server.shutdown()

        asyncio.run(main())
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("redis", "hiredis") or "cluster" in m)
        print(loaded)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
