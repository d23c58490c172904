"""One typed settings object, read from the environment (and CLI flags that override it)."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import limits
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.limits import Limits
from models.database import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_DATABASE_URL

_SAFE = Limits()
PRODUCTION_RATE_LIMIT = "600/minute"
# The `limits` storages this service supports, as operators write them -> the asyncio variant.
RATE_LIMIT_STORAGES = {
    "memory://": "async+memory://",
    "redis://": "async+redis://",
    "rediss://": "async+rediss://",
    "redis+unix://": "async+redis+unix://",
}
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # an RFC 9110 token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "UTC"
    environment: Literal["development", "production"] = "development"
    expose_sql_count: bool = False
    # Abuse limits (README "Hardening"); each default is the safe one.
    graphql_max_depth: int = Field(default=_SAFE.max_depth, ge=1)
    graphql_max_aliases: int = Field(default=_SAFE.max_aliases, ge=0)
    graphql_max_tokens: int = Field(default=_SAFE.max_tokens, ge=1)
    graphql_max_root_fields: int = Field(default=_SAFE.max_root_fields, ge=1)
    graphql_max_cost: int = Field(default=_SAFE.max_cost, ge=1)
    graphql_batching: bool = False
    graphql_max_batch_operations: int = Field(default=10, ge=1)
    max_body_bytes: int = Field(default=100 * 1024, ge=1)
    request_timeout_seconds: float = Field(default=_SAFE.timeout_seconds, gt=0)
    # Websockets at /graphql (README "Hardening", "Websockets"); api/websockets.py enforces them.
    ws_max_connections: int = Field(default=1_000, ge=1)
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_max_message_bytes: int = Field(default=100 * 1024, ge=1)
    # A database that hangs fails requests with SERVICE_UNAVAILABLE within these bounds.
    database_connect_timeout_seconds: float = Field(default=DEFAULT_CONNECT_TIMEOUT_SECONDS, gt=0)
    database_command_timeout_seconds: float = Field(default=5.0, gt=0)
    # Per-client rate limit (README "Rate limits"): a `limits` string, `off`, or unset for the
    # environment's default (off in development, PRODUCTION_RATE_LIMIT in production).
    rate_limit: str | None = None
    rate_limit_storage_url: str = "memory://"
    rate_limit_key_prefix: str = Field(default="mentor-gateway", min_length=1)
    trusted_proxy_header: str | None = None
    # Bearer tokens (README "Access control"); with neither source set, development acts as
    # admin and production refuses to start (api/authentication.py).
    auth_jwks_url: str | None = None
    auth_jwt_secret: SecretStr | None = Field(default=None, min_length=32)
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_roles_claim: str = Field(default="roles", min_length=1)
    auth_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    # An unknown `kid` refetches the JWKS at most once per this many seconds.
    auth_jwks_refetch_seconds: float = Field(default=30.0, gt=0)
    # Operations (README "Deployment"): metrics, logs, CORS, shutdown. Tracing is configured by
    # OpenTelemetry's own OTEL_* variables (api/tracing.py), not here.
    metrics_enabled: bool = True
    # Who may read /metrics in production: addresses/networks (`10.0.0.0/8`) and/or
    # `token:<secret>` (sent as `Authorization: Bearer <secret>`), comma-separated.
    metrics_allow: str = ""
    log_format: Literal["text", "json"] | None = (
        None  # None: text in development, json in production
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: str = (
        ""  # comma-separated origins allowed to call from a browser; none by default
    )
    cors_allow_credentials: bool = False
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=300)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Oslo)"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the URLs operators already have, and pick the async driver for them."""
        for plain, async_form in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return async_form + value.removeprefix(plain)
        return value

    @field_validator("rate_limit")
    @classmethod
    def _one_limit(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if value.lower() == "off":
            return "off"
        try:
            parsed = limits.parse_many(value)
        except ValueError:
            parsed = []
        if len(parsed) != 1 or parsed[0].amount < 1:
            raise ValueError(f"{value!r} is not one rate limit (write e.g. 600/minute, or off)")
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _async_storage(cls, value: str) -> str:
        """Accept `memory://` and `redis://` URLs, and pick the asyncio storage for them."""
        for plain, async_form in RATE_LIMIT_STORAGES.items():
            if value.startswith((plain, async_form)):
                return async_form + value.removeprefix(async_form).removeprefix(plain)
        raise ValueError(f"{value!r}: use memory:// or redis://host:port/db")

    @field_validator("trusted_proxy_header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not _HEADER_NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a header name")
        return value or None

    @field_validator("auth_jwks_url")
    @classmethod
    def _jwks_scheme(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not value.startswith(("https://", "http://", "file://")):
            raise ValueError(f"{value!r}: the JWKS URL must be https://, http:// or file://")
        return value or None

    @field_validator("auth_jwt_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_issuer", "auth_audience")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @property
    def auth_configured(self) -> bool:
        return self.auth_jwks_url is not None or self.auth_jwt_secret is not None

    @property
    def log_format_in_force(self) -> Literal["text", "json"]:
        return self.log_format or ("json" if self.is_production else "text")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def rate_limit_policy(self) -> str | None:
        """The limit in force (a `limits` string), or None when rate limiting is off."""
        chosen = self.rate_limit or (PRODUCTION_RATE_LIMIT if self.is_production else "off")
        return None if chosen == "off" else chosen

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def graphql_limits(self) -> Limits:
        """The GraphQL limits these settings ask for; production also hides the schema."""
        return Limits(
            max_depth=self.graphql_max_depth,
            max_aliases=self.graphql_max_aliases,
            max_tokens=self.graphql_max_tokens,
            max_root_fields=self.graphql_max_root_fields,
            max_cost=self.graphql_max_cost,
            timeout_seconds=self.request_timeout_seconds,
            batch_operations=self.graphql_max_batch_operations if self.graphql_batching else 0,
            introspection=not self.is_production,
            suggestions=not self.is_production,
        )
