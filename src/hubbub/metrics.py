"""The Prometheus endpoint (``--metrics-port``): imported only when it is configured, as it needs
prometheus-client (``pip install 'hubbub[metrics]'``).

Nothing on the hot path calls prometheus-client: the connections (hubbub.net.stats) and the hub keep plain
integer counters, and a custom collector reads them when ``/metrics`` is scraped. The endpoint is a minimal
HTTP/1.0 server on the event loop (no thread): ``GET /metrics`` gets the text exposition format, anything else
a 404.

A timer fires every :data:`LAG_INTERVAL` seconds and records how late it fired: the event loop's lag, the time
a ready callback can wait before it runs (``hubbub_loop_lag_seconds``, a histogram).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import socket
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

if TYPE_CHECKING:
    from .app import App
    from .protocols.base import Session

__all__ = ["LAG_BUCKETS", "LAG_INTERVAL", "LoopLag", "Metrics", "ServerCollector", "clients_by_protocol"]

log = logging.getLogger("hubbub.metrics")

#: Seconds between two loop-lag measurements.
LAG_INTERVAL = 0.5
#: Upper bounds of the loop-lag histogram's buckets, in seconds.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: The longest request head the endpoint reads, and the time it waits for it.
REQUEST_LIMIT = 8192
REQUEST_TIMEOUT = 5.0


class LoopLag:
    """A timer that measures how late the event loop runs it, as a histogram."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = LAG_INTERVAL) -> None:
        self.loop = loop
        self.interval = interval
        #: Measurements per bucket (the last one: over every bound), and their sum.
        self.counts = [0] * (len(LAG_BUCKETS) + 1)
        self.total = 0.0
        self._due = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._due = self.loop.time() + self.interval
        self._timer = self.loop.call_at(self._due, self._fire)

    def _fire(self) -> None:
        self.record(max(0.0, self.loop.time() - self._due))
        self.start()

    def record(self, lag: float) -> None:
        self.counts[bisect.bisect_left(LAG_BUCKETS, lag)] += 1
        self.total += lag

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative counts per upper bound, as Prometheus histograms have them."""
        out: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip((*LAG_BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return out

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def clients_by_protocol(sessions: Iterable[Session | None]) -> dict[str, int]:
    """The number of clients per ``protocol`` label: each session's declared protocol, "pending" for one not
    yet recognised (or already gone)."""
    counts = {"irc": 0, "plain": 0, "websocket": 0, "pending": 0}
    for session in sessions:
        protocol = "pending" if session is None else session.protocol
        counts[protocol if protocol in counts else "pending"] += 1
    return counts


class ServerCollector:
    """Reads the node's counters at scrape time."""

    def __init__(self, app: App, lag: LoopLag) -> None:
        self.app = app
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        app = self.app
        hub, server, stats = app.hub, app.server, app.stats
        clients = GaugeMetricFamily(
            "hubbub_clients",
            "Connected clients, by protocol (pending: not yet recognised)",
            labels=["protocol"],
        )
        by_protocol = clients_by_protocol(conn.session for conn in server.connections)
        for protocol, count in by_protocol.items():
            clients.add_metric([protocol], count)
        yield clients
        yield GaugeMetricFamily("hubbub_users", "Users with a nickname", value=len(hub.users))
        yield GaugeMetricFamily("hubbub_rooms", "Rooms", value=len(hub.rooms))
        yield CounterMetricFamily(
            "hubbub_messages_in", "Messages sent by users (to rooms and to users)", value=hub.messages_in
        )
        yield CounterMetricFamily(
            "hubbub_messages_out", "Messages delivered (one per recipient)", value=hub.messages_out
        )
        yield CounterMetricFamily("hubbub_bytes_in", "Bytes read from clients", value=stats.bytes_in)
        yield CounterMetricFamily("hubbub_bytes_out", "Bytes written to clients", value=stats.bytes_out)
        yield CounterMetricFamily(
            "hubbub_sendq_drops",
            "Clients disconnected because their send queue overflowed",
            value=stats.sendq_drops,
        )
        yield CounterMetricFamily(
            "hubbub_flood_kills", "Clients disconnected for flooding (Excess Flood)", value=stats.flood_kills
        )
        refusals = CounterMetricFamily(
            "hubbub_limit_refusals", "Connections refused by the limits, by reason", labels=["reason"]
        )
        for reason, count in server.guard.refusals.items():
            refusals.add_metric([reason], count)
        yield refusals
        yield CounterMetricFamily(
            "hubbub_history_writes", "Messages written to the history", value=hub.history_writes
        )
        yield CounterMetricFamily(
            "hubbub_accounts_expired",
            "Accounts removed because nobody logged in to them (--account-expire)",
            value=hub.accounts.expiry.expired,
        )
        node, transport = app.cluster, app.transport
        if node is not None and transport is not None:
            yield GaugeMetricFamily(
                "hubbub_cluster_connected",
                "Whether the node reaches Redis (1) or serves alone (0)",
                value=int(transport.connected),
            )
            yield GaugeMetricFamily("hubbub_cluster_nodes", "Other nodes heard from", value=len(node.nodes))
            yield GaugeMetricFamily(
                "hubbub_cluster_remote_users", "Users connected to other nodes", value=len(node.remote)
            )
            yield CounterMetricFamily(
                "hubbub_cluster_published", "Messages published to the cluster", value=node.published
            )
            yield CounterMetricFamily(
                "hubbub_cluster_received", "Messages received from the other nodes", value=node.received_count
            )
            yield GaugeMetricFamily(
                "hubbub_cluster_history_outbox",
                "History entries waiting for Redis",
                value=len(transport.outbox),
            )
            yield CounterMetricFamily(
                "hubbub_cluster_redis_errors",
                "Times the connection to Redis was lost",
                value=transport.errors,
            )
        yield HistogramMetricFamily(
            "hubbub_loop_lag_seconds",
            f"How late a timer due every {LAG_INTERVAL}s runs: the event loop's lag",
            buckets=self.lag.buckets(),
            sum_value=self.lag.total,
        )


class Metrics:
    """The endpoint: a registry with the node's collector, served over HTTP from the event loop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.lag = LoopLag(app.loop)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ServerCollector(app, self.lag))
        self.listener: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host``:``port`` (0: a free port) and start the lag timer; return the bound port."""
        self.listener = await asyncio.start_server(
            self._handle, host=host, port=port, reuse_address=True, limit=REQUEST_LIMIT
        )
        sock = self.listener.sockets[0]
        bound_host, bound = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if sock.family == socket.AF_INET6 else bound_host
        log.info("metrics on http://%s:%d/metrics", shown, bound)
        self.lag.start()
        return int(bound)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                return
            method, _, rest = head.split(b"\r\n", 1)[0].partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            if method not in (b"GET", b"HEAD"):
                status, ctype, body = "405 Method Not Allowed", "text/plain", b"only GET\n"
            elif path != b"/metrics":
                status, ctype, body = "404 Not Found", "text/plain", b"not found; try /metrics\n"
            else:
                status, ctype, body = "200 OK", CONTENT_TYPE_LATEST, self.render()
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            if method != b"HEAD":
                writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        except Exception:
            log.exception("internal error in the metrics endpoint")
        finally:
            writer.close()

    def close(self) -> None:
        self.lag.stop()
        if self.listener is not None:
            self.listener.close()
