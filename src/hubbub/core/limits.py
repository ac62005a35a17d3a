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
    #: Rooms one LIST or /rooms answer shows.
    list_rooms: int = 1000
    whowas: int = 1000
    guest_prefix: str = "guest-"
    #: The server's name: nobody may take it as a nickname (see nicks.RESERVED_NICKS).
    server_name: str = "hubbub"
    #: Seconds someone may use a registered nickname before logging in to it, before being renamed.
    nick_grace: float = 30.0
    #: Seconds a registered nickname stays held for its owner after someone was renamed away from it (only
    #: a user logged in to its account may take it meanwhile).
    nick_hold: float = 300.0
    #: Failed logins (per address, per account) allowed before each further attempt must wait.
    login_failures: int = 3
    #: Seconds the first wait lasts after ``login_failures`` failures; it doubles after each further failure.
    login_backoff: float = 2.0
    #: Password hashes (logins, registrations, password changes) running or queued at once; beyond it,
    #: "try again later".
    hash_queue: int = 16
    #: Accounts one address may register in ``register_window`` seconds (0: no limit).
    register_per_address: int = 3
    #: Accounts the whole server may register in ``register_window`` seconds (0: no limit).
    register_global: int = 100
    register_window: float = 600.0
    #: Seconds after which an account nobody logged in to is removed (0: never; see core.expiry).
    account_expire: float = 0.0
    #: Seconds after leaving a room during which coming back replays only what was said meanwhile (0: the
    #: whole replay every time; see core.history.Seen).
    replay_window: float = 600.0
