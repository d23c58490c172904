"""The demo organisation: docs/domain.md holds for every row; seeding is idempotent and deterministic."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from domain.demo import HISTORY_DAYS, seed_demo
from domain.demo_names import PAUSE_REASONS, REGIONS
from models.activities import Activity
from models.database import Database
from models.mentors import ActivityType, Mentor
from models.migrate import migrate
from models.milestones import Milestone, MilestoneDefinition
from models.statuses import MentorStatus, PauseRecord
from models.sync import SyncEvent

TODAY = date(2026, 3, 26)
MIDNIGHT = datetime(2026, 3, 26, tzinfo=UTC)
FIRST_DAY = MIDNIGHT - timedelta(days=HISTORY_DAYS)
MENTOR_ID = re.compile(r"mentor_\d{3}|mentor-\d{3}|mntr_01[0-9A-HJKMNP-TV-Z]{8}|mentor_[0-9a-f]{6}")
CONTRACT_IDS = {"mentor_001", "mntr_01HX4V2K8P", "mentor-042"}
DURATIONS = {  # per activity type: the shortest and longest realistic duration
    "act_type_001": (30, 90),
    "act_type_002": (30, 120),
    "act_type_003": (10, 30),
    "act_type_004": (10, 60),
    "act_type_005": (60, 180),
}
TABLES: list[Any] = [Mentor, MentorStatus, PauseRecord, Activity, SyncEvent, Milestone]


def _backends() -> list[Any]:
    backends: list[Any] = [pytest.param(None, id="sqlite")]
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        backends.append(pytest.param(url, id="postgresql", marks=pytest.mark.postgres))
    return backends


def _sqlite_url(path: Path) -> str:
    return "sqlite+aiosqlite:///" + str(path)


async def _fresh_database(url: str) -> Database:
    database = Database(url)
    if database.dialect == "postgresql":
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await migrate(database)
    return database


async def _seed_fresh(url: str) -> str | None:
    database = await _fresh_database(url)
    try:
        return await seed_demo(database, today=TODAY)
    finally:
        await database.dispose()


@pytest.fixture(scope="module", params=_backends())
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One seeded database per backend for the whole module (seeding takes about a second)."""
    url = request.param or _sqlite_url(tmp_path_factory.mktemp("demo") / "demo.db")
    return url, asyncio.run(_seed_fresh(url))


@pytest.fixture
async def database(seeded: tuple[str, str | None]) -> AsyncIterator[Database]:
    database = Database(seeded[0])
    yield database
    await database.dispose()


async def _all(database: Database, entity: Any) -> list[Any]:
    async with database.sessions() as session:
        return list((await session.scalars(select(entity))).all())


