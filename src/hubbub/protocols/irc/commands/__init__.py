"""IRC command handlers; importing this package fills the command table."""

from . import channel_ops, channels, info, messaging, modes, operators, queries, registration

__all__ = ["channel_ops", "channels", "info", "messaging", "modes", "operators", "queries", "registration"]
