"""Bearer tokens at the HTTP edge: every bad token is a 401 with `error="invalid_token"` on REST
and GraphQL alike, no token is a plain `Bearer` challenge, and claims become the principal
(roles claim, mentor id). One app (HS256 secret, issuer and audience set) serves the module."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from typer.testing import CliRunner

from api.app import create_app
from api.authentication import AuthNotConfigured
from api.settings import Settings
from auth.principal import Principal, Role, principal_from_claims
from auth.tokens import MAX_SUBJECT_LENGTH, ClaimRules, SharedSecret, TokenVerifier
from tests.auth.keys import (
    SECRET,
    app_client,
    bearer,
    claims,
    hs256_token,
    rsa_key,
)

ISSUER = "https://id.example.org/realms/mentoring"
AUDIENCE = "mentor-gateway"
REST = "/api/v1/mentor-statuses"
GRAPHQL = "/graphql"
PATHS = [REST, GRAPHQL]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(module_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=module_database_url,
        auth_jwt_secret=SECRET,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
    )
    async with app_client(settings) as client:
        yield client


async def call(client: httpx.AsyncClient, path: str, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    if path == GRAPHQL:
        return await client.post(path, json={"query": "{ __typename }"}, headers=headers)
    return await client.get(path, headers=headers)


def good(**overrides: Any) -> str:
    """An HS256 token this app accepts (right secret, issuer and audience), with overrides."""
    return hs256_token(**{"iss": ISSUER, "aud": AUDIENCE, **overrides})


def unsigned(algorithm: str) -> str:
    """A token whose header says `algorithm` and which carries no signature at all."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    body = claims(iss=ISSUER, aud=AUDIENCE, roles=["admin"])
    return f"{part({'alg': algorithm, 'typ': 'JWT'})}.{part(body)}."


def tampered() -> str:
    """A mentor's good token with an admin's claims pasted in over the signed ones."""
    header, _, signature = good(roles=["mentor"]).split(".")
    forged = base64.urlsafe_b64encode(
        json.dumps(claims(iss=ISSUER, aud=AUDIENCE, roles=["admin"])).encode()
    )
    return f"{header}.{forged.rstrip(b'=').decode()}.{signature}"


