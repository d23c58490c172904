"""Per-client rate limits (the `limits` library) on every route but the health checks.

A plain ASGI middleware, like api/middleware.py, and the outermost one: a refused request reads
no body and reaches no route. Each client has one fixed-window budget (the window starts at its
first request) shared by REST, `/graphql` and websocket handshakes, kept in memory or in Redis
(one budget across every worker). Past it: 429 with `Retry-After` and the RateLimit fields, as a
problem (REST) or a GraphQL error (`/graphql`, websocket handshakes included).

Headers follow draft-ietf-httpapi-ratelimit-headers-11 (May 2026): `RateLimit-Policy` names the
policy as a String with its quota `q` and window `w`; `RateLimit` gives the remaining quota `r`
and the seconds `t` until the window resets. Retry-After is never earlier than `t` (section 6).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from fastapi import FastAPI
from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.clients import parse_address, proxied_entry
from api.encoding import dump_json
from api.metrics import RATE_LIMITED_REQUESTS
from api.rest.problems import problem_response

logger = logging.getLogger("mentor_gateway.ratelimit")

RATE_LIMITED = "RATE_LIMITED"
POLICY = "default"
# Liveness and readiness probes come from the platform, often many per second: never refused.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
# A Redis that does not answer must not stall requests: short timeouts, then the limiter stays
# open (requests pass unlimited) and asks the storage again after this many seconds.
STORAGE_TIMEOUT_SECONDS = 0.5
RETRY_STORAGE_SECONDS = 1.0
# An IPv6 client usually holds a whole /64: one budget for it, or it could rotate addresses.
IPV6_CLIENT_PREFIX = 64


def _address(text: str) -> str | None:
    """`text` as an address key (IPv4, or the IPv6 /64 it lies in), or None if it is none."""
    address = parse_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return None if address is None else str(address)


def _proxied_address(scope: Scope, header: bytes) -> str | None:
    entry = proxied_entry(scope, header)
    return None if entry is None else _address(entry)


def client_address(scope: Scope, trusted_proxy_header: bytes | None) -> str:
    """Where the request comes from: the trusted proxy's header when one is configured and
    names an address, else the peer of the connection."""
    if trusted_proxy_header is not None:
        proxied = _proxied_address(scope, trusted_proxy_header)
        if proxied is not None:
            return proxied
    peer = scope.get("client")
    if not peer:
        return "unknown"
    return _address(str(peer[0])) or str(peer[0])


def client_key(scope: Scope, trusted_proxy_header: bytes | None) -> str:
    """Whose budget a request spends. Issue 11 (authentication) extends this one function: the
    caller's identity once it exists, the client's address until then."""
    return "address:" + client_address(scope, trusted_proxy_header)


@dataclass(frozen=True)
class Quota:
    """One request's standing against its client's budget."""

    allowed: bool
    remaining: int
    reset_seconds: int  # until the window ends and the budget is whole again


class ClientLimiter:
    """One budget per client key, in the storage `storage_url` names; fails open."""

    def __init__(self, limit: str, storage_url: str, key_prefix: str) -> None:
        self.item: RateLimitItem = parse(limit)
        options: dict[str, float | str | bool] = {}
        if "redis" in storage_url:
            options = {
                "connect_timeout": STORAGE_TIMEOUT_SECONDS,
                "stream_timeout": STORAGE_TIMEOUT_SECONDS,
            }
        storage = storage_from_string(storage_url, wrap_exceptions=True, **options)
        self.strategy = FixedWindowRateLimiter(storage)
        self.key_prefix = key_prefix
        self.outage_since: float | None = None
        self.retry_storage_at = 0.0

    async def hit(self, key: str) -> Quota | None:
        """Spend one unit of `key`'s budget; None while the storage does not answer."""
        if time.monotonic() < self.retry_storage_at:
            return None
        try:
            # One deadline for the whole check: the client's own timeouts apply per attempt,
            # and it retries.
            async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
                allowed = await self.strategy.hit(self.item, self.key_prefix, key)
                stats = await self.strategy.get_window_stats(self.item, self.key_prefix, key)
        except (StorageError, OSError) as error:  # TimeoutError is an OSError
            # Open rather than closed: a rate limiter's outage must not become the service's.
            if self.outage_since is None:
                self.outage_since = time.monotonic()
                logger.warning("rate limit storage unreachable, not limiting: %r", error)
            self.retry_storage_at = time.monotonic() + RETRY_STORAGE_SECONDS
            return None
        if self.outage_since is not None:
            down = time.monotonic() - self.outage_since
            logger.warning("rate limit storage answers again after %.0f s, limiting", down)
            self.outage_since = None
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Quota(allowed=allowed, remaining=stats.remaining, reset_seconds=reset)

    def headers(self, quota: Quota) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": f'"{POLICY}";q={self.item.amount};w={self.item.get_expiry()}',
            "RateLimit": f'"{POLICY}";r={quota.remaining};t={quota.reset_seconds}',
        }
        if not quota.allowed:
            headers["Retry-After"] = str(max(1, quota.reset_seconds))
        return headers


