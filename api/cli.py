"""The `mentor-gateway` command: serve, migrate, export-schema, seed demo data, mint tokens."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import signal
import sys
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn

from api.authentication import AuthNotConfigured, require_auth_in_production
from api.importer import import_command
from api.logs import configure_logging
from api.metrics import multiprocess_directory
from api.settings import Settings
from auth.principal import Role
from auth.tokens import mint_token
from graph.schema import export_sdl
from models.database import Database
from models.migrate import migrate as run_migrations

cli = typer.Typer(help="mentor-gateway: GraphQL and legacy REST for peer-mentoring data.")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL (default: a SQLite file here)."),
]


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


async def _prepare(settings: Settings, *, demo: bool) -> None:
    database = Database(settings.database_url)
    try:
        await run_migrations(database)
        if demo:
            from domain.demo import seed_demo  # only the demo command needs the generator

            created = await seed_demo(database)
            typer.echo("demo data: " + (f"seeded {created}" if created else "already present"))
    finally:
        await database.dispose()


def _stopped(number: int, frame: FrameType | None) -> None:
    """SIGTERM outside uvicorn's handler: just before it serves, and when it raises the signal
    again after its graceful shutdown, for the handler it replaced. That would be the default,
    death by the signal (status 143); a stop that was asked for is a clean exit, status 0.
    Still at once, as the default is: everything is done (the lifespan's shutdown too), but a
    request cancelled at the end of the grace period may hold a database driver's thread, which
    an orderly interpreter exit would wait for. (`--workers`: uvicorn's supervisor takes
    SIGTERM itself and exits 0 once its workers have.)"""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo organisation first.")] = False,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Migrate the database, optionally seed demo data, and serve."""
    settings = _settings(database_url)
    try:
        require_auth_in_production(settings)  # before anything is migrated or seeded
    except AuthNotConfigured as error:
        typer.echo(f"mentor-gateway: {error}", err=True)
        raise typer.Exit(2) from None
    # uvicorn's lines in the app's format too (api/logs.py); the app logs each request itself,
    # so uvicorn's access log is off, and no `server: uvicorn` banner names what to attack.
    configure_logging(settings.log_format_in_force, settings.log_level)
    logs: dict[str, Any] = {"log_config": None, "access_log": False, "server_header": False}
    asyncio.run(_prepare(settings, demo=demo))
    typer.echo(f"GraphiQL: http://{host}:{port}/graphql   REST docs: http://{host}:{port}/docs")
    # uvicorn would otherwise buffer websocket frames up to 16 MB before the app's own check.
    ws_max_size = settings.ws_max_message_bytes
    # On SIGTERM uvicorn stops listening, lets in-flight requests run this long, then cancels
    # them (README "Deployment"). It annotates int, but waits with asyncio.wait_for: any float.
    grace: int = settings.shutdown_grace_seconds  # type: ignore[assignment]
    signal.signal(signal.SIGTERM, _stopped)  # here: a serve refused above leaves it as it was
    if workers > 1:
        # Each worker builds its own app from the environment, so pass the URL on through it.
        os.environ["DATABASE_URL"] = settings.database_url
        # One /metrics for all of them: prometheus-client's multiprocess mode (api/metrics.py).
        with multiprocess_directory() if settings.metrics_enabled else nullcontext():
            uvicorn.run(
                "api.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                ws_max_size=ws_max_size,
                timeout_graceful_shutdown=grace,
                **logs,
            )
        return
    from api.app import create_app

    app = create_app(settings)
    # Start-up objects live forever: keeping them out of GC passes cuts p99 (docs/performance.md).
    gc.freeze()
    uvicorn.run(
        app, host=host, port=port, ws_max_size=ws_max_size, timeout_graceful_shutdown=grace, **logs
    )


@cli.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database to the newest schema."""
    asyncio.run(_prepare(_settings(database_url), demo=False))
    typer.echo("database is up to date")


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) to schema.graphql."""
    path.write_text(export_sdl(), encoding="utf-8")
    typer.echo(f"wrote {path}")


@cli.command("detect-milestones")
def detect_milestones(database_url: DatabaseUrl = None) -> None:
    """Recompute every mentor's milestones from the activity ledger (set-based)."""
    from api.maintenance import recompute_milestones

    summary = asyncio.run(recompute_milestones(_settings(database_url).database_url))
    typer.echo(summary)


cli.command("import")(import_command)

_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_TOKEN_LIFETIME = timedelta(days=30)


def _lifetime(text: str) -> timedelta:
    found = _DURATION.fullmatch(text.strip())
    lifetime = timedelta(**{_UNITS[found[2]]: int(found[1])}) if found else None
    if lifetime is None or not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
        raise typer.BadParameter("write a duration such as 90s, 15m, 1h or 7d, at most 30d")
    return lifetime


@cli.command()
def token(
    role: Annotated[Role, typer.Option(help="The role the token grants.")],
    sub: Annotated[str, typer.Option(help="The subject (who the token is for).")],
    mentor_id: Annotated[
        str | None, typer.Option(help="The mentor the caller is, if not `sub` (mentor role).")
    ] = None,
    expires: Annotated[str, typer.Option(help="Lifetime: 90s, 15m, 1h, 7d (at most 30d).")] = "1h",
) -> None:
    """Print an HS256 bearer token signed with AUTH_JWT_SECRET (development and demos)."""
    settings = Settings()
    if settings.auth_jwt_secret is None:
        typer.echo("mentor-gateway: set AUTH_JWT_SECRET (32+ characters) to mint tokens", err=True)
        raise typer.Exit(2)
    typer.echo(
        mint_token(
            settings.auth_jwt_secret.get_secret_value(),
            role=role,
            subject=sub,
            mentor_id=mentor_id,
            expires_in=_lifetime(expires),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    )


def main() -> None:
    cli()
