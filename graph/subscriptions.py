"""Live updates over graphql-transport-ws at `/graphql`, fed by the broker after each commit,
and the deadline every streamed result (a websocket query, each subscription event) runs under.

A subscription can wait for events forever, so one deadline for the whole stream would not do:
the deadline runs from the start of an operation to its first result, and for each later event
from its arrival to its result (the reading of the row and the resolution of the selection),
paused while the subscription waits for the next event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from domain.events import STATUS_CHANGED, Announcement
from domain.milestones import MILESTONE_ACHIEVED
from graph.errors import code_errors
from graph.info import Info
from graph.limits import timeout_error
from graph.mentor_scope import require_watched_mentor
from graph.types.milestone import Milestone
from graph.types.status import MentorStatus
from models.milestones import milestones_by_ids
from models.statuses import MentorStatus as MentorStatusRow
from models.statuses import status_of

T = TypeVar("T")


class EventDeadline:
    """The running operation's deadline: armed while it works, paused while it waits."""

    def __init__(self, timeout: asyncio.Timeout, seconds: float) -> None:
        self._timeout = timeout
        self._seconds = seconds

    def arm(self) -> None:
        self._timeout.reschedule(asyncio.get_running_loop().time() + self._seconds)

    def pause(self) -> None:
        self._timeout.reschedule(None)


# Set by `with_deadlines` in the task that streams the operation (each websocket operation has
# a task of its own), read by the subscription generators below, which run in that task.
_deadline: ContextVar[EventDeadline | None] = ContextVar("event_deadline", default=None)


async def with_deadlines(
    results: AsyncGenerator[Any, None], seconds: float
) -> AsyncGenerator[Any, None]:
    """`results` (a Strawberry result stream), each result produced within `seconds` of its
    start, or a TIMEOUT error in its place that ends the stream (the cancelled stream cannot go
    on). The deadline is paused before each `yield`, so it never fires in the consumer's code."""
    async with aclosing(results):
        try:
            async with asyncio.timeout(seconds) as timeout:
                deadline = EventDeadline(timeout, seconds)
                _deadline.set(deadline)
                first = True
                while True:
                    try:
                        result = await anext(results)
                    except StopAsyncIteration:
                        return
                    except GraphQLError as error:
                        if not first:
                            raise
                        # ParserCache and the token limit parse in an extension hook, whose
                        # errors Strawberry's stream lets escape: answer them like `execute`.
                        result = PreExecutionError(data=None, errors=[error])
                        code_errors(result)
                        deadline.pause()
                        yield result
                        return
                    deadline.pause()
                    yield result
                    first = False
        except TimeoutError:
            yield ExecutionResult(data=None, errors=[timeout_error(seconds)])


async def between_events(events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """`events`, with the operation's deadline paused while waiting for each and armed again
    when it arrives (no deadline outside `with_deadlines`)."""
    deadline = _deadline.get()
    async with aclosing(events):
        while True:
            if deadline is not None:
                deadline.pause()
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            if deadline is not None:
                deadline.arm()
            yield event


def _announcements(
    info: Info, topic: str, key: str | None
) -> aclosing[AsyncGenerator[Announcement, None]]:
    """The broker's announcements for this subscription, closed (unsubscribed) on exit."""
    return aclosing(between_events(info.context.broker.subscribe(topic, key)))


def _status_from_payload(announcement: Announcement) -> MentorStatus:
    """The status an announcement carries (decoded once for all subscribers: Broker.decoded)."""
    return MentorStatus.from_row(MentorStatusRow.model_validate(announcement.payload))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The new status each time one changes, through any entry point."
    )
    async def mentor_status_changed(
        self,
        info: Info,
        mentor_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Omit to watch every mentor.")
        ] = None,
    ) -> AsyncGenerator[MentorStatus, None]:
        context = info.context
        await require_watched_mentor(context, mentor_id)
        async with _announcements(info, STATUS_CHANGED, mentor_id) as announcements:
            async for announcement in announcements:
                if announcement.payload is not None:
                    yield context.broker.decoded(announcement, _status_from_payload)
                    continue
                # The change was too large to carry in the notification: read the committed row.
                async with context.database.sessions() as session:
                    found = await session.execute(status_of(announcement.key))
                read = found.scalar_one_or_none()
                if read is not None:
                    yield MentorStatus.from_row(read)

    @strawberry.subscription(description="Each milestone a mentor achieves, after it is saved.")
    async def milestone_achieved(
        self,
        info: Info,
        mentor_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Omit to watch every mentor.")
        ] = None,
    ) -> AsyncGenerator[Milestone, None]:
        context = info.context
        await require_watched_mentor(context, mentor_id)
        async with _announcements(info, MILESTONE_ACHIEVED, mentor_id) as announcements:
            async for announcement in announcements:
                # The announcement names the committed record; read it with its catalogue entry.
                key = str((announcement.payload or {}).get("id", ""))
                async with context.database.sessions() as session:
                    found = (await session.execute(milestones_by_ids([key]))).first()
                if found is not None:
                    yield Milestone.from_rows(found.Milestone, found.MilestoneDefinition)
