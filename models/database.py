"""Engine, sessions and the per-dialect settings that make SQLite and PostgreSQL behave alike."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.sqlite_functions import register_functions

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./mentor_gateway.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A connection execution option: the transaction about to begin will write, so SQLite takes the
# write lock at BEGIN rather than failing later when a read lock cannot be upgraded.
WRITE_INTENT = "mentor_gateway_write"


@dataclass
class StatementCounter:
    """Counts SQL statements run while it is the current counter (see `count_statements`)."""

    count: int = 0


_current_counter: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "sql_statement_counter", default=None
)


@asynccontextmanager
async def count_statements() -> AsyncIterator[StatementCounter]:
    """Count every statement that code inside this block sends to the database."""
    counter = StatementCounter()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


def _count_statement(*_: Any) -> None:
    counter = _current_counter.get()
    if counter is not None:
        counter.count += 1


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite's own
        # implicit BEGIN cannot take the write lock up front).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@dataclass
class Database:
    """The engine and session factory for one database URL."""

    url: str
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        options: dict[str, Any] = {}
        if not is_sqlite(self.url):
            options.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine = create_async_engine(self.url, **options)
        if is_sqlite(self.url):
            _configure_sqlite(self.engine)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _count_statement)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def begin_write(session: AsyncSession) -> None:
    """Open the session's transaction as a write transaction (SQLite: BEGIN IMMEDIATE)."""
    await session.connection(execution_options={WRITE_INTENT: True})


async def take_transaction_lock(session: AsyncSession, key: int) -> None:
    """Serialise transactions that share `key` (SQLite's write lock already does this)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
