"""Fan-out of one status change to many websocket subscribers, and what it does to the loop.

    .venv/bin/python -m bench.fanout [--connections 500] [--subscriptions 20]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/fanout]

Starts a real server (uvicorn, one worker) on loopback, opens --connections graphql-transport-ws
connections holding --subscriptions `mentorStatusChanged` subscriptions each (10,000 by
default), each watching every mentor, and makes one REST status change. A separate process polls
`/healthz` every 5 ms meanwhile (so the client's own frame decoding cannot delay it). Reports the
REST answer time, the longest `/healthz` answer during the fan-out (how long the server's event
loop was not answering) and the time until the last subscriber had its frame. The
--postgres database's schema is dropped first: never point it at one you need.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.load import fresh_database
from tests.live import running_server

MENTOR = "fanout-000"
# Watching every mentor: a subscription naming one first checks it exists, in a session of its
# own, and 10,000 of those at once wait for the connection pool (README "Websockets").
QUERY = "subscription { mentorStatusChanged { mentorId status } }"
POLL_SECONDS = 0.005


@dataclass
class Frames:
    """Frames received per status, and when the latest one arrived (time.monotonic)."""

    counts: dict[str, int] = field(default_factory=dict)
    last_at: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self) -> None:
        self.counts.clear()

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.last_at = time.monotonic()
        self.changed.set()

    async def wait_for(self, status: str, count: int, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                while self.counts.get(status, 0) < count:
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{self.counts.get(status, 0)} of {count} {status} frames") from None


async def _subscriber(
    url: str, subscriptions: int, frames: Frames, ready: asyncio.Queue[Any]
) -> None:
    async with websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=60,
        ping_interval=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for n in range(subscriptions):
            message = {"id": str(n), "type": "subscribe", "payload": {"query": QUERY}}
            await ws.send(json.dumps(message))
        await ready.put(None)
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] != "next":
                raise RuntimeError(message)
            frames.add(message["payload"]["data"]["mentorStatusChanged"]["status"])


def _poll_healthz(base: str, seconds: float, results: Any) -> None:
    """In its own process: GET /healthz every POLL_SECONDS; send back (sent_at, latency)."""
    samples: list[tuple[float, float]] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/healthz").raise_for_status()
        results.put("ready")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            sent = time.monotonic()
            client.get("/healthz").raise_for_status()
            samples.append((sent, time.monotonic() - sent))
            time.sleep(POLL_SECONDS)
    results.put(samples)


async def _change(client: httpx.AsyncClient, status: str) -> float:
    started = time.monotonic()
    response = await client.put(f"/api/v1/mentor-statuses/{MENTOR}", json={"status": status})
    response.raise_for_status()
    return started


async def _measure(base: str, connections: int, subscriptions: int, window: float) -> str:
    total = connections * subscriptions
    url = base.replace("http://", "ws://") + "/graphql"
    frames = Frames()
    ready: asyncio.Queue[Any] = asyncio.Queue()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        (
            await client.post("/api/v1/mentor-statuses", json={"mentor_id": MENTOR})
        ).raise_for_status()
        opened = time.monotonic()
        tasks = []
        for _ in range(connections):
            tasks.append(asyncio.create_task(_subscriber(url, subscriptions, frames, ready)))
            await ready.get()  # one handshake at a time: the bench measures fan-out, not accept
        # Warm-up changes until one reaches every subscriber: then all are registered.
        status = "active"
        while True:
            status = "inactive" if status == "active" else "active"
            frames.reset()
            await _change(client, status)
            try:
                await frames.wait_for(status, total, seconds=30)
                break
            except TimeoutError:
                continue
        set_up = time.monotonic() - opened
        await asyncio.sleep(1)
        measured = "inactive" if status == "active" else "active"
        frames.reset()

        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        poller = context.Process(target=_poll_healthz, args=(base, window, results))
        poller.start()
        assert await asyncio.to_thread(results.get) == "ready"
        await asyncio.sleep(0.5)  # some answers before the change, for comparison
        started = await _change(client, measured)
        answered = time.monotonic() - started
        await frames.wait_for(measured, total, seconds=300)
        last_frame = frames.last_at - started
        samples: list[tuple[float, float]] = await asyncio.to_thread(results.get)
        poller.join()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # A request overlapping the fan-out waited for the loop; one answered before it did not.
    before = [latency for sent, latency in samples if sent + latency < started]
    during = [latency for sent, latency in samples if sent + latency >= started]
    stall = max(during, default=0.0)
    quiet = max(before, default=0.0)
    return (
        f"| {connections} x {subscriptions} = {total:,} | {set_up:.1f} | {answered * 1000:.0f} "
        f"| {quiet * 1000:.0f} | {stall * 1000:.0f} | {last_frame * 1000:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--subscriptions", type=int, default=20, help="per connection")
    parser.add_argument("--window", type=float, default=30.0, help="seconds to poll /healthz")
    parser.add_argument("--postgres", help="also on this PostgreSQL URL (its schema is dropped)")
    parser.add_argument("--app", default="api.app:create_app", help="the app factory to serve")
    args = parser.parse_args()
    targets = [("SQLite", f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'fanout.db'}")]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    env = {
        "WS_MAX_CONNECTIONS": str(args.connections + 10),
        "WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": str(args.subscriptions),
    }
    print(
        "| database | subscriptions | set-up s | PUT answered ms | /healthz max before ms "
        "| /healthz max during fan-out ms | last frame ms |\n|---|---|---|---|---|---|---|"
    )
    for name, url in targets:
        asyncio.run(fresh_database(url))
        with running_server(url, app=args.app, env=env, timeout=60) as base:
            row = asyncio.run(_measure(base, args.connections, args.subscriptions, args.window))
        print(f"| {name} {row}")


if __name__ == "__main__":
    main()
