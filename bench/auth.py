"""What bearer tokens cost: per request and per verification, side by side in one run.

    .venv/bin/python -m bench.auth [--requests 2000] [--verifications 5000]

Starts three servers (uvicorn, one worker each, development mode) on one migrated SQLite file:
no auth settings (every request acts as admin), AUTH_JWT_SECRET (HS256), and AUTH_JWKS_URL on
a file:// key set (RS256, 2048-bit key). Each answers the same small REST GET and /graphql
query, sequentially over one keep-alive connection (bench.client), the three servers taking
turns in rounds so drift hits them alike; prints medians and the ratio to the request without
auth. Then times `TokenVerifier.verify` itself, in process, per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

from auth.jwks import JwksKeys
from auth.tokens import ClaimRules, SharedSecret, TokenVerifier
from bench.side_by_side import ratio_table, seed_status, timed_requests
from models.database import Database
from models.migrate import migrate
from tests.auth.keys import SECRET, ec_key, hs256_token, key_set, rsa_key, write_key_set
from tests.live import running_server

MENTOR = "bench-auth-001"
REQUESTS = {
    "GET /api/v1/mentor-statuses/{id}": ("GET", f"/api/v1/mentor-statuses/{MENTOR}", b""),
    "POST /graphql mentorStatus { status }": (
        "POST",
        "/graphql",
        json.dumps({"query": f'{{ mentorStatus(mentorId: "{MENTOR}") {{ status }} }}'}).encode(),
    ),
}


async def _prepare(url: str) -> None:
    database = Database(url)
    await migrate(database)
    await database.dispose()


async def _per_call(count: int, verify: Callable[[str], Awaitable[object]], token: str) -> float:
    """Median microseconds per `verify(token)`, over batches of 100 calls."""
    for _ in range(200):
        await verify(token)
    batches = []
    for _ in range(max(1, count // 100)):
        started = time.perf_counter()
        for _ in range(100):
            await verify(token)
        batches.append((time.perf_counter() - started) * 1e6 / 100)
    return statistics.median(batches)


async def _verifications(jwks_url: str, tokens: dict[str, str], count: int) -> dict[str, float]:
    rules = ClaimRules()
    shared = TokenVerifier([SharedSecret(SECRET)], rules)
    jwks = TokenVerifier([JwksKeys(jwks_url, refetch_interval=30.0)], rules)
    verifiers = {"HS256": shared, "RS256": jwks, "ES256": jwks}
    return {
        algorithm: await _per_call(count, verifiers[algorithm].check, token)
        for algorithm, token in tokens.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server and request kind")
    parser.add_argument("--verifications", type=int, default=5000)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    asyncio.run(_prepare(url))
    rsa, ec = rsa_key(), ec_key()
    jwks_file = directory / "jwks.json"
    write_key_set(jwks_file, key_set(rsa, ec))
    tokens = {
        "HS256": hs256_token(sub="bench", roles=["admin"]),
        "RS256": rsa.token(sub="bench", roles=["admin"]),
        "ES256": ec.token(sub="bench", roles=["admin"]),
    }
    # Blank values unset whatever the calling shell exports.
    configurations = {
        "no auth": ({"AUTH_JWT_SECRET": "", "AUTH_JWKS_URL": ""}, None),
        "HS256": ({"AUTH_JWT_SECRET": SECRET, "AUTH_JWKS_URL": ""}, tokens["HS256"]),
        "RS256 (JWKS file://)": (
            {"AUTH_JWT_SECRET": "", "AUTH_JWKS_URL": jwks_file.as_uri()},
            tokens["RS256"],
        ),
    }
    with ExitStack() as stack:
        servers = {}
        for name, (env, token) in configurations.items():
            env = {"ENVIRONMENT": "development", **env}
            base = stack.enter_context(running_server(url, env=env))
            servers[name] = (base, {"Authorization": f"Bearer {token}"} if token else {})
        asyncio.run(seed_status(servers["no auth"][0], MENTOR))
        timings = asyncio.run(timed_requests(servers, REQUESTS, args.requests))

    names = list(configurations)
    print(f"\n{args.requests} sequential requests per cell, p50 ms (ratio to no auth)\n")
    print(ratio_table(names, REQUESTS, timings))

    costs = asyncio.run(_verifications(jwks_file.as_uri(), tokens, args.verifications))
    print(f"\nTokenVerifier.verify, in process, median of {args.verifications // 100} x 100\n")
    print("| token | µs per call |\n|---|---|")
    for algorithm, microseconds in costs.items():
        print(f"| {algorithm} | {microseconds:.1f} |")


if __name__ == "__main__":
    main()
