"""The IRC client protocol (RFC 1459/2812, modern.ircdocs.horse, IRCv3), sans-I/O."""

from . import commands
from .options import IrcOptions
from .session import IrcSession

__all__ = ["IrcOptions", "IrcSession", "commands"]