# Each bad Authorization value, and what the challenge's error_description says about it.
BAD: dict[str, tuple[Callable[[], str], str]] = {
    "alg none": (lambda: f"Bearer {unsigned('none')}", "algorithm 'none' is not accepted"),
    "alg None": (lambda: f"Bearer {unsigned('None')}", "algorithm 'None' is not accepted"),
    "RS256 with only a secret configured": (
        lambda: f"Bearer {rsa_key().token(iss=ISSUER, aud=AUDIENCE)}",
        "algorithm 'RS256' is not accepted (use HS256)",
    ),
    "another secret": (
        lambda: f"Bearer {good(secret='another-secret-of-at-least-thirty-two-chars')}",
        "signature does not verify",
    ),
    "claims edited after signing": (lambda: f"Bearer {tampered()}", "signature does not verify"),
    "expired beyond the leeway": (
        lambda: f"Bearer {good(exp=int(time.time()) - 60)}",
        "has expired",
    ),
    "nbf beyond the leeway": (
        lambda: f"Bearer {good(nbf=int(time.time()) + 120)}",
        "not valid yet",
    ),
    "wrong issuer": (
        lambda: f"Bearer {good(iss='https://evil.example.org')}",
        "issuer is not accepted",
    ),
    "wrong audience": (lambda: f"Bearer {good(aud='another-service')}", "audience"),
    "no issuer": (lambda: f"Bearer {good(iss=None)}", "The token lacks"),
    "no audience": (lambda: f"Bearer {good(aud=None)}", "The token lacks"),
    "no sub": (lambda: f"Bearer {good(sub=None)}", "The token lacks"),
    "empty sub": (lambda: f"Bearer {good(sub='')}", "sub must be a string of 1 to"),
    "sub too long": (
        lambda: f"Bearer {good(sub='s' * (MAX_SUBJECT_LENGTH + 1))}",
        "sub must be a string of 1 to",
    ),
    "no exp": (lambda: f"Bearer {good(exp=None)}", "The token lacks"),
    "not a JWT": (lambda: "Bearer not-a-token", "not a JWT"),
    "three dots of nothing": (lambda: "Bearer a.b.c", "not a JWT"),
    "Basic scheme": (lambda: "Basic dXNlcjpwYXNzd29yZA==", "Authorization: Bearer"),
    "Bearer without a token": (lambda: "Bearer ", "Authorization: Bearer"),
    "oversized, though signed": (
        lambda: f"Bearer {good(padding='x' * 9000)}",
        "longer than 8192 bytes",
    ),
}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(BAD))
async def test_a_bad_token_is_refused_401_invalid_token(
    client: httpx.AsyncClient, case: str, path: str
) -> None:
    authorization, reason = BAD[case]
    response = await call(client, path, authorization())
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="'), challenge
    assert reason in challenge
    if path == GRAPHQL:
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert reason in error["message"]
    else:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert (problem["status"], problem["code"]) == (401, "UNAUTHENTICATED")
        assert reason in problem["detail"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", PATHS)
async def test_no_token_is_a_plain_bearer_challenge(client: httpx.AsyncClient, path: str) -> None:
    response = await call(client, path, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    code = body["errors"][0]["extensions"]["code"] if path == GRAPHQL else body["code"]
    assert code == "UNAUTHENTICATED"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_need_no_token(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 200


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "overrides",
    [{}, {"exp": -10}, {"nbf": 10}],
    ids=["fresh", "expired within the leeway", "nbf within the leeway"],
)
async def test_a_good_token_is_accepted(
    client: httpx.AsyncClient, path: str, overrides: dict[str, int]
) -> None:
    now = int(time.time())
    token = good(**{claim: now + offset for claim, offset in overrides.items()})
    response = await call(client, path, f"Bearer {token}")
    assert response.status_code == 200, response.text
    if path == GRAPHQL:
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.asyncio(loop_scope="module")
async def test_the_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.get(REST, headers={"Authorization": f"bearer {good()}"})
    assert response.status_code == 200, response.text


@pytest.mark.asyncio(loop_scope="module")
async def test_an_audience_list_naming_this_service_is_accepted(client: httpx.AsyncClient) -> None:
    token = good(aud=["account", AUDIENCE])  # Keycloak and Auth0 send lists
    assert (await client.get(REST, headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    ("claim_values", "roles_claim", "role"),
    [
        (
            {"realm_access": {"roles": ["offline_access", "coordinator"]}, "roles": ["admin"]},
            "realm_access.roles",
            Role.COORDINATOR,
        ),
        ({"roles": ["admin"]}, "realm_access.roles", None),
        ({"roles": ["uma_authorization", "superuser"]}, "roles", None),
        ({"roles": ["mentor", "editor"]}, "roles", Role.MENTOR),
        ({"roles": ["mentor", "admin", "coordinator"]}, "roles", Role.ADMIN),
        ({"roles": "admin"}, "roles", None),
        ({}, "roles", None),
    ],
    ids=[
        "keycloak realm roles",
        "dotted path missing",
        "unknown names ignored",
        "known among unknown",
        "highest wins",
        "a string is not a list",
        "no roles claim",
    ],
)
def test_roles_come_from_the_roles_claim(
    claim_values: dict[str, Any], roles_claim: str, role: Role | None
) -> None:
    principal = principal_from_claims({"sub": "u-1", **claim_values}, roles_claim=roles_claim)
    assert principal.role is role


@pytest.mark.parametrize(
    ("claim_values", "mentor_id"),
    [
        ({"sub": "idp-user-9", "mentor_id": "mentor-042"}, "mentor-042"),
        ({"sub": "mentor-042"}, "mentor-042"),
        ({"sub": "idp-user-9", "mentor_id": ""}, None),
    ],
    ids=["mentor_id wins over sub", "sub otherwise", "an empty mentor_id is none"],
)
def test_the_mentor_id_comes_from_mentor_id_else_sub(
    claim_values: dict[str, Any], mentor_id: str | None
) -> None:
    principal = principal_from_claims({**claim_values, "roles": ["mentor"]}, roles_claim="roles")
    assert principal.mentor_id == mentor_id
    assert principal.subject == claim_values["sub"]


async def test_a_keycloak_token_verifies_to_its_principal() -> None:
    verifier = TokenVerifier([SharedSecret(SECRET)], ClaimRules(roles_claim="realm_access.roles"))
    expires = int(time.time()) + 600
    token = jwt.encode(
        {
            "sub": "f3c1e2d4",
            "mentor_id": "mentor-042",
            "exp": expires,
            "realm_access": {"roles": ["default-roles-mentoring", "mentor"]},
        },
        SECRET,
        algorithm="HS256",
    )
    assert await verifier.verify(token) == Principal(
        subject="f3c1e2d4", role=Role.MENTOR, mentor_id="mentor-042", expires_at=expires
    )


def test_production_without_auth_settings_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(AuthNotConfigured, match=r"AUTH_JWKS_URL .* AUTH_JWT_SECRET "):
        create_app(Settings(database_url=url, environment="production"))


def test_serve_in_production_without_auth_settings_exits_nonzero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import cli

    def serving(*_: object, **__: object) -> None:
        raise AssertionError("the server started without authentication")

    monkeypatch.setattr("api.cli.uvicorn.run", serving)
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(
        cli.cli, ["serve", "--database-url", url], env={"ENVIRONMENT": "production"}
    )
    assert result.exit_code == 2
    assert "ENVIRONMENT=production needs AUTH_JWKS_URL" in result.output
    assert not (tmp_path / "serve.db").exists()  # refused before migrating anything
