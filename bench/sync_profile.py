"""Issue 13, goal 2: where one sync-event submission's CPU goes, layer by layer, in process.

    .venv/bin/python -m bench.sync_profile [--events 300]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/bench_sync] [--profile PATH]

The production app (HS256 token, metrics, JSON logs, rate limit off: bench/load.py) is built in
this process. Four ways of making the same submission take turns, `--events` each per turn:

- `rest`: `POST /api/v1/mentor-status-sync/events` with an Idempotency-Key, through httpx's
  ASGI transport, as `bench/writers.py` sends it (the whole request, client included);
- `floor`: httpx's ASGI transport to a bare ASGI app that answers the same JSON (the client
  and transport's own share of `rest`, to subtract);
- `domain`: `domain.sync.submit_event` in the gateway's unit of work (`graph.context`: write
  turn, audit row, commit), no HTTP, no GraphQL;
- `driver`: the statements one submission ran, with its parameters, straight on the driver
  (aiosqlite / asyncpg) in a transaction rolled back: what the database round trips cost.

Reported: CPU per submission of this process (all threads: SQLite runs in aiosqlite's), the
statements one submission runs, and, with cProfile on for the `rest` turns, own time by package
(`--profile` also writes the stats). `bench/writers.py` compares the served CPU against the
earlier build; this shows which layer holds it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import statistics
import sys
import sysconfig
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiosqlite
import asyncpg
import httpx
import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from starlette.types import Receive, Scope, Send

from auth.principal import Principal, Role
from bench.client import Connection
from bench.load import PRODUCTION, fresh_database
from bench.writers import EVENTS, MENTORS, event_body, mentor_id
from domain.status_rules import StatusEvent
from domain.sync import Submission, submit_event
from graph.audit import audited
from graph.context import Context
from graph.info import Info
from models.database import Database

PROJECT = ("api", "auth", "domain", "graph", "models")
ADMIN = Principal(subject="bench", role=Role.ADMIN)
TURNS = 3
WAYS = ("rest", "floor", "domain", "driver")
WARM_UP = 20
Statement = tuple[str, Any]


def package_of(filename: str, function: str) -> str:
    """The distribution, project package or standard module a profiled function lives in."""
    if "epoll" in function:  # process CPU while the loop waits: aiosqlite's thread (SQLite)
        return "event loop's poll (other threads)"
    if filename.startswith(("~", "<")):
        return "builtins (C)"
    match = re.search(r"site-packages/([^/]+)", filename)
    if match:
        return match.group(1).removesuffix(".py")
    part = os.path.relpath(filename, Path(__file__).resolve().parent.parent).split(os.sep)[0]
    if part in PROJECT:
        return f"project: {part}"
    stdlib = sysconfig.get_paths()["stdlib"]
    if filename.startswith(stdlib):
        return "stdlib: " + Path(filename).relative_to(stdlib).parts[0].removesuffix(".py")
    return "other"


def by_package(profile: cProfile.Profile) -> list[tuple[str, float]]:
    own: Counter[str] = Counter()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own_time, _, _) in stats.items():
        own[package_of(filename, function)] += own_time
    whole = sum(own.values())
    return [(name, seconds / whole) for name, seconds in own.most_common()]


@contextmanager
def recorded_statements(engine: Any) -> Iterator[list[Statement]]:
    seen: list[Statement] = []

    def note(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def submission(number: int) -> dict[str, str]:
    """bench/writers.py's events: each mentor always gets the same event type, so after the
    first pause most are logged as rejected (an invalid transition), as they are there."""
    return event_body(number, number)


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers any request with a sync event's JSON: the transport's floor."""
    body = orjson.dumps({**submission(0), "id": "evt_AAAAAAAA", "accepted": False})
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Replay:
    """The statements on the bare driver, each time in a transaction that is rolled back."""

    def __init__(self, url: str, statements: list[Statement]) -> None:
        self.url = make_url(url)
        self.statements = [s for s in statements if not s[0].startswith("BEGIN")]
        self.sqlite: aiosqlite.Connection | None = None
        self.postgres: asyncpg.Connection | None = None

    async def open(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self.sqlite = await aiosqlite.connect(self.url.database or "", isolation_level=None)
        else:
            self.postgres = await asyncpg.connect(
                host=self.url.host,
                port=self.url.port,
                user=self.url.username,
                database=self.url.database,
            )

    async def __call__(self) -> None:
        if self.sqlite is not None:
            await self.sqlite.execute("BEGIN IMMEDIATE")
            for statement, parameters in self.statements:
                await (await self.sqlite.execute(statement, parameters)).fetchall()
            await self.sqlite.execute("ROLLBACK")
        elif self.postgres is not None:
            transaction = self.postgres.transaction()
            await transaction.start()
            for statement, parameters in self.statements:
                await self.postgres.fetch(statement, *parameters)
            await transaction.rollback()

    async def close(self) -> None:
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.postgres is not None:
            await self.postgres.close()


async def statements_of_one(database: Database, rest: httpx.AsyncClient) -> list[Statement]:
    """What one REST submission runs, with its parameters; then its rows are deleted again,
    so the replay on the driver inserts the same ids without a conflict."""
    key = uuid.uuid4().hex
    with recorded_statements(database.engine.sync_engine) as statements:
        answer = await rest.post(EVENTS, json=submission(1), headers={"Idempotency-Key": key})
    assert answer.status_code in (200, 201), answer.text
    event_id = answer.json()["sync_event_id"]
    async with database.engine.begin() as connection:
        for forget in (
            "DELETE FROM sync_event WHERE id = :id",
            "DELETE FROM audit_events WHERE entity_id = :id",
            "DELETE FROM idempotency_record WHERE key = :key",
        ):
            await connection.execute(text(forget), {"id": event_id, "key": key})
    return statements


async def measure(
    label: str, url: str, events: int, profiled: str, profile_path: Path | None
) -> None:
    from api.app import create_app  # after the environment is production's
    from api.settings import Settings

    await fresh_database(url)
    app = create_app(Settings(database_url=url))
    rest = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    rest.headers.update(Connection.sent_with_every_request)  # bench/load.py's admin token
    floor = httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app), base_url="http://b")
    context = Context(
        database=app.state.database,
        config=app.state.graph_config,
        broker=app.state.broker,
        principal=ADMIN,
        request_id="bench",
    )
    as_resolved = cast(Info, SimpleNamespace(field_name="submitStatusEvent"))
    counter = iter(range(10**9))

    async def by_rest() -> None:
        answer = await rest.post(
            EVENTS, json=submission(next(counter)), headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert answer.status_code in (200, 201), answer.text

    async def by_floor() -> None:
        answer = await floor.post(
            EVENTS, json=submission(next(counter)), headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert answer.status_code == 201

    async def by_domain() -> None:
        body = submission(next(counter))
        given = Submission(
            mentor_id=body["mentor_id"],
            event_type=StatusEvent(body["event_type"]),
            client_timestamp=datetime.fromisoformat(body["client_timestamp"]),
        )
        async with context.unit_of_work() as session:
            row = await submit_event(session, given, idempotency_key=uuid.uuid4().hex)
            audited(as_resolved, session, "SyncEvent", row.id)

    for n in range(MENTORS):
        answer = await rest.post("/api/v1/mentor-statuses", json={"mentor_id": mentor_id(n)})
        assert answer.status_code == 201, answer.text
    for _ in range(WARM_UP):
        await by_rest()
        await by_domain()
    one = await statements_of_one(app.state.database, rest)
    by_driver = Replay(url, one)
    await by_driver.open()

    ways: dict[str, Callable[[], Awaitable[None]]] = {
        "rest": by_rest,
        "floor": by_floor,
        "domain": by_domain,
        "driver": by_driver,
    }
    cpu_ms: dict[str, list[float]] = {name: [] for name in ways}
    # CPU time, not wall time: waiting on the database is not this process's cost.
    profile = cProfile.Profile(time.process_time)
    for _ in range(TURNS):
        for name, way in ways.items():
            started = time.process_time()
            for _ in range(events):
                await way()
            cpu_ms[name].append((time.process_time() - started) * 1000 / events)
    profile.enable()
    for _ in range(events):
        await ways[profiled]()
    profile.disable()
    await by_driver.close()
    await rest.aclose()
    await floor.aclose()
    await context.close()
    await app.state.database.dispose()

    median = {name: statistics.median(figures) for name, figures in cpu_ms.items()}
    print(f"\n## {label}: {TURNS} turns x {events} submissions per way, one at a time\n")
    print("| way | CPU ms / submission (median of turns) | share of rest |\n|---|---|---|")
    for name, ms in median.items():
        print(f"| {name} | {ms:.2f} | {ms / median['rest']:.0%} |")
    http_and_graphql = median["rest"] - median["floor"] - median["domain"]
    print(
        f"\nHTTP stack + middleware + GraphQL (rest - floor - domain): {http_and_graphql:.2f} ms; "
        f"ORM and unit of work over the driver (domain - driver): "
        f"{median['domain'] - median['driver']:.2f} ms"
    )
    print(f"\nSQL statements in one submission (the commit besides): {len(one)}")
    for statement, _ in one:
        print(f"  - {' '.join(statement.split())[:110]}")
    print(f"\nOwn time of `{profiled}` under cProfile, by package:\n")
    for name, share in by_package(profile)[:16]:
        print(f"  {share:6.1%}  {name}")
    if profile_path:
        profile.dump_stats(f"{profile_path}.{label.lower()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="per way and turn")
    parser.add_argument("--postgres", help="a PostgreSQL database to drop and fill (not `test`)")
    parser.add_argument("--profile-way", default="rest", choices=WAYS, help="run under cProfile")
    parser.add_argument("--profile", type=Path, help="also write the cProfile stats here")
    args = parser.parse_args()
    if args.postgres and args.postgres.rsplit("/", 1)[1] == "test":
        sys.exit("refusing the test suite's database")
    os.environ.update(PRODUCTION)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/sync.db"
        asyncio.run(measure("SQLite", url, args.events, args.profile_way, args.profile))
    if args.postgres:
        asyncio.run(
            measure("PostgreSQL", args.postgres, args.events, args.profile_way, args.profile)
        )


if __name__ == "__main__":
    main()
