"""Per-request batch loaders: however many parents a query reaches, one statement per relation.

Each batch function receives every key the current tick of the event loop asked for and answers
in key order. Loaders return GraphQL types, never ORM rows, so nothing lazy escapes a session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from graph.pagination import Connection, Window
from graph.types.mentor import Mentor
from graph.types.pause_record import PauseRecord
from graph.types.status import MentorStatus
from models.mentors import mentors_by_ids
from models.statuses import (
    PauseRecordFilter,
    pause_record_counts_of_mentors,
    pause_records_by_ids,
    pause_records_of_mentors,
    statuses_of,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
G = TypeVar("G", bound=Hashable)
SessionGetter = Callable[[], Awaitable[AsyncSession]]


def in_key_order(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(key) for key in keys]


@dataclass(frozen=True)
class RelationPage:
    """One parent's page of a related list."""

    owner_id: str
    where: PauseRecordFilter
    window: Window


@dataclass(frozen=True)
class RelationCount:
    owner_id: str
    where: PauseRecordFilter


def _group_by(keys: Iterable[K], attribute: Callable[[K], G]) -> dict[G, list[K]]:
    groups: dict[G, list[K]] = defaultdict(list)
    for key in keys:
        groups[attribute(key)].append(key)
    return groups


class Loaders:
    """All loaders of one request."""

    def __init__(self, session: SessionGetter) -> None:
        self._session = session
        self.mentor = DataLoader[str, Mentor | None](load_fn=self._mentors)
        self.status = DataLoader[str, MentorStatus | None](load_fn=self._statuses)
        self.pause_record = DataLoader[str, PauseRecord | None](load_fn=self._pause_records)
        self._pause_pages = DataLoader[RelationPage, list[PauseRecord]](
            load_fn=self._pause_pages_of
        )
        self._pause_counts = DataLoader[RelationCount, int](load_fn=self._pause_counts_of)

    async def pause_records_of(
        self, mentor_id: str, where: PauseRecordFilter, window: Window
    ) -> Connection[PauseRecord]:
        rows = await self._pause_pages.load(RelationPage(mentor_id, where, window))

        def count() -> Awaitable[int]:
            return self._pause_counts.load(RelationCount(mentor_id, where))

        return Connection.build(rows, window, count)

    async def _mentors(self, ids: list[str]) -> list[Mentor | None]:
        rows = (await (await self._session()).execute(mentors_by_ids(ids))).scalars()
        return in_key_order(ids, {row.id: Mentor.from_row(row) for row in rows})

    async def _statuses(self, mentor_ids: list[str]) -> list[MentorStatus | None]:
        rows = (await (await self._session()).execute(statuses_of(mentor_ids))).scalars()
        return in_key_order(mentor_ids, {row.mentor_id: MentorStatus.from_row(row) for row in rows})

    async def _pause_records(self, ids: list[str]) -> list[PauseRecord | None]:
        rows = (await (await self._session()).execute(pause_records_by_ids(ids))).scalars()
        return in_key_order(ids, {row.id: PauseRecord.from_row(row) for row in rows})

    async def _pause_pages_of(self, keys: list[RelationPage]) -> list[list[PauseRecord]]:
        session = await self._session()
        pages: dict[RelationPage, list[PauseRecord]] = {key: [] for key in keys}
        for (where, window), group in _group_by(keys, lambda k: (k.where, k.window)).items():
            owners = {key.owner_id: key for key in group}
            statement = pause_records_of_mentors(
                list(owners), where, offset=window.offset, limit=window.fetch
            )
            for row in (await session.execute(statement)).scalars():
                pages[owners[row.mentor_id]].append(PauseRecord.from_row(row))
        return [pages[key] for key in keys]

    async def _pause_counts_of(self, keys: list[RelationCount]) -> list[int]:
        session = await self._session()
        counts: dict[RelationCount, int] = {}
        for where, group in _group_by(keys, lambda k: k.where).items():
            statement = pause_record_counts_of_mentors([k.owner_id for k in group], where)
            found: dict[str, int] = dict((await session.execute(statement)).all())
            counts.update({key: found.get(key.owner_id, 0) for key in group})
        return [counts[key] for key in keys]
