"""Storage: message history, accounts, registered rooms and K-lines behind the narrow ``Store`` interface.

``open_store(":memory:")`` gives a :class:`MemoryStore`; any other spec is the path of a SQLite database,
whose module is imported only then.
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    Account,
    Bound,
    ByMsgid,
    ByTime,
    KLineRecord,
    MaskEntry,
    RoomRecord,
    Store,
    StoreClosed,
    StoredMessage,
    StoreError,
    StoreTimeout,
    UnknownMsgid,
    search_phrases,
)
from .memory import MemoryStore

__all__ = [
    "MEMORY_SPECS",
    "Account",
    "Bound",
    "ByMsgid",
    "ByTime",
    "KLineRecord",
    "MaskEntry",
    "MemoryStore",
    "RoomRecord",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreTimeout",
    "StoredMessage",
    "UnknownMsgid",
    "open_store",
    "search_phrases",
]

#: The ``--db`` values that mean "keep everything in memory".
MEMORY_SPECS = (":memory:", "memory")


def open_store(spec: str) -> Store:
    """``":memory:"`` or ``"memory"``: a MemoryStore; anything else: a SqliteStore at that path (its parent
    directories are created). Call ``start(loop)`` on the result before serving."""
    if spec in MEMORY_SPECS:
        return MemoryStore()
    from .sqlite import SqliteStore

    path = Path(spec).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)
