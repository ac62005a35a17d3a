"""The plain-text protocol: chat from netcat or telnet, one line at a time.

A plain-text user is in at most one room at a time (``#lobby`` on arrival); every line it types goes to that
room, and lines starting with ``/`` are commands (``/help`` lists them). Output lines end with CRLF so that
telnet and netcat both show them well:

====================================  ===============================================
``<alice> hello``                     a line alice said in your room
``* alice waves``                     an action (``/me waves``)
``*alice* psst``                      a private message to you (``/msg``)
``-> *bob* psst``                     your private message, as sent
``* alice joined #lobby``             room events, and answers to commands
``! No such nickname: bob``           an error: the session carries on
``[14:03] <alice> hello``             a line from history (UTC; with the date when not today)
====================================  ===============================================

Modules: :mod:`.session` (lifecycle, input, chat commands), :mod:`.table` (the command table /help is
generated from), :mod:`.accounts` (accounts and registered rooms),
:mod:`.history` (replay on joining, ``/history``, ``/search``), :mod:`.render` (events and stored messages as
lines). The session is sans-I/O: bytes in through :meth:`PlainSession.data_received`, bytes out through its
link.
"""

from .options import PlainOptions
from .session import PlainSession

__all__ = ["PlainOptions", "PlainSession"]
