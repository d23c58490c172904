"""Verified tokens are remembered briefly (auth/tokens.py `RecentTokens`): a client's later
requests skip the signature check, but never past the token's `exp` plus leeway, never for a
token that did not verify, and never more than the capacity."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import jwt
import pytest

from auth.principal import Principal, Role
from auth.tokens import ClaimRules, InvalidToken, RecentTokens, SharedSecret, TokenVerifier
from tests.auth.keys import SECRET


class CountingSecret(SharedSecret):
    """The shared secret, counting how often a key was asked for (once per signature check)."""

    asked: int = 0

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        object.__setattr__(self, "asked", self.asked + 1)
        return await super().key_for(header)


def token(expires_in: float, subject: str = "someone") -> str:
    claims = {"sub": subject, "roles": ["coordinator"], "exp": int(time.time() + expires_in)}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def test_a_verified_token_is_not_checked_again() -> None:
    source = CountingSecret(SECRET)
    verifier = TokenVerifier([source], ClaimRules())
    good = token(600)
    first = await verifier.verify(good)
    assert await verifier.verify(good) == first
    assert first.role is Role.COORDINATOR
    assert source.asked == 1


async def test_a_bad_token_is_checked_every_time() -> None:
    source = CountingSecret(SECRET)
    verifier = TokenVerifier([source], ClaimRules())
    forged = jwt.encode({"sub": "x", "exp": int(time.time()) + 600}, "another-secret-" * 3)
    for _ in range(2):
        with pytest.raises(InvalidToken, match="signature"):
            await verifier.verify(forged)
    assert source.asked == 2


async def test_a_remembered_token_still_expires() -> None:
    verifier = TokenVerifier([SharedSecret(SECRET)], ClaimRules(leeway_seconds=0))
    short = token(1.5)
    await verifier.verify(short)
    expires = jwt.decode(short, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(short)


class RotatingSource(SharedSecret):
    """A source whose keys change when told (as a JWKS refetch replaces the key set)."""

    keys: object = None

    def generation(self) -> object | None:
        return self.keys


PRINCIPAL = Principal(subject="s", role=Role.ADMIN)


def test_the_oldest_token_is_forgotten_first() -> None:
    recent, source = RecentTokens(capacity=2), SharedSecret(SECRET)
    for name in ("a", "b", "c"):
        recent.remember(name, PRINCIPAL, until=100.0, source=source)
    assert recent.get("a", now=0.0) is None
    assert recent.get("b", now=0.0) == recent.get("c", now=0.0) == PRINCIPAL


def test_nothing_is_remembered_past_its_deadline() -> None:
    recent = RecentTokens()
    recent.remember("t", PRINCIPAL, until=10.0, source=SharedSecret(SECRET))
    assert recent.get("t", now=9.9) == PRINCIPAL
    assert recent.get("t", now=10.0) is None


def test_nothing_is_remembered_once_the_keys_change_or_are_due_for_a_refresh() -> None:
    recent, source = RecentTokens(), RotatingSource(SECRET)
    object.__setattr__(source, "keys", object())
    recent.remember("t", PRINCIPAL, until=10.0, source=source)
    assert recent.get("t", now=0.0) == PRINCIPAL
    object.__setattr__(source, "keys", object())  # a refetch replaced the key set
    assert recent.get("t", now=0.0) is None
    recent.remember("t", PRINCIPAL, until=10.0, source=source)
    object.__setattr__(source, "keys", None)  # stale: the source will fetch before trusting it
    assert recent.get("t", now=0.0) is None
    recent.remember("t", PRINCIPAL, until=10.0, source=source)
    assert recent.get("t", now=0.0) is None  # nothing to trust it by: not remembered
