#!/usr/bin/env python3
"""Why hubbub's WebSocket uses the websockets library: a micro-benchmark of the two sans-I/O RFC 6455
libraries on what a server does most, framing one IRC line out and parsing masked client frames in, and of
what an idle connection's protocol object costs.

    pip install wsproto            # websockets is a dependency of hubbub; wsproto is only for this comparison
    python bench/ws_libraries.py   # prints microseconds per frame and bytes per idle connection

Both run in this one process, one after the other, so their ratio holds on a noisy machine.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

LINE = b":alice!~alice@127.0.0.1 PRIVMSG #lobby :" + b"x" * 60
N = 100_000
READ = 65536
HANDSHAKE = (
    b"GET /socket HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def timed(label: str, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    per_frame = (time.perf_counter() - start) / N * 1e6
    print(f"  {label:<44} {per_frame:6.2f} us/frame")
    return per_frame


def websockets_opened() -> ServerProtocol:
    protocol = ServerProtocol(max_size=8192)
    protocol.receive_data(HANDSHAKE)
    (request,) = protocol.events_received()
    protocol.send_response(protocol.accept(request))  # type: ignore[arg-type]
    protocol.data_to_send()
    return protocol


def main() -> None:
    client_frames = b"".join(Frame(Opcode.TEXT, LINE).serialize(mask=True, extensions=[]) for _ in range(N))
    results: dict[str, dict[str, float]] = {}

    def ws_encode() -> None:
        for _ in range(N):
            Frame(Opcode.TEXT, LINE).serialize(mask=False, extensions=[])

    def ws_decode() -> None:
        protocol = websockets_opened()
        count = 0
        for i in range(0, len(client_frames), READ):
            protocol.receive_data(client_frames[i : i + READ])
            count += len(protocol.events_received())
        assert count == N

    print("websockets (sans-I/O ServerProtocol)")
    results["websockets"] = {"encode": timed("encode (Frame.serialize)", ws_encode)}
    results["websockets"]["decode"] = timed("decode (ServerProtocol.receive_data)", ws_decode)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [websockets_opened() for _ in range(1000)]
    results["websockets"]["idle"] = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    tracemalloc.stop()
    print(f"  {'an idle open connection':<44} {results['websockets']['idle']:6.0f} bytes")

    try:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, Message, Request
    except ImportError:
        print("wsproto: not installed (pip install wsproto) - nothing to compare")
        return

    def wsproto_opened() -> WSConnection:
        connection = WSConnection(ConnectionType.SERVER)
        connection.receive_data(HANDSHAKE)
        for event in connection.events():
            assert isinstance(event, Request)
        connection.send(AcceptConnection())
        return connection

    def wp_encode() -> None:
        connection = wsproto_opened()
        text = LINE.decode()
        for _ in range(N):
            connection.send(Message(data=text))

    def wp_decode() -> None:
        connection = wsproto_opened()
        count = 0
        for i in range(0, len(client_frames), READ):
            connection.receive_data(client_frames[i : i + READ])
            count += sum(1 for event in connection.events() if getattr(event, "message_finished", False))
        assert count == N

    print("wsproto (WSConnection)")
    results["wsproto"] = {"encode": timed("encode (WSConnection.send)", wp_encode)}
    results["wsproto"]["decode"] = timed("decode (WSConnection.receive_data)", wp_decode)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept2 = [wsproto_opened() for _ in range(1000)]
    results["wsproto"]["idle"] = (tracemalloc.get_traced_memory()[0] - before) / len(kept2)
    tracemalloc.stop()
    print(f"  {'an idle open connection':<44} {results['wsproto']['idle']:6.0f} bytes")
    ws, wp = results["websockets"], results["wsproto"]
    print(
        f"websockets / wsproto time: encode {ws['encode'] / wp['encode']:.2f}x, "
        f"decode {ws['decode'] / wp['decode']:.2f}x; memory {ws['idle'] / wp['idle']:.2f}x"
    )


if __name__ == "__main__":
    main()
