"""The load benchmark's workload: seeding, the mixed mobile/web traffic, and the overhead pair.

The mix (MIX, by weight) is what the gateway's clients send: REST reads as the mobile app makes
them (a status by id, a page of pause records), GraphQL screen queries, and sync-event
submissions with an Idempotency-Key, retried with the same key after a failure, and one in ten
resent after success as if the answer had been lost (it must replay the same event).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.client import Connection, Latencies

MENTORS = 200
RETRIES = 3
EVENTS = "/api/v1/mentor-status-sync/events"
SCREEN = """query Screen($id: ID!) {
  mentor(id: $id) {
    name
    status { status isPaused expectedReturnDate lastUpdated }
    pauseRecords(first: 5) { startDate endDate reason isActive }
  }
}"""
MIX = {"rest_status": 45, "rest_pauses": 10, "graphql_screen": 25, "sync_event": 20}


@dataclass
class Audit:
    """What the clients were told was written, and replays that did not replay."""

    acknowledged: set[str] = field(default_factory=set)
    replay_mismatches: int = 0


@dataclass(frozen=True)
class Call:
    """One request of one kind, and the statuses that count as success."""

    kind: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] | None = None
    ok: frozenset[int] = frozenset({200})


def _mentor(rng: random.Random) -> str:
    return f"load-{rng.randrange(MENTORS):04}"


async def _send(connection: Connection, stats: Latencies, call: Call) -> bytes | None:
    """Send `call`, recording its latency (or its failure); the body on success."""
    started = time.perf_counter()
    try:
        status, body = await connection.request(call.method, call.path, call.body, call.headers)
    except (OSError, EOFError, asyncio.IncompleteReadError) as error:
        stats.errors[f"{call.kind}: {type(error).__name__}"] += 1
        return None
    if status not in call.ok:
        stats.errors[f"{call.kind}: HTTP {status}"] += 1
        return None
    stats.add(call.kind, (time.perf_counter() - started) * 1000)
    return body


async def _submit(
    connection: Connection, stats: Latencies, audit: Audit, rng: random.Random, key: str
) -> None:
    """One sync event, retried with its key until acknowledged; sometimes resent after."""
    event = {
        "event_type": rng.choice(["PauseMentorEvent", "ResumeMentorEvent"]),
        "mentor_id": _mentor(rng),
        "client_timestamp": datetime.now(UTC).isoformat(),
    }
    call = Call(
        "sync_event",
        "POST",
        EVENTS,
        orjson.dumps(event),
        {"Idempotency-Key": key},
        frozenset({200, 201}),
    )
    for _ in range(RETRIES + 1):
        answer = await _send(connection, stats, call)
        if answer is not None:
            event_id = orjson.loads(answer)["sync_event_id"]
            audit.acknowledged.add(event_id)
            break
        await asyncio.sleep(0.05)
    else:
        return
    if rng.random() < 0.1:  # the answer was "lost": the app resends, and must get the same event
        replay = await _send(connection, stats, replace(call, kind="sync_replay"))
        if replay is not None and orjson.loads(replay)["sync_event_id"] != event_id:
            audit.replay_mismatches += 1


def _read(kind: str, mentor: str) -> Call:
    if kind == "rest_status":
        return Call(kind, "GET", f"/api/v1/mentor-statuses/{mentor}")
    if kind == "rest_pauses":
        return Call(kind, "GET", f"/api/v1/pause-records?mentor_id={mentor}&limit=20")
    body = orjson.dumps({"query": SCREEN, "variables": {"id": mentor}})
    return Call(kind, "POST", "/graphql", body)


async def _client(
    base: str, number: int, until: float, budget: list[int], stats: Latencies, audit: Audit
) -> None:
    rng, connection = random.Random(number), Connection(base)
    kinds, weights = list(MIX), list(MIX.values())
    sent = 0
    while time.monotonic() < until and budget[0] > 0:
        budget[0] -= 1
        kind = rng.choices(kinds, weights)[0]
        if kind == "sync_event":
            await _submit(connection, stats, audit, rng, f"load-{number}-{sent}")
        else:
            answer = await _send(connection, stats, _read(kind, _mentor(rng)))
            if answer is not None and answer.startswith(b'{"errors"'):
                stats.errors[f"{kind}: GraphQL error"] += 1
        sent += 1
    await connection.close()


async def mixed_workload(
    base: str, *, seconds: float, connections: int, max_requests: int
) -> tuple[Latencies, Audit, float]:
    """Run the mix; return the latencies, the audit and the elapsed seconds."""
    stats, audit, budget = Latencies(), Audit(), [max_requests]
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(_client(base, n, until, budget, stats, audit) for n in range(connections))
    )
    return stats, audit, time.monotonic() - started


async def _single_gets(base: str, prefix: str, seconds: float, connections: int) -> Latencies:
    stats = Latencies()
    until = time.monotonic() + seconds

    async def loop(number: int) -> None:
        rng, connection = random.Random(number), Connection(base)
        while time.monotonic() < until:
            await _send(connection, stats, Call("get", "GET", f"{prefix}/{_mentor(rng)}"))
        await connection.close()

    await asyncio.gather(*(loop(n) for n in range(connections)))
    return stats


async def overhead(
    gateway: str, minimal: str, *, seconds: float, connections: int
) -> tuple[Latencies, Latencies]:
    """The same GET through the REST layer and through the yardstick, alternated twice."""
    rest, plain = Latencies(), Latencies()
    for _ in range(2):
        for target, prefix, into in (
            (gateway, "/api/v1/mentor-statuses", rest),
            (minimal, "/mentor-statuses", plain),
        ):
            measured = await _single_gets(target, prefix, seconds / 4, connections)
            into.timings.setdefault("get", []).extend(measured.timings.get("get", []))
            into.errors.update(measured.errors)
    return rest, plain


async def seed(base: str) -> None:
    """MENTORS statuses; one in four paused, so screens and pause lists have rows."""
    connection = Connection(base)
    for n in range(MENTORS):
        body: dict[str, Any] = {"mentor_id": f"load-{n:04}"}
        if n % 4 == 0:
            body |= {"status": "paused", "pause_reason": "seeded"}
        status, answer = await connection.request(
            "POST", "/api/v1/mentor-statuses", orjson.dumps(body)
        )
        if status != 201:
            raise RuntimeError(f"seeding failed: {status} {answer!r}")
    await connection.close()
