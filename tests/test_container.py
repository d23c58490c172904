"""The image and the compose file agree with the project they package (no container daemon runs
here, so nothing is built): the Dockerfile copies every package the project installs and pins a
build backend pyproject accepts; compose's settings make a production configuration that starts,
wired to its own services, with its secrets left to the environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml  # type: ignore[import-untyped]
from packaging.requirements import Requirement

from api.authentication import require_auth_in_production
from api.settings import Settings

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")  # compose: `${NAME:?message}`


def _copied() -> set[str]:
    return {
        source
        for line in DOCKERFILE.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }


def test_the_image_copies_every_package_the_project_installs() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists()
        and any(re.fullmatch(pattern.replace("*", ".*"), path.name) for pattern in patterns)
    }
    assert packages >= {"api", "auth", "domain", "graph", "models"}
    assert _copied() >= packages | {"requirements.lock", "pyproject.toml", "README.md"}


def test_the_pinned_build_backend_is_one_pyproject_accepts() -> None:
    pinned = re.findall(r"(setuptools)==([\w.]+) --hash=sha256:[0-9a-f]{64}", DOCKERFILE)
    assert len(pinned) == 1, "one hash-pinned setuptools in the Dockerfile"
    ((name, version),) = pinned
    required = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
    assert [requirement.name for requirement in required] == [name]
    assert required[0].specifier.contains(version)


def test_compose_makes_a_production_configuration_wired_to_its_services() -> None:
    services = COMPOSE["services"]
    gateway = services["gateway"]
    environment: dict[str, str] = gateway["environment"]
    # Secrets come from the environment or .env, and compose refuses to start without them.
    required = {
        name for value in environment.values() for name in REQUIRED_VARIABLE.findall(str(value))
    }
    assert required == {"POSTGRES_PASSWORD", "AUTH_JWT_SECRET"}
    stand_ins = {"POSTGRES_PASSWORD": "stand-in", "AUTH_JWT_SECRET": "s" * 32}
    values = {
        name.lower(): REQUIRED_VARIABLE.sub(lambda found: stand_ins[found[1]], str(value))
        for name, value in environment.items()
    }
    # ENVIRONMENT is the image's (Dockerfile ENV); `serve` refuses to start unless this passes.
    settings = Settings.model_validate({**values, "environment": "production"})
    require_auth_in_production(settings)
    assert urlsplit(settings.database_url).hostname in services
    assert urlsplit(settings.rate_limit_storage_url).hostname in services
    conditions = {name: rule["condition"] for name, rule in gateway["depends_on"].items()}
    assert conditions == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    assert all("healthcheck" in services[name] for name in ("postgres", "redis"))
    # Docker must wait out the grace period (and the lifespan's shutdown) before it kills.
    stop_after = int(gateway["stop_grace_period"].removesuffix("s"))
    assert stop_after >= settings.shutdown_grace_seconds + 2
    for name in ("postgres", "redis"):  # pinned to a release, not a moving tag
        assert re.fullmatch(r"[\w/-]+:\d+\.\d+(\.\d+)?[\w.-]*", services[name]["image"])