async def _count(database: Database, entity: Any) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def _snapshot(database: Database, *, with_versions: bool = False) -> dict[str, str]:
    """A hash of every row of every table the demo may touch, independent of the dialect."""
    hashes: dict[str, str] = {}
    async with database.sessions() as session:
        for entity in TABLES:
            table: Table = entity.__table__
            # Milestones are detected at seeding time: when a row was written is not content.
            clock = {"created_at", "updated_at"} if table.name == "milestone" else set()
            columns: Sequence[ColumnElement[Any]] = [
                c for c in table.c if (with_versions or c.name != "version") and c.name not in clock
            ]
            # Sorted here: PostgreSQL collations order "mentor-042" and "mentor_001" differently.
            rows = sorted(repr(tuple(row)) for row in await session.execute(select(*columns)))
            hashes[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return hashes


def _by_mentor(records: list[PauseRecord]) -> dict[str, list[PauseRecord]]:
    grouped: dict[str, list[PauseRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.start_date):
        grouped[record.mentor_id].append(record)
    return grouped


async def test_counts_match_the_summary(database: Database, seeded: tuple[str, str | None]) -> None:
    statuses = Counter(s.status for s in await _all(database, MentorStatus))
    mentors, pauses = await _count(database, Mentor), await _count(database, PauseRecord)
    activities = await _count(database, Activity)
    assert mentors == 60
    assert await _count(database, MentorStatus) == mentors
    assert statuses["paused"] == 12
    assert 3 <= statuses["inactive"] <= 4
    assert statuses["active"] == mentors - 12 - statuses["inactive"]
    assert 15_000 <= activities <= 25_000
    assert pauses > 12 + 20  # the active ones plus plenty of history
    expected = f"60 mentors, 12 paused, {pauses} pause records, {activities} activities"
    assert seeded[1] == expected


async def test_leaves_catalogues_and_later_features_alone(database: Database) -> None:
    assert await _count(database, ActivityType) == 5
    assert await _count(database, MilestoneDefinition) == 15
    assert await _count(database, SyncEvent) == 0


async def test_milestones_are_detected_from_the_seeded_ledger(database: Database) -> None:
    milestones = await _all(database, Milestone)
    mentors = {m.mentor_id for m in milestones}
    # Every mentor has its next milestone of each type in progress, so 3 rows at least.
    assert len(milestones) >= 3 * len(mentors)
    assert any(m.status == "achieved" for m in milestones)


async def test_paused_exactly_when_one_active_pause_record(database: Database) -> None:
    pauses = _by_mentor(await _all(database, PauseRecord))
    for status in await _all(database, MentorStatus):
        active = [p for p in pauses[status.mentor_id] if p.is_active]
        assert len(active) <= 1
        assert (status.status == "paused") == (len(active) == 1), status.mentor_id
        copied = (status.pause_start_date, status.expected_return_date, status.pause_reason)
        if active:
            assert copied == (
                active[0].start_date,
                active[0].expected_return_date,
                active[0].reason,
            )
        else:
            assert copied == (None, None, None)
        changes = [m for p in pauses[status.mentor_id] for m in (p.start_date, p.end_date) if m]
        assert all(status.last_updated >= change for change in changes)
        assert status.last_updated < MIDNIGHT
        assert set(status.extra) == {"region", "coordinator"}
        assert re.fullmatch(r"coordinator-\d{3}", status.extra["coordinator"])


async def test_some_active_pauses_are_overdue_and_some_are_not(database: Database) -> None:
    active = [p for p in await _all(database, PauseRecord) if p.is_active]
    overdue = [p for p in active if p.expected_return_date < MIDNIGHT]
    assert len(active) == 12
    assert all(p.end_date is None for p in active)
    assert len(overdue) >= 4
    assert len(active) - len(overdue) >= 4


async def test_pause_history_is_consistent(database: Database) -> None:
    records = await _all(database, PauseRecord)
    numbers = sorted(int(r.id.removeprefix("pause-rec-")) for r in records)
    assert all(re.fullmatch(r"pause-rec-\d{4}", r.id) for r in records)
    assert numbers == list(range(1, len(records) + 1))
    history = _by_mentor(records)
    assert sum(1 for pauses in history.values() if any(not p.is_active for p in pauses)) >= 20
    for pauses in history.values():
        assert all(p.is_active for p in pauses[-1:]) or all(not p.is_active for p in pauses)
        assert all(p.reason in PAUSE_REASONS for p in pauses)
        returns = [(p.start_date, p.expected_return_date) for p in pauses]
        assert all(back is not None and back > start for start, back in returns)
        closed = [p for p in pauses if not p.is_active]
        assert all(p.end_date is not None and p.end_date >= p.start_date for p in closed)
        for earlier, later in pairwise(pauses):
            assert earlier.end_date is not None
            assert earlier.end_date < later.start_date


async def test_no_activity_while_paused_inactive_or_before_joining(database: Database) -> None:
    pauses = _by_mentor(await _all(database, PauseRecord))
    joined = {m.id: m.created_at for m in await _all(database, Mentor)}
    stopped = {
        s.mentor_id: s.last_updated
        for s in await _all(database, MentorStatus)
        if s.status == "inactive"
    }
    for activity in await _all(database, Activity):
        at = activity.started_at
        finish = at + timedelta(minutes=activity.duration_minutes)
        assert at >= FIRST_DAY
        assert finish < MIDNIGHT
        assert at >= joined[activity.mentor_id]
        assert activity.mentor_id not in stopped or finish < stopped[activity.mentor_id]
        for pause in pauses[activity.mentor_id]:
            assert not (pause.start_date <= finish and (pause.end_date or MIDNIGHT) >= at)


async def test_activities_look_like_real_mentoring(database: Database) -> None:
    activities = await _all(database, Activity)
    kinds = Counter(a.activity_type_id for a in activities)
    assert kinds.most_common(1)[0][0] == "act_type_001"
    assert set(kinds) == set(DURATIONS)
    for activity in activities:
        low, high = DURATIONS[activity.activity_type_id]
        assert low <= activity.duration_minutes <= high
        assert activity.duration_minutes % 5 == 0
        assert re.fullmatch(r"contact_\d+", activity.contact_id)
    cancelled = sum(a.status == "cancelled" for a in activities) / len(activities)
    assert {a.status for a in activities} == {"completed", "cancelled"}
    assert 0.05 <= cancelled <= 0.09
    assert sum(a.started_at.weekday() < 5 for a in activities) / len(activities) > 0.85
    months = Counter(a.started_at.month for a in activities)
    assert months[8] < 0.7 * months[10]  # quiet summers, busy autumns


async def test_mentors_differ_in_activity_and_revisit_contacts(database: Database) -> None:
    activities = await _all(database, Activity)
    per_mentor = Counter(a.mentor_id for a in activities)
    contacts: dict[str, set[str]] = defaultdict(set)
    for activity in activities:
        contacts[activity.mentor_id].add(activity.contact_id)
    assert 1 <= 60 - len(per_mentor) <= 2  # newcomers with nothing logged yet
    assert max(per_mentor.values()) >= 700
    assert min(per_mentor.values()) <= 30
    assert all(len(contacts[m]) < n for m, n in per_mentor.items() if n >= 10)
    assert max(len(c) for c in contacts.values()) >= 50


async def test_activities_happen_in_local_working_hours(database: Database) -> None:
    offsets = {region: timedelta(minutes=minutes) for region, minutes in REGIONS}
    region = {s.mentor_id: s.extra["region"] for s in await _all(database, MentorStatus)}
    for activity in await _all(database, Activity):
        local = activity.started_at + offsets[region[activity.mentor_id]]
        finish = local + timedelta(minutes=activity.duration_minutes)
        assert local.hour >= 8
        assert (finish.hour, finish.minute) <= (21, 0)


async def test_activity_ids_follow_time(database: Database) -> None:
    activities = sorted(await _all(database, Activity), key=lambda a: a.id)
    assert [a.id for a in activities] == [f"act_{n:06d}" for n in range(1, len(activities) + 1)]
    started = [a.started_at for a in activities]
    assert started == sorted(started)


async def test_mentor_ids_and_names_are_varied(database: Database) -> None:
    mentors = await _all(database, Mentor)
    ids = {m.id for m in mentors}
    assert all(MENTOR_ID.fullmatch(mentor_id) for mentor_id in ids)
    assert ids >= CONTRACT_IDS
    assert {mentor_id[:6] for mentor_id in ids} >= {"mentor", "mntr_0"}
    assert any("-" in mentor_id for mentor_id in ids)
    assert len({m.name for m in mentors}) == len(mentors)
    assert all(len(m.name.split(" ")) >= 2 for m in mentors)


async def test_seeding_again_changes_nothing(database: Database) -> None:
    before = await _snapshot(database, with_versions=True)
    assert await seed_demo(database, today=TODAY) is None
    assert await seed_demo(database) is None
    assert await _snapshot(database, with_versions=True) == before


async def test_every_seed_produces_the_same_rows(
    database: Database, seeded: tuple[str, str | None], tmp_path: Path
) -> None:
    other = await _fresh_database(_sqlite_url(tmp_path / "other.db"))
    try:
        assert await seed_demo(other, today=TODAY) == seeded[1]
        assert await _snapshot(other) == await _snapshot(database)
    finally:
        await other.dispose()


async def test_dates_follow_todays_utc_date_by_default(tmp_path: Path) -> None:
    database = await _fresh_database(_sqlite_url(tmp_path / "now.db"))
    try:
        assert await seed_demo(database) is not None
        async with database.sessions() as session:
            latest = await session.scalar(select(func.max(Activity.started_at)))
    finally:
        await database.dispose()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert latest is not None
    assert today - timedelta(days=3) <= latest < today
