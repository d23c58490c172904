"""Changes the domain made in a transaction, to announce once (and only if) it commits.

The domain records the changed row; the unit of work snapshots it just before committing (so
the snapshot shows the row's final state) and hands the snapshots to the broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.statuses import MentorStatus

_PENDING = "mentor_gateway_pending_events"
STATUS_CHANGED = "mentor_status_changed"


@dataclass(frozen=True)
class Announcement:
    """One committed change: a topic, the key subscribers filter by, and the row as JSON (None
    when it was too large to carry: the receiver reads the row itself)."""

    topic: str
    key: str
    payload: dict[str, Any] | None


class Snapshot(Protocol):
    """A changed row: a table model, or any plain record that can dump itself the same way."""

    def model_dump(self, *, mode: Literal["json"]) -> dict[str, Any]: ...


def record_change(session: AsyncSession, *, topic: str, key: str, row: Snapshot) -> None:
    pending: dict[tuple[str, str], Snapshot] = session.info.setdefault(_PENDING, {})
    pending.pop((topic, key), None)  # re-inserted last: announcements keep the order of changes
    pending[(topic, key)] = row


def record_status_change(session: AsyncSession, row: MentorStatus) -> None:
    record_change(session, topic=STATUS_CHANGED, key=row.mentor_id, row=row)


def take_announcements(session: AsyncSession) -> list[Announcement]:
    """Snapshots of every row changed since the last call, once per row, oldest change first."""
    pending: dict[tuple[str, str], Snapshot] = session.info.pop(_PENDING, {})
    return [
        Announcement(topic, key, row.model_dump(mode="json"))
        for (topic, key), row in pending.items()
    ]


def discard_pending(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)
