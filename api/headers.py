"""Security headers on every response, and CORS for browser clients on other origins.

Every response says `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` (an
API has no reason to tell anyone where its pages' links were followed from), and carries a
Content-Security-Policy: `default-src 'none'` for what is not a page (JSON, problems, assets)
and, on the development pages (GraphiQL at GET /graphql, Swagger UI at /docs), one that allows
only the service's own files plus the inline scripts and styles of that very page, by hash.
Both forbid framing (`frame-ancestors 'none'`).

The hashes are taken from the page as the app serves it to an anonymous GET without a query:
once per page and root path (Swagger's script names the root path), by asking the app itself.
A page can only ever run the inline code its template holds, never anything a request put in.

CORS (Starlette's CORSMiddleware) is on only when CORS_ORIGINS names origins. It must run before
authentication and the rate limiter, so that a preflight, which carries no token, is answered:
`secure_responses` is called after them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import outside_error_handling
from api.settings import Settings

logger = logging.getLogger("mentor_gateway.headers")

# The pages that have inline scripts and styles (GraphiQL; Swagger UI and its OAuth2 redirect).
PAGES = frozenset({"/graphql", "/docs", "/docs/oauth2-redirect"})
COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"
CSP = b"content-security-policy"

CORS_METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS")
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
)
# What a browser script may read of a response besides the CORS-safelisted headers.
CORS_EXPOSED_HEADERS = (
    "ETag",
    "X-Request-ID",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "WWW-Authenticate",
)
CORS_MAX_AGE_SECONDS = 600

_INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)


def _hashes(blocks: Iterable[str]) -> str:
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in dict.fromkeys(blocks)
    )


def page_policy(html: str) -> str:
    """The Content-Security-Policy for `html`: the app's own files, and its inline blocks."""
    scripts = _hashes(_INLINE_SCRIPT.findall(html))
    styles = _hashes(_INLINE_STYLE.findall(html))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {scripts}".rstrip(),
            f"style-src 'self' {styles}".rstrip(),
            "img-src 'self' data:",  # GraphiQL's icon and Swagger's are data: URLs
            "font-src 'self' data:",  # GraphiQL's stylesheet embeds its fonts
            "connect-src 'self'",  # /graphql (and its websocket), /openapi.json
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _is_html(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.lower().startswith(b"text/html")
        for name, value in headers
    )


def _route_path(scope: Scope) -> str:
    """The path below the root path; servers differ on whether `path` includes it (uvicorn's
    does, httpx's ASGI transport's does not)."""
    path, root_path = str(scope["path"]), str(scope.get("root_path", ""))
    return path.removeprefix(root_path) if root_path and path.startswith(root_path + "/") else path


class SecurityHeaders:
    """Adds the headers of the module doc to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._common = [*COMMON_HEADERS, (CSP, NOT_A_PAGE_POLICY.encode())]
        self._page_policies: dict[tuple[str, str], bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Copied before routing adds to it: the page is asked for again in this state.
        page = dict(scope) if scope["method"] == "GET" and _route_path(scope) in PAGES else None

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                if page is not None and _is_html(headers):
                    headers += [*COMMON_HEADERS, (CSP, await self._policy_of(page))]
                else:
                    headers += self._common
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secured)

    async def _policy_of(self, scope: Scope) -> bytes:
        key = (str(scope.get("root_path", "")), _route_path(scope))  # root paths: server config
        policy = self._page_policies.get(key)
        if policy is None:
            policy = page_policy(await self._render(scope)).encode()
            self._page_policies[key] = policy
        return policy

    async def _render(self, scope: Scope) -> str:
        """The page at scope's path as the app serves it to an anonymous GET without a query."""
        request: MutableMapping[str, Any] = {
            **scope,
            "query_string": b"",
            "headers": [(b"accept", b"text/html")],
            "state": {},
        }
        body: list[bytes] = []
        html = False
        asked = False

        async def receive() -> Message:
            nonlocal asked
            if asked:
                return {"type": "http.disconnect"}
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: Message) -> None:
            nonlocal html
            if message["type"] == "http.response.start":
                html = message["status"] == 200 and _is_html(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        try:
            await self.app(request, receive, collect)
        except Exception:  # the page then runs no inline code, which is safe
            logger.exception("could not render %s for its Content-Security-Policy", scope["path"])
            return ""
        return b"".join(body).decode("utf-8", "replace") if html else ""


def allow_cross_origin(app: FastAPI, settings: Settings) -> None:
    """Answer CORS preflights and label responses for CORS_ORIGINS; nothing if it names none."""
    origins = settings.cors_origin_list
    if not origins:
        return
    if "*" in origins and settings.cors_allow_credentials:
        # Starlette would echo any origin back with credentials allowed: any site could call
        # with the user's cookies or TLS client certificate.
        raise ValueError("CORS_ALLOW_CREDENTIALS cannot be used with CORS_ORIGINS=*: name them")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=CORS_MAX_AGE_SECONDS,
    )


def secure_responses(app: FastAPI, settings: Settings) -> None:
    """CORS (if configured) before the middleware installed so far, and the security headers
    on every response, the error handler's 500 included."""
    allow_cross_origin(app, settings)
    outside_error_handling(app, SecurityHeaders)
