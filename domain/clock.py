"""The current time, pinnable: "today" decides every stats period, so tests must be able to fix it.

Domain functions take `today`/`now` as arguments; entry points (resolvers, the CLI) ask this
module. `pinned` fixes the time for the code running inside it (a context variable, so it
follows the request's task and never leaks into other tasks or tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.types import utcnow, whole_seconds

_pinned: ContextVar[datetime | None] = ContextVar("mentor_gateway_pinned_now", default=None)


def now() -> datetime:
    """The current instant (aware, UTC), or the pinned one."""
    return _pinned.get() or utcnow()


def today_in(zone: ZoneInfo) -> date:
    """The calendar date it is now in `zone`."""
    return now().astimezone(zone).date()


@contextmanager
def pinned(moment: datetime) -> Iterator[None]:
    """Make `now()` answer `moment` inside this block."""
    if moment.tzinfo is None:
        raise ValueError("pin an aware datetime")
    token = _pinned.set(whole_seconds(moment.astimezone(UTC)))
    try:
        yield
    finally:
        _pinned.reset(token)
