"""The per-request context: one database session, fresh loaders, and the unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, Result
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from domain.events import discard_pending, take_announcements
from graph.broker import Broker
from graph.loaders import Loaders
from models.database import Database, begin_write


@dataclass(frozen=True, kw_only=True)
class GraphConfig:
    """What resolvers need to know about the deployment."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    expose_sql_count: bool = False


class Context(BaseContext):
    """Made anew for every request (GraphQL or REST): loaders must never cache across users."""

    def __init__(self, *, database: Database, config: GraphConfig, broker: Broker) -> None:
        super().__init__()
        self.database = database
        self.config = config
        self.broker = broker
        self._session: AsyncSession | None = None
        # One session per request, and an AsyncSession must not run two statements at once:
        # sibling resolvers and loader batches take turns through this lock.
        self._lock = asyncio.Lock()
        self._closed = False
        self.loaders = Loaders(self.read)

    def _open_session(self) -> AsyncSession:
        if self._closed:
            raise RuntimeError("the request is over; its session is closed")
        if self._session is None:
            self._session = self.database.sessions()
        return self._session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The request's session, for reads, while no other resolver uses it."""
        async with self._lock:
            yield self._open_session()

    async def read(self, statement: Executable) -> Result[*tuple[Any, ...]]:
        """Run one read statement; the result is fully buffered, so the lock is not held after."""
        async with self.reading() as session:
            return await session.execute(statement)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits once on success, rolls back on any error.

        After the commit, loaders are renewed (their cache predates the write) and the domain's
        changes are announced: subscribers never hear of a change that was rolled back.
        """
        async with self._lock:
            session = self._open_session()
            if session.in_transaction():
                await session.commit()  # ends the read snapshot; reads have nothing to commit
            await begin_write(session)
            try:
                yield session
                announcements = take_announcements(session)
                await self.broker.before_commit(session, announcements)
                await session.commit()
            except BaseException:
                await session.rollback()
                discard_pending(session)
                raise
        self.loaders = Loaders(self.read)
        await self.broker.after_commit(announcements)

    async def close(self) -> None:
        """Close the session once no statement is running on it.

        A loader batch runs in a task of its own, so it can outlive the resolver that awaited
        it (graphql-core cancels the siblings of a failed field; a timeout cancels them all):
        closing under the lock waits for its statement, and `_closed` keeps a later one from
        opening a session that nobody would close.
        """
        async with self._lock:
            self._closed = True
            if self._session is not None:
                await self._session.close()
                self._session = None
