"""Changes the domain made in a transaction, to announce once (and only if) it commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

_PENDING = "mentor_gateway_pending_events"


@dataclass(frozen=True)
class StatusChanged:
    mentor_id: str
    status: str


def record_status_change(session: AsyncSession, *, mentor_id: str, status: str) -> None:
    session.info.setdefault(_PENDING, []).append(StatusChanged(mentor_id, status))


def take_pending(session: AsyncSession) -> list[StatusChanged]:
    """The changes recorded since the last call; the list starts empty again."""
    events: list[StatusChanged] = session.info.pop(_PENDING, [])
    return events


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)
