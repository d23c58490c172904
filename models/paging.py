"""Pages of a one-to-many relation for many parents at once (a mentor's pause records, its sync
events): one windowed statement for the rows, one grouped statement for the counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Mapped

M = TypeVar("M")


def page_per_parent(
    entity: type[M],
    *,
    key: Mapped[str],
    parent: Mapped[str],
    parent_ids: Sequence[str],
    where: ColumnElement[bool],
    order: Sequence[Any],
    offset: int,
    limit: int,
) -> Select[M]:
    """One page of `entity` rows for each parent, in one statement: the rows matching `where`
    are numbered per parent in `order` (ROW_NUMBER()), and each parent keeps positions
    `offset + 1` to `offset + limit`; the answer is ordered by parent, then by `order`."""
    position = func.row_number().over(partition_by=parent, order_by=order).label("position")
    ranked = select(key.label("id"), position).where(parent.in_(parent_ids), where).subquery()
    return (
        select(entity)
        .join(ranked, ranked.c.id == key)
        .where(ranked.c.position > offset, ranked.c.position <= offset + limit)
        .order_by(parent, *order)
    )


def count_per_parent(
    *, parent: Mapped[str], parent_ids: Sequence[str], where: ColumnElement[bool]
) -> Select[str, int]:
    """How many rows match `where` for each parent (parents without any are absent)."""
    return select(parent, func.count()).where(parent.in_(parent_ids), where).group_by(parent)
