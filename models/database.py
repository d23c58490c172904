"""Engine, sessions and the per-dialect settings that make SQLite and PostgreSQL behave alike."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import Column, Insert, MetaData, Select, Table, event, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from models.sqlite_functions import register_functions
from models.unreadable import decode_text

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./mentor_gateway.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A connection execution option: the transaction about to begin will write, so SQLite takes the
# write lock at BEGIN rather than failing later when a read lock cannot be upgraded.
WRITE_INTENT = "mentor_gateway_write"
# A connection execution option: at most this many ms to wait for SQLite's write lock at BEGIN
# (default SQLITE_BUSY_TIMEOUT_MS). Background work waits briefly and tries again later: a wait
# blocks the driver's thread, which a cancelled task (a shutdown) cannot stop.
BUSY_WAIT_MS = "mentor_gateway_busy_wait_ms"
_BUSY_WAIT_SET = "mentor_gateway_busy_wait_set"  # the connection's busy_timeout, in its info
# A hanging server (or route) must fail a request within a bounded time, not hold it until the
# request deadline: connecting, and (for the app, see Database.command_timeout) each statement.
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS = 5  # what a 503 for an outage tells clients (and proxies) to wait

logger = logging.getLogger("mentor_gateway.database")


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


class DatabaseUnavailable(Exception):
    """The database cannot answer now (unreachable, down, timing out, locked): retry later."""

    code = SERVICE_UNAVAILABLE
    message = "The database is unavailable; retry later."

    def __init__(self) -> None:
        super().__init__(self.message)


# PostgreSQL SQLSTATEs that say "cannot serve now", not "this statement is wrong": class 08
# (connection exceptions), admin or crash shutdown, still starting up, too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# SQLite result codes for a file that cannot be opened or read, or a lock that outlasted the
# busy timeout (sqlite3's `sqlite_errorname`; extended codes share these prefixes).
_UNAVAILABLE_SQLITE = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_IOERR")


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, what SQLAlchemy wrapped (`orig`) and what it was raised from (`__cause__`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.append(current.__cause__)
        if isinstance(current, sa_exc.DBAPIError):
            pending.append(current.orig)


def _means_unavailable(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable | sa_exc.TimeoutError):
        return True  # ours, or no pooled connection came free in time
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True  # SQLAlchemy recognised a dropped connection
    # Refused, reset, unreachable, unresolvable, timed out (a plain OSError is asyncio's
    # "Multiple exceptions" from trying every address); file errors are OSErrors too, so
    # their subclasses are left out: they are bugs, not outages.
    if (
        isinstance(error, ConnectionError | TimeoutError | socket.gaierror)
        or type(error) is OSError
    ):
        return True
    if isinstance(error, asyncpg.InterfaceError) and "connection is closed" in str(error):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    ):
        return True
    if isinstance(error, sqlite3.Error):
        return str(getattr(error, "sqlite_errorname", "")).startswith(_UNAVAILABLE_SQLITE)
    return False


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot answer now, rather than a bug or bad input."""
    return any(_means_unavailable(cause) for cause in _causes(error))


