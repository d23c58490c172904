"""Top-level lists: one statement for the page, one for `totalCount` only if it is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select

from graph.context import Context
from graph.pagination import Connection, Window

T = TypeVar("T")


async def paged(
    context: Context,
    window: Window,
    *,
    rows: Callable[[int, int], Select[*tuple[Any, ...]]],
    count: Select[int],
    convert: Callable[[Any], T],
    whole_rows: bool = False,
) -> Connection[T]:
    """A connection from a statement builder taking (offset, limit) and a count statement;
    `convert` gets each row's first entity, or the whole row with `whole_rows` (joins)."""
    result = await context.read(rows(window.offset, window.fetch))
    found = result.all() if whole_rows else result.scalars().all()

    async def total() -> int:
        return int((await context.read(count)).scalar_one())

    return Connection.build([convert(row) for row in found], window, total)
