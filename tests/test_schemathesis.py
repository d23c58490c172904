"""Schemathesis against the app in process: every REST operation, every GraphQL root field.

Default run: EXAMPLES examples per operation. Many more (README "Hardening"):

    SCHEMATHESIS_EXAMPLES=1000 .venv/bin/pytest tests/test_schemathesis.py -m slow

Each operation is one pytest test with a fresh migrated database (the `app` fixture); its
examples share that database, so later examples meet the records earlier ones created.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.settings import Settings
from graph.schema import export_sdl

Case = schemathesis.Case[Any]
EXAMPLES = 25
MANY_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "500"))

# The schemas are static, so they are loaded once; the database is never touched for them.
REST = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite+aiosqlite://")).openapi()
)
GRAPHQL = schemathesis.graphql.from_file(export_sdl())
GRAPHQL.location = "/graphql"

# Date-times whose instant exists in UTC: 0001-01-01T00:00:01+00:01 is valid RFC 3339 but falls
# in year 0 in UTC, which the service answers with a 422 (graph/scalars.py), not a 2xx.
schemathesis.openapi.format(
    "date-time",
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-9, minutes=-30))]),
    ).map(lambda instant: instant.isoformat().replace("+00:00", "Z")),
)

# The default run leaves the long variants out; `-m slow` selects them.
many_examples_only = pytest.mark.skipif(
    "'slow' not in config.getoption('markexpr')", reason="the long run: -m slow"
)

# Codes a GraphQL client may be answered with (docs/domain.md and README "Hardening").
CLIENT_CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "PRECONDITION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_TOKENS",
    "TOO_MANY_ROOT_FIELDS",
    "QUERY_TOO_COSTLY",
}


PAUSE_FIELDS = ("pause_start_date", "expected_return_date", "pause_reason")


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _paused_fields_only(body: dict[str, Any]) -> None:
    """Statuses: `is_paused` agrees with `status`; pause fields only when pausing, and the
    expected return after the start (a PUT without `status` keeps one the test cannot know)."""
    status = body.get("status")
    if "is_paused" in body:
        if status is None:
            del body["is_paused"]
        else:
            body["is_paused"] = status == "paused"
    if status != "paused":
        for name in PAUSE_FIELDS:
            body.pop(name, None)
    _return_after_start(body, "pause_start_date")


def _return_after_start(body: dict[str, Any], start_field: str) -> None:
    start = _instant(body.get(start_field)) or datetime.now(UTC)
    expected = _instant(body.get("expected_return_date"))
    if expected is not None and expected.tzinfo is not None and expected <= start:
        del body["expected_return_date"]


def _one_period(period: dict[str, Any]) -> None:
    """A summary's period: a year, or dates in order whose end falls in that year."""
    start, end = period.get("start_date"), period.get("end_date")
    if start and end and start > end:
        period["start_date"], period["end_date"] = end, start
    if period.get("end_date") and period.get("year"):
        period["year"] = int(str(period["end_date"])[:4])
    if not period.get("end_date") and not period.get("year"):
        period["year"] = 2025


def _new_milestones_period(query: dict[str, Any]) -> dict[str, Any]:
    """`year`, or both dates in order; never both kinds, never one date alone."""
    start, end = query.get("start_date"), query.get("end_date")
    if not (start and end):
        query.pop("start_date", None)
        query.pop("end_date", None)
    else:
        query.pop("year", None)
        if start > end:
            query["start_date"], query["end_date"] = end, start
    return query


@REST.hook
def map_case(context: schemathesis.HookContext, case: Case) -> Case:
    """Positive cases respect the rules OpenAPI cannot state (they depend on the clock, on
    stored records or on two fields at once), so a 412 or 422 for one is a real failure."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    headers: MutableMapping[str, Any] = case.headers or {}
    if "If-Match" in headers:
        headers["If-Match"] = "*"  # a real tag would need the record's current version
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = uuid.uuid4().hex  # a key is never reused for another body
    body = case.body if isinstance(case.body, dict) else {}
    route = (case.operation.method.upper(), case.operation.path)
    if route[1] in ("/api/v1/mentor-statuses", "/api/v1/mentor-statuses/{mentor_id}"):
        _paused_fields_only(body)
    elif route == ("POST", "/api/v1/pause-records"):
        _return_after_start(body, "start_date")
    elif route == ("PUT", "/api/v1/pause-records/{id}"):
        body.pop("end_date", None)  # both are checked against the stored start date
        body.pop("expected_return_date", None)
    elif route == ("POST", "/api/v1/milestones"):
        period = body.get("period")
        if isinstance(period, dict):
            _one_period(period)
    elif route == ("GET", "/api/v1/milestones/{mentor_id}/new"):
        case.query = _new_milestones_period(dict(case.query or {}))
    elif route == ("POST", "/api/v1/mentor-status-sync/events"):
        sent = _instant(body.get("client_timestamp"))
        if sent is not None and sent.tzinfo is not None and sent > datetime.now(UTC):
            body["client_timestamp"] = datetime.now(UTC).isoformat()  # at most 5 min ahead
    return case


def graphql_errors_are_client_errors(ctx: Any, response: Any, case: Case) -> None:
    """No 5xx, and every error is coded with a client code: no masked INTERNAL_SERVER_ERROR."""
    assert response.status_code < 500, f"server error {response.status_code}: {response.text}"
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CLIENT_CODES, f"error coded {code!r}: {error}"


def examples(count: int) -> Callable[[Any], Any]:
    # The examples of one operation share its database on purpose (function-scoped fixture).
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture
def served(app: FastAPI) -> Iterator[FastAPI]:
    """The app, whose lifespan schemathesis starts on its own event loop; stopped after."""
    yield app
    shutdown_lifespans()  # disposes the engine on the loop that opened its connections


def call_rest(case: Case, app: FastAPI) -> None:
    # Every default check, positive and negative data.
    case.call_and_validate(app=app)


def call_graphql(case: Case, app: FastAPI) -> None:
    # Two default checks misread this API's documented errors, so one exact check replaces them:
    # - not_a_server_error counts any code it does not know (NOT_FOUND, CONFLICT) as a server
    #   error; ours are precise, and an unexpected error is always INTERNAL_SERVER_ERROR.
    # - positive_data_acceptance expects every schema-valid query to succeed, but GraphQL types
    #   cannot say `first` <= 100, what an id looks like or which cursors exist (BAD_USER_INPUT).
    case.call_and_validate(
        app=app,
        excluded_checks=[not_a_server_error, positive_data_acceptance],
        additional_checks=[graphql_errors_are_client_errors],
    )


@REST.parametrize()
@examples(EXAMPLES)
def test_rest(case: Case, served: FastAPI) -> None:
    call_rest(case, served)


@GRAPHQL.parametrize()
@examples(EXAMPLES)
def test_graphql(case: Case, served: FastAPI) -> None:
    call_graphql(case, served)


@pytest.mark.slow
@many_examples_only
@REST.parametrize()
@examples(MANY_EXAMPLES)
def test_rest_many_examples(case: Case, served: FastAPI) -> None:
    call_rest(case, served)


@pytest.mark.slow
@many_examples_only
@GRAPHQL.parametrize()
@examples(MANY_EXAMPLES)
def test_graphql_many_examples(case: Case, served: FastAPI) -> None:
    call_graphql(case, served)
