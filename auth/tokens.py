"""Verifying and minting bearer tokens (PyJWT): which keys, which algorithms, which claims.

Each key source names the algorithms it verifies, so a token is checked only with a key of its
own kind: `alg: none`, or an HS256 token offered where only the provider's RS256 keys are
configured (the classic confusion of a public key used as an HMAC secret), is refused before any
key is looked at.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import jwt

from auth.principal import Principal, Role, principal_from_claims

HS256 = "HS256"
# A token is a few hundred bytes; a megabyte of base64 only costs decoding time.
MAX_TOKEN_BYTES = 8 * 1024
DEFAULT_LEEWAY_SECONDS = 30.0
MAX_SUBJECT_LENGTH = 255
# Verified tokens are remembered this long (never past their `exp` plus leeway, never once their
# key source's keys change or are due for a refresh), so a client's every request does not pay
# for the signature again (~45 µs HS256, ~100 µs RS256).
REMEMBER_SECONDS = 60.0
REMEMBERED_TOKENS = 10_000  # the oldest is forgotten first; only valid tokens get in


class InvalidToken(Exception):
    """A token this service does not accept; the message says why and is safe to show."""


class KeySource(Protocol):
    """Where verification keys come from: a shared secret, or the provider's JWKS."""

    @property
    def algorithms(self) -> frozenset[str]: ...

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        """The key that verifies a token with this (unverified) header; raises InvalidToken."""
        ...

    def generation(self) -> object | None:
        """What identifies the keys in use now (None: they must be fetched again): a remembered
        token is trusted only while its source's generation stays the same object."""
        ...


@dataclass(frozen=True)
class SharedSecret:
    """AUTH_JWT_SECRET: one HS256 key, for small deployments, development and tests."""

    secret: str
    algorithms: frozenset[str] = frozenset({HS256})

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        return self.secret.encode()

    def generation(self) -> object | None:
        return self.secret  # one key for the life of the process


@dataclass(frozen=True, kw_only=True)
class ClaimRules:
    """What a verified token must also say (each check only when set)."""

    issuer: str | None = None
    audience: str | None = None
    roles_claim: str = "roles"
    leeway_seconds: float = DEFAULT_LEEWAY_SECONDS


_REASONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired"),
    (jwt.ImmatureSignatureError, "The token is not valid yet"),
    (jwt.InvalidIssuerError, "The token's issuer is not accepted"),
    (jwt.InvalidAudienceError, "The token's audience is not accepted"),
    (jwt.InvalidSignatureError, "The token's signature does not verify"),
)


@dataclass(frozen=True)
class _Remembered:
    principal: Principal
    until: float  # monotonic seconds
    source: KeySource
    generation: object  # the source's keys that verified it


class RecentTokens:
    """Principals of tokens verified lately, each until a deadline and while the keys that
    verified it are still the source's."""

    def __init__(self, capacity: int = REMEMBERED_TOKENS) -> None:
        self.capacity = capacity
        self._entries: dict[str, _Remembered] = {}

    def get(self, token: str, now: float) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.until <= now or entry.source.generation() is not entry.generation:
            del self._entries[token]
            return None
        return entry.principal

    def remember(self, token: str, principal: Principal, until: float, source: KeySource) -> None:
        generation = source.generation()
        if generation is None:
            return
        if len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]  # dicts keep insertion order
        self._entries[token] = _Remembered(principal, until, source, generation)


class TokenVerifier:
    """Verifies a compact JWT against the configured key sources and claim rules."""

    def __init__(self, sources: list[KeySource], rules: ClaimRules) -> None:
        if not sources:
            raise ValueError("a verifier needs at least one key source")
        self.sources = sources
        self.rules = rules
        self._recent = RecentTokens()

    def _source_for(self, algorithm: object) -> KeySource:
        for source in self.sources:
            if algorithm in source.algorithms:
                return source
        accepted = ", ".join(sorted(set().union(*(s.algorithms for s in self.sources))))
        raise InvalidToken(f"The token's algorithm {algorithm!r} is not accepted (use {accepted})")

    async def verify(self, token: str) -> Principal:
        """The token's principal: remembered if it verified lately, else `check`ed."""
        now = time.monotonic()
        principal = self._recent.get(token, now)
        if principal is not None:
            return principal
        principal, source = await self._check(token)
        until = now + REMEMBER_SECONDS
        if principal.expires_at is not None:
            # `exp` is wall-clock: what is left of it (and the leeway), on the monotonic clock.
            left = principal.expires_at + self.rules.leeway_seconds - time.time()
            until = min(until, now + left)
        self._recent.remember(token, principal, until, source)
        return principal

    async def check(self, token: str) -> Principal:
        """Verify the signature and claims now, remembering nothing (raises InvalidToken)."""
        return (await self._check(token))[0]

    async def _check(self, token: str) -> tuple[Principal, KeySource]:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(f"The token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("The token is not a JWT") from None
        algorithm = header.get("alg")
        source = self._source_for(algorithm)
        key = await source.key_for(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                issuer=self.rules.issuer,
                audience=self.rules.audience,
                leeway=self.rules.leeway_seconds,
                options={
                    "require": ["exp", "sub"],
                    # An `aud` is only checked when AUTH_AUDIENCE says what it must be.
                    "verify_aud": self.rules.audience is not None,
                },
            )
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"The token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError as error:  # InvalidKeyError too: a key that cannot verify it
            reason = next((text for kind, text in _REASONS if isinstance(error, kind)), None)
            raise InvalidToken(reason or "The token is not valid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            # OpenID Connect caps `sub` at 255 ASCII characters; the audit trail stores it.
            raise InvalidToken(f"The token's sub must be a string of 1 to {MAX_SUBJECT_LENGTH}")
        return principal_from_claims(claims, roles_claim=self.rules.roles_claim), source


def mint_token(
    secret: str,
    *,
    role: Role,
    subject: str,
    mentor_id: str | None = None,
    expires_in: timedelta = timedelta(hours=1),
    issuer: str | None = None,
    audience: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 token as the identity provider would issue it (`mentor-gateway token`)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [role.value],
        "iat": issued,
        "exp": issued + int(expires_in.total_seconds()),
    }
    if mentor_id is not None:
        claims["mentor_id"] = mentor_id
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=HS256)
