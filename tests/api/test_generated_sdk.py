"""An SDK generated from /openapi.json by a third-party generator (openapi-python-client) reads
every answer the REST routes give: each service once, and both success codes of a sync event."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from models.database import Database
from tests.factories import make_mentor
from tests.live import running_server

PACKAGE = "mentor_gateway_sdk"
SERVICES = {"mentor statuses", "pause records", "status sync", "personal stats", "milestones"}


async def _openapi() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite+aiosqlite://"))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/openapi.json")
    finally:
        await app.state.database.dispose()
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated package, imported; generated once per module (it takes seconds)."""
    directory = tmp_path_factory.mktemp("sdk")
    (directory / "openapi.json").write_text(json.dumps(asyncio.run(_openapi())))
    # No post hooks: the generator would otherwise look for ruff on PATH and warn.
    (directory / "config.yaml").write_text("post_hooks: []\n")
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
            "--config",
            "config.yaml",
            "--fail-on-warning",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def operation(tag_and_id: str) -> Any:
    """A generated operation module, such as `status_sync.post_api_v1_mentor_status_sync_events`."""
    return importlib.import_module(f"{PACKAGE}.api.{tag_and_id}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


async def test_every_rest_operation_is_tagged_with_its_service(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    tags = {
        (method.upper(), path): operation["tags"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    rest = {key: value for key, value in tags.items() if key[1].startswith("/api/")}
    assert rest
    assert all(len(value) == 1 and value[0] in SERVICES for value in rest.values()), rest
    assert {value[0] for value in rest.values()} == SERVICES
    assert all(value[0] == "pause records" for (_, path), value in rest.items() if "pause" in path)
    assert tags[("GET", "/healthz")] == tags[("GET", "/readyz")] == ["operations"]


async def test_the_generated_sdk_reads_every_service(
    sdk: Any, database: Database, database_url: str
) -> None:
    await make_mentor(database, id="mentor-042", name="Ada")

    def event(kind: str) -> Any:
        return model("SubmitEventBody")(
            event_type=model("StatusEvent")(kind),
            mentor_id="mentor-042",
            client_timestamp=datetime.now(UTC),
        )

    with running_server(database_url) as base:
        async with sdk.Client(base_url=base, raise_on_unexpected_status=True) as client:
            status = await operation(
                "mentor_statuses.get_api_v1_mentor_statuses_mentor_id"
            ).asyncio_detailed("mentor-042", client=client)
            assert status.status_code == 200
            assert isinstance(status.parsed, model("MentorStatusOut"))
            assert (status.parsed.mentor_id, status.parsed.status) == ("mentor-042", "active")
            assert status.parsed.is_paused is False

            pause = await operation("pause_records.post_api_v1_pause_records").asyncio_detailed(
                client=client, body=model("CreatePauseRecordBody")(mentor_id="mentor-042")
            )
            assert pause.status_code == 201
            assert isinstance(pause.parsed, model("PauseRecordOut"))
            assert (pause.parsed.mentor_id, pause.parsed.is_active) == ("mentor-042", True)

            submit = operation("status_sync.post_api_v1_mentor_status_sync_events")
            accepted = await submit.asyncio_detailed(client=client, body=event("ResumeMentorEvent"))
            assert accepted.status_code == 201
            assert isinstance(accepted.parsed, model("SubmittedEvent"))
            assert accepted.parsed.accepted is True
            assert accepted.parsed.resulting_status == "active"
            assert accepted.parsed.rejection_reason is None
            # The mentor is active now: resuming again is only logged (200, same model).
            rejected = await submit.asyncio_detailed(client=client, body=event("ResumeMentorEvent"))
            assert rejected.status_code == 200
            assert isinstance(rejected.parsed, model("SubmittedEvent"))
            assert rejected.parsed.accepted is False
            assert rejected.parsed.resulting_status == "active"
            assert rejected.parsed.rejection_reason == "invalid_transition"
            assert rejected.parsed.sync_event_id != accepted.parsed.sync_event_id

            series = await operation(
                "personal_stats.get_api_v1_personal_stats_mentor_id_monthly_series"
            ).asyncio_detailed("mentor-042", client=client)
            assert series.status_code == 200
            assert isinstance(series.parsed, model("ListOfMonthOut"))
            assert series.parsed.pagination.total == 12  # the documented default: 12 months
            assert all(month.total_activities == 0 for month in series.parsed.data)

            summary = model("DetectBody")(
                mentor_id="mentor-042",
                period=model("SummaryPeriod")(year=2025),
                summary=model("SummaryFigures")(
                    total_hours=12, unique_contacts_helped=3, activity_count=4
                ),
            )
            detected = await operation("milestones.post_api_v1_milestones").asyncio_detailed(
                client=client, body=summary
            )
            assert detected.status_code == 200
            assert isinstance(detected.parsed, model("ListOfMilestoneOut"))
            statuses = {m.definition_key: m.status for m in detected.parsed.data}
            assert statuses["milestone_10h"] == "achieved"
            assert statuses["milestone_50h"] == "in_progress"
            assert {m.mentor_id for m in detected.parsed.data} == {"mentor-042"}