class _Outage:
    """One warning when the database stops answering and one line when it answers again, for
    the whole process: requests during an outage add nothing to the log."""

    def __init__(self) -> None:
        self.since: float | None = None

    def began(self, error: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            root = list(_causes(error))[-1]  # the driver's or the socket's own error
            reason = f"{type(root).__name__}: {root}" if str(root) else type(root).__name__
            logger.warning(
                "database unavailable (%s); answering %s until it answers again",
                reason,
                SERVICE_UNAVAILABLE,
            )

    def ended(self) -> None:
        if self.since is not None:
            lasted = time.monotonic() - self.since
            self.since = None
            logger.info("database answers again, after %.1f s unavailable", lasted)


_outage = _Outage()


def database_unavailable(error: BaseException) -> DatabaseUnavailable | None:
    """What clients get for `error` if it means the database cannot answer now (the first such
    error of an outage is logged), else None: the one place an outage is recognised."""
    if not is_unavailable(error):
        return None
    _outage.began(error)
    return error if isinstance(error, DatabaseUnavailable) else DatabaseUnavailable()


def _statement_answered(*_: Any) -> None:
    _outage.ended()  # a statement came back: whatever outage there was is over


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
        # Text that is not UTF-8 would fail the whole statement (models.unreadable).
        dbapi_connection.driver_connection.text_factory = decode_text

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # Only a connection whose timeout differs pays a PRAGMA (rare: background work).
        wait_ms = int(options.get(BUSY_WAIT_MS, SQLITE_BUSY_TIMEOUT_MS))
        if connection.info.get(_BUSY_WAIT_SET, SQLITE_BUSY_TIMEOUT_MS) != wait_ms:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            connection.info[_BUSY_WAIT_SET] = wait_ms
        writes = options.get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


class _WriteGate:
    """A FIFO queue in front of SQLite's write lock, for the writers of one process.

    SQLite's busy handler sleeps with back-off and keeps no queue: a writer that has waited long
    keeps losing the lock to newcomers that happen to try while it sleeps, so the slowest
    request waits 10x the median while the lock sits idle. An asyncio.Lock wakes its waiters in
    order, and a waiter cancelled by the request deadline leaves the queue (and, if the lock was
    just handed to it, passes it on). Other processes (the CLI import) still meet the busy
    timeout. One lock per event loop: a Database outliving its loop (tests) must not reuse it.
    """

    def __init__(self) -> None:
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            for stale in [known for known in self._locks if known.is_closed()]:
                del self._locks[stale]
            lock = self._locks[loop] = asyncio.Lock()
        return lock


@dataclass
class Database:
    """The engine and session factory for one database URL.

    `connect_timeout` bounds opening a PostgreSQL connection; `command_timeout` (None: no bound)
    each statement. Pre-ping tests a pooled connection before lending it, so connections an
    outage killed are replaced by fresh ones once the database is back, without a restart.
    """

    url: str
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    command_timeout: float | None = None
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    _write_gate: _WriteGate | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        options: dict[str, Any] = {}
        if not is_sqlite(self.url):
            timeouts = {"timeout": self.connect_timeout, "command_timeout": self.command_timeout}
            options.update(pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=timeouts)
        self.engine = create_async_engine(self.url, **options)
        if is_sqlite(self.url):
            _configure_sqlite(self.engine)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _count_statement)
        event.listen(self.engine.sync_engine, "after_cursor_execute", _statement_answered)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        if is_sqlite(self.url):
            self._write_gate = _WriteGate()

    def write_turn(self) -> AbstractAsyncContextManager[object]:
        """Hold this around a write transaction, from before BEGIN to after commit/rollback:
        on SQLite the process's writers then take the write lock in the order they asked for it
        (see `_WriteGate`); PostgreSQL locks rows, not the database, and needs no gate."""
        return nullcontext() if self._write_gate is None else self._write_gate.turn()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def begin_write(session: AsyncSession, *, wait_ms: int | None = None) -> None:
    """Open the session's transaction as a write transaction (SQLite: BEGIN IMMEDIATE).

    A server's writers call it inside `Database.write_turn` (graph.context's unit of work), so
    they are served in arrival order; one-process tools (import, seeder) need no gate."""
    options: dict[str, Any] = {WRITE_INTENT: True}
    if wait_ms is not None:
        options[BUSY_WAIT_MS] = wait_ms  # SQLite: fail with SQLITE_BUSY after this long
    await session.connection(execution_options=options)


