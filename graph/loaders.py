"""Per-request batch loaders: however many parents a query reaches, one statement per relation.

Each batch function receives every key the current tick of the event loop asked for and answers
in key order. Loaders return GraphQL types, never ORM rows, so nothing lazy escapes a session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import Executable, Result, Select
from strawberry.dataloader import DataLoader

from graph.pagination import Connection, Window
from graph.stats_loaders import StatsLoaders
from graph.types.mentor import Mentor
from graph.types.milestone import Milestone
from graph.types.pause_record import PauseRecord
from graph.types.status import MentorStatus
from graph.types.sync_event import SyncEvent
from models.mentors import mentors_by_ids
from models.milestones import MilestoneFilter, milestone_rows_of_mentors, milestones_by_ids
from models.statuses import (
    PauseRecordFilter,
    pause_record_counts_of_mentors,
    pause_records_by_ids,
    pause_records_of_mentors,
    statuses_of,
)
from models.sync import (
    SyncEventFilter,
    sync_event_counts_of_mentors,
    sync_events_by_ids,
    sync_events_of_mentors,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
F = TypeVar("F", bound=Hashable)
G = TypeVar("G", bound=Hashable)
T = TypeVar("T")
Read = Callable[[Executable], Awaitable[Result[*tuple[Any, ...]]]]
# A relation's page for one owner: (owner id, filter, window) -> its connection.
RelationPage = Callable[[str, F, Window], Awaitable[Connection[T]]]


def in_key_order(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(key) for key in keys]


def _group_by(keys: Iterable[K], attribute: Callable[[K], G]) -> dict[G, list[K]]:
    groups: dict[G, list[K]] = defaultdict(list)
    for key in keys:
        groups[attribute(key)].append(key)
    return groups


@dataclass(frozen=True)
class _Page(Generic[F]):
    owner_id: str
    where: F
    window: Window


@dataclass(frozen=True)
class _Count(Generic[F]):
    owner_id: str
    where: F


class RelationLoader(Generic[F, T]):
    """Pages of a one-to-many relation (e.g. a mentor's pause records) for many owners at once:
    one windowed statement per distinct (filter, page), one grouped count if totalCount is read."""

    def __init__(
        self,
        read: Read,
        *,
        rows: Callable[[list[str], F, Window], Select[Any]],
        counts: Callable[[list[str], F], Select[str, int]],
        convert: Callable[[Any], T],
        owner_of: Callable[[Any], str],
    ) -> None:
        self._read = read
        self._rows, self._counts, self._convert, self._owner_of = rows, counts, convert, owner_of
        self._page_loader = DataLoader[_Page[F], list[T]](load_fn=self._load_pages)
        self._count_loader = DataLoader[_Count[F], int](load_fn=self._load_counts)

    async def page(self, owner_id: str, where: F, window: Window) -> Connection[T]:
        rows = await self._page_loader.load(_Page(owner_id, where, window))

        def total() -> Awaitable[int]:
            return self._count_loader.load(_Count(owner_id, where))

        return Connection.build(rows, window, total)

    async def _load_pages(self, keys: list[_Page[F]]) -> list[list[T]]:
        pages: dict[_Page[F], list[T]] = {key: [] for key in keys}
        for (where, window), group in _group_by(keys, lambda k: (k.where, k.window)).items():
            owners = {key.owner_id: key for key in group}
            statement = self._rows(list(owners), where, window)
            for row in (await self._read(statement)).scalars():
                pages[owners[self._owner_of(row)]].append(self._convert(row))
        return [pages[key] for key in keys]

    async def _load_counts(self, keys: list[_Count[F]]) -> list[int]:
        counts: dict[_Count[F], int] = {}
        for where, group in _group_by(keys, lambda k: k.where).items():
            statement = self._counts([k.owner_id for k in group], where)
            rows = (await self._read(statement)).all()
            found = {str(row[0]): int(row[1]) for row in rows}
            counts.update({key: found.get(key.owner_id, 0) for key in group})
        return [counts[key] for key in keys]


class Loaders:
    """All loaders of one request; `read` runs one statement on the request's session."""

    # Each loader is built on first use: a subscription or a small query needs two or three of
    # the dozen, and every one built is objects the garbage collector walks at each full pass
    # (10,000 subscriptions held ~2.7 million tracked objects; README "Websockets").
    def __init__(self, read: Read) -> None:
        self._read = read

    @cached_property
    def mentor(self) -> DataLoader[str, Mentor | None]:
        return DataLoader(load_fn=self._mentors)

    @cached_property
    def stats(self) -> StatsLoaders:
        return StatsLoaders(self._read)

    @cached_property
    def status(self) -> DataLoader[str, MentorStatus | None]:
        return DataLoader(load_fn=self._statuses)

    @cached_property
    def pause_record(self) -> DataLoader[str, PauseRecord | None]:
        return DataLoader(load_fn=self._pause_records)

    @cached_property
    def sync_event(self) -> DataLoader[str, SyncEvent | None]:
        return DataLoader(load_fn=self._sync_events)

    @cached_property
    def milestone(self) -> DataLoader[str, Milestone | None]:
        return DataLoader(load_fn=self._milestones)

    @cached_property
    def milestones_of(self) -> DataLoader[tuple[str, str | None], list[Milestone]]:
        """(mentor id, status or None for all) -> that mentor's milestones, in catalogue order."""
        return DataLoader(load_fn=self._milestones_of)

    @cached_property
    def pause_records_of(self) -> RelationPage[PauseRecordFilter, PauseRecord]:
        return RelationLoader(
            self._read,
            rows=lambda owners, where, window: pause_records_of_mentors(
                owners, where, offset=window.offset, limit=window.fetch
            ),
            counts=pause_record_counts_of_mentors,
            convert=PauseRecord.from_row,
            owner_of=lambda row: row.mentor_id,
        ).page

    @cached_property
    def sync_events_of(self) -> RelationPage[SyncEventFilter, SyncEvent]:
        return RelationLoader(
            self._read,
            rows=lambda owners, where, window: sync_events_of_mentors(
                owners, where, offset=window.offset, limit=window.fetch
            ),
            counts=sync_event_counts_of_mentors,
            convert=SyncEvent.from_row,
            owner_of=lambda row: row.mentor_id,
        ).page

    async def _mentors(self, ids: list[str]) -> list[Mentor | None]:
        rows = (await self._read(mentors_by_ids(ids))).scalars()
        return in_key_order(ids, {row.id: Mentor.from_row(row) for row in rows})

    async def _statuses(self, mentor_ids: list[str]) -> list[MentorStatus | None]:
        rows = (await self._read(statuses_of(mentor_ids))).scalars()
        return in_key_order(mentor_ids, {row.mentor_id: MentorStatus.from_row(row) for row in rows})

    async def _pause_records(self, ids: list[str]) -> list[PauseRecord | None]:
        rows = (await self._read(pause_records_by_ids(ids))).scalars()
        return in_key_order(ids, {row.id: PauseRecord.from_row(row) for row in rows})

    async def _milestones(self, ids: list[str]) -> list[Milestone | None]:
        rows = (await self._read(milestones_by_ids(ids))).all()
        return in_key_order(
            ids,
            {r.Milestone.id: Milestone.from_rows(r.Milestone, r.MilestoneDefinition) for r in rows},
        )

    async def _milestones_of(self, keys: list[tuple[str, str | None]]) -> list[list[Milestone]]:
        found: dict[tuple[str, str | None], list[Milestone]] = {key: [] for key in keys}
        for status, group in _group_by(keys, lambda key: key[1]).items():
            statement = milestone_rows_of_mentors(
                [mentor for mentor, _ in group], MilestoneFilter(status=status)
            )
            for row in (await self._read(statement)).all():  # plain rows: no ORM objects
                found[(row.mentor_id, status)].append(Milestone.from_rows(row, row))
        return [found[key] for key in keys]

    async def _sync_events(self, ids: list[str]) -> list[SyncEvent | None]:
        rows = (await self._read(sync_events_by_ids(ids))).scalars()
        return in_key_order(ids, {row.id: SyncEvent.from_row(row) for row in rows})
