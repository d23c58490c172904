"""AUTH_JWKS_URL end to end: a local provider publishes its key set as a file (file://) and over
HTTP (a server on loopback that counts its requests), and tokens signed with its keys go
through the app. Rotation, the refetch rate limit, outages and odd key sets.

The refetch interval and the cache's age run on a fake clock (auth.jwks reads `monotonic`), so
"within the interval" does not depend on how fast the machine is. Each test starts by
publishing its own key set and moving the clock past the cache's age, so tests do not see each
other's keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from api.authentication import Authenticator
from api.settings import Settings
from auth.jwks import COULD_NOT_FETCH, DEFAULT_MAX_AGE_SECONDS, MAX_JWKS_BYTES
from auth.principal import Role
from auth.tokens import InvalidToken
from tests.auth.keys import (
    SigningKey,
    app_client,
    bearer,
    claims,
    ec_key,
    hs256_token,
    key_set,
    p384_key,
    rsa_key,
    write_key_set,
)
from tests.live import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")

INTERVAL = 30.0  # AUTH_JWKS_REFETCH_SECONDS
REST = "/api/v1/mentor-statuses"
NOT_THE_PROVIDERS = "is not one of the provider's"


class Clock:
    """Stands in for time.monotonic in auth.jwks; only moves when told to."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = INTERVAL) -> None:
        self.now += seconds


class JwksServer:
    """A provider's JWKS endpoint on loopback, in a thread; `requests` counts the fetches."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.requests = 0
        self.port = 0
        self._count = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/mentoring/certs"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._count:
                    owner.requests += 1
                body, status = owner.body, owner.status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        # Same port after a stop: the provider comes back where the settings point.
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        serve = self._server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class Provider:
    """The identity provider as the app sees it: a JWKS at `url`, file:// or http://."""

    def __init__(self, kind: str, client: httpx.AsyncClient, url: str, clock: Clock) -> None:
        self.kind, self.client, self.url, self.clock = kind, client, url, clock

    def publish_raw(self, body: bytes) -> None:
        raise NotImplementedError

    def publish(self, *keys: SigningKey, extra: list[Any] | None = None) -> None:
        self.publish_raw(json.dumps(key_set(*keys, extra=extra)).encode())

    def fail(self) -> None:
        """The key set cannot be had (HTTP 503, or the file is gone)."""
        raise NotImplementedError

    def start_with(self, *keys: SigningKey, extra: list[Any] | None = None) -> None:
        """Publish `keys` and age the app's cache, so its next token fetches them."""
        self.publish(*keys, extra=extra)
        self.clock.advance(DEFAULT_MAX_AGE_SECONDS)

    async def status(self, token: str, path: str = REST) -> httpx.Response:
        if path == "/graphql":
            body = {"query": "{ __typename }"}
            return await self.client.post(path, json=body, headers=bearer(token))
        return await self.client.get(path, headers=bearer(token))

    async def accepts(self, key: SigningKey) -> bool:
        response = await self.status(key.token())
        assert response.status_code in (200, 401), response.text
        return response.status_code == 200

    async def refusal(self, token: str) -> str:
        """Why the app refuses `token` (the 401 problem's detail)."""
        response = await self.status(token)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
        detail: str = response.json()["detail"]
        return detail


class FileProvider(Provider):
    def publish_raw(self, body: bytes) -> None:
        path = Path(self.url.removeprefix("file://"))
        partial = path.with_suffix(".partial")
        partial.write_bytes(body)
        partial.replace(path)

    def fail(self) -> None:
        Path(self.url.removeprefix("file://")).unlink()


class HttpProvider(Provider):
    def __init__(self, server: JwksServer, *args: Any) -> None:
        super().__init__(*args)
        self.server = server

    def publish_raw(self, body: bytes) -> None:
        self.server.body, self.server.status = body, 200

    def fail(self) -> None:
        self.server.status = 503


@pytest.fixture(scope="module")
def clock() -> Iterator[Clock]:
    fake = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("auth.jwks.monotonic", fake)
        yield fake


@pytest.fixture(scope="module")
def server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.start()
    yield server
    server.stop()


