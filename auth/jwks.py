"""The identity provider's signing keys (AUTH_JWKS_URL): fetched, cached by `kid`, refetched.

Providers rotate keys by publishing the new key in their JWKS (RFC 7517 key set) some time
before they sign with it, and dropping the old one once its tokens have expired. So the set is
fetched on first use (start-up does not need the provider up) and again when:

- a token names a `kid` the cached set lacks: the new key has been published. At most once per
  `refetch_interval`, so a flood of tokens with made-up kids costs the provider one request per
  interval, and requests that arrive during a fetch wait for it rather than start their own;
- the set is older than `max_age`: a key the provider withdrew (say, leaked) stops verifying
  even if no token with a new kid comes along.

A failed fetch keeps the keys already held, so a provider outage refuses only tokens whose key
this service has not seen; it is logged once per run of failures (logger mentor_gateway.auth).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Mapping
from pathlib import Path
from time import monotonic
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx
import jwt

from auth.tokens import InvalidToken

logger = logging.getLogger("mentor_gateway.auth")

ALGORITHMS = frozenset({"RS256", "ES256"})
# A provider's set holds a handful of keys (a few KB); anything near this is not a key set.
MAX_JWKS_BYTES = 1024 * 1024
DEFAULT_MAX_AGE_SECONDS = 15 * 60.0
COULD_NOT_FETCH = "The identity provider's keys could not be fetched; try again later"


class _FetchFailed(Exception):
    """Why the key set could not be used this time (logged, never shown to callers)."""


def _usable_key(entry: object) -> jwt.PyJWK | None:
    """The verification key a JWKS member describes, or None for one this service cannot use:
    another key type, curve or algorithm, an encryption key, a private key, or a malformed one."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
        return None
    operations = entry.get("key_ops")
    if isinstance(operations, list) and "verify" not in operations:
        return None
    try:
        key = jwt.PyJWK(entry)  # without `alg`, RSA means RS256 and EC P-256 means ES256
    except (jwt.PyJWTError, AttributeError, KeyError, TypeError, ValueError):
        return None
    if key.algorithm_name not in ALGORITHMS:
        return None
    if key.algorithm_name == "ES256" and entry.get("crv") != "P-256":
        # PyJWK builds a P-384 key labelled ES256, which would raise (not refuse) on use.
        return None
    return key


class KeySet:
    """The usable keys of one JWKS document, found by kid."""

    def __init__(self, keys: list[jwt.PyJWK]) -> None:
        self.keys = keys
        self.by_kid: dict[str, jwt.PyJWK] = {}
        for key in keys:
            if isinstance(key.key_id, str):
                self.by_kid.setdefault(key.key_id, key)

    @classmethod
    def parse(cls, document: bytes) -> KeySet:
        """Raises _FetchFailed for a document that is not a key set or has no usable key."""
        try:
            parsed = json.loads(document)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json goes
            raise _FetchFailed("the document is not JSON") from None
        members = parsed.get("keys") if isinstance(parsed, dict) else None
        if not isinstance(members, list):
            raise _FetchFailed('the document has no "keys" list')
        keys = [key for key in map(_usable_key, members) if key is not None]
        if not keys:
            raise _FetchFailed(f"none of its {len(members)} keys is an RS256 or ES256 signing key")
        return cls(keys)

    def find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self.by_kid.get(kid)
        # Which key would be a guess, unless there is only one.
        if len(self.keys) != 1:
            raise InvalidToken("The token names no key (kid) and the provider has several")
        return self.keys[0]


