"""SQL functions SQLite lacks, registered on every SQLite connection.

SQLite has no time-zone database, so local calendar days and months come from Python's zoneinfo.
PostgreSQL computes the same values natively (`models.localtime`); both read the same IANA data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(value: str, zone: str) -> datetime:
    # SQLAlchemy stores SQLite datetimes as naive UTC text: '2026-01-31 23:30:00.000000'.
    return datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(_zone(zone))


def local_day(value: str | None, zone: str) -> int | None:
    """The calendar day in `zone` of a stored UTC timestamp, as days since 1970-01-01."""
    return None if value is None else _local(value, zone).toordinal() - EPOCH_ORDINAL


def local_month(value: str | None, zone: str) -> int | None:
    """The calendar month in `zone` of a stored UTC timestamp, as year * 12 + month - 1."""
    if value is None:
        return None
    local = _local(value, zone)
    return local.year * 12 + local.month - 1


def register_functions(dbapi_connection: Any) -> None:
    """Make the functions above callable from SQL (deterministic, so SQLite may reuse results)."""
    dbapi_connection.create_function("mg_local_day", 2, local_day, deterministic=True)
    dbapi_connection.create_function("mg_local_month", 2, local_month, deterministic=True)