async def execute_core(
    session: AsyncSession, statement: Executable, parameters: Any = None
) -> CursorResult[Any]:
    """Run a Core statement (an insert, an upsert) on the session's connection, in its
    transaction, past the ORM's execute path: for a statement with no entities to hydrate that
    path (bulk-insert handling, the identity map's bookkeeping) cost about 1 ms of CPU, five
    times what the driver took (bench/sync_profile.py)."""
    connection = await session.connection()
    return await connection.execute(statement, parameters)


async def take_transaction_lock(session: AsyncSession, key: int) -> None:
    """Serialise transactions that share `key` (SQLite's write lock already does this)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def feed_rows(
    session: AsyncSession,
    statement: Executable,
    feed: Callable[[Sequence[Any]], None],
    *,
    batch: int,
) -> None:
    """Run `statement` in the session's transaction and hand its rows to `feed`, up to `batch`
    at a time, as the driver returns them: tuples, with no Row objects and no result types.

    For scans of the whole ledger: SQLAlchemy's per-row work cost more than the database's
    (ORM result: 11 s for 930k rows, Core: 5.6 s, this: 3.0 s). The cursor is a server-side
    one (SQLite steps, PostgreSQL a cursor), so memory holds one batch, never the result.
    """

    def scan(connection: Connection) -> None:
        result = connection.execute(statement, execution_options={"stream_results": True})
        try:
            # The result already read one row (to start its buffer): that one goes first.
            feed(result.fetchmany(1))
            cursor = result.cursor  # None once the result is exhausted
            while cursor is not None and (rows := cursor.fetchmany(batch)):
                feed(rows)
        finally:
            result.close()

    await (await session.connection()).run_sync(scan)


async def write_rows(
    session: AsyncSession,
    statement: ClauseElement,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Execute `statement` once per row, with rows as tuples in `columns` order and each value
    already as the driver takes it (`models.types.driver_utc` for timestamps).

    For bulk writes: SQLAlchemy's executemany builds and type-converts a parameter dict per row
    (100k milestone rows: 4.9-5.6 s, this: 3.1 s; docs/performance.md). This compiles the
    statement once and hands the tuples to the driver's executemany, through the same
    connection, events and telemetry.
    """
    connection = await session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    assert isinstance(compiled, SQLCompiler)
    if list(compiled.positiontup or ()) != list(columns):  # both dialects bind positionally
        raise ValueError(f"columns {columns} do not match the statement's {compiled.positiontup}")
    if rows:
        await connection.exec_driver_sql(str(compiled), list(rows))


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows (tuples in `columns` order, values as the driver takes them) to `table`:
    PostgreSQL's COPY, the fastest way in, or SQLite's executemany (`write_rows`).

    COPY bypasses SQLAlchemy's execution events: what it loads is counted in rows, not
    statements. Meant for bulk loads of tables the caller owns (the import's staging table).
    """
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await write_rows(session, insert(table), columns, rows)
        return
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))


COPY_FROM = 1_000  # rows: from here on, PostgreSQL's COPY and one statement beat executemany


async def write_many(
    session: AsyncSession,
    statement: Callable[[Select[Any] | None], Insert],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """`statement(None)` (an INSERT of `columns`, an upsert say) once per row, as `write_rows`.
    On PostgreSQL, from COPY_FROM rows on: the rows COPYed into a temporary table with the
    target's column types, then `statement(<a SELECT of them>)` once. An executemany there is
    a statement per row, each with its round of triggers (102,589 milestone rows: 4.5 s).
    One statement cannot update a row twice: the rows must not repeat a conflict key.
    """
    connection = await session.connection()
    each = statement(None)
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        await write_rows(session, each, columns, rows)
        return
    table = each.table
    assert isinstance(table, Table)
    incoming = Table(
        f"incoming_{table.name}",
        MetaData(),
        *(Column(name, table.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
    )
    await connection.run_sync(lambda sync: incoming.create(sync))
    await copy_rows(session, incoming, columns, rows)
    await connection.execute(statement(select(*(incoming.c[name] for name in columns))))
    await connection.run_sync(lambda sync: incoming.drop(sync))
