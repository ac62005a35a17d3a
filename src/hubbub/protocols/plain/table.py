"""The plain-text command table: verbs and aliases -> handler, usage, help text, section, operators only.

A command is a function ``(session, user, argument)`` decorated with :func:`command`; the session's
dispatcher (``PlainSession._command``) looks the verb up, refuses an operator-only command to a user who is
not a server operator (``! You are not a server operator: ...``), and calls the handler with the session's
user, never None. A :class:`ChatError` it raises becomes an ``! error`` line.

``/help`` is generated from this table (:func:`help_text`): sections in the order of :data:`SECTIONS`, in
each the commands in the order they were declared, one entry per usage line, its text the matching paragraph
of the handler's docstring (paragraphs are separated by a blank line)::

    @command("history", usage=("/history [N]", "/history NICK [N]"), section=HISTORY)
    def cmd_history(session: PlainSession, user: User, arg: str) -> None:
        \"\"\"the last N lines of this room (default 20, at most 500)

        your private conversation with NICK\"\"\"

One verb can hold several commands told apart by their argument (``when=``): ``/register #room`` is not
``/register PASSWORD``.

Adding a command: write such a function in :mod:`.session`, :mod:`.accounts`, :mod:`.history` or
:mod:`.operators` (a new module is imported by :mod:`.session`), with ``oper=True`` if only server operators
may run it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core.model import User
    from .session import PlainSession

__all__ = ["COMMANDS", "NOT_OPER", "SECTIONS", "Command", "Handler", "command", "command_help", "help_text"]

Handler = Callable[["PlainSession", "User", str], None]

GENERAL = "Commands"
ROOMS = "Rooms"
PEOPLE = "People and the server"
HISTORY = "History (times are UTC)"
ACCOUNTS = "Accounts"
OPERATORS = "Operators"
#: The sections of /help, in order.
SECTIONS = (GENERAL, ROOMS, PEOPLE, HISTORY, ACCOUNTS, OPERATORS)

#: The lines that end /help.
FOOTER = (
    "A password has 6 to 300 characters, no spaces, and does not start with #.",
    "A line that starts with / is a command; start it with // to say it as text.",
)

NOT_OPER = "You are not a server operator: /oper NAME PASSWORD first"

#: Where a usage's text starts in /help; a longer usage gets a line of its own.
HELP_COLUMN = 26


@dataclass(frozen=True, slots=True)
class Command:
    verbs: tuple[str, ...]
    handler: Handler
    usage: tuple[str, ...]
    help: str
    section: str
    oper: bool = False
    #: Other commands under the same verb, chosen by how the argument starts (``/register #room``).
    forms: dict[str, Command] = field(default_factory=dict)

    def form(self, arg: str) -> Command:
        """The command that runs ``arg``: this one, or the form its argument's start selects."""
        for prefix, other in self.forms.items():
            if arg.startswith(prefix):
                return other
        return self

    def entries(self) -> list[tuple[str, list[str]]]:
        """(usage, lines of text) for each usage, the text from the docstring's paragraphs."""
        paragraphs = self.help.split("\n\n")
        return [(usage, paragraphs[i].splitlines()) for i, usage in enumerate(self.usage)]


#: Every verb and alias (lower case) -> its command.
COMMANDS: dict[str, Command] = {}
#: The commands in the order they were declared.
DECLARED: list[Command] = []


def command(
    *verbs: str, usage: str | tuple[str, ...], section: str, oper: bool = False, when: str = ""
) -> Callable[[Handler], Handler]:
    """Declare the decorated function as the command ``/verbs[0]``, the other verbs its aliases; with
    ``when``, as the form of the already declared ``/verbs[0]`` that runs an argument starting with it."""
    usages = (usage,) if isinstance(usage, str) else usage
    if section not in SECTIONS:
        raise ValueError(f"unknown /help section {section!r}")

    def register(handler: Handler) -> Handler:
        text = inspect.cleandoc(handler.__doc__ or "")
        spec = Command(verbs, handler, usages, text, section, oper)
        if len(text.split("\n\n")) != len(usages):
            raise ValueError(f"/{verbs[0]}: one docstring paragraph per usage line is needed")
        if when:
            COMMANDS[verbs[0]].forms[when] = spec
            DECLARED.append(spec)
            return handler
        for verb in verbs:
            if verb in COMMANDS:
                raise ValueError(f"/{verb} is declared twice")
            COMMANDS[verb] = spec
        DECLARED.append(spec)
        return handler

    return register


def _entry_lines(spec: Command) -> list[str]:
    """The lines of /help for ``spec``: each usage, then its text from :data:`HELP_COLUMN` on."""
    lines: list[str] = []
    indent = " " * HELP_COLUMN
    for usage, text in spec.entries():
        head = "  " + usage
        if len(head) + 2 <= HELP_COLUMN:
            lines.append(head.ljust(HELP_COLUMN) + text[0])
        else:
            lines.append(head)
            lines.append(indent + text[0])
        lines.extend(indent + more for more in text[1:])
    return lines


def help_text() -> str:
    """The text of /help, from the table (lines separated by ``\\n``)."""
    lines: list[str] = []
    for section in SECTIONS:
        lines.append(section + ":")
        for spec in DECLARED:
            if spec.section == section:
                lines.extend(_entry_lines(spec))
    lines.extend(FOOTER)
    return "\n".join(lines)


def command_help(verb: str) -> list[str] | None:
    """The lines of ``/help VERB`` (``verb`` with or without its ``/``): the command's entries in /help, its
    other forms' and its aliases; ``None`` for no such command."""
    spec = COMMANDS.get(verb.removeprefix("/").lower())
    if spec is None:
        return None
    lines = _entry_lines(spec)
    for form in spec.forms.values():
        lines.extend(_entry_lines(form))
    if len(spec.verbs) > 1:
        lines.append("  also: " + ", ".join("/" + alias for alias in spec.verbs[1:]))
    if spec.oper:
        lines.append("  (server operators only)")
    return lines