def _file_path(url: str) -> Path | None:
    """The local path of a file:// URL; None for http(s)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"{url!r}: a file:// JWKS URL must name a local file (file:///path)")
    return Path(url2pathname(unquote(parts.path)))


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(MAX_JWKS_BYTES + 1)


class JwksKeys:
    """A KeySource (auth/tokens.py) over the provider's JWKS at `url` (https://, http://,
    file://). Verifies RS256 and ES256; each fetch takes at most `timeout` seconds."""

    algorithms = ALGORITHMS

    def __init__(
        self,
        url: str,
        *,
        refetch_interval: float,
        timeout: float = 5.0,
        max_age: float = DEFAULT_MAX_AGE_SECONDS,
    ) -> None:
        self.url = url
        self.refetch_interval = refetch_interval
        self.timeout = timeout
        self.max_age = max_age
        self._path = _file_path(url)
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._tried_at: float | None = None
        self._fetch: asyncio.Task[None] | None = None
        self._tls: ssl.SSLContext | None = None
        self._failing_since: float | None = None  # when the current run of failures began

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("The token's kid must be a string")
        if self._keys is None or monotonic() - self._fetched_at >= self.max_age:
            await self._refetch()
        key = self._find(kid)
        if key is None:
            await self._refetch()
            key = self._find(kid)
        if key is None:
            if self._failing_since is not None:
                raise InvalidToken(COULD_NOT_FETCH)
            raise InvalidToken(f"The token's key (kid {kid!r}) is not one of the provider's")
        algorithm = header.get("alg")
        if algorithm != key.algorithm_name:
            # PyJWT refuses this too; saying so here gives the caller the reason.
            raise InvalidToken(
                f"The token's algorithm {algorithm!r} is not its key's ({key.algorithm_name})"
            )
        return key

    def generation(self) -> object | None:
        """The key set in use, or None once it is due for a refresh: tokens it verified are
        remembered only while it stays in use (auth/tokens.py `RecentTokens`)."""
        if self._keys is None or monotonic() - self._fetched_at >= self.max_age:
            return None
        return self._keys

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if self._keys is None:
            raise InvalidToken(COULD_NOT_FETCH)
        return self._keys.find(kid)

    async def _refetch(self) -> None:
        """Fetch the set unless a fetch was tried less than refetch_interval ago; join the fetch
        under way if there is one. The fetch is a task of its own, shielded, so a request that
        is abandoned while waiting does not abandon it for everyone else."""
        if self._fetch is None:
            now = monotonic()
            if self._tried_at is not None and now - self._tried_at < self.refetch_interval:
                return
            self._tried_at = now
            self._fetch = asyncio.ensure_future(self._fetch_once())
        await asyncio.shield(self._fetch)

    async def _fetch_once(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                document = await self._download()
            keys = KeySet.parse(document)
        except (_FetchFailed, OSError, TimeoutError, httpx.HTTPError) as error:
            reason = str(error) or type(error).__name__
            if self._failing_since is None:
                self._failing_since = monotonic()
                logger.warning(
                    "identity provider keys not fetched from %s: %s; tokens signed with a key "
                    "not already held are refused, next try in %g s at the earliest",
                    self.url,
                    reason,
                    self.refetch_interval,
                )
        else:
            if self._failing_since is not None:
                lasted = monotonic() - self._failing_since
                logger.info("identity provider keys fetched again, after %.0f s", lasted)
            self._keys, self._fetched_at, self._failing_since = keys, monotonic(), None
        finally:
            self._fetch = None

    async def _download(self) -> bytes:
        if self._path is not None:
            body = await asyncio.to_thread(_read_capped, self._path)
        else:
            body = await self._get()
        if len(body) > MAX_JWKS_BYTES:
            raise _FetchFailed(f"the document is larger than {MAX_JWKS_BYTES} bytes")
        return body

    async def _get(self) -> bytes:
        if self._tls is None:
            # Loading the CA bundle takes ~50 ms of CPU: once, and off the event loop.
            self._tls = await asyncio.to_thread(httpx.create_ssl_context)
        async with (
            httpx.AsyncClient(timeout=self.timeout, verify=self._tls) as client,
            client.stream("GET", self.url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise _FetchFailed(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    break  # _download says why
            return bytes(body)
