"""Timestamps handed to the driver as tuples (bulk writes, bulk scans) must be exactly what
the UTCDateTime column type would store and read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from models.types import UTCDateTime, driver_utc, stored_utc

MOMENTS = [
    datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2025, 1, 2, 3, 4, 5, 123, tzinfo=UTC),
    datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
]

DIALECTS: list[Dialect] = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_driver_values_are_what_the_column_type_stores(moment: datetime, dialect: Dialect) -> None:
    column = UTCDateTime()
    bound = column.process_bind_param(moment, dialect)
    # The dialect's own DateTime (SQLite's writes text) does the rest of a bind.
    processor = dialect.type_descriptor(column.impl_instance).bind_processor(dialect)
    stored = processor(bound) if processor else bound
    name = dialect.name
    assert driver_utc(name)(moment) == stored
    assert stored_utc(stored) == moment
    if isinstance(stored, str):
        assert stored_utc(stored.encode()) == moment  # as an `undecoded` scan reads it


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
def test_a_naive_datetime_is_refused_as_the_column_type_refuses_it(name: str) -> None:
    with pytest.raises(ValueError, match="naive"):
        driver_utc(name)(datetime(2025, 1, 2))
    assert driver_utc(name)(None) is None


def test_stored_text_with_an_offset_still_reads_as_utc() -> None:
    assert stored_utc("2025-01-02 05:04:05+02:00") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