def is_graphql(path: str) -> bool:
    return path == "/graphql" or path.startswith("/graphql/")


def refusal(scope: Scope, limiter: ClientLimiter, quota: Quota) -> Response:
    """The 429 for a client past its budget: a GraphQL error on /graphql, else a problem."""
    headers = limiter.headers(quota)
    message = (
        f"Rate limit of {limiter.item.amount} requests per {limiter.item.get_expiry()} s "
        f"exceeded; retry in {headers['Retry-After']} s."
    )
    if not is_graphql(scope["path"]):
        return problem_response(429, message, code=RATE_LIMITED, headers=headers)
    extensions = {
        "code": RATE_LIMITED,
        "limit": limiter.item.amount,
        "windowSeconds": limiter.item.get_expiry(),
        "retryAfter": int(headers["Retry-After"]),
    }
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(dump_json(body), 429, headers=headers, media_type="application/json")


class RateLimit:
    """Spends the client's budget on every HTTP request and websocket handshake (health checks
    excepted) and states it in the RateLimit headers; refuses past it."""

    def __init__(
        self, app: ASGIApp, *, limiter: ClientLimiter, trusted_proxy_header: str | None
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.proxy_header = trusted_proxy_header.lower().encode() if trusted_proxy_header else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        quota = await self.limiter.hit(client_key(scope, self.proxy_header))
        if quota is None:  # the storage is down: open, and claim no figures
            await self.app(scope, receive, send)
            return
        if not quota.allowed:
            RATE_LIMITED_REQUESTS.inc()
            await self.refuse(scope, receive, send, quota)
            return
        fields = [
            (name.encode(), value.encode()) for name, value in self.limiter.headers(quota).items()
        ]

        async def send_with_fields(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", []), *fields]}
            await send(message)

        await self.app(scope, receive, send_with_fields)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
        response = refusal(scope, self.limiter, quota)
        if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
            # Starlette sends a websocket handshake's answer as an HTTP denial response.
            await response(scope, receive, send)
            return
        # A server without denial responses: refuse the handshake with the 429-like close code
        # (servers answer an unaccepted socket's close with HTTP 403).
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 4429, "reason": "rate limited"})


def limit_rate(
    app: FastAPI,
    *,
    limit: str | None,
    storage_url: str,
    key_prefix: str,
    trusted_proxy_header: str | None,
) -> None:
    """Limit each client to `limit` (a `limits` string such as `600/minute`; None: no limit).

    Add it last, so that it runs first."""
    if limit is None:
        return
    limiter = ClientLimiter(limit, storage_url, key_prefix)
    app.add_middleware(RateLimit, limiter=limiter, trusted_proxy_header=trusted_proxy_header)
