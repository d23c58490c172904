"""The benchmark's yardstick: the legacy single-status GET as a minimal FastAPI endpoint.

Same database, same row, same JSON (and ETag) as `GET /api/v1/mentor-statuses/{id}`, but one
SQLAlchemy Core statement and orjson, no GraphQL. It is served only by `bench.load`, never by the
production app:

    DATABASE_URL=... uvicorn bench.minimal:create_app --factory
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import select
from starlette.responses import Response

from models.database import Database
from models.statuses import MentorStatus

STATUS = MentorStatus.__table__  # type: ignore[attr-defined]


def _instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _status(row: Any) -> dict[str, Any]:
    return {
        "mentor_id": row.mentor_id,
        "status": row.status,
        "is_paused": row.status == "paused",
        "pause_start_date": _instant(row.pause_start_date),
        "expected_return_date": _instant(row.expected_return_date),
        "last_updated": _instant(row.last_updated),
        "pause_reason": row.pause_reason,
        "metadata": row.metadata,
    }


def create_app() -> FastAPI:
    """The yardstick app over DATABASE_URL."""
    database = Database(os.environ["DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/mentor-statuses/{mentor_id}")
    async def mentor_status(mentor_id: str) -> Response:
        async with database.engine.connect() as connection:
            statement = select(STATUS).where(STATUS.c.mentor_id == mentor_id)
            row = (await connection.execute(statement)).first()
        if row is None:
            return Response(b'{"detail":"not found"}', 404, media_type="application/json")
        headers = {"ETag": f'"{row.version}"'}
        return Response(orjson.dumps(_status(row)), media_type="application/json", headers=headers)

    return app
