"""Loaders for the activity ledger and the stats over it (`context.loaders.stats`).

Keys pair a mentor id with a scope (period and zone); each batch runs one statement per distinct
scope with every mentor id of the batch, so a page of 100 mentors costs what one mentor does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import date
from functools import cached_property
from typing import TypeVar
from zoneinfo import ZoneInfo

import strawberry
from strawberry.dataloader import DataLoader

from domain import series, stats
from domain.stats import Read, Scope
from graph.types.activity import Activity
from graph.types.mentor import ActivityType
from graph.types.stats import ActivityTypeStats, MonthlyStats, PersonalStats, YearContribution
from models.activities import activities_by_ids, activity_types_by_ids
from models.mentors import ActivityType as ActivityTypeRow

S = TypeVar("S", bound=Hashable)
V = TypeVar("V")
Compute = Callable[[Read, list[str], S], Awaitable[dict[str, V]]]
StatsKey = tuple[str, Scope]
HistoryKey = tuple[str, tuple[ZoneInfo, date]]  # mentor id, (zone, today)


def activity_type_from_row(row: ActivityTypeRow) -> ActivityType:
    return ActivityType(id=strawberry.ID(row.id), key=row.key, display_name=row.display_name)


class StatsLoaders:
    """Per-request loaders of activities, activity types and every stats figure."""

    # Built on first use, as graph.loaders.Loaders: most operations read none of them.
    def __init__(self, read: Read) -> None:
        self._read = read

    @cached_property
    def activity(self) -> DataLoader[str, Activity | None]:
        return DataLoader(load_fn=self._activities)

    @cached_property
    def activity_type(self) -> DataLoader[str, ActivityType | None]:
        return DataLoader(load_fn=self._activity_types)

    @cached_property
    def personal(self) -> DataLoader[StatsKey, PersonalStats | None]:
        return DataLoader(load_fn=self._personal)

    @cached_property
    def peer_rank(self) -> DataLoader[StatsKey, int]:
        return DataLoader(load_fn=self._peer_ranks)

    @cached_property
    def monthly(self) -> DataLoader[StatsKey, list[MonthlyStats]]:
        return DataLoader(load_fn=self._monthly)

    @cached_property
    def breakdown(self) -> DataLoader[StatsKey, list[ActivityTypeStats]]:
        return DataLoader(load_fn=self._breakdown)

    @cached_property
    def history(self) -> DataLoader[HistoryKey, list[YearContribution]]:
        return DataLoader(load_fn=self._history)

    async def _by_scope(self, keys: Sequence[tuple[str, S]], compute: Compute[S, V]) -> list[V]:
        """One `compute` call per distinct scope, with every mentor id asked for under it."""
        groups: dict[S, list[str]] = defaultdict(list)
        for mentor_id, scope in keys:
            groups[scope].append(mentor_id)
        found: dict[tuple[str, S], V] = {}
        for scope, mentor_ids in groups.items():
            answers = await compute(self._read, mentor_ids, scope)
            found.update({(m, scope): answer for m, answer in answers.items()})
        return [found[key] for key in keys]

    async def _personal(self, keys: list[StatsKey]) -> list[PersonalStats | None]:
        async def compute(
            read: Read, ids: list[str], scope: Scope
        ) -> dict[str, PersonalStats | None]:
            found = await stats.personal_stats(read, ids, scope)
            return {m: _personal(found.get(m), scope) for m in ids}

        return await self._by_scope(keys, compute)

    async def _peer_ranks(self, keys: list[StatsKey]) -> list[int]:
        return await self._by_scope(keys, stats.peer_rank_percentiles)

    async def _monthly(self, keys: list[StatsKey]) -> list[list[MonthlyStats]]:
        async def compute(
            read: Read, ids: list[str], scope: Scope
        ) -> dict[str, list[MonthlyStats]]:
            found = await series.monthly_series(read, ids, scope)
            return {m: [MonthlyStats.from_domain(row) for row in rows] for m, rows in found.items()}

        return await self._by_scope(keys, compute)

    async def _breakdown(self, keys: list[StatsKey]) -> list[list[ActivityTypeStats]]:
        async def compute(
            read: Read, ids: list[str], scope: Scope
        ) -> dict[str, list[ActivityTypeStats]]:
            found = await series.activity_breakdown(read, ids, scope)
            return {
                m: [ActivityTypeStats.from_domain(r) for r in rows] for m, rows in found.items()
            }

        return await self._by_scope(keys, compute)

    async def _history(self, keys: list[HistoryKey]) -> list[list[YearContribution]]:
        async def compute(
            read: Read, ids: list[str], scope: tuple[ZoneInfo, date]
        ) -> dict[str, list[YearContribution]]:
            zone, today = scope
            found = await series.contribution_history(read, ids, zone=zone, today=today)
            return {m: [YearContribution.from_domain(y) for y in rows] for m, rows in found.items()}

        return await self._by_scope(keys, compute)

    async def _activities(self, ids: list[str]) -> list[Activity | None]:
        rows = (await self._read(activities_by_ids(ids))).scalars()
        found = {row.id: Activity.from_row(row) for row in rows}
        return [found.get(key) for key in ids]

    async def _activity_types(self, ids: list[str]) -> list[ActivityType | None]:
        rows = (await self._read(activity_types_by_ids(ids))).scalars()
        found = {row.id: activity_type_from_row(row) for row in rows}
        return [found.get(key) for key in ids]


def _personal(found: stats.PersonalStats | None, scope: Scope) -> PersonalStats | None:
    return None if found is None else PersonalStats.from_domain(found, scope)
