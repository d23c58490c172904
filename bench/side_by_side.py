"""Several builds of the gateway answering the same requests, taking turns, so drift on a noisy
machine hits them alike; medians and ratios to the first build (bench/auth.py, bench/ops.py)."""

from __future__ import annotations

import json
import statistics
import time

from bench.client import Connection

ROUND = 20  # requests per server per turn
WARM_UP_TURNS = 10
# (method, path, body) by request kind
Requests = dict[str, tuple[str, str, bytes]]
Servers = dict[str, tuple[str, dict[str, str]]]  # name -> (base URL, headers)


async def seed_status(base: str, mentor_id: str, headers: dict[str, str] | None = None) -> None:
    """One mentor status to read back."""
    connection = Connection(base)
    body = json.dumps({"mentor_id": mentor_id}).encode()
    status, answer = await connection.request("POST", "/api/v1/mentor-statuses", body, headers)
    assert status == 201, answer
    await connection.close()


async def timed_requests(
    servers: Servers, requests: Requests, count: int
) -> dict[tuple[str, str], list[float]]:
    """Milliseconds per request, by (server, request kind): `count` each, sequentially over one
    keep-alive connection per server, the servers taking turns of ROUND requests."""
    connections = {name: Connection(base) for name, (base, _) in servers.items()}
    timings: dict[tuple[str, str], list[float]] = {}
    for kind, (method, path, body) in requests.items():
        for turn in range(-WARM_UP_TURNS, count // ROUND):  # turns below 0 are not kept
            for name, (_, headers) in servers.items():
                connection, samples = connections[name], timings.setdefault((name, kind), [])
                for _ in range(ROUND):
                    started = time.perf_counter()
                    status, answer = await connection.request(method, path, body, headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    if status != 200 or b'"errors"' in answer:
                        raise RuntimeError(f"{name}: {kind} answered {status}: {answer!r}")
                    if turn >= 0:
                        samples.append(elapsed)
    for connection in connections.values():
        await connection.close()
    return timings


def ratio_table(
    names: list[str], requests: Requests, timings: dict[tuple[str, str], list[float]]
) -> str:
    """A Markdown table: p50 ms per request kind and server, with the ratio to the first."""
    lines = ["| request | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for kind in requests:
        baseline = statistics.median(timings[(names[0], kind)])
        cells = [f"{baseline:.3f}"]
        for name in names[1:]:
            p50 = statistics.median(timings[(name, kind)])
            cells.append(f"{p50:.3f} ({p50 / baseline:.2f}x, {1000 * (p50 - baseline):+.0f} µs)")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
