"""Milestone detection, with expected figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from domain.milestone_labels import accessibility_label
from domain.milestones import Detection, Summary, detect_from_ledger, detect_from_summary
from models.database import Database, begin_write, count_statements
from models.milestones import Milestone, MilestoneDefinition
from tests.factories import activity, add_ledger, make_mentor

UTC_ZONE = ZoneInfo("UTC")


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 7, day, hour, tzinfo=UTC)


async def _detect(database: Database, mentor_ids: list[str] | None = None) -> Detection:
    async with database.sessions() as session:
        await begin_write(session)
        detection = await detect_from_ledger(session, mentor_ids=mentor_ids)
        await session.commit()
    return detection


async def _standing(database: Database, mentor_id: str) -> dict[str, Milestone]:
    async with database.sessions() as session:
        rows = await session.execute(select(Milestone).where(col(Milestone.mentor_id) == mentor_id))
        return {row.definition_key: row for row in rows.scalars()}


async def _summary(database: Database, **figures: float) -> None:
    summary = Summary(
        mentor_id="mentor_001",
        year=2025,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        total_hours=figures["hours"],
        unique_contacts_helped=int(figures["contacts"]),
        activity_count=int(figures["activities"]),
    )
    async with database.sessions() as session:
        await begin_write(session)
        await detect_from_summary(session, summary, tz=UTC_ZONE)
        await session.commit()


async def test_one_activity_crossing_two_thresholds_achieves_both_at_its_start(
    database: Database,
) -> None:
    await make_mentor(database, id="mentor_001")
    # 9 h, then 41 h: the running total goes 9 h -> 50 h, crossing 10 h and 50 h together.
    await add_ledger(
        database,
        activity("a1", mentor_id="mentor_001", started_at=_at(1), minutes=540),
        activity("a2", mentor_id="mentor_001", started_at=_at(14), minutes=2460, contact="c2"),
    )
    await _detect(database)

    standing = await _standing(database, "mentor_001")
    assert standing["milestone_10h"].status == "achieved"
    assert standing["milestone_50h"].status == "achieved"
    assert standing["milestone_10h"].achieved_at == _at(14)
    assert standing["milestone_50h"].achieved_at == _at(14)
    assert standing["milestone_100h"].status == "in_progress"
    assert standing["milestone_100h"].value == 50
    assert "milestone_300h" not in standing  # only the next of each type is kept in progress


async def test_a_cancelled_activity_does_not_count(database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    # 9 h completed + 2 h cancelled: still 9 h, so 10 h is not reached.
    await add_ledger(
        database,
        activity("a1", mentor_id="mentor_001", started_at=_at(1), minutes=540),
        activity("a2", mentor_id="mentor_001", started_at=_at(2), minutes=120, status="cancelled"),
    )
    await _detect(database)

    standing = await _standing(database, "mentor_001")
    assert standing["milestone_10h"].status == "in_progress"
    assert standing["milestone_10h"].value == 9
    assert standing["milestone_25activities"].value == 1


async def test_contacts_count_distinct_people_at_their_first_visit(database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    # 12 activities with contacts c0..c9, c0, c1: the 10th distinct contact is met on day 10.
    await add_ledger(
        database,
        *(
            activity(
                f"a{n:02}", mentor_id="mentor_001", started_at=_at(n + 1), contact=f"c{n % 10}"
            )
            for n in range(12)
        ),
    )
    await _detect(database)

    standing = await _standing(database, "mentor_001")
    assert standing["milestone_10contacts"].achieved_at == _at(10)
    assert standing["milestone_10contacts"].value == 10
    assert standing["milestone_25contacts"].status == "in_progress"


async def test_detection_is_idempotent(database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await add_ledger(
        database, activity("a1", mentor_id="mentor_001", started_at=_at(1), minutes=700)
    )
    first = await _detect(database)
    before = {k: m.version for k, m in (await _standing(database, "mentor_001")).items()}
    second = await _detect(database)
    after = {k: m.version for k, m in (await _standing(database, "mentor_001")).items()}

    assert first.newly_achieved == 1  # 10 h
    assert (second.newly_achieved, second.rows_written) == (0, 0)
    assert before == after


async def test_detection_costs_the_same_statements_for_1_and_30_mentors(
    database: Database,
) -> None:
    for n in range(30):
        await make_mentor(database, id=f"mentor_{n:03}")
        await add_ledger(
            database, activity(f"a{n}", mentor_id=f"mentor_{n:03}", started_at=_at(1), minutes=600)
        )
    async with count_statements() as one:
        await _detect(database, ["mentor_000"])
    async with count_statements() as thirty:
        await _detect(database, [f"mentor_{n:03}" for n in range(30)])
    assert one.count == thirty.count


async def test_the_contract_example(database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await _summary(database, hours=312.5, contacts=47, activities=198)

    standing = await _standing(database, "mentor_001")
    achieved = sorted(k for k, m in standing.items() if m.status == "achieved")
    in_progress = {k: m.value for k, m in standing.items() if m.status == "in_progress"}
    assert achieved == sorted(
        [
            "milestone_10h",
            "milestone_50h",
            "milestone_100h",
            "milestone_300h",
            "milestone_10contacts",
            "milestone_25contacts",
            "milestone_25activities",
            "milestone_50activities",
            "milestone_100activities",
        ]
    )
    assert in_progress == {
        "milestone_500h": 312.5,
        "milestone_50contacts": 47,
        "milestone_250activities": 198,
    }
    # The end of 2025-12-31 in the service's zone (UTC here).
    assert standing["milestone_100h"].achieved_at == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)


async def test_a_lower_later_summary_leaves_achieved_milestones_achieved(
    database: Database,
) -> None:
    await make_mentor(database, id="mentor_001")
    await _summary(database, hours=312.5, contacts=47, activities=198)
    first = await _standing(database, "mentor_001")
    await _summary(database, hours=20, contacts=3, activities=10)
    second = await _standing(database, "mentor_001")

    assert second["milestone_300h"].status == "achieved"
    assert second["milestone_300h"].achieved_at == first["milestone_300h"].achieved_at
    assert second["milestone_500h"].value == 20  # the in-progress figure follows the summary


async def test_the_same_summary_twice_changes_nothing(database: Database) -> None:
    await make_mentor(database, id="mentor_001")
    await _summary(database, hours=312.5, contacts=47, activities=198)
    first = {
        k: (m.version, m.updated_at) for k, m in (await _standing(database, "mentor_001")).items()
    }
    await _summary(database, hours=312.5, contacts=47, activities=198)
    second = {
        k: (m.version, m.updated_at) for k, m in (await _standing(database, "mentor_001")).items()
    }
    assert first == second


def test_labels_are_sentences_with_words_for_dates() -> None:
    label = accessibility_label(
        kind="hours_logged",
        status="achieved",
        threshold=100,
        value=312.5,
        achieved_at=datetime(2025, 7, 14, 16, 30, tzinfo=UTC),
        tz=UTC_ZONE,
    )
    progress = [
        accessibility_label(
            kind=kind,
            status="in_progress",
            threshold=threshold,
            value=value,
            achieved_at=None,
            tz=UTC_ZONE,
        )
        for kind, threshold, value in (
            ("hours_logged", 500, 312.5),
            ("contacts_helped", 50, 47),
            ("activity_count", 250, 198),
        )
    ]
    late = accessibility_label(
        kind="activity_count",
        status="achieved",
        threshold=25,
        value=30,
        achieved_at=datetime(2025, 7, 14, 23, 30, tzinfo=UTC),
        tz=ZoneInfo("Europe/Oslo"),
    )
    assert label == "You reached 100 hours of mentoring on July 14, 2025"
    assert progress == [
        "You have logged 312.5 out of 500 hours of mentoring, 187.5 remaining",
        "You have helped 47 out of 50 unique contacts, 3 remaining",
        "You have completed 198 out of 250 activities, 52 remaining",
    ]
    assert late == "You reached 25 completed activities on July 15, 2025"  # 01:30 in Oslo


async def test_the_catalogue_is_data(database: Database) -> None:
    async with database.sessions() as session:
        keys = list((await session.execute(select(col(MilestoneDefinition.key)))).scalars())
    assert len(keys) == 15
    assert "milestone_1000h" in keys
