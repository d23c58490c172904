"""The per-request context: one database session, fresh loaders, and the unit of work."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, Result
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from auth.principal import Principal
from domain.events import discard_pending, take_announcements
from graph.audit import discard_audit, write_audit
from graph.broker import Broker
from graph.loaders import Loaders
from models.database import Database, begin_write, is_unavailable


@dataclass(frozen=True, kw_only=True)
class GraphConfig:
    """What resolvers need to know about the deployment."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    expose_sql_count: bool = False


class Context(BaseContext):
    """Made anew for every request (GraphQL or REST) and every websocket operation
    (`for_operation`): loaders must never cache across users, nor across requests."""

    def __init__(
        self,
        *,
        database: Database,
        config: GraphConfig,
        broker: Broker,
        principal: Principal | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__()
        self.database = database
        self.config = config
        self.broker = broker
        # Who is asking (api/authentication.py; a websocket's from its connection_init), None for
        # nobody: graph.access decides what each may do.
        self.principal = principal
        self.request_id = request_id or uuid.uuid4().hex
        self._session: AsyncSession | None = None
        # One session per request, and an AsyncSession must not run two statements at once:
        # sibling resolvers and loader batches take turns through this lock.
        self._lock = asyncio.Lock()
        self._closed = False
        self._used = False  # whether a statement ran since the loaders were made (`renew`)
        self.loaders = Loaders(self.read)

    def for_operation(self) -> Context:
        """A context of its own for one operation of a long-lived connection (a websocket): the
        same deployment and client, its own session and loaders."""
        context = Context(
            database=self.database,
            config=self.config,
            broker=self.broker,
            principal=self.principal,
            request_id=self.request_id,  # the connection's: its log lines carry the same id
        )
        context.request = self.request
        context.connection_params = self.connection_params
        return context

    def _open_session(self) -> AsyncSession:
        if self._closed:
            raise RuntimeError("the request is over; its session is closed")
        self._used = True
        if self._session is None:
            self._session = self.database.sessions()
        return self._session

    async def _discard_session(self) -> None:
        """Drop a session whose connection an outage killed, without talking to the database:
        the next statement opens a fresh one (a subscription's context outlives an outage)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.invalidate()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The request's session, for reads, while no other resolver uses it."""
        async with self._lock:
            try:
                yield self._open_session()
            except Exception as error:
                if is_unavailable(error):
                    await self._discard_session()
                raise

    async def read(self, statement: Executable) -> Result[*tuple[Any, ...]]:
        """Run one read statement; the result is fully buffered, so the lock is not held after."""
        async with self.reading() as session:
            return await session.execute(statement)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits once on success, rolls back on any error.

        Just before the commit, the audit rows of what the block recorded with
        `graph.audit.audited` are written in the same transaction, with the caller and the
        request id; a block that recorded nothing is a bug, refused (RuntimeError, rolled back).
        After the commit, loaders are renewed (their cache predates the write) and the domain's
        changes are announced: subscribers never hear of a change that was rolled back.
        """
        # The write turn (SQLite: arrival order) is held until the commit or rollback is done.
        async with self._lock, self.database.write_turn():
            session = self._open_session()
            if session.in_transaction():
                await session.commit()  # ends the read snapshot; reads have nothing to commit
            await begin_write(session)
            try:
                yield session
                await write_audit(session, principal=self.principal, request_id=self.request_id)
                announcements = take_announcements(session)
                await self.broker.before_commit(session, announcements)
                await session.commit()
            except BaseException as error:
                await self._roll_back(session, error)
                discard_pending(session)
                discard_audit(session)
                raise
        self.loaders = Loaders(self.read)
        await self.broker.after_commit(announcements)

    async def _roll_back(self, session: AsyncSession, error: BaseException) -> None:
        if isinstance(error, Exception) and is_unavailable(error):
            await self._discard_session()  # nothing to roll back on a dead connection
            return
        try:
            await session.rollback()
        except Exception as failed:
            if not is_unavailable(failed):
                raise
            await self._discard_session()

    async def close(self) -> None:
        """Close the session once no statement is running on it.

        A loader batch runs in a task of its own, so it can outlive the resolver that awaited
        it (graphql-core cancels the siblings of a failed field; a timeout cancels them all):
        closing under the lock waits for its statement, and `_closed` keeps a later one from
        opening a session that nobody would close.
        """
        async with self._lock:
            self._closed = True
            await self._close_session()

    async def renew(self) -> None:
        """Close the session and start fresh loaders, keeping the context usable: between two
        events of a subscription, so no event reads another's cache and no connection is held
        while it waits (api/websockets.py)."""
        if not self._used:
            # Loaders fill only by reading: nothing is cached, and making new ones would cost
            # ~60 µs for each subscriber of a change that selects no loader-backed field.
            return
        async with self._lock:
            await self._close_session()
            self._used = False
            self.loaders = Loaders(self.read)

    async def _close_session(self) -> None:
        if self._session is not None:
            try:
                await self._session.close()
            except Exception as error:  # its rollback met a connection the outage closed
                if not is_unavailable(error):
                    raise
                await self._discard_session()
            self._session = None
