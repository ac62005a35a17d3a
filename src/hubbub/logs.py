"""Logging: one line per event on standard error, as text or as JSON lines (``--log-format``).

Text: ``2026-11-29 09:36:12,345 INFO hubbub.net: #12 connected from 203.0.113.5:51234 (plain text)``.
JSON: one object per line, ``{"time": "2026-11-29T09:36:12.345Z", "level": "info", "logger": "hubbub.net",
"message": "...", ...}`` with any ``extra=`` fields of the call added as keys.

The server's log is written by a thread (``logging.handlers.QueueListener``): the event loop only hands each
record over, so that a burst of lines (thousands of connections closing at once) never waits on standard
error, nor on the thread that writes to it getting the interpreter back after each write.

Passwords are never logged. Message text (what users say) is not logged either unless ``--log-bodies`` is on:
code that would log a message's text passes it through :func:`body`, which keeps it only then.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import os
import queue
import socket
import sys
import time
from typing import IO, Any

from .config import Config

__all__ = ["JsonFormatter", "bodies_logged", "body", "configure"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: With several processes or nodes writing logs (--workers, --redis), each line says whose it is.
NODE_FORMAT = "%(asctime)s %(levelname)s [%(node)s] %(name)s: %(message)s"
#: "i/N" in a worker's environment (see hubbub.workers).
_WORKER_ENV = "HUBBUB_WORKER"

#: The attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

_handler: logging.Handler | None = None
#: The thread that writes the server's log (None when the log goes to a stream a caller gave).
_listener: logging.handlers.QueueListener | None = None
_queued: logging.Handler | None = None
_log_bodies = False


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC, ISO 8601), level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, Any] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure(config: Config, stream: IO[str] | None = None) -> None:
    """Send the log to ``stream`` (standard error) in ``config.log_format`` at ``config.log_level``.

    Called again (on a reload), it changes the format and level of the same handler in place.
    """
    global _handler, _listener, _queued, _log_bodies
    # No format here shows the caller, thread or process: not looking them up makes a record about a third
    # cheaper (a storm of disconnections logs a line each).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    if _handler is None or stream is not None:
        if _handler is not None:
            root.removeHandler(_queued or _handler)
        _stop_listener()
        _queued = None
        _handler = logging.StreamHandler(stream or sys.stderr)
        if stream is None:  # the server's own log, on standard error: written by a thread
            records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
            _queued = logging.handlers.QueueHandler(records)
            _listener = logging.handlers.QueueListener(records, _handler)
            _listener.start()
            atexit.register(_stop_listener)  # what is queued is written before the process ends
            root.addHandler(_queued)
        else:
            root.addHandler(_handler)
    node = _node_of(config)
    formatter: logging.Formatter = (
        JsonFormatter()
        if config.log_format == "json"
        else logging.Formatter(NODE_FORMAT if node else TEXT_FORMAT)
    )
    _handler.setFormatter(formatter)
    for old in list(_handler.filters):
        _handler.removeFilter(old)
    if node:
        _handler.addFilter(_NodeFilter(node))
    root.setLevel(config.log_level.upper())
    _log_bodies = config.log_bodies


def _node_of(config: Config) -> str:
    """Whose lines these are, when several write logs: a worker of ``--workers N``, or a cluster node."""
    worker = os.environ.get(_WORKER_ENV)
    if worker:
        return f"worker {worker}"
    if config.workers > 1:
        return "supervisor"
    if config.redis:
        return config.node_name or f"{socket.gethostname()}-{os.getpid()}"
    return ""


class _NodeFilter(logging.Filter):
    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def filter(self, record: logging.LogRecord) -> bool:
        record.node = self.node
        return True


def _stop_listener() -> None:
    global _listener
    listener, _listener = _listener, None
    if listener is not None:
        listener.stop()


def bodies_logged() -> bool:
    """Whether message text may be logged (``--log-bodies``)."""
    return _log_bodies


def body(text: str) -> str:
    """``text`` (what a user said) for a log line: itself with ``--log-bodies``, else only its length."""
    return text if _log_bodies else f"<{len(text)} characters>"
