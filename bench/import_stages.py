"""Where an import's time goes (issue 13, goal 3's profile): one `import_ledger` in process,
every SQL statement timed by the engine's cursor events, staging and merging timed apart.

    .venv/bin/python -m bench.import_stages [DATABASE_URL]

Without a URL: a fresh SQLite file in bench/out/. A PostgreSQL database is emptied first.
Prints the summary line, reading (the rest: file, parsing, checks), staging, merging, then the
statements by total time.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from api.importer import import_ledger
from bench.import_speed import ledger_file
from bench.stats import empty_database, sqlite_file_url
from domain.ledger import IngestCounts
from domain.staged_ledger import StagedImport

OUT = Path(__file__).parent / "out"
STATEMENTS_SHOWN = 14


class Stages:
    """Seconds per SQL statement (its first 70 characters) and per StagedImport stage."""

    def __init__(self) -> None:
        self.statements: dict[str, list[float]] = {}
        self.staging = 0.0
        self.merging = 0.0

    def listen(self) -> None:
        @event.listens_for(Engine, "before_cursor_execute")
        def before(connection: Any, *_: Any) -> None:
            connection.info["bench_started"] = time.perf_counter()

        @event.listens_for(Engine, "after_cursor_execute")
        def after(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            spent = time.perf_counter() - connection.info["bench_started"]
            self.statements.setdefault(" ".join(statement.split())[:70], []).append(spent)

    def wrap(self) -> None:
        add, finish = StagedImport.add, StagedImport.finish

        async def timed_add(staging: StagedImport, rows: Any) -> None:
            started = time.perf_counter()
            await add(staging, rows)
            self.staging += time.perf_counter() - started

        async def timed_finish(staging: StagedImport) -> IngestCounts:
            started = time.perf_counter()
            counts = await finish(staging)
            self.merging = time.perf_counter() - started
            return counts

        StagedImport.add = timed_add  # type: ignore[method-assign, assignment]
        StagedImport.finish = timed_finish  # type: ignore[method-assign, assignment]


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else sqlite_file_url(OUT / "import-stages.db")
    ledger = ledger_file(10_000, 1_000_000)
    asyncio.run(empty_database(url))
    stages = Stages()
    stages.listen()
    stages.wrap()
    summary = asyncio.run(
        import_ledger(url, ledger, skip_invalid=False, report=print, progress=None)
    )
    print(summary.line())
    reading = summary.seconds - stages.staging - stages.merging
    print(
        f"total {summary.seconds:.1f} s: reading and checking {reading:.1f} s (migration "
        f"included), staging {stages.staging:.1f} s, merging {stages.merging:.1f} s"
    )
    ranked = sorted(stages.statements.items(), key=lambda item: -sum(item[1]))
    for statement, times in ranked[:STATEMENTS_SHOWN]:
        print(f"{sum(times):7.2f} s {len(times):5d}x  {statement}")


if __name__ == "__main__":
    main()
