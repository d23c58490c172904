"""Tokens for tests: one HS256 secret, and the settings and headers that go with it."""

from __future__ import annotations

from typing import Any

from auth.principal import Role
from auth.tokens import mint_token

TEST_SECRET = "tests-only-hs256-secret-0123456789abcdef"


def bearer(role: Role = Role.ADMIN, subject: str = "admin-001", **claims: Any) -> dict[str, str]:
    """The Authorization header of a caller with this role, signed with TEST_SECRET."""
    token = mint_token(TEST_SECRET, role=role, subject=subject, **claims)
    return {"Authorization": f"Bearer {token}"}


def with_auth_if_production(settings: dict[str, Any]) -> dict[str, str]:
    """Production refuses to start without a token source: give it TEST_SECRET, and return
    the admin header its clients send (none for development, which needs none)."""
    if settings.get("environment") != "production" or "auth_jwt_secret" in settings:
        return {}
    settings["auth_jwt_secret"] = TEST_SECRET
    return bearer()
