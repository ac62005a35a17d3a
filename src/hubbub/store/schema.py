"""The SQLite schema, its migrations, and how hubbub opens a connection."""

from __future__ import annotations

import logging
import sqlite3
from types import TracebackType

__all__ = ["MIGRATIONS", "MetaFile", "connect", "migrate"]

log = logging.getLogger("hubbub.store")

#: Schema migrations: step ``i`` takes the database from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE
    );
    -- who takes part in each private conversation (conversation = conversations.id)
    CREATE TABLE parties (
        party TEXT NOT NULL,
        conversation INTEGER NOT NULL,
        PRIMARY KEY (party, conversation)
    ) WITHOUT ROWID;
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        conversation INTEGER NOT NULL,
        time REAL NOT NULL,
        msgid TEXT NOT NULL,
        target TEXT NOT NULL,
        sender TEXT NOT NULL,
        account TEXT,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        parties TEXT NOT NULL DEFAULT ''  -- space-separated
    );
    -- (conversation, time, seq): an index ends with the rowid, here seq
    CREATE INDEX messages_by_time ON messages (conversation, time);
    CREATE INDEX messages_by_msgid ON messages (msgid);
    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        conversation, text, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE account_settings (
        key TEXT NOT NULL,
        setting TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (key, setting)
    ) WITHOUT ROWID;
    CREATE TABLE rooms (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        founder TEXT NOT NULL,
        created REAL NOT NULL,
        topic TEXT NOT NULL,
        topic_by TEXT NOT NULL,
        topic_time REAL NOT NULL,
        modes TEXT NOT NULL,
        join_key TEXT,
        user_limit INTEGER,
        bans TEXT NOT NULL,  -- JSON lists of [mask, set_by, set_at]
        excepts TEXT NOT NULL,
        invites TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: server bans (K-lines)
    """
    CREATE TABLE klines (
        mask TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at REAL NOT NULL,
        expires REAL  -- NULL: permanent
    ) WITHOUT ROWID;
    """,
    # 3: the store's own key/value pairs (positions in a shared stream)
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 4: when each account was last logged in to (seconds since the epoch; --account-expire). The accounts
    # of an older database count as logged in to at the upgrade: none expires because of it.
    """
    ALTER TABLE accounts ADD COLUMN last_login REAL;
    UPDATE accounts SET last_login = (julianday('now') - 2440587.5) * 86400.0;
    """,
)


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal, ``synchronous=NORMAL``.
    It may be used from another thread than the one that opened it, but by one thread at a time."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=64)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_size_limit = 67108864")
    conn.execute("PRAGMA secure_delete = OFF")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date, one transaction per step; return the version."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(f"database schema version {version} is newer than this hubbub ({len(MIGRATIONS)})")
    for number in range(version, len(MIGRATIONS)):
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("store: schema migrated to version %d", number + 1)
    return len(MIGRATIONS)


class MetaFile:
    """The ``meta`` table of a SQLite database, for a process that does not serve it (the supervisor of
    ``serve --workers N``): opened (created and migrated if need be) and closed with ``with``."""

    def __init__(self, path: str) -> None:
        self.conn = connect(path)
        try:
            #: Whether this open created the database (see SqliteStore.created).
            self.created: bool = self.conn.execute("PRAGMA user_version").fetchone()[0] == 0
            migrate(self.conn)
        except BaseException:
            self.conn.close()
            raise

    def get_meta(self, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def __enter__(self) -> MetaFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.conn.close()
