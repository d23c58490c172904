"""Issue 13's performance goals: every benchmark behind them, one after another, and one table.

    .venv/bin/python -m bench.goals --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Each benchmark measures its ratios side by side in its own run and writes its figures as JSON
(`--json`); this prints them as the Markdown table README's "Performance goals" holds. The
--postgres database is dropped and refilled by each (never the test suite's `test`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

BENCHMARKS = (
    "bench.rest_get",
    "bench.writers",
    "bench.import_speed",
    "bench.detect",
    "bench.screen",
)


def table(figures: list[dict[str, object]]) -> str:
    lines = ["| goal | figure | measured | target | met |", "|---|---|---|---|---|"]
    for figure in sorted(figures, key=lambda f: int(str(f["goal"]))):
        met = "yes" if figure["met"] else "**no**"
        lines.append(
            f"| {figure['goal']} | {figure['figure']} | {figure['measured']} | "
            f"{figure['target']} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--postgres", required=True, help="a database to drop and refill")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    figures: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as directory:
        for module in args.only or BENCHMARKS:
            output = Path(directory) / f"{module}.json"
            command = [sys.executable, "-m", module, "--postgres", args.postgres, "--json"]
            print(f"\n## {module}", flush=True)
            subprocess.run([*command, str(output)], check=True)
            figures += json.loads(output.read_text())
    print("\n" + table(figures))


if __name__ == "__main__":
    main()
