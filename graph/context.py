"""The per-request context: one database session, fresh loaders, and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from domain.events import discard_pending, take_announcements
from graph.broker import Broker
from models.database import Database, begin_write

if TYPE_CHECKING:
    from graph.loaders import Loaders


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
        self.loaders = self._new_loaders()

    def _new_loaders(self) -> Loaders:
        # Imported here: loaders build the types, and the types' resolvers name this module.
        from graph.loaders import Loaders

        return Loaders(self.session)

    async def session(self) -> AsyncSession:
        """The request's session, opened on first use."""
        if self._session is None:
            self._session = self.database.sessions()
        return self._session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits once on success, rolls back on any error.

        After the commit, loaders are renewed (their cache predates the write) and the domain's
        changes are announced: subscribers never hear of a change that was rolled back.
        """
        session = await self.session()
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
        self.loaders = self._new_loaders()
        await self.broker.after_commit(announcements)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Info = strawberry.Info[Context, None]
