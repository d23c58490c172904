"""`mentor-gateway import PATH`: load an activity ledger from CSV or JSON Lines.

One pass, one transaction: rows are validated as the file streams by and staged in a temporary
table (domain.staged_ledger), a chunk at a time, so memory does not grow with the file's size;
at the end a few statements merge them into the ledger, running totals and milestones. A bad
row is reported with its line number; unless --skip-invalid, staging stops there, the rest of
the file is still validated (every bad row is reported) and the transaction is rolled back, so
nothing is imported.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from api.ledger_files import FileProblem, read_rows
from api.settings import Settings
from domain import clock
from domain.activities import FIELDS, ActivityRules
from domain.activity_rows import FastRows, Staged, parse_activity, staged
from domain.errors import BadInput
from domain.ledger import IngestCounts, activity_types
from domain.staged_ledger import StagedImport
from models.database import Database, begin_write
from models.ingest import refresh_statistics
from models.migrate import migrate

Report = Callable[[int, str], None]  # line number, reason
STAGE_CHUNK = 10_000  # rows read, then staged, at a time: what the import holds in memory


@dataclass
class Summary:
    """What one import read, wrote and rejected."""

    read: int = 0
    rejected: int = 0
    counts: IngestCounts = field(default_factory=IngestCounts)
    seconds: float = 0.0

    def line(self) -> str:
        rate = self.read / self.seconds if self.seconds else 0.0
        c = self.counts
        return (
            f"{self.read} rows read: {c.inserted} inserted, {c.updated} updated, "
            f"{c.unchanged} unchanged, {self.rejected} rejected "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )


@dataclass
class Import:
    """One import of one file into one database."""

    path: Path
    report: Report
    progress: Progress | None = None
    summary: Summary = field(default_factory=Summary)

    def activities(self, rules: ActivityRules) -> Iterator[Staged]:
        """The file's valid activities; each bad row is reported and counted."""
        advance = self._tracker()
        fast = FastRows(rules)
        for line, raw, position in read_rows(self.path):
            self.summary.read += 1
            advance(position)
            if not isinstance(raw, str) and (row := fast(raw)) is not None:
                yield row
                continue
            try:  # the rare row: parse_activity names what is wrong with it
                if isinstance(raw, str):
                    raise BadInput(raw)
                yield staged(parse_activity(dict(zip(FIELDS, raw, strict=False)), rules))
            except BadInput as error:
                self.summary.rejected += 1
                self.report(line, error.message)

    def _tracker(self) -> Callable[[int], None]:
        """Moves a progress bar over the file's bytes (when there is a terminal to show it)."""
        progress = self.progress
        if progress is None:
            return lambda _: None
        task = progress.add_task("importing", total=self.path.stat().st_size)
        return lambda position: progress.update(task, completed=position)

    async def run(self, database: Database, *, skip_invalid: bool) -> None:
        """Stream the file into one transaction; commit unless a bad row forbids it."""
        async with database.sessions() as session:
            await begin_write(session)
            rules = ActivityRules(await activity_types(session), clock.now())
            staging = await StagedImport.open(session, now=rules.now)
            chunk: list[Staged] = []
            for activity in self.activities(rules):
                if self.summary.rejected and not skip_invalid:
                    continue  # nothing will be kept: only go on reporting bad rows
                chunk.append(activity)
                if len(chunk) == STAGE_CHUNK:
                    await staging.add(chunk)
                    chunk.clear()
            if self.summary.rejected and not skip_invalid:
                return  # leaving the block rolls the transaction back
            await staging.add(chunk)
            self.summary.counts = await staging.finish()
            await session.commit()
            if (statistics := refresh_statistics(database.dialect)) is not None:
                await session.execute(statistics)
                await session.commit()


async def import_ledger(
    database_url: str, path: Path, *, skip_invalid: bool, report: Report, progress: Progress | None
) -> Summary:
    """Import the file; with bad rows and no `skip_invalid`, nothing is written."""
    started = time.perf_counter()
    database = Database(database_url)
    job = Import(path, report, progress)
    try:
        await migrate(database)
        await job.run(database, skip_invalid=skip_invalid)
    finally:
        await database.dispose()
        job.summary.seconds = time.perf_counter() - started
    if job.summary.rejected and not skip_invalid:
        job.summary.counts = IngestCounts()  # rolled back: nothing of it was kept
    return job.summary


def _progress_bar() -> Progress | None:
    """A progress bar on a terminal; nothing when the output goes to a file or a pipe."""
    if not sys.stdout.isatty():
        return None
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    return Progress(TextColumn("{task.description}"), *columns)


def _run(settings: Settings, path: Path, *, skip_invalid: bool, report: Report) -> Summary:
    progress = _progress_bar()
    with progress or nullcontext():
        work = import_ledger(
            settings.database_url, path, skip_invalid=skip_invalid, report=report, progress=progress
        )
        return asyncio.run(work)


def import_command(
    path: Annotated[Path, typer.Argument(help="A .csv (with a header row) or .jsonl file.")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows, report the others.")
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides DATABASE_URL.")
    ] = None,
) -> None:
    """Import activities (id, mentor_id, mentor_name, activity_type_id, contact_id, started_at,
    duration_minutes, status); unknown mentors are created. All rows must be valid unless
    --skip-invalid; importing the same file again changes nothing."""
    settings = Settings(database_url=database_url) if database_url else Settings()

    def report(line: int, reason: str) -> None:
        typer.echo(f"{path}:{line}: {reason}", err=True)

    try:
        summary = _run(settings, path, skip_invalid=skip_invalid, report=report)
    except FileProblem as problem:
        typer.echo(f"{path}: {problem}; nothing was imported", err=True)
        raise typer.Exit(2) from None
    typer.echo(summary.line())
    if summary.rejected and not skip_invalid:
        typer.echo(f"invalid rows: {summary.rejected}; nothing was imported", err=True)
        raise typer.Exit(1)
