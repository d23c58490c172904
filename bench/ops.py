"""What operations instrumentation costs: metrics, tracing and JSON access logs, each alone and
all three, against the same build with them off, side by side in one run.

    .venv/bin/python -m bench.ops [--requests 3000]

Starts five servers (uvicorn, one worker each, development mode, no auth) on one migrated
SQLite file; they answer the same single-record REST GET and the same small /graphql query,
sequentially over one keep-alive connection each, taking turns (bench/side_by_side.py). Tracing
exports every span (sampler always_on) to an OTLP/HTTP receiver in this process; logs go to
/dev/null as the JSON lines production writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.side_by_side import Servers, ratio_table, seed_status, timed_requests
from models.database import Database
from models.migrate import migrate
from tests.live import running_server
from tests.otlp_receiver import running_receiver

MENTOR = "bench-ops-001"
REQUESTS = {
    "GET /api/v1/mentor-statuses/{id}": ("GET", f"/api/v1/mentor-statuses/{MENTOR}", b""),
    "POST /graphql mentorStatus { status }": (
        "POST",
        "/graphql",
        json.dumps({"query": f'{{ mentorStatus(mentorId: "{MENTOR}") {{ status }} }}'}).encode(),
    ),
}
QUIET = {"LOG_FORMAT": "json", "LOG_LEVEL": "WARNING"}  # no access line is formatted
NO_METRICS = {"METRICS_ENABLED": "false"}
# Blank values unset whatever the calling shell exports.
NO_TRACING = {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""}


def configurations(endpoint: str) -> dict[str, dict[str, str]]:
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_SAMPLER": "always_on"}
    logs = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    return {
        "all off": {**NO_METRICS, **NO_TRACING, **QUIET},
        "metrics": {**NO_TRACING, **QUIET, "METRICS_ENABLED": "true"},
        "tracing": {**NO_METRICS, **QUIET, **tracing},
        "JSON access logs": {**NO_METRICS, **NO_TRACING, **logs},
        "all three": {"METRICS_ENABLED": "true", **tracing, **logs},
    }


async def _prepare(url: str) -> None:
    database = Database(url)
    await migrate(database)
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per server and request kind")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    asyncio.run(_prepare(url))
    with ExitStack() as stack:
        receiver = stack.enter_context(running_receiver())
        chosen = configurations(receiver.endpoint)
        servers: Servers = {}
        for name, env in chosen.items():
            env = {"ENVIRONMENT": "development", "AUTH_JWT_SECRET": "", "AUTH_JWKS_URL": "", **env}
            base = stack.enter_context(running_server(url, env=env, output=subprocess.DEVNULL))
            servers[name] = (base, {})
        asyncio.run(seed_status(servers["all off"][0], MENTOR))
        timings = asyncio.run(timed_requests(servers, REQUESTS, args.requests))
        spans = len(receiver.spans)

    print(f"\n{args.requests} sequential requests per cell, p50 ms (ratio to all off)\n")
    print(ratio_table(list(chosen), REQUESTS, timings))
    print(f"\n(the receiver got {spans:,} spans)")


if __name__ == "__main__":
    main()
