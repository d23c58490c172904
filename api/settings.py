"""One typed settings object, read from the environment (and CLI flags that override it)."""

from __future__ import annotations

from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.limits import Limits
from models.database import DEFAULT_DATABASE_URL

_SAFE = Limits()


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
    graphql_batching: bool = False
    graphql_max_batch_operations: int = Field(default=10, ge=1)
    max_body_bytes: int = Field(default=100 * 1024, ge=1)
    request_timeout_seconds: float = Field(default=_SAFE.timeout_seconds, gt=0)

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
            timeout_seconds=self.request_timeout_seconds,
            batch_operations=self.graphql_max_batch_operations if self.graphql_batching else 0,
            introspection=not self.is_production,
            suggestions=not self.is_production,
        )
