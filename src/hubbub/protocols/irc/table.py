"""The declarative command table: verb -> handler, minimum parameters, who may run it.

Handlers live in :mod:`.commands` modules and register themselves with :func:`command`; the session's
dispatcher (:meth:`IrcSession.dispatch <.session.IrcSession.dispatch>`) checks what a command declares, once,
in this order, and sends the standard error for the first that fails:

1. the verb is known (421 ERR_UNKNOWNCOMMAND; 451 before registration);
2. the client has registered, unless the command is ``pre_registration`` (451 ERR_NOTREGISTERED);
3. at least ``min_params`` parameters, the first one not empty (461 ERR_NEEDMOREPARAMS);
4. the user is a server operator, when the command is ``oper`` (481 ERR_NOPRIVILEGES).

A registered-only handler is called as ``handler(session, user, msg)`` with the session's :class:`User`, never
None; a ``pre_registration`` handler as ``handler(session, msg)``, and reads ``session.user`` itself. Every
command's help text is its handler's docstring (HELP shows it; a unit test checks that none is missing).

Adding a command: write the handler in a module of :mod:`.commands` (a new module is added to its
``__init__``), decorate it with ``@command("VERB", min_params=..., oper=...)``, and give it a docstring whose
first line is its usage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from ...core.model import User
    from ...wire.irc import Message
    from .session import IrcSession

__all__ = ["COMMANDS", "Command", "Handler", "OpenHandler", "command"]

#: A command of a registered client: it gets the session's user.
Handler = Callable[["IrcSession", "User", "Message"], None]
#: A command allowed before registration: the session may have no user yet.
OpenHandler = Callable[["IrcSession", "Message"], None]

NOT_OPER = "Permission Denied- You're not an IRC operator"


@dataclass(frozen=True, slots=True)
class Command:
    verb: str
    #: Set for a registered-only command, ``open`` for one allowed before registration: exactly one of them.
    handler: Handler | None
    open: OpenHandler | None
    min_params: int = 0
    oper: bool = False
    help: str = ""

    @property
    def pre_registration(self) -> bool:
        return self.open is not None


COMMANDS: dict[str, Command] = {}


def _help(handler: Callable[..., None]) -> str:
    return (handler.__doc__ or "").strip()


@overload
def command(
    verb: str, *, min_params: int = 0, oper: bool = False, pre_registration: Literal[False] = False
) -> Callable[[Handler], Handler]: ...


@overload
def command(
    verb: str, *, min_params: int = 0, pre_registration: Literal[True]
) -> Callable[[OpenHandler], OpenHandler]: ...


def command(
    verb: str, *, min_params: int = 0, oper: bool = False, pre_registration: bool = False
) -> Callable[[Handler], Handler] | Callable[[OpenHandler], OpenHandler]:
    """Register the decorated function as the handler of ``verb`` (see the module docstring)."""
    if pre_registration:

        def register_open(handler: OpenHandler) -> OpenHandler:
            COMMANDS[verb] = Command(verb, None, handler, min_params, False, _help(handler))
            return handler

        return register_open

    def register(handler: Handler) -> Handler:
        COMMANDS[verb] = Command(verb, handler, None, min_params, oper, _help(handler))
        return handler

    return register
