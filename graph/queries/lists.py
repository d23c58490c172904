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
    rows: Callable[[int, int], Select[Any]],
    count: Select[int],
    convert: Callable[[Any], T],
) -> Connection[T]:
    """A connection from a statement builder taking (offset, limit) and a count statement."""
    session = await context.session()
    found = (await session.execute(rows(window.offset, window.fetch))).scalars().all()

    async def total() -> int:
        return int((await (await context.session()).execute(count)).scalar_one())

    return Connection.build([convert(row) for row in found], window, total)