def _settings(database_url: str, jwks_url: str) -> Settings:
    return Settings(
        database_url=database_url, auth_jwks_url=jwks_url, auth_jwks_refetch_seconds=INTERVAL
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http_provider(
    server: JwksServer, module_database_url: str, clock: Clock
) -> AsyncIterator[HttpProvider]:
    async with app_client(_settings(module_database_url, server.url)) as client:
        yield HttpProvider(server, "http", client, server.url, clock)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def file_provider(
    module_database_url: str, clock: Clock, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FileProvider]:
    path = tmp_path_factory.mktemp("provider") / "jwks.json"
    write_key_set(path, {"keys": []})
    url = path.as_uri()
    async with app_client(_settings(module_database_url, url)) as client:
        yield FileProvider("file", client, url, clock)


@pytest.fixture(params=["file", "http"])
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each test that takes this runs against both kinds of JWKS URL."""
    chosen: Provider = request.getfixturevalue(f"{request.param}_provider")
    return chosen


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
@pytest.mark.parametrize("path", [REST, "/graphql"])
async def test_provider_tokens_verify(provider: Provider, algorithm: str, path: str) -> None:
    rsa, ec = rsa_key(), ec_key()
    provider.start_with(rsa, ec)
    key = rsa if algorithm == "RS256" else ec
    response = await provider.status(key.token(), path)
    assert response.status_code == 200, response.text


async def test_an_hs256_token_is_refused_when_only_a_jwks_is_configured(
    http_provider: HttpProvider,
) -> None:
    http_provider.start_with(rsa_key())
    detail = await http_provider.refusal(hs256_token())
    assert "algorithm 'HS256' is not accepted (use ES256, RS256)" in detail


async def test_a_rotated_key_is_picked_up_and_the_old_one_dropped(provider: Provider) -> None:
    old, new = rsa_key(), rsa_key()
    provider.start_with(old)
    assert await provider.accepts(old)

    provider.publish(new)
    # Just fetched: a token naming a kid the set lacks does not fetch again yet.
    assert NOT_THE_PROVIDERS in await provider.refusal(new.token())
    provider.clock.advance()
    assert await provider.accepts(new)  # the unknown kid fetched the rotated set
    assert f"(kid '{old.kid}') {NOT_THE_PROVIDERS}" in await provider.refusal(old.token())


async def test_a_withdrawn_key_stops_verifying_once_the_cache_is_old(provider: Provider) -> None:
    withdrawn, other = ec_key(), ec_key()
    provider.start_with(withdrawn)
    assert await provider.accepts(withdrawn)
    provider.publish(other)
    provider.clock.advance()
    assert await provider.accepts(withdrawn)  # its kid is cached; no reason to fetch
    provider.clock.advance(DEFAULT_MAX_AGE_SECONDS)
    assert NOT_THE_PROVIDERS in await provider.refusal(withdrawn.token())


async def test_a_burst_of_unknown_kids_costs_one_fetch_per_interval(
    http_provider: HttpProvider, server: JwksServer
) -> None:
    good, stranger = rsa_key(), rsa_key()
    http_provider.start_with(good)
    assert await http_provider.accepts(good)
    fetched = server.requests
    forged = [stranger.token(headers={"kid": uuid.uuid4().hex}) for _ in range(40)]

    async def burst() -> None:
        answers = await asyncio.gather(*(http_provider.refusal(token) for token in forged))
        assert all(NOT_THE_PROVIDERS in detail for detail in answers), answers

    await burst()
    assert server.requests == fetched  # fetched just now: none of them may fetch
    http_provider.clock.advance()
    await burst()
    assert server.requests == fetched + 1  # 40 unknown kids at once, one fetch between them
    await burst()
    assert server.requests == fetched + 1
    assert await http_provider.accepts(good)


async def test_an_outage_keeps_the_keys_held_and_recovers(
    http_provider: HttpProvider, server: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    held, rotated = rsa_key(), ec_key()
    http_provider.start_with(held)
    assert await http_provider.accepts(held)
    caplog.set_level(logging.INFO, logger="mentor_gateway.auth")

    server.stop()  # unreachable: connections refused
    try:
        http_provider.publish(held, rotated)
        for _ in range(3):
            http_provider.clock.advance()
            assert await http_provider.refusal(rotated.token()) == COULD_NOT_FETCH
            assert await http_provider.accepts(held)  # what it already had still verifies
    finally:
        server.start()
    logged = [r for r in caplog.records if r.name == "mentor_gateway.auth"]
    warnings = [r for r in logged if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # once per run of failures, not per request
    assert server.url in warnings[0].getMessage()

    http_provider.clock.advance()
    assert await http_provider.accepts(rotated)
    recovered = [r for r in caplog.records if r.name == "mentor_gateway.auth"][-1]
    assert "fetched again" in recovered.getMessage()


async def test_start_up_does_not_need_the_provider(clock: Clock) -> None:
    """No fetch at start; a provider that is down refuses tokens until it answers."""
    key, port = rsa_key(), free_port()
    server = JwksServer()
    server.port = port
    authenticator = Authenticator.from_settings(
        _settings("sqlite+aiosqlite://", f"http://127.0.0.1:{port}/jwks.json")
    )
    with pytest.raises(InvalidToken, match="could not be fetched"):
        await authenticator.principal_for(f"Bearer {key.token()}")
    server.body = json.dumps(key_set(key)).encode()
    server.start()
    try:
        clock.advance()
        principal = await authenticator.principal_for(f"Bearer {key.token()}")
    finally:
        server.stop()
    assert principal is not None
    assert (principal.subject, principal.role) == ("coordinator-007", Role.COORDINATOR)
    assert server.requests == 1


BAD_SETS = {
    "not JSON": b"<html>Sign in</html>",
    "nested too deep": b'{"keys": ' + b"[" * 100_000,
    "not an object": b"[]",
    "keys not a list": b'{"keys": {"kty": "RSA"}}',
    "no keys": b'{"keys": []}',
    "no usable key": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}).encode(),
    "over 1 MiB": json.dumps({"keys": [], "padding": "x" * MAX_JWKS_BYTES}).encode(),
}


@pytest.mark.parametrize("case", [*BAD_SETS, "unavailable"])
async def test_a_bad_key_set_keeps_the_keys_held(provider: Provider, case: str) -> None:
    held, rotated = rsa_key(), rsa_key()
    provider.start_with(held)
    assert await provider.accepts(held)
    if case == "unavailable":
        provider.fail()
    else:
        provider.publish_raw(BAD_SETS[case])
    provider.clock.advance()
    assert await provider.refusal(rotated.token()) == COULD_NOT_FETCH
    assert await provider.accepts(held)

    provider.publish(held, rotated)  # fixed
    provider.clock.advance()
    assert await provider.accepts(rotated)


async def test_unusable_keys_beside_good_ones_are_skipped(provider: Provider) -> None:
    rsa, ec = rsa_key(), ec_key()
    skipped = {
        "encryption key": (encryption := rsa_key()).jwk(use="enc"),
        "RS512 key": (rs512 := rsa_key()).jwk(alg="RS512"),
        "RSA key labelled ES256": (mislabelled := rsa_key()).jwk(alg="ES256"),
        "P-384 key labelled ES256": (p384 := p384_key()).jwk(),
        "private key": (private := rsa_key()).private_jwk(),
        "verify not among key_ops": (encrypt_only := ec_key()).jwk(key_ops=["encrypt"]),
    }
    malformed = [
        {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "kid": "hmac"},
        {"kty": "RSA", "kid": "broken", "n": 42, "e": "AQAB"},
        {"kty": "OKP", "crv": "X25519", "x": "abc", "kid": "okp"},
        "not an object",
    ]
    # `alg` is optional in a JWK: RSA then means RS256, EC P-256 ES256.
    provider.start_with(extra=[rsa.jwk(alg=None), *skipped.values(), ec.jwk(), *malformed])
    assert await provider.accepts(rsa)
    assert await provider.accepts(ec)
    for key in (encryption, rs512, mislabelled, private, encrypt_only):
        assert NOT_THE_PROVIDERS in await provider.refusal(key.token())
    # Signed with some P-256 key: what matters is that the P-384 key is not used to check it.
    token = ec_key().token(headers={"kid": p384.kid})
    assert NOT_THE_PROVIDERS in await provider.refusal(token)


@pytest.mark.parametrize(("header_alg", "key_alg"), [("ES256", "RS256"), ("RS256", "ES256")])
async def test_a_token_must_use_its_keys_algorithm(
    http_provider: HttpProvider, header_alg: str, key_alg: str
) -> None:
    """A token naming an RSA key's kid but labelled ES256 (signed with some EC key), and the
    other way round, is refused, whatever its signature."""
    rsa, ec = rsa_key(), ec_key()
    http_provider.start_with(rsa, ec)
    named, signer = (rsa, ec) if key_alg == "RS256" else (ec, rsa)
    token = jwt.encode(claims(), signer.private, algorithm=header_alg, headers={"kid": named.kid})
    detail = await http_provider.refusal(token)
    assert f"algorithm '{header_alg}' is not its key's ({key_alg})" in detail


@pytest.mark.parametrize(
    ("published", "token_kid", "accepted"),
    [
        (["kid"], False, True),
        (["no kid"], False, True),
        (["kid", "kid"], False, False),
        (["no kid", "kid"], True, True),
    ],
    ids=["one key", "one key without kid", "two keys", "a kid beside a key without"],
)
async def test_a_token_without_kid_needs_a_single_key_set(
    http_provider: HttpProvider, published: list[str], token_kid: bool, accepted: bool
) -> None:
    keys = [rsa_key() for _ in published]
    documents = [
        key.jwk(kid=None if kind == "no kid" else key.kid)
        for key, kind in zip(keys, published, strict=True)
    ]
    http_provider.start_with(extra=documents)
    signer = keys[-1]
    headers = {"kid": signer.kid} if token_kid else None
    token = jwt.encode(claims(), signer.private, algorithm="RS256", headers=headers)
    if accepted:
        assert (await http_provider.status(token)).status_code == 200
    else:
        assert "names no key (kid)" in await http_provider.refusal(token)
