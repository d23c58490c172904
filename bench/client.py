"""A small keep-alive HTTP/1.1 client and latency bookkeeping for the load benchmark.

httpx spends ~0.3 ms of CPU per request, which on a 2-core machine would measure the client as
much as the server; this client writes a request and reads one Content-Length response, nothing
more (uvicorn answers every route of the gateway that way).
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server answered something this client does not read (or hung up)."""


class Connection:
    """One keep-alive connection to `base` (`http://host:port`); reconnects after a failure.
    `sent_with_every_request` holds headers every request carries (bench/load.py's token)."""

    sent_with_every_request: ClassVar[dict[str, str]] = {}

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one request; return its status and body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        every = {**self.sent_with_every_request, **(headers or {})}
        lines += [f"{name}: {value}" for name, value in every.items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            status, length = _parse_head(head)
            return status, await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError):
            await self.close()
            raise

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = self._reader = None


def _parse_head(head: bytes) -> tuple[int, int]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value)
    raise ProtocolError(f"no Content-Length in: {status_line}")


@dataclass
class Latencies:
    """Per request kind: how long each took (ms) and how many failed."""

    timings: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, milliseconds: float) -> None:
        self.timings.setdefault(kind, []).append(milliseconds)

    @property
    def count(self) -> int:
        return sum(len(values) for values in self.timings.values()) + self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def all(self) -> list[float]:
        return [value for values in self.timings.values() for value in values]


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 of `values` (ms)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]
