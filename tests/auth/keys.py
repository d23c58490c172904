"""Test helpers for bearer tokens: signing keys (RSA, EC) as an identity provider holds them,
their JWKS documents, tokens they sign, and an app on a database migrated once per module."""

from __future__ import annotations

import functools
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from api.app import create_app
from api.settings import Settings

SECRET = "test-secret-of-at-least-thirty-two-characters"
RSA_POOL = 8
_rsa_turns = itertools.count()


@dataclass(frozen=True)
class SigningKey:
    """A provider's private key: signs tokens; `jwk()` is the public half it publishes."""

    algorithm: str  # RS256 or ES256
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def jwk(self, **members: Any) -> dict[str, Any]:
        """The public JWK, with `kid`, `alg` and `use`; `members` override or add (None drops)."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            document = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            document = ECAlgorithm.to_jwk(public, as_dict=True)
        document |= {"kid": self.kid, "alg": self.algorithm, "use": "sig"} | members
        return {name: value for name, value in document.items() if value is not None}

    def private_jwk(self) -> dict[str, Any]:
        """The private key as a JWK, as a careless provider might publish it (no key_ops)."""
        if isinstance(self.private, rsa.RSAPrivateKey):
            document = RSAAlgorithm.to_jwk(self.private, as_dict=True)
        else:
            document = ECAlgorithm.to_jwk(self.private, as_dict=True)
        document.pop("key_ops", None)
        return document | {"kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def token(self, *, headers: dict[str, Any] | None = None, **claim_overrides: Any) -> str:
        """A token signed with this key, its header naming this kid (and `headers` on top)."""
        return jwt.encode(
            claims(**claim_overrides),
            self.private,
            algorithm=self.algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )


@functools.cache
def _rsa_private(slot: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_key(kid: str | None = None) -> SigningKey:
    """An RS256 key. Generating one takes ~50 ms, so the private keys come from a pool that any
    RSA_POOL consecutive calls draw distinct keys from; the kid is new each time."""
    private = _rsa_private(next(_rsa_turns) % RSA_POOL)
    return SigningKey("RS256", private, kid) if kid else SigningKey("RS256", private)


def ec_key(kid: str | None = None) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    return SigningKey("ES256", private, kid) if kid else SigningKey("ES256", private)


def p384_key() -> SigningKey:
    """An EC P-384 key that claims to be an ES256 key (ES256 means P-256)."""
    return SigningKey("ES256", ec.generate_private_key(ec.SECP384R1()))


def claims(**overrides: Any) -> dict[str, Any]:
    """A coordinator's claims, valid for an hour; an override of None drops that claim."""
    now = int(time.time())
    values = {"sub": "coordinator-007", "roles": ["coordinator"], "iat": now, "exp": now + 3600}
    values |= overrides
    return {name: value for name, value in values.items() if value is not None}


def hs256_token(secret: str = SECRET, **claim_overrides: Any) -> str:
    return jwt.encode(claims(**claim_overrides), secret, algorithm="HS256")


def key_set(*keys: SigningKey, extra: list[Any] | None = None) -> dict[str, Any]:
    """The JWKS document publishing `keys`, then the `extra` members as given."""
    return {"keys": [key.jwk() for key in keys] + (extra or [])}


def write_key_set(path: Path, document: dict[str, Any]) -> None:
    """Replace the file at once (as a provider's deploy would), never half-written."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document))
    partial.replace(path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on `create_app(settings)`, in process."""
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await app.state.database.dispose()
