"""The transactional status service: the pause-record invariant, also under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from domain import statuses
from domain.errors import BadInput, Conflict, NotFound, PreconditionFailed
from domain.status_rules import StatusValue
from domain.statuses import PauseChanges, StatusChanges
from models.database import Database, begin_write
from models.statuses import MentorStatus, PauseRecord
from tests.factories import make_mentor, make_pause


async def _active_records(database: Database, mentor_id: str) -> list[PauseRecord]:
    async with database.sessions() as session:
        rows = await session.execute(
            select(PauseRecord).where(
                col(PauseRecord.mentor_id) == mentor_id, col(PauseRecord.is_active)
            )
        )
        return list(rows.scalars())


async def _status(database: Database, mentor_id: str) -> MentorStatus | None:
    async with database.sessions() as session:
        return await session.get(MentorStatus, mentor_id)


async def _update(database: Database, mentor_id: str, changes: StatusChanges) -> MentorStatus:
    async with database.sessions() as session:
        await begin_write(session)
        row = await statuses.update_status(
            session, mentor_id=mentor_id, changes=changes, if_match=None
        )
        await session.commit()
        return row


async def _update_if_match(database: Database, mentor_id: str, *, if_match: str) -> None:
    async with database.sessions() as session:
        await begin_write(session)
        await statuses.update_status(
            session, mentor_id=mentor_id, changes=StatusChanges(), if_match=if_match
        )


async def _delete_pause(database: Database, record_id: str) -> None:
    async with database.sessions() as session:
        await begin_write(session)
        await statuses.delete_pause(session, record_id=record_id, if_match=None)
        await session.commit()


async def test_pausing_opens_one_record_and_copies_it_onto_the_status(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    returns = datetime(2030, 5, 1, tzinfo=UTC)
    record = await make_pause(database, mentor_id="mentor-001", expected_return_date=returns)

    status = await _status(database, "mentor-001")
    assert status is not None
    assert status.status == StatusValue.PAUSED
    assert status.pause_start_date == record.start_date
    assert status.expected_return_date == returns
    assert status.pause_reason == "personal_leave"
    assert [r.id for r in await _active_records(database, "mentor-001")] == [record.id]


async def test_resuming_closes_the_record_and_clears_the_pause_fields(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    record = await make_pause(database, mentor_id="mentor-001")

    status = await _update(database, "mentor-001", StatusChanges(status=StatusValue.ACTIVE))

    assert status.status == StatusValue.ACTIVE
    assert status.pause_start_date is None
    assert status.pause_reason is None
    assert await _active_records(database, "mentor-001") == []
    async with database.sessions() as session:
        closed = await session.get(PauseRecord, record.id)
    assert closed is not None
    assert not closed.is_active
    assert closed.end_date is not None


async def test_deactivating_a_paused_mentor_closes_the_pause(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    await make_pause(database, mentor_id="mentor-001")

    status = await _update(database, "mentor-001", StatusChanges(status=StatusValue.INACTIVE))

    assert status.status == StatusValue.INACTIVE
    assert await _active_records(database, "mentor-001") == []


async def test_an_illegal_transition_is_a_conflict_and_changes_nothing(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    await _update(database, "mentor-001", StatusChanges(status=StatusValue.INACTIVE))

    with pytest.raises(Conflict):
        await _update(database, "mentor-001", StatusChanges(status=StatusValue.PAUSED))

    status = await _status(database, "mentor-001")
    assert status is not None
    assert status.status == StatusValue.INACTIVE
    assert await _active_records(database, "mentor-001") == []


async def test_a_second_pause_is_refused(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    await make_pause(database, mentor_id="mentor-001")
    with pytest.raises(Conflict):
        await make_pause(database, mentor_id="mentor-001")
    assert len(await _active_records(database, "mentor-001")) == 1


async def test_concurrent_pauses_open_exactly_one_record(database: Database) -> None:
    await make_mentor(database, id="mentor-001")

    async def pause() -> str:
        try:
            await make_pause(database, mentor_id="mentor-001")
        except Conflict:
            return "conflict"
        return "paused"

    outcomes = await asyncio.gather(*(pause() for _ in range(10)))

    assert outcomes.count("paused") == 1
    assert outcomes.count("conflict") == 9
    assert len(await _active_records(database, "mentor-001")) == 1


async def test_closing_a_pause_record_resumes_the_mentor(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    record = await make_pause(database, mentor_id="mentor-001")
    ended = datetime.now(UTC) + timedelta(seconds=1)
    async with database.sessions() as session:
        await begin_write(session)
        closed = await statuses.update_pause(
            session,
            record_id=record.id,
            changes=PauseChanges(is_active=False, end_date=ended),
            if_match=None,
        )
        await session.commit()

    assert closed.end_date == ended
    assert not closed.is_active
    status = await _status(database, "mentor-001")
    assert status is not None
    assert status.status == StatusValue.ACTIVE


async def test_a_stale_if_match_is_refused(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    before = await _status(database, "mentor-001")
    assert before is not None
    await _update(database, "mentor-001", StatusChanges(metadata={"note": "changed"}))

    with pytest.raises(PreconditionFailed):
        await _update_if_match(database, "mentor-001", if_match=before.version)


async def test_return_date_before_start_is_bad_input(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    start = datetime(2026, 3, 26, tzinfo=UTC)
    with pytest.raises(BadInput):
        await make_pause(
            database, mentor_id="mentor-001", start_date=start, expected_return_date=start
        )


async def test_unknown_mentor_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound):
        await make_pause(database, mentor_id="nobody")


async def test_deleting_a_status_keeps_the_pause_history(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    record = await make_pause(database, mentor_id="mentor-001")
    async with database.sessions() as session:
        await begin_write(session)
        await statuses.delete_status(session, mentor_id="mentor-001", if_match=None)
        await session.commit()

    assert await _status(database, "mentor-001") is None
    async with database.sessions() as session:
        kept = await session.get(PauseRecord, record.id)
        total = (await session.execute(select(func.count()).select_from(PauseRecord))).scalar()
    assert kept is not None
    assert not kept.is_active
    assert total == 1


async def test_deleting_the_active_pause_record_resumes_the_mentor(database: Database) -> None:
    await make_mentor(database, id="mentor-001")
    record = await make_pause(database, mentor_id="mentor-001")
    await _delete_pause(database, record.id)

    status = await _status(database, "mentor-001")
    assert status is not None
    assert status.status == StatusValue.ACTIVE
    assert status.pause_reason is None
    assert await _active_records(database, "mentor-001") == []
    async with database.sessions() as session:
        assert await session.get(PauseRecord, record.id) is None
    # The mentor can be paused again: the invariant held through the delete.
    again = await make_pause(database, mentor_id="mentor-001")
    assert [r.id for r in await _active_records(database, "mentor-001")] == [again.id]
