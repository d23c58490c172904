"""Column types shared by every table."""

from __future__ import annotations

import importlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, String, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType, TypeDecorator

from models.unreadable import report_unreadable


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
        return _naive_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def stored_utc(value: datetime | str | bytes) -> datetime:
    """A UTCDateTime column's value read `undecoded`: SQLite hands back its text (as bytes),
    PostgreSQL a naive datetime; both are UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    text = stored_text(value)
    try:  # parsing with the offset is 4x faster than parsing, then datetime.replace
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:  # text this version did not write (with an offset already?)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _aware(value: Any) -> datetime:
    """`value` if it is a datetime with a time zone: what UTCDateTime accepts."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return value


def _naive_utc(value: Any) -> datetime | None:
    """UTCDateTime's bind conversion (PostgreSQL's driver takes it as it is)."""
    return None if value is None else _aware(value).astimezone(UTC).replace(tzinfo=None)


def _sqlite_utc(value: Any) -> str | None:
    """What SQLite's DateTime stores for `_naive_utc(value)`, without datetime.replace's cost."""
    if value is None:
        return None
    moment = _aware(value)
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:26]  # SQLAlchemy's SQLite text, offset cut


def driver_utc(dialect: str) -> Callable[[datetime | None], Any]:
    """UTCDateTime's bind conversion, for rows handed to the driver as tuples
    (`models.database.write_rows`): the same stored value, a third of the cost on SQLite."""
    return _naive_utc if dialect == "postgresql" else _sqlite_utc


class StoredEnum(TypeDecorator[str]):
    """A closed set stored as text: reads as a member of `enum`, and a value this version does
    not know (an older version's, or a manual edit) as `fallback`, logged once per value, so
    that one such row never fails a list. `fallback=None` suits nullable columns.

    `enum` is named "module:Class" and imported on first read: the domain modules that own
    the vocabularies import these tables."""

    impl = String
    cache_ok = True

    def __init__(self, enum: str, *, fallback: str | None, length: int = 32) -> None:
        super().__init__(length)
        self.enum = enum
        self.fallback = fallback

    def _members(self) -> type[StrEnum]:
        module, name = self.enum.split(":")
        found: type[StrEnum] = getattr(importlib.import_module(module), name)
        return found

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        members = self._members()
        fallback = None if self.fallback is None else members(self.fallback)
        known = {member.value: member for member in members}

        def decode(value: Any) -> StrEnum | None:
            if value is None:
                return None
            member = known.get(value)
            if member is None:
                report_unreadable(
                    f"{members.__name__} value",
                    str(value),
                    "unknown to this version",
                    read_as="null" if fallback is None else repr(fallback.value),
                )
                return fallback
            return member

        return decode


class _Undecoded(FunctionElement[Any]):
    """A column as the driver hands it back, with no result type (see `undecoded`)."""

    inherit_cache = True
    type = NullType()


@compiles(_Undecoded)
def _undecoded(element: _Undecoded, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Undecoded, "sqlite")
def _undecoded_bytes(element: _Undecoded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


def undecoded(column: ColumnElement[Any] | Mapped[Any]) -> ColumnElement[Any]:
    """`column` for bulk scans, skipping per-value work: no result type and, on SQLite, its
    bytes (text would go through `decode_text`, a Python call per value: 1.2 s per million).
    Bytes compare and hash as the text does; `stored_text` and `stored_utc` decode the few
    values a scan keeps. PostgreSQL's driver decodes in C: there the column is unchanged."""
    return _Undecoded(column)


def stored_text(value: str | bytes) -> str:
    """An `undecoded` text column's value as text."""
    return value if isinstance(value, str) else value.decode(errors="replace")


class _JSONText(FunctionElement[str]):
    """A json column as its stored text, on PostgreSQL: asyncpg would decode it before any
    column type could catch what Python's decoder refuses (see StoredJSON)."""

    inherit_cache = True
    type = String()


@compiles(_JSONText)
def _json_column(element: _JSONText, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_JSONText, "postgresql")
def _json_column_as_text(element: _JSONText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


def _decoded_or_none(text: Any) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, a 4,300-digit integer, nested too deep
        return None


class StoredJSON(TypeDecorator[Any]):
    """JSON that reads as None when its stored text does not decode, instead of failing the
    whole statement (and so every list holding the row). This version never writes such text
    (domain.validation), but a SQLite column holds any text an older version or a person put
    there, and PostgreSQL's `json` type accepts nesting and integers Python's decoder refuses
    (read as text, decoded here). Readers report the None."""

    impl = JSON
    cache_ok = True

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[Any]:
        return type_coerce(_JSONText(colexpr), self)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql":
            return lambda value: None if value is None else _decoded_or_none(value)
        decode = super().result_processor(dialect, coltype)
        if decode is None:
            return None

        def tolerant(value: Any) -> Any:
            try:
                return decode(value)
            except (ValueError, RecursionError):  # not JSON; nested past the decoder's depth
                return None

        return tolerant
