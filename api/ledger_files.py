"""Reading activity files row by row: CSV with a header row, or JSON Lines (by extension)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from domain.activities import FIELDS

# (line number, the row's raw values or what makes it unreadable, bytes of the file read so far)
Row = tuple[int, dict[str, Any] | str, int]


class FileProblem(Exception):
    """The file as a whole cannot be imported (its kind, or its header)."""


def read_rows(path: Path) -> Iterator[Row]:
    """Every row of the file, lazily."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise FileProblem("the file must be .csv or .jsonl (JSON Lines)")
    try:
        raw = path.open("rb")
    except OSError as error:
        raise FileProblem(f"cannot be read ({error.strerror})") from None
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        rows = _csv_rows(handle) if suffix == ".csv" else _json_rows(handle)
        try:
            # The raw position runs ahead by one read buffer: close enough for a progress bar.
            for line, values in rows:
                yield line, values, raw.tell()
        except (UnicodeDecodeError, csv.Error) as error:
            raise FileProblem(f"is not readable UTF-8 {suffix[1:]} ({error})") from None


def _csv_rows(handle: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(handle)
    missing = [name for name in FIELDS if name not in (reader.fieldnames or [])]
    if missing:
        raise FileProblem(f"the header row lacks {', '.join(missing)}")
    for row in reader:
        yield reader.line_num, row


def _json_rows(handle: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        yield number, _json_object(line)


def _json_object(line: str) -> dict[str, Any] | str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return f"the line is not JSON ({error.msg})"
    return value if isinstance(value, dict) else "the line is not a JSON object"
