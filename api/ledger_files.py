"""Reading activity files row by row: CSV with a header row, or JSON Lines (by extension)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from domain.activities import FIELDS

# (line number, the row's values in FIELDS order (None where absent) or what makes it
# unreadable, bytes of the file read so far)
Values = Sequence[Any]
Row = tuple[int, Values | str, int]


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


def _csv_rows(handle: io.TextIOWrapper) -> Iterator[tuple[int, Values | str]]:
    reader = csv.reader(handle)
    header = next(reader, [])
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise FileProblem(f"the header row lacks {', '.join(missing)}")
    if tuple(header) == FIELDS:  # the usual file: rows are already in order
        for row in reader:
            if row:  # a blank line is no row (as csv.DictReader has it)
                yield reader.line_num, row
        return
    # A repeated column name means its last column, as csv.DictReader has it.
    where = {name: index for index, name in enumerate(header)}
    positions = [where[name] for name in FIELDS]
    for row in reader:
        if row:
            yield reader.line_num, [row[i] if i < len(row) else None for i in positions]


def _json_rows(handle: io.TextIOWrapper) -> Iterator[tuple[int, Values | str]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        yield number, _json_values(line)


def _json_values(line: str) -> Values | str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return f"the line is not JSON ({error.msg})"
    if not isinstance(value, dict):
        return "the line is not a JSON object"
    return [value.get(name) for name in FIELDS]
