"""Calendar days and months of UTC timestamps in a configured zone, in SQL, on both dialects.

Stored timestamps are naive UTC. SQLite calls the functions of `models.sqlite_functions`;
PostgreSQL converts with `timezone()`. Both yield plain integers (days since 1970-01-01, and
year * 12 + month - 1) so grouping, gaps-and-islands and weekday arithmetic read alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

# 1970-01-01 was a Thursday: with Monday = 0, weekday = (day + THURSDAY) % 7.
THURSDAY = 3


class LocalDay(GenericFunction[int]):
    """Days since 1970-01-01 of the calendar day, in a zone, of a UTC timestamp."""

    type = Integer()
    name = "mg_local_day"
    inherit_cache = True


class LocalMonth(GenericFunction[int]):
    """year * 12 + month - 1 of the calendar month, in a zone, of a UTC timestamp."""

    type = Integer()
    name = "mg_local_month"
    inherit_cache = True


def _postgres_local(element: GenericFunction[int], compiler: SQLCompiler, **kw: Any) -> str:
    timestamp, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"timezone(CAST({zone} AS TEXT), timezone('UTC', {timestamp}))"


@compiles(LocalDay, "postgresql")
def _local_day_postgres(element: LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({_postgres_local(element, compiler, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(LocalMonth, "postgresql")
def _local_month_postgres(element: LocalMonth, compiler: SQLCompiler, **kw: Any) -> str:
    local = _postgres_local(element, compiler, **kw)
    return (
        f"(CAST(EXTRACT(YEAR FROM {local}) AS INTEGER) * 12"
        f" + CAST(EXTRACT(MONTH FROM {local}) AS INTEGER) - 1)"
    )


Timestamp = Mapped[datetime] | ColumnElement[datetime]


def day_in(column: Timestamp, zone: ColumnElement[str]) -> ColumnElement[int]:
    """The local day number of a UTC timestamp column, in the zone named by `zone`."""
    return LocalDay(column, zone)


def month_in(column: Timestamp, zone: ColumnElement[str]) -> ColumnElement[int]:
    """The local month number of a UTC timestamp column, in the zone named by `zone`."""
    return LocalMonth(column, zone)


def weekday_of(day: ColumnElement[int]) -> ColumnElement[int]:
    """Monday = 0 ... Sunday = 6, from a local day number (days are never before 1970)."""
    return (day + THURSDAY) % 7
