"""Delivers committed changes to subscribers: in this process, or across processes through
PostgreSQL LISTEN/NOTIFY so that every subscriber hears every change."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import Announcement
from models.notify import MAX_PAYLOAD_BYTES, Listener, notify

QUEUE_SIZE = 256  # a subscriber this far behind loses its oldest announcements, not the newest
DELIVERY_BATCH = 50  # subscribers woken per turn of the event loop (bench/fanout.py)
DECODED_KEPT = 16  # announcements whose decoded value is kept (a backlog rarely holds more)

T = TypeVar("T")


@dataclass(eq=False)
class _Subscriber:
    topic: str
    key: str | None
    queue: asyncio.Queue[Announcement] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )

    def offer(self, announcement: Announcement) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(announcement)


class Broker:
    """In-process delivery: enough for SQLite, where one process owns the database.

    One change may go to thousands of subscribers, each of whose tasks then resolves and sends
    a frame. Offered all at once, every one of those tasks is ready in the same turn of the
    event loop, which answers nothing else (not even /healthz) until all have run. So a
    delivery task offers each announcement DELIVERY_BATCH subscribers at a time and yields to
    the loop between batches; the committing request does not wait for the fan-out either.
    """

    def __init__(self) -> None:
        # By (topic, key): a change reaches its key's subscribers and the topic's key-less ones.
        self._subscribers: dict[tuple[str, str | None], set[_Subscriber]] = {}
        self._backlog: deque[Announcement] = deque()
        self._delivery: asyncio.Task[None] | None = None
        # (id(announcement), decode) -> (announcement, value); the announcement is held so that
        # its id cannot be reused by another while the entry lives.
        self._decoded: OrderedDict[tuple[int, object], tuple[Announcement, Any]] = OrderedDict()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery

    async def before_commit(
        self, session: AsyncSession, announcements: Sequence[Announcement]
    ) -> None:
        return None

    async def after_commit(self, announcements: Sequence[Announcement]) -> None:
        for announcement in announcements:
            self.deliver(announcement)

    def deliver(self, announcement: Announcement) -> None:
        """Queue `announcement` for every subscriber of its topic and key (in order)."""
        self._backlog.append(announcement)
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver_backlog(), name="broker-delivery")

    async def _deliver_backlog(self) -> None:
        while self._backlog:
            announcement = self._backlog.popleft()
            recipients = [
                *self._subscribers.get((announcement.topic, None), ()),
                *self._subscribers.get((announcement.topic, announcement.key), ()),
            ]
            for start in range(0, len(recipients), DELIVERY_BATCH):
                for subscriber in recipients[start : start + DELIVERY_BATCH]:
                    subscriber.offer(announcement)
                await asyncio.sleep(0)  # the offered subscribers run; so does everything else

    def decoded(self, announcement: Announcement, decode: Callable[[Announcement], T]) -> T:
        """`decode(announcement)`, computed once for all the subscribers it reaches.

        Every subscriber of a change receives the same announcement, and decoding it (validating
        the row) is the same work each time: 10,000 subscribers did it 10,000 times, and the
        ORM objects it left were most of the garbage whose collection stalled the loop
        (bench/fanout.py). Only the event is shared: each subscriber still resolves its own
        selection with its own context, errors and deadline. `decode` must not depend on the
        subscriber (no identity, no arguments) and its value must not be mutated.
        """
        key = (id(announcement), decode)
        entry = self._decoded.get(key)
        if entry is not None and entry[0] is announcement:
            value: T = entry[1]
            return value
        value = decode(announcement)
        self._decoded[key] = (announcement, value)
        if len(self._decoded) > DECODED_KEPT:
            self._decoded.popitem(last=False)
        return value

    async def subscribe(self, topic: str, key: str | None) -> AsyncGenerator[Announcement, None]:
        """Announcements of `topic` (for `key`, or all keys) from now on, until the caller stops."""
        subscriber = _Subscriber(topic, key)
        subscribers = self._subscribers.setdefault((topic, key), set())
        subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            subscribers.discard(subscriber)
            if not subscribers:
                self._subscribers.pop((topic, key), None)


class PostgresBroker(Broker):
    """Sends each announcement with NOTIFY inside the transaction; every process, this one too,
    receives it through its LISTEN connection only once the transaction has committed."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self._listener = Listener(database_url, self._receive)

    async def start(self) -> None:
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        await super().stop()

    async def before_commit(
        self, session: AsyncSession, announcements: Sequence[Announcement]
    ) -> None:
        for announcement in announcements:
            message = {"topic": announcement.topic, "key": announcement.key}
            payload = json.dumps({**message, "row": announcement.payload})
            if len(payload.encode()) > MAX_PAYLOAD_BYTES:
                # Too big for NOTIFY (large metadata): send the key; subscribers re-read the row.
                payload = json.dumps({**message, "row": None})
            await notify(session, payload)

    async def after_commit(self, announcements: Sequence[Announcement]) -> None:
        return None  # delivery arrives through LISTEN, after PostgreSQL confirms the commit

    def _receive(self, payload: str) -> None:
        message = json.loads(payload)
        self.deliver(Announcement(message["topic"], message["key"], message["row"]))


def broker_for(database_url: str) -> Broker:
    return PostgresBroker(database_url) if database_url.startswith("postgresql") else Broker()
