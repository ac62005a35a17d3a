"""IRC command handlers; importing this package fills the command table."""

from . import (
    accounts,
    channel_ops,
    channels,
    gateways,
    history,
    info,
    messaging,
    modes,
    operators,
    queries,
    registration,
    services,
)

__all__ = [
    "accounts",
    "channel_ops",
    "channels",
    "gateways",
    "history",
    "info",
    "messaging",
    "modes",
    "operators",
    "queries",
    "registration",
    "services",
]
