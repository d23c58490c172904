"""A deterministic demo organisation: mentors, statuses, pause history and two years of activity.

Everything comes from one seeded generator, so two runs with the same anchor date produce the
same rows; only their placement in time follows the anchor ("today"), so the data looks current.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from random import Random
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain import demo_names as vocab
from domain.ledger import refresh_running_totals
from domain.milestones import detect_from_ledger
from models.activities import Activity
from models.database import Database, begin_write, take_transaction_lock
from models.mentors import Mentor, mentor_count
from models.statuses import MentorStatus, PauseRecord

SEED = 20260326
HISTORY_DAYS = 730
MENTORS = 60
ROLES = {"overdue": 5, "paused": 7, "inactive": 4, "silent": 2}  # the rest are active
LATEST_LOCAL_MINUTE = 21 * 60
CANCELLED_SHARE = 0.07
NEW_CONTACT_SHARE = 0.12
ADVISORY_LOCK = 20260326  # PostgreSQL: two seeders starting at once take turns
TYPE_WEIGHTS = [kind[1] for kind in vocab.ACTIVITY_TYPES]
TIER_WEIGHTS = [tier[0] for tier in vocab.RATE_TIERS]
Row = dict[str, Any]


@dataclass(frozen=True)
class Pause:
    """One pause of one mentor, closed or still active."""

    start: datetime
    expected_return: datetime
    end: datetime | None  # None while the pause is still active
    reason: str

    def overlaps(self, begin: datetime, finish: datetime) -> bool:
        return finish >= self.start and (self.end is None or begin <= self.end)


@dataclass
class Plan:
    """One demo mentor: who they are, how active, and their status history."""

    id: str
    name: str
    joined: datetime
    region: str
    offset: timedelta
    coordinator: str
    rate: float  # expected activities on an average weekday
    trend: float  # growing (> 0) or fading (< 0) engagement over the two years
    since: datetime  # no activity before this: joining, or the start of the demo's history
    horizon: datetime  # nor from this on: today, the active pause, or deactivation
    status: str = "active"
    pauses: list[Pause] = field(default_factory=list)

    def available(self, begin: datetime, finish: datetime) -> bool:
        if begin < self.since or finish >= self.horizon:
            return False
        return not any(pause.overlaps(begin, finish) for pause in self.pauses)


@dataclass(frozen=True)
class DemoRows:
    """The rows of every demo table, ready for bulk inserts."""

    mentors: list[Row]
    statuses: list[Row]
    pauses: list[Row]
    activities: list[Row]

    def summary(self) -> str:
        """Describe the organisation in one line."""
        paused = sum(row["status"] == "paused" for row in self.statuses)
        return (
            f"{len(self.mentors)} mentors, {paused} paused, "
            f"{len(self.pauses)} pause records, {len(self.activities)} activities"
        )


async def seed_demo(database: Database, *, today: date | None = None) -> str | None:
    """Seed the demo organisation and summarise it; None, changing nothing, if mentors exist."""
    async with database.sessions() as session:
        await begin_write(session)
        await take_transaction_lock(session, ADVISORY_LOCK)
        if await session.scalar(mentor_count()):
            return None
        rows = build_demo(today or datetime.now(UTC).date())
        await _insert(session, rows)
        await session.commit()
    return rows.summary()


async def _insert(session: AsyncSession, rows: DemoRows) -> None:
    await session.execute(insert(Mentor), rows.mentors)
    await session.execute(insert(MentorStatus), rows.statuses)
    await session.execute(insert(PauseRecord), rows.pauses)
    await session.execute(insert(Activity), rows.activities)
    await refresh_running_totals(session, (row["id"] for row in rows.mentors))
    await detect_from_ledger(session)  # the demo's mentors arrive with their milestones


def build_demo(today: date) -> DemoRows:
    """Generate every demo row for the anchor date `today`, without touching a database."""
    rng = Random(SEED)
    plans = _plans(rng, today)
    return DemoRows(
        mentors=[{"id": p.id, "name": p.name, "created_at": p.joined} for p in plans],
        statuses=[_status_row(plan) for plan in plans],
        pauses=_pause_rows(plans),
        activities=_activity_rows(rng, plans, today),
    )


# --- mentors and their status history ----------------------------------------------------------


def _plans(rng: Random, today: date) -> list[Plan]:
    roles = [role for role, n in ROLES.items() for _ in range(n)]
    roles += ["active"] * (MENTORS - len(roles))
    rng.shuffle(roles)
    names = rng.sample(
        [f"{first} {last}" for first in vocab.FIRST_NAMES for last in vocab.LAST_NAMES], MENTORS
    )
    people = enumerate(zip(names, roles, strict=True), start=1)
    return [_plan(rng, today, number, name, role) for number, (name, role) in people]


def _plan(rng: Random, today: date, number: int, name: str, role: str) -> Plan:
    region, minutes = rng.choice(vocab.REGIONS)
    joined = _at(today - timedelta(days=_days_since_joining(rng, role)), rng.randint(8, 17))
    plan = Plan(
        id=_mentor_id(rng, number),
        name=name,
        joined=joined,
        region=region,
        offset=timedelta(minutes=minutes),
        coordinator=rng.choice(vocab.COORDINATORS),
        rate=0.0 if role == "silent" else _rate(rng),
        trend=rng.uniform(-0.8, 0.8),
        since=max(joined, _at(today - timedelta(days=HISTORY_DAYS), 0)),
        horizon=_at(today, 0),
    )
    _shape_history(rng, plan, today, role)
    return plan


def _mentor_id(rng: Random, number: int) -> str:
    if number in vocab.SPECIAL_IDS:
        return vocab.SPECIAL_IDS[number]
    style = rng.choices(("underscore", "dash", "ulid", "hex"), weights=(55, 15, 20, 10))[0]
    if style == "ulid":
        return "mntr_01H" + "".join(rng.choices(vocab.CROCKFORD, k=7))
    if style == "hex":
        return f"mentor_{rng.getrandbits(24):06x}"
    return f"mentor{'_' if style == 'underscore' else '-'}{number:03d}"


def _days_since_joining(rng: Random, role: str) -> int:
    if role == "silent":
        return rng.randint(3, 25)
    if role == "active" and rng.random() < 0.15:
        return rng.randint(90, 600)
    return HISTORY_DAYS + rng.randint(10, 900)


def _rate(rng: Random) -> float:
    _, low, high = rng.choices(vocab.RATE_TIERS, weights=TIER_WEIGHTS)[0]
    return rng.uniform(low, high)


def _shape_history(rng: Random, plan: Plan, today: date, role: str) -> None:
    active = None
    if role in ("paused", "overdue"):
        active = _active_pause(rng, today, overdue=role == "overdue")
        plan.status, plan.horizon = "paused", active.start
    elif role == "inactive":
        back = timedelta(days=rng.randint(20, 400))
        plan.status, plan.horizon = "inactive", _at(today - back, rng.randint(8, 17))
    before = plan.horizon.date() - timedelta(days=14)
    plan.pauses = _closed_pauses(rng, plan.since.date(), before)
    if active is not None:
        plan.pauses.append(active)


def _closed_pauses(rng: Random, after: date, before: date) -> list[Pause]:
    pauses: list[Pause] = []
    day = after + timedelta(days=rng.randint(20, 240))
    while len(pauses) < 3 and rng.random() < 0.5:
        planned = rng.randint(7, 60)
        actual = max(3, planned + rng.randint(-6, 14))  # people come back early, or late
        if day + timedelta(days=max(planned, actual)) > before:
            break
        end = _at(day + timedelta(days=actual), rng.randint(8, 17))
        pauses.append(_pause(rng, day, day + timedelta(days=planned), end))
        day += timedelta(days=actual + rng.randint(30, 240))
    return pauses


def _active_pause(rng: Random, today: date, *, overdue: bool) -> Pause:
    if overdue:
        start = today - timedelta(days=rng.randint(40, 150))
        expected_return = start + timedelta(days=rng.randint(14, 35))
    else:
        start = today - timedelta(days=rng.randint(2, 45))
        expected_return = today + timedelta(days=rng.randint(3, 75))
    return _pause(rng, start, expected_return, None)


def _pause(rng: Random, start: date, expected_return: date, end: datetime | None) -> Pause:
    return Pause(
        start=_at(start, rng.randint(8, 17)),
        expected_return=_at(expected_return, 0),
        end=end,
        reason=rng.choice(vocab.PAUSE_REASONS),
    )


def _status_row(plan: Plan) -> Row:
    active = plan.pauses[-1] if plan.status == "paused" else None
    changes = [plan.horizon] if plan.status == "inactive" else [plan.joined]
    changes += [moment for pause in plan.pauses for moment in (pause.start, pause.end) if moment]
    return {
        "mentor_id": plan.id,
        "status": plan.status,
        "pause_start_date": active.start if active else None,
        "expected_return_date": active.expected_return if active else None,
        "pause_reason": active.reason if active else None,
        "extra": {"region": plan.region, "coordinator": plan.coordinator},
        "last_updated": max(changes),
    }


def _pause_rows(plans: list[Plan]) -> list[Row]:
    pauses = sorted(
        ((pause.start, plan.id, pause) for plan in plans for pause in plan.pauses),
        key=lambda item: item[:2],
    )
    return [
        {
            "id": f"pause-rec-{number:04d}",
            "mentor_id": mentor_id,
            "start_date": pause.start,
            "expected_return_date": pause.expected_return,
            "end_date": pause.end,
            "is_active": pause.end is None,
            "reason": pause.reason,
            "created_at": pause.start,
        }
        for number, (_, mentor_id, pause) in enumerate(pauses, start=1)
    ]


# --- the activity ledger -----------------------------------------------------------------------


def _activity_rows(rng: Random, plans: list[Plan], today: date) -> list[Row]:
    contacts = count(1)
    rows = [row for plan in plans for row in _ledger(rng, plan, today, contacts)]
    rows.sort(key=lambda row: (row["started_at"], row["mentor_id"]))
    for number, row in enumerate(rows, start=1):
        row["id"] = f"act_{number:06d}"
    return rows


def _ledger(rng: Random, plan: Plan, today: date, contacts: Iterator[int]) -> Iterator[Row]:
    pool: list[int] = []
    for back in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=back)
        growth = math.exp(plan.trend * (0.5 - back / HISTORY_DAYS))
        mean = plan.rate * vocab.WEEKDAY[day.weekday()] * vocab.SEASON[day.month - 1] * growth
        for type_id, started_at, minutes in _day_schedule(rng, plan, day, _poisson(rng, mean)):
            if not plan.available(started_at, started_at + timedelta(minutes=minutes)):
                continue
            yield {
                "mentor_id": plan.id,
                "activity_type_id": type_id,
                "contact_id": _contact(rng, pool, contacts),
                "started_at": started_at,
                "duration_minutes": minutes,
                "status": "cancelled" if rng.random() < CANCELLED_SHARE else "completed",
            }


def _day_schedule(rng: Random, plan: Plan, day: date, n: int) -> list[tuple[str, datetime, int]]:
    # Back-to-back with breaks, in the mentor's local working day, converted to UTC.
    hour = rng.choices(vocab.START_HOURS, weights=vocab.START_WEIGHTS)[0]
    minute = 60 * hour + 15 * rng.randint(0, 3)
    slots = []
    for _ in range(n):
        type_id, duration = _kind(rng)
        if minute + duration > LATEST_LOCAL_MINUTE:
            break
        local = datetime.combine(day, time(), UTC) + timedelta(minutes=minute)
        slots.append((type_id, local - plan.offset, duration))
        minute += duration + 5 * rng.randint(3, 30)
    return slots


def _kind(rng: Random) -> tuple[str, int]:
    type_id, _, low, high, mode = rng.choices(vocab.ACTIVITY_TYPES, weights=TYPE_WEIGHTS)[0]
    return type_id, min(high, max(low, 5 * round(rng.triangular(low, high, mode) / 5)))


def _contact(rng: Random, pool: list[int], contacts: Iterator[int]) -> str:
    if not pool or rng.random() < NEW_CONTACT_SHARE:
        pool.append(next(contacts))
        return f"contact_{pool[-1]}"
    # Most sessions are with someone the mentor has seen recently.
    return f"contact_{rng.choice(pool[-8:] if rng.random() < 0.75 else pool)}"


def _poisson(rng: Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit and k < 6:
        k += 1
        product *= rng.random()
    return k


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)
