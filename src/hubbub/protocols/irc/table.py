"""The declarative command table: verb -> handler, minimum parameters, allowed before registration.

Handlers live in :mod:`.commands` modules and register themselves with :func:`command`; the session's
dispatcher sends the standard errors (451, 461, 421) so handlers never repeat those checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...wire.irc import Message
    from .session import IrcSession

__all__ = ["COMMANDS", "Command", "command"]

Handler = Callable[["IrcSession", "Message"], None]


@dataclass(frozen=True, slots=True)
class Command:
    verb: str
    handler: Handler
    min_params: int = 0
    pre_registration: bool = False
    help: str = ""


COMMANDS: dict[str, Command] = {}


def command(
    verb: str, *, min_params: int = 0, pre_registration: bool = False
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[verb] = Command(verb, handler, min_params, pre_registration, (handler.__doc__ or "").strip())
        return handler

    return register
