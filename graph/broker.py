"""Delivers committed changes to subscribers: in this process, or across processes through
PostgreSQL LISTEN/NOTIFY so that every subscriber hears every change."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import Announcement
from models.notify import MAX_PAYLOAD_BYTES, Listener, notify

QUEUE_SIZE = 256  # a subscriber this far behind loses its oldest announcements, not the newest


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
    """In-process delivery: enough for SQLite, where one process owns the database."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def before_commit(
        self, session: AsyncSession, announcements: Sequence[Announcement]
    ) -> None:
        return None

    async def after_commit(self, announcements: Sequence[Announcement]) -> None:
        for announcement in announcements:
            self.deliver(announcement)

    def deliver(self, announcement: Announcement) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.topic == announcement.topic and subscriber.key in (
                None,
                announcement.key,
            ):
                subscriber.offer(announcement)

    async def subscribe(self, topic: str, key: str | None) -> AsyncIterator[Announcement]:
        """Announcements of `topic` (for `key`, or all keys) from now on, until the caller stops."""
        subscriber = _Subscriber(topic, key)
        self._subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            self._subscribers.discard(subscriber)


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
