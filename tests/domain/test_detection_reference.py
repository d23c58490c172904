"""Detection from the ledger against a plain-Python reference, on a generated ledger.

The suite runs on SQLite and on PostgreSQL, so both engines are held to the same reference:
each activity sorted by (started_at, id), running totals summed one by one, a threshold
reached where the total first gets to it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select
from sqlmodel import col

import models.database
from domain import milestones
from domain.milestones import SCAN_BATCH
from models.activities import Activity
from models.database import COPY_FROM, Database
from models.milestones import Milestone, MilestoneDefinition
from tests.domain.test_milestones import _detect
from tests.factories import activity, add_ledger, make_mentor

Row = tuple[str, str, str, float, datetime | None]  # mentor, key, status, value, achieved_at
Entry = tuple[str, str, int]  # key, type, threshold
START = datetime(2025, 1, 1, 8, tzinfo=UTC)


def _ledger(rng: Random, mentors: list[str]) -> list[Activity]:
    """Busy and quiet mentors; cancelled work; repeat contacts; activities starting together."""
    ledger = []
    for n, mentor in enumerate(mentors):
        for k in range(rng.choice((0, 3, 40, 260, 600)) if n else 600):
            ledger.append(
                activity(
                    f"{mentor}-{rng.randrange(10**9):09d}-{k}",
                    mentor_id=mentor,
                    # 4-hour slots over ~6 months: many activities share a start
                    started_at=START + timedelta(hours=4 * rng.randrange(1100)),
                    minutes=rng.choice((5, 30, 45, 60, 90, 600)),
                    contact=f"contact_{rng.randrange(140)}",
                    status="cancelled" if rng.random() < 0.1 else "completed",
                )
            )
    return ledger


def _reference(ledger: list[Activity], mentors: list[str], catalogue: list[Entry]) -> set[Row]:
    """Every milestone row a first detection should write, worked out one activity at a time."""
    done: dict[str, list[Activity]] = defaultdict(list)
    for item in sorted(ledger, key=lambda a: (a.started_at, a.id)):
        if item.status == "completed":
            done[item.mentor_id].append(item)
    expected: set[Row] = set()
    for mentor in mentors:
        minutes, contacts, reached = 0, set[str](), dict[str, datetime]()
        for count, item in enumerate(done[mentor], start=1):
            before = (minutes / 60, len(contacts), count - 1)
            minutes += item.duration_minutes
            contacts.add(item.contact_id)
            after = (minutes / 60, len(contacts), count)
            for key, kind, threshold in catalogue:
                slot = ("hours_logged", "contacts_helped", "activity_count").index(kind)
                if before[slot] < threshold <= after[slot] and key not in reached:
                    reached[key] = item.started_at
        totals = {
            "hours_logged": minutes / 60,
            "contacts_helped": float(len(contacts)),
            "activity_count": float(len(done[mentor])),
        }
        for kind in totals:
            ladder = sorted((t, key) for key, k, t in catalogue if k == kind)
            value = round(totals[kind], 4)
            for _threshold, key in ladder:
                if key in reached:
                    expected.add((mentor, key, "achieved", value, reached[key]))
                else:
                    expected.add((mentor, key, "in_progress", value, None))
                    break
    return expected


async def _catalogue_and_stored(database: Database) -> tuple[list[Entry], set[Row]]:
    async with database.sessions() as session:
        catalogue = [
            (d.key, d.type, d.threshold)
            for d in (await session.execute(select(MilestoneDefinition))).scalars()
        ]
        stored = {
            (m.mentor_id, m.definition_key, m.status, m.value, m.achieved_at)
            for m in (await session.execute(select(Milestone).order_by(col(Milestone.id))))
            .scalars()
            .all()
        }
    return catalogue, stored


@pytest.mark.parametrize("batch", [SCAN_BATCH, 7])  # 7: mentors' rows split across batches
async def test_detection_matches_the_reference_on_a_generated_ledger(
    database: Database, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(milestones, "SCAN_BATCH", batch)
    rng = Random(20261202)
    mentors = [f"mentor_{n:02}" for n in range(14)]
    for mentor in mentors:
        await make_mentor(database, id=mentor)
    ledger = _ledger(rng, mentors)
    await add_ledger(database, *ledger)

    detection = await _detect(database)

    catalogue, stored = await _catalogue_and_stored(database)
    expected = _reference(ledger, mentors, catalogue)
    assert stored == expected
    achieved = sum(1 for row in expected if row[2] == "achieved")
    assert detection.newly_achieved == achieved > 30  # the ledger reaches far up every ladder
    assert {row[1] for row in expected if row[2] == "achieved"} >= {
        "milestone_300h",
        "milestone_100contacts",
        "milestone_500activities",
    }


@pytest.mark.parametrize("copy_from", [COPY_FROM, 1], ids=["executemany", "copy"])
async def test_detection_over_a_growing_ledger_matches_the_reference(
    database: Database, copy_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detected over the ledger's first months, then over all of it: the second pass updates
    rows the first wrote (values up, thresholds newly reached). With `copy`, PostgreSQL writes
    them through COPY and one upsert (models.database.write_many), which a detection takes
    from COPY_FROM rows on; below that, and on SQLite, an executemany."""
    monkeypatch.setattr(models.database, "COPY_FROM", copy_from)
    rng = Random(20261203)
    mentors = [f"mentor_{n:02}" for n in range(14)]
    for mentor in mentors:
        await make_mentor(database, id=mentor)
    ledger = _ledger(rng, mentors)
    cut = START + timedelta(days=100)
    await add_ledger(database, *(a for a in ledger if a.started_at < cut))
    first = await _detect(database)
    await add_ledger(database, *(a for a in ledger if a.started_at >= cut))

    second = await _detect(database)

    catalogue, stored = await _catalogue_and_stored(database)
    assert stored == _reference(ledger, mentors, catalogue)
    assert first.rows_written > 100  # every mentor's rows, then
    assert 30 < second.rows_written < first.rows_written  # updates: values grew, not all
    assert second.newly_achieved > 5
