"""Column types shared by every table."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def whole_seconds(moment: datetime) -> datetime:
    """`moment` at the one precision the service stores and prints (docs/domain.md,
    "Timestamps"): whole seconds, so what a client reads back is exactly what is compared."""
    return moment.replace(microsecond=0)


def utcnow() -> datetime:
    """Now, in UTC, at whole seconds."""
    return whole_seconds(datetime.now(UTC))


def new_version() -> str:
    """A fresh entity tag: random, so a deleted and re-created row never reuses an old one."""
    return secrets.token_hex(8)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every dialect; always hands back timezone-aware UTC datetimes.

    SQLite has no time zone support and PostgreSQL's `timestamptz` would answer in the session
    zone; storing plain UTC keeps both dialects identical and makes range predicates index-friendly.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)
