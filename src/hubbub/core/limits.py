"""The hub's limits (lengths, counts, delays), from the configuration."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HubLimits"]


@dataclass(frozen=True, slots=True)
class HubLimits:
    nick_max: int = 32
    room_max: int = 64
    topic_max: int = 390
    kick_max: int = 390
    away_max: int = 390
    realname_max: int = 150
    list_max: int = 100
    rooms_per_user: int = 100
    #: Members one room may hold, whatever its modes (0: no limit).
    room_members: int = 0
    whowas: int = 1000
    guest_prefix: str = "guest-"
    #: The server's name: nobody may take it as a nickname (see nicks.RESERVED_NICKS).
    server_name: str = "hubbub"
    #: Seconds someone may use a registered nickname before logging in to it, before being renamed.
    nick_grace: float = 30.0
