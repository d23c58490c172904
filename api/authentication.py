"""Who is calling, for every HTTP request: the bearer token checked before any route runs.

Authentication is the transport's job (a missing or bad token is a 401 whatever the path);
what an authenticated caller may do is decided in the GraphQL layer (graph/access.py), so REST,
`/graphql` and websockets cannot disagree. Websockets authenticate in their `connection_init`
(api/websockets.py), as browsers cannot set headers on them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.encoding import dump_json
from api.rest.problems import problem_body
from api.settings import Settings
from auth.jwks import JwksKeys
from auth.principal import DEVELOPMENT_ADMIN, Principal
from auth.tokens import ClaimRules, InvalidToken, KeySource, SharedSecret, TokenVerifier
from graph.access import UNAUTHENTICATED

logger = logging.getLogger("mentor_gateway.auth")


PRINCIPAL_KEY = "principal"  # in the ASGI scope's `state`
# What anyone may reach without a token. Development also serves its pages (GraphiQL, the REST
# docs) to anonymous browsers: they hold no data, and GraphiQL sends its token from its headers
# pane. Production serves no such page.
ANONYMOUS_PATHS = frozenset({"/healthz", "/readyz"})
DEVELOPMENT_PAGES = ("/docs", "/openapi.json", "/graphql-assets/")
NO_AUTH_WARNING = """
************************************************************************************
*  mentor-gateway: NO AUTHENTICATION. Neither AUTH_JWKS_URL nor AUTH_JWT_SECRET is  *
*  set, so every request acts as `admin`. Development only: ENVIRONMENT=production  *
*  refuses to start like this. README "Access control" says how to configure it.    *
************************************************************************************
"""


class AuthNotConfigured(RuntimeError):
    """Production without a token source: the service must not start open to everyone."""


def require_auth_in_production(settings: Settings) -> None:
    """Raise AuthNotConfigured for production settings that name no token source."""
    if settings.is_production and not settings.auth_configured:
        raise AuthNotConfigured(
            "ENVIRONMENT=production needs AUTH_JWKS_URL (the identity provider's JWKS) "
            "or AUTH_JWT_SECRET (an HS256 secret of 32+ bytes): refusing to start "
            "without authentication."
        )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send the token as `Authorization: Bearer <token>`")
    return token.strip()


class Authenticator:
    """Turns an Authorization value into a Principal with the configured verifier; without one
    (development only), everyone is DEVELOPMENT_ADMIN."""

    def __init__(self, verifier: TokenVerifier | None) -> None:
        self.verifier = verifier

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        require_auth_in_production(settings)
        if not settings.auth_configured:
            print(NO_AUTH_WARNING, file=sys.stderr, flush=True)
            return cls(None)
        sources: list[KeySource] = []
        if settings.auth_jwt_secret is not None:
            sources.append(SharedSecret(settings.auth_jwt_secret.get_secret_value()))
        if settings.auth_jwks_url is not None:
            sources.append(
                JwksKeys(
                    settings.auth_jwks_url, refetch_interval=settings.auth_jwks_refetch_seconds
                )
            )
        rules = ClaimRules(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            roles_claim=settings.auth_roles_claim,
            leeway_seconds=settings.auth_leeway_seconds,
        )
        return cls(TokenVerifier(sources, rules))

    @property
    def enabled(self) -> bool:
        return self.verifier is not None

    async def principal_for(self, authorization: str | None) -> Principal | None:
        """The caller; None for no token (anonymous). Raises InvalidToken for a bad one."""
        if self.verifier is None:
            return DEVELOPMENT_ADMIN
        token = bearer_token(authorization)
        if token is None:
            return None
        return await self.verifier.verify(token)


def challenge(error: InvalidToken | None) -> str:
    """The WWW-Authenticate value (RFC 6750 section 3) for no token, or for a bad one."""
    if error is None:
        return "Bearer"
    description = str(error).replace("\\", "").replace('"', "'")
    return f'Bearer error="invalid_token", error_description="{description}"'


def _unauthenticated(path: str, error: InvalidToken | None) -> tuple[bytes, bytes]:
    """The 401 body for `path`: a GraphQL error at /graphql, a problem elsewhere."""
    message = str(error) if error else "This request needs a bearer token (Authorization header)"
    if path.rstrip("/") == "/graphql":
        body = {"errors": [{"message": message, "extensions": {"code": UNAUTHENTICATED}}]}
        return dump_json(body), b"application/json"
    return dump_json(problem_body(401, message, code=UNAUTHENTICATED)), b"application/problem+json"


def _is_anonymous(path: str, *, development: bool) -> bool:
    if path in ANONYMOUS_PATHS:
        return True
    return development and path.startswith(DEVELOPMENT_PAGES)


def _wants_graphiql(scope: Scope) -> bool:
    """GET /graphql from a browser: the GraphiQL page, not an operation."""
    if scope["method"] != "GET":
        return False
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    accept = next((value for name, value in headers if name == b"accept"), b"")
    query: bytes = scope.get("query_string", b"")
    return b"text/html" in accept and b"query=" not in query


def authenticate(app: Any, authenticator: Authenticator, *, development: bool) -> None:
    """Install the middleware on `app` (a FastAPI app)."""
    app.add_middleware(
        AuthenticationMiddleware, authenticator=authenticator, development=development
    )


class AuthenticationMiddleware:
    """Puts the caller's Principal in `scope["state"]`, or answers 401 itself."""

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator, development: bool) -> None:
        self.app = app
        self.authenticator = authenticator
        self.development = development

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websockets: connection_init (api/websockets.py)
            await self.app(scope, receive, send)
            return
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        raw = next((value for name, value in headers if name == b"authorization"), None)
        error: InvalidToken | None = None
        try:
            authorization = None if raw is None else raw.decode("latin-1")
            principal = await self.authenticator.principal_for(authorization)
        except InvalidToken as refused:
            principal, error = None, refused
        path: str = scope["path"]
        if (
            principal is None
            and error is None
            and (
                _is_anonymous(path, development=self.development)
                or (self.development and _wants_graphiql(scope))
            )
        ):
            await self.app(scope, receive, send)
            return
        if principal is None:
            await _refuse(send, path, error)
            return
        state[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


async def _refuse(
    send: Send,
    path: str,
    error: InvalidToken | None,
) -> None:
    body, media_type = _unauthenticated(path, error)
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge(error).encode("latin-1", "replace")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
