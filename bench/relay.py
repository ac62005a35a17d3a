#!/usr/bin/env python3
"""The benchmark's ceiling: a bare asyncio relay that frames lines and fans them out to every other
client, coalescing each recipient's output into one write per loop turn. No names, rooms, rules or limits."""

import asyncio
import sys

clients: set["Relay"] = set()
dirty: list["Relay"] = []
scheduled = False


def flush() -> None:
    global scheduled, dirty
    scheduled = False
    batch, dirty = dirty, []
    for client in batch:
        if client.out:
            client.transport.write(b"".join(client.out))
            client.out.clear()


class Relay(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.out: list[bytes] = []
        self.pending = b""
        clients.add(self)

    def data_received(self, data: bytes) -> None:
        global scheduled
        data = self.pending + data
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        if not cut:
            return
        lines = data[:cut]
        for client in clients:
            if client is not self:
                if not client.out:
                    dirty.append(client)
                client.out.append(lines)
        if not scheduled:
            scheduled = True
            asyncio.get_running_loop().call_soon(flush)

    def connection_lost(self, exc: object) -> None:
        clients.discard(self)


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Relay, "127.0.0.1", port, backlog=4096)
    await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
