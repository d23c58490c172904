"""Issue 13, goal 1: the REST single-record GET against the minimal FastAPI endpoint reading
the same row (bench/minimal.py), server CPU per request and throughput, side by side.

    .venv/bin/python -m bench.rest_get [--requests 4000] [--connections 4]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/bench_rest] [--json PATH]

The gateway runs as production runs it: a bearer token verified on every request (HS256), the
rate limiter counting (memory storage, a budget no client here reaches), Prometheus metrics,
OpenTelemetry tracing exported over OTLP/HTTP to a receiver in this process (sampler
always_on) and JSON access lines (to /dev/null). The yardstick gets the same request bytes,
token included, and ignores them. Both servers are one uvicorn worker on the same database;
they take turns of `--connections` concurrent keep-alive connections sending 100 requests each,
so drift on this noisy machine hits them alike. Server CPU is the process's user + system time
(/proc/<pid>/stat) over its turns, divided by the requests it answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from auth.principal import Role
from auth.tokens import mint_token
from bench.client import Connection
from bench.side_by_side import seed_status
from tests.live import started_server
from tests.otlp_receiver import running_receiver

MENTOR = "bench-rest-001"
PER_CONNECTION = 100  # requests per connection and turn
WARM_UP_TURNS = 3
SECRET = secrets.token_hex(32)
TICKS = os.sysconf("SC_CLK_TCK")
CPU_GOAL, THROUGHPUT_GOAL = 1.25, 0.8


def production(otlp_endpoint: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "AUTH_JWT_SECRET": SECRET,
        "RATE_LIMIT": "1000000/minute",
        "METRICS_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_TRACES_SAMPLER": "always_on",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu / self.requests

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def _turn(base: str, path: str, headers: dict[str, str], connections: int) -> int:
    async def one() -> int:
        connection = Connection(base)
        for _ in range(PER_CONNECTION):
            status, answer = await connection.request("GET", path, b"", headers)
            if status != 200:
                raise RuntimeError(f"{base}{path} answered {status}: {answer!r}")
        await connection.close()
        return PER_CONNECTION

    return sum(await asyncio.gather(*(one() for _ in range(connections))))


async def measure(
    servers: dict[str, tuple[str, int, str]],
    headers: dict[str, str],
    requests: int,
    connections: int,
) -> dict[str, Tally]:
    """Turns of each server in turn; (base, pid, path) by name."""
    tallies = {name: Tally() for name in servers}
    turns = max(1, requests // (PER_CONNECTION * connections))
    for turn in range(-WARM_UP_TURNS, turns):
        for name, (base, pid, path) in servers.items():
            cpu, started = cpu_seconds(pid), time.perf_counter()
            answered = await _turn(base, path, headers, connections)
            if turn >= 0:
                tally = tallies[name]
                tally.seconds += time.perf_counter() - started
                tally.cpu += cpu_seconds(pid) - cpu
                tally.requests += answered
    return tallies


async def _prepare(url: str) -> None:
    from bench.load import fresh_database

    await fresh_database(url)


def run(url: str, label: str, requests: int, connections: int) -> list[dict[str, object]]:
    asyncio.run(_prepare(url))
    token = mint_token(SECRET, role=Role.ADMIN, subject="bench", expires_in=timedelta(hours=6))
    headers = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        receiver = stack.enter_context(running_receiver())
        gateway, gateway_process = stack.enter_context(
            started_server(url, env=production(receiver.endpoint), output=subprocess.DEVNULL)
        )
        minimal, minimal_process = stack.enter_context(
            started_server(url, app="bench.minimal:create_app", output=subprocess.DEVNULL)
        )
        asyncio.run(seed_status(gateway, MENTOR, headers))
        servers = {
            "gateway": (gateway, gateway_process.pid, f"/api/v1/mentor-statuses/{MENTOR}"),
            "minimal": (minimal, minimal_process.pid, f"/mentor-statuses/{MENTOR}"),
        }
        tallies = asyncio.run(measure(servers, headers, requests, connections))
    ours, theirs = tallies["gateway"], tallies["minimal"]
    cpu_ratio = ours.cpu_ms_per_request / theirs.cpu_ms_per_request
    throughput_ratio = ours.per_second / theirs.per_second
    print(f"\n{label}: {ours.requests} requests each, {connections} connections\n")
    print("| server | CPU ms/request | req/s |\n|---|---|---|")
    for name, tally in tallies.items():
        print(f"| {name} | {tally.cpu_ms_per_request:.3f} | {tally.per_second:.0f} |")
    print(f"\nCPU {cpu_ratio:.2f}x the minimal endpoint's, throughput {throughput_ratio:.2f}x")
    return [
        {
            "goal": 1,
            "figure": f"REST GET server CPU / minimal FastAPI ({label})",
            "measured": f"{cpu_ratio:.2f}x ({ours.cpu_ms_per_request:.2f} / "
            f"{theirs.cpu_ms_per_request:.2f} ms)",
            "target": f"<= {CPU_GOAL}x",
            "met": cpu_ratio <= CPU_GOAL,
        },
        {
            "goal": 1,
            "figure": f"REST GET throughput / minimal FastAPI ({label})",
            "measured": f"{throughput_ratio:.2f}x ({ours.per_second:.0f} / "
            f"{theirs.per_second:.0f} req/s)",
            "target": f">= {THROUGHPUT_GOAL}x",
            "met": throughput_ratio >= THROUGHPUT_GOAL,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per server")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--postgres", help="a PostgreSQL database to drop and fill (not `test`)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    figures = run(
        f"sqlite+aiosqlite:///{directory / 'bench.db'}", "SQLite", args.requests, args.connections
    )
    if args.postgres:
        figures += run(args.postgres, "PostgreSQL", args.requests, args.connections)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
