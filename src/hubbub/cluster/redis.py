"""The cluster's transport over Redis/Valkey: redis-py's asyncio client (with hiredis) for commands, and a
lean hiredis reader for pub/sub (see .subscriber).

One task sends: the operations queued during a loop turn go out together, in order, as one call of a Lua
script (``_TURN``) that publishes, claims, releases, writes the users hash and adds the turn's history to the
stream inside Redis: one command and one reply per turn rather than one per message (redis-py spends about
28 µs of CPU per command in a pipeline; the script, about 3 µs per message). The pub/sub connection hands
each message to the node. One task copies the shared history stream into the local store. A heartbeat
renews this node's lease and finds the nodes whose lease ran out.

When Redis goes away, the node carries on alone (its clients still talk to each other), warns once, and
retries; on reconnecting it claims its users' nicknames again, rewrites its users, reads every other node's
users afresh and tells the others to read its own. History entries not yet in the stream wait in a bounded
outbox meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ..store import StoredMessage
from .subscriber import Subscriber

if TYPE_CHECKING:
    from .node import ClusterNode
    from .replica import ReplicatedStore

__all__ = ["RedisTransport"]

log = logging.getLogger("hubbub.cluster")

# A loop turn's operations, in order. ARGV: node, node-key prefix, stream key, stream length, then the
# operations, each a letter and its arguments; returns the claims' results, in order. A nickname claim
# fails when a live node (one whose lease key exists) holds it.
_TURN = """
local node, node_prefix, stream, maxlen = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local claims = {}
local i = 5
local n = #ARGV
while i <= n do
  local op = ARGV[i]
  if op == 'P' then
    redis.call('PUBLISH', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif op == 'C' then
    local key, old, channel, payload = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local owner = redis.call('GET', key)
    if owner and owner ~= node and redis.call('EXISTS', node_prefix .. owner) == 1 then
      claims[#claims + 1] = 0
    else
      redis.call('SET', key, node)
      if old ~= key and redis.call('GET', old) == node then
        redis.call('DEL', old)
      end
      redis.call('PUBLISH', channel, payload)
      claims[#claims + 1] = 1
    end
    i = i + 5
  elseif op == 'R' then
    if redis.call('GET', ARGV[i + 1]) == node then
      redis.call('DEL', ARGV[i + 1])
    end
    i = i + 2
  elseif op == 'H' then
    redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'D' then
    redis.call('HDEL', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif op == 'X' then
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'n', node, 'm', ARGV[i + 1])
    i = i + 2
  elseif op == 'Y' then
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'n', node, 'm', ARGV[i + 1], 'r', '1')
    i = i + 2
  else
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
end
return claims
"""

#: Arguments per call of the script, at most (a bigger turn is sent as several calls, in order): Redis runs
#: a script to its end before anything else, so a call stays short.
TURN_ARGS = 4000

#: History entries kept for the stream while Redis is away (the oldest are dropped past this).
OUTBOX_MAX = 100_000
#: Entries read from the stream at a time.
STREAM_BATCH = 1000
#: After rejoining, history entries sent this recently are added to the stream again (marked, so that readers
#: skip those they have): Redis may have restarted empty before every node had read them.
RESEND_WINDOW = 60.0


class RedisTransport:
    def __init__(
        self,
        url: str,
        prefix: str,
        name: str,
        *,
        timeout: float = 10.0,
        stream_max: int = 1_000_000,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.name = name
        self.timeout = timeout
        self.stream_max = stream_max
        # Typed as Any: redis-py's annotations cover sync and async results at once.
        self.redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=2.0, socket_keepalive=True)
        #: The script's SHA1, loaded on each connection (Redis forgets scripts when it restarts).
        self._turn = ""
        self.node: ClusterNode | None = None
        self.store: ReplicatedStore | None = None
        self.loop = asyncio.get_running_loop()
        #: Operations queued this turn: (kind, args); claims carry their callback.
        self._ops: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._flush_scheduled = False
        #: Channels wanted (True) or not (False) since the last flush; subscribed ones.
        self._want: dict[str, bool] = {}
        self._subscribed: set[str] = set()
        #: History entries not yet added to the stream.
        self.outbox: deque[StoredMessage] = deque(maxlen=OUTBOX_MAX)
        #: History entries added to the stream lately, with when (see RESEND_WINDOW).
        self.recent: deque[tuple[float, StoredMessage]] = deque(maxlen=OUTBOX_MAX)
        self._resend: list[StoredMessage] = []
        self._fetch: set[str] = set()
        self.connected = False
        #: Connecting: operations queued meanwhile (our claims) wait instead of being dropped.
        self._joining = False
        self.connected_at = 0.0
        self._sub: Subscriber | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self.node_key = f"{prefix}:node:"
        self.users_key = f"{prefix}:users:"
        self.nodes_key = f"{prefix}:nodes"
        self.stream_key = f"{prefix}:history"
        #: Counters (metrics, benchmark).
        self.sent_batches = 0
        self.errors = 0

    def key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    # -- queueing (called by the node, on the loop) ----------------------------------------------------------

    def _queue(self, op: tuple[Any, ...]) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)
        self._ops.append(op)

    def publish(self, channel: str, payload: bytes) -> None:
        ops = self._ops
        if ops:
            last = ops[-1]
            if last[0] == "pub" and last[1] == channel:
                # Consecutive messages to one channel go out as one (a JSON array of them): in order still.
                last[2].append(payload)
                self._soon()
                return
        self._queue(("pub", channel, [payload]))

    def claim(
        self, key: str, old: str | None, channel: str, payload: bytes, done: Callable[[bool], None]
    ) -> None:
        self._queue(("claim", self.key("nick", key), self.key("nick", old or key), channel, payload, done))

    def release(self, key: str) -> None:
        self._queue(("release", self.key("nick", key)))

    def save_user(self, uid: int, snapshot: bytes) -> None:
        self._queue(("hset", self.users_key + self.name, str(uid), snapshot))

    def drop_user(self, uid: int) -> None:
        self._queue(("hdel", self.users_key + self.name, str(uid)))

    def shared_put(self, table: str, field: str, value: bytes) -> None:
        self._queue(("hset", self.key("shared", table), field, value))

    def shared_drop(self, table: str, field: str) -> None:
        self._queue(("hdel", self.key("shared", table), field))

    def history(self, msg: StoredMessage) -> None:
        self.outbox.append(msg)
        self._soon()

    def subscribe(self, channel: str) -> None:
        self._want[channel] = True
        self._soon()

    def unsubscribe(self, channel: str) -> None:
        self._want[channel] = False
        self._soon()

    def _soon(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        """The end of a loop turn that queued something: the node settles its subscriptions, and the sender
        takes everything queued (now, or as soon as it has sent what it is sending)."""
        self._flush_scheduled = False
        if self.node is not None:
            self.node.before_flush()
        self._wake.set()

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self, node: ClusterNode, store: ReplicatedStore | None) -> None:
        """Connect (retrying in the background if Redis is not there yet) and start the tasks."""
        self.node = node
        self.store = store
        node.fetch_node = self._fetch.add
        self._tasks.append(asyncio.create_task(self._sender(), name="cluster-sender"))
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="cluster-heartbeat"))
        try:
            await self._connect()
        except (RedisError, OSError) as exc:
            self._lost(exc)

    async def _connect(self) -> None:
        self._joining = True
        try:
            await self._join()
        finally:
            self._joining = False

    async def _join(self) -> None:
        node = self.node
        assert node is not None
        redis = self.redis
        await redis.ping()
        self._turn = await redis.script_load(_TURN)
        channels = node.channels()
        self._sub = await Subscriber.open(self.url, channels, self._deliver, self._lost)
        self._subscribed = set(channels)
        self._want.clear()
        lease = int(self.timeout * 1000)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(self.node_key + self.name, json.dumps({"started": time.time()}), px=lease)
            pipe.sadd(self.nodes_key, self.name)
            pipe.delete(self.users_key + self.name)
            await pipe.execute()
        # Our users and nicknames, then every other node's users (the reader is not running yet: what they
        # publish meanwhile waits in the socket and is applied after their snapshot, idempotently).
        node.resync()
        if self.store is not None:
            self.store.resync()
            since = time.monotonic() - RESEND_WINDOW
            self._resend = [msg for when, msg in self.recent if when >= since]
        others = [n.decode() for n in await redis.smembers(self.nodes_key)]
        for other in others:
            if other != self.name:
                await self._read_node(other, complete=False)
        states = {}
        for room_key, value in (await redis.hgetall(self.key("shared", "live"))).items():
            try:
                states[room_key.decode()] = json.loads(value)
            except ValueError:
                log.warning("cluster: unreadable state of room %r", room_key)
        node.apply_rooms(states)
        self.connected = True
        self.connected_at = time.monotonic()
        for other in list(node.nodes):
            node.nodes[other] = time.monotonic()
        self._sub.release()
        if self.store is not None:
            self._tasks.append(asyncio.create_task(self._stream_reader(), name="cluster-stream"))
        self._wake.set()
        log.info("cluster: node %s joined through %s (%d other nodes)", self.name, self.url, len(node.nodes))

    async def _read_node(self, other: str, *, complete: bool = True) -> None:
        node = self.node
        assert node is not None
        if not await self.redis.exists(self.node_key + other):
            await self._reap(other)
            return
        raw = await self.redis.hgetall(self.users_key + other)
        snaps = []
        for value in raw.values():
            try:
                snaps.append(json.loads(value))
            except ValueError:
                log.warning("cluster: unreadable user of %s", other)
        node.apply_node(other, snaps, complete=complete)

    async def _reap(self, other: str) -> None:
        """Forget a dead node in Redis: its lease (its nickname claims lapse with it, now rather than when
        the lease would have run out), its users and its membership."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.node_key + other)
            pipe.delete(self.users_key + other)
            pipe.srem(self.nodes_key, other)
            await pipe.execute()

    def _lost(self, exc: BaseException | None = None) -> None:
        """Redis went away: carry on alone, reconnect in the background."""
        if self._closing:
            return
        if self.connected or self._reconnecting is None:
            log.warning(
                "cluster: lost Redis at %s (%s): delivering to this node's clients only until it is back",
                self.url,
                exc or "unreachable",
            )
        self.connected = False
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        for task in self._tasks[2:]:
            if task is not asyncio.current_task():
                task.cancel()
        del self._tasks[2:]
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect(), name="cluster-reconnect")

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                # Connections of the pool from before are dead: start afresh.
                await self.redis.connection_pool.disconnect()
                await self._connect()
                log.warning("cluster: Redis is back: node %s rejoined", self.name)
                return
            except (RedisError, OSError) as exc:
                log.debug("cluster: reconnect failed: %s", exc)
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        """Leave the cluster: tell the others, stop the tasks."""
        if self.node is not None and self.connected:
            self.node.goodbye()
            self._flush()
            try:
                await asyncio.wait_for(self._drain(), 2.0)
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.delete(self.node_key + self.name, self.users_key + self.name)
                    pipe.srem(self.nodes_key, self.name)
                    await pipe.execute()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("cluster: could not say goodbye: %s", exc)
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        try:
            if self._sub is not None:
                self._sub.close()
            await self.redis.aclose()
        except Exception:
            pass

    async def _drain(self) -> None:
        while self._ops or self._wake.is_set() or self.outbox or self._flush_scheduled:
            await asyncio.sleep(0.01)

    # -- sending --------------------------------------------------------------------------------------------

    async def _sender(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.connected:
                if not self._joining:
                    self._drop_ops()
                continue
            ops, self._ops = self._ops, []
            try:
                await self._send(ops)
            except (RedisError, OSError) as exc:
                self.errors += 1
                self._lost(exc)
            except Exception:
                log.exception("cluster: internal error sending")

    def _drop_ops(self) -> None:
        """Alone: what would have been published is dropped (the others read our users when we are back);
        a claim succeeds locally (it is checked again on reconnecting)."""
        self._ops = []
        self._want.clear()

    async def _send(self, ops: list[tuple[Any, ...]]) -> None:
        want, self._want = self._want, {}
        sub = self._sub
        if sub is None:
            raise RedisConnectionError("no pub/sub connection")
        subscribe = [c for c, on in want.items() if on and c not in self._subscribed]
        unsubscribe = [c for c, on in want.items() if not on and c in self._subscribed]
        sub.send("SUBSCRIBE", subscribe)
        self._subscribed.update(subscribe)
        sub.send("UNSUBSCRIBE", unsubscribe)
        self._subscribed.difference_update(unsubscribe)
        history = []
        while self.outbox:
            history.append(self.outbox.popleft())
        resend, self._resend = self._resend, []
        args: list[Any] = []
        claims: list[Callable[[bool], None]] = []
        for op in ops:
            kind = op[0]
            if kind == "pub":
                payloads = op[2]
                payload = payloads[0] if len(payloads) == 1 else b"[" + b",".join(payloads) + b"]"
                args += ("P", op[1], payload)
            elif kind == "claim":
                args += ("C", op[1], op[2], op[3], op[4])
                claims.append(op[5])
            elif kind == "release":
                args += ("R", op[1])
            elif kind == "hset":
                args += ("H", op[1], op[2], op[3])
            elif kind == "hdel":
                args += ("D", op[1], op[2])
        for i in range(0, len(resend), 500):
            args += ("Y", _encode_messages(resend[i : i + 500]))
        for i in range(0, len(history), 500):  # one stream entry per 500 messages at most
            args += ("X", _encode_messages(history[i : i + 500]))
        if not args:
            return
        head = (self.name, self.node_key, self.stream_key, self.stream_max)
        results: list[int] = []
        try:
            calls = _split(args, TURN_ARGS)
            if len(calls) == 1:
                results = await self.redis.evalsha(self._turn, 0, *head, *calls[0])
            else:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for call in calls:
                        pipe.evalsha(self._turn, 0, *head, *call)
                    for part in await pipe.execute():
                        results += part
        except (RedisError, OSError):
            for msg in reversed(history):
                self.outbox.appendleft(msg)
            self._resend = resend + self._resend
            raise
        self.sent_batches += 1
        now = time.monotonic()
        self.recent.extend((now, msg) for msg in history)
        for done, result in zip(claims, results, strict=False):
            try:
                done(bool(result))
            except Exception:
                log.exception("cluster: internal error after a nickname claim")

    def _deliver(self, data: bytes) -> Any:
        """One pub/sub message, to the node; an awaitable when the node asked for snapshots meanwhile."""
        node = self.node
        assert node is not None
        node.received(data)
        if self._fetch:
            return self._read_fetched()
        return None

    async def _read_fetched(self) -> None:
        while self._fetch:
            other = self._fetch.pop()
            if other != self.name:
                await self._read_node(other)

    # -- receiving ------------------------------------------------------------------------------------------

    async def _stream_reader(self) -> None:
        store = self.store
        assert store is not None
        position = store.stream_position()
        try:
            info = await self.redis.xinfo_stream(self.stream_key)
            last = info.get("last-generated-id", b"0-0")
            last = last.decode() if isinstance(last, bytes) else str(last)
            if _id_key(position) > _id_key(last):
                log.warning("cluster: the history stream was reset (Redis restarted empty): reading it anew")
                position = "0-0"
        except RedisError:
            pass  # no stream yet
        catching_up = True
        try:
            while True:
                found = await self.redis.xread(
                    # No BLOCK while catching up (BLOCK 0 would wait for ever); then wait up to 1 s at a time.
                    {self.stream_key: position},
                    count=STREAM_BATCH,
                    block=None if catching_up else 1000,
                )
                if not found:
                    catching_up = False
                    continue
                entries = found[0][1]
                for entry_id, fields in entries:
                    position = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    node = fields.get(b"n", b"").decode()
                    if node == self.name:
                        continue
                    try:
                        msgs = _decode_messages(fields[b"m"])
                    except (KeyError, ValueError, TypeError):
                        log.warning("cluster: unreadable history entry %s", position)
                        continue
                    again = b"r" in fields  # sent again after a rejoin: we may have it
                    for msg in msgs:
                        store.replicate(msg, check=catching_up or again)
                store.stream_read(position)
                if len(entries) < STREAM_BATCH:
                    catching_up = False
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            self.errors += 1
            self._lost(exc)

    # -- heartbeats -----------------------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        interval = self.timeout / 5
        lease = int(self.timeout * 1000)
        node = self.node
        assert node is not None
        while True:
            await asyncio.sleep(interval)
            if not self.connected:
                continue
            try:
                await self.redis.set(self.node_key + self.name, json.dumps({"at": time.time()}), px=lease)
            except (RedisError, OSError) as exc:
                self._lost(exc)
                continue
            node.heartbeat()
            if time.monotonic() - self.connected_at < self.timeout:
                continue  # after (re)joining, give the others time to be heard from
            for dead in node.silent_nodes(self.timeout):
                # Its lease goes first, and its users quit after: their nicknames are free in Redis before
                # they are free here (else a local user taking one at once could find it still claimed).
                try:
                    await self._reap(dead)
                except (RedisError, OSError) as exc:
                    self._lost(exc)
                    break
                node.forget_dead(dead)


def _encode_messages(msgs: list[StoredMessage]) -> bytes:
    return json.dumps(
        [
            [m.msgid, m.time, m.conversation, m.target, m.sender, m.account, m.kind, m.text, list(m.parties)]
            for m in msgs
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _decode_messages(data: bytes) -> list[StoredMessage]:
    return [
        StoredMessage(0, msgid, when, conversation, target, sender, account, kind, text, tuple(parties))
        for msgid, when, conversation, target, sender, account, kind, text, parties in json.loads(data)
    ]


def _split(args: list[Any], size: int) -> list[list[Any]]:
    """Cut a turn's arguments into calls of about ``size`` arguments, between operations."""
    if len(args) <= size:
        return [args]
    widths = {"P": 3, "C": 5, "R": 2, "H": 4, "D": 3, "X": 2, "Y": 2}
    calls: list[list[Any]] = []
    start = i = 0
    while i < len(args):
        i += widths[args[i]]
        if i - start >= size or i == len(args):
            calls.append(args[start:i])
            start = i
    return calls


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0
