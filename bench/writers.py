"""Issue 13, goal 2: sync-event writers under contention, this build against an earlier one.

    .venv/bin/python -m bench.writers [--clients 32] [--events 40] [--before REV]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/bench_writers] [--json PATH]

Both builds run in production mode (HS256 token, metrics, JSON logs, rate limit off: one
load generator is one client) on their own fresh database; `--before` (default: the commit
before issue 13's write gate) is unpacked with `git archive` into a temporary directory and
served from there. They take turns: each turn, `--clients` concurrent keep-alive clients send
`--events` sync events each, every one with its own Idempotency-Key. Reported per build: p50
and p99 latency, their ratio, and the server's CPU per submission (/proc/<pid>/stat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.client import Connection, percentiles
from bench.load import PRODUCTION, fresh_database
from bench.rest_get import cpu_seconds
from tests.live import started_server

BEFORE = "0173f8b"  # issue 12's last commit: no write gate, the purge in every request
EVENTS = "/api/v1/mentor-status-sync/events"
MENTORS = 64
TURNS = 3


@contextmanager
def server(tree: Path, url: str) -> Iterator[tuple[str, int]]:
    """The gateway from `tree` on a free port; (base URL, pid)."""
    environment = {**PRODUCTION, "PYTHONPATH": str(tree)}
    with started_server(url, env=environment, output=subprocess.DEVNULL, cwd=tree) as started:
        yield started[0], started[1].pid


@contextmanager
def earlier_tree(revision: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        archive = subprocess.run(["git", "archive", revision], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
        yield Path(directory)


def mentor_id(number: int) -> str:
    return f"w-{number % MENTORS:03}"


def event_body(mentor: int, turn: int) -> dict[str, str]:
    """A sync event for mentor `mentor` (mod MENTORS): a pause on odd turns, else a resume."""
    return {
        "mentor_id": mentor_id(mentor),
        "event_type": "PauseMentorEvent" if turn % 2 else "ResumeMentorEvent",
        "client_timestamp": datetime.now(UTC).isoformat(),
    }


async def seed(base: str) -> None:
    connection = Connection(base)
    for n in range(MENTORS):
        body = orjson.dumps({"mentor_id": mentor_id(n)})
        status, answer = await connection.request("POST", "/api/v1/mentor-statuses", body)
        assert status == 201, answer
    await connection.close()


async def burst(base: str, clients: int, events: int) -> list[float]:
    """Milliseconds per submission, `clients` at once."""

    async def client(number: int) -> list[float]:
        connection, timings = Connection(base), []
        for event in range(events):
            body = event_body(number * events + event, event)
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            started = time.perf_counter()
            status, answer = await connection.request("POST", EVENTS, orjson.dumps(body), headers)
            timings.append((time.perf_counter() - started) * 1000)
            if status not in (200, 201):
                raise RuntimeError(f"{base}: {status} {answer!r}")
        await connection.close()
        return timings

    answers = await asyncio.gather(*(client(n) for n in range(clients)))
    return [t for timings in answers for t in timings]


async def measure(
    servers: dict[str, tuple[str, int]], clients: int, events: int
) -> dict[str, tuple[list[float], float]]:
    """Latencies and CPU ms per submission, by build, over alternating turns."""
    results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in servers}
    for base, _ in servers.values():
        await seed(base)
        await burst(base, clients, 2)  # warm up
    for _ in range(TURNS):
        for name, (base, pid) in servers.items():
            before = cpu_seconds(pid)
            timings = await burst(base, clients, events)
            cpu = results[name][1] + (cpu_seconds(pid) - before) * 1000
            results[name] = (results[name][0] + timings, cpu)
    return results


def run(
    label: str, urls: dict[str, str], trees: dict[str, Path], args: argparse.Namespace
) -> list[dict[str, object]]:
    for url in urls.values():
        asyncio.run(fresh_database(url))
    with ExitStack() as stack:
        servers = {name: stack.enter_context(server(trees[name], urls[name])) for name in trees}
        results = asyncio.run(measure(servers, args.clients, args.events))
    print(f"\n{label}: {args.clients} clients x {args.events} events x {TURNS} turns per build\n")
    print("| build | p50 ms | p99 ms | p99/p50 | CPU ms/submission |\n|---|---|---|---|---|")
    figures: dict[str, tuple[float, float, float]] = {}
    for name, (timings, cpu) in results.items():
        p50, p99 = percentiles(timings)
        per = cpu / len(timings)
        figures[name] = (p50, p99, per)
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {p99 / p50:.2f} | {per:.2f} |")
    p50, p99, per = figures["now"]
    cpu_ratio = per / figures["before"][2]
    print(
        f"\nCPU per submission {cpu_ratio:.2f}x the earlier build's; median of all "
        f"{statistics.median(results['now'][0]):.1f} ms"
    )
    return [
        {
            "goal": 2,
            "figure": f"sync events at {args.clients} clients, p99 / p50 ({label})",
            "measured": f"{p99 / p50:.2f}x ({p99:.0f} / {p50:.0f} ms; before "
            f"{figures['before'][1] / figures['before'][0]:.2f}x)",
            "target": "<= 2x",
            "met": p99 <= 2 * p50,
        },
        {
            "goal": 2,
            "figure": f"server CPU per sync event, now / before ({label})",
            "measured": f"{cpu_ratio:.2f}x ({per:.1f} / {figures['before'][2]:.1f} ms)",
            "target": "<= 0.5x",
            "met": cpu_ratio <= 0.5,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--events", type=int, default=40, help="per client and turn")
    parser.add_argument("--before", default=BEFORE, help="the earlier build's git revision")
    parser.add_argument("--postgres", help="a PostgreSQL database to drop and fill (not `test`)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    here = Path(__file__).resolve().parent.parent
    with earlier_tree(args.before) as before:
        trees = {"before": before, "now": here}
        urls = {name: f"sqlite+aiosqlite:///{directory / name}.db" for name in trees}
        figures = run("SQLite", urls, trees, args)
        if args.postgres:
            # One PostgreSQL database each, so neither build's rows slow the other's.
            base = args.postgres.rsplit("/", 1)[0]
            names = {name: f"{args.postgres.rsplit('/', 1)[1]}_{name}" for name in trees}
            for name in names.values():
                subprocess.run(
                    ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],
                    check=False,
                    capture_output=True,
                )
            urls = {tree: f"{base}/{name}" for tree, name in names.items()}
            figures += run("PostgreSQL", urls, trees, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
