"""Several hubbub nodes acting as one server, through Redis/Valkey (``--redis``).

Each node keeps a mirror of the other nodes' users in its hub (``User.node`` names their node), so NAMES,
WHO, WHOIS, LIST and the nickname checks read local memory. What a local user does is published; what the
other nodes publish is applied to the mirror and delivered to the local clients concerned:

- ``<cluster>:ctl``, the control channel every node subscribes to: users arriving and leaving, nickname
  changes, joins and parts, topics and modes, heartbeats, K-lines, accounts and registered rooms;
- ``<cluster>:room:<room>``, one channel per room, subscribed while the room has local members: its messages;
- ``<cluster>:user:<node>:<id>``, one channel per local user: private messages, invitations and kills.

Nicknames are claimed atomically in Redis (``<cluster>:nick:<nick>`` names the node), and a claim held by a
node whose lease (``<cluster>:node:<node>``, renewed by its heartbeat) has run out counts for nothing. Each
node also keeps its users in ``<cluster>:users:<node>``, which the others read when it (re)joins. History is
shared through a Redis stream that every node copies into its own store (see :mod:`.replica`).

``node`` (what goes out and comes in) and ``mirror`` (the other nodes' users) are the Redis-free logic;
``redis`` is the transport and ``subscriber`` its pub/sub reader; ``replica`` keeps the store in step. The
package is imported only with ``--redis``.
"""
