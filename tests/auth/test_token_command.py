"""`mentor-gateway token`: what it prints is a token the service accepts, as the role asked for."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from api import cli
from auth.principal import Role
from auth.tokens import ClaimRules, SharedSecret, TokenVerifier
from tests.tokens import TEST_SECRET

ENV = {"AUTH_JWT_SECRET": TEST_SECRET, "AUTH_ISSUER": "https://idp.example", "AUTH_AUDIENCE": "gw"}


def _mint(*args: str, env: dict[str, str] = ENV) -> tuple[int, str]:
    result = CliRunner().invoke(cli.cli, ["token", *args], env=env)
    return result.exit_code, result.output.strip()


async def test_the_printed_token_verifies_as_the_caller_asked_for() -> None:
    code, token = _mint(
        "--role", "mentor", "--sub", "user-17", "--mentor-id", "mentor-042", "--expires", "15m"
    )
    assert code == 0, token
    verifier = TokenVerifier(
        [SharedSecret(TEST_SECRET)], ClaimRules(issuer="https://idp.example", audience="gw")
    )
    principal = await verifier.verify(token)
    assert (principal.subject, principal.role, principal.mentor_id) == (
        "user-17",
        Role.MENTOR,
        "mentor-042",
    )
    assert principal.expires_at is not None
    assert 14 * 60 <= principal.expires_at - time.time() <= 15 * 60


def test_without_a_secret_it_says_what_to_set() -> None:
    code, output = _mint("--role", "admin", "--sub", "a", env={"AUTH_JWT_SECRET": ""})
    assert code == 2
    assert "AUTH_JWT_SECRET" in output


@pytest.mark.parametrize("expires", ["0s", "31d", "1 hour", "-5m", "1h30m"])
def test_a_lifetime_it_cannot_read_or_too_long_is_refused(expires: str) -> None:
    code, output = _mint("--role", "admin", "--sub", "a", "--expires", expires)
    assert code == 2
    assert "duration" in output


def test_an_unknown_role_is_refused() -> None:
    code, output = _mint("--role", "superuser", "--sub", "a")
    assert code == 2
    assert "superuser" in output
