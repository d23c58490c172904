"""Checks on client-supplied values that every entry point shares.

The rule behind them: nothing is stored that cannot be read back. A value the database cannot
hold (U+0000 in PostgreSQL text), the response encoder cannot print (a lone surrogate is not
UTF-8; NaN and Infinity are not JSON) or the domain cannot compute with (a figure whose
hundredths overflow, a date whose next day does not exist) is refused as input, naming its field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from domain.errors import BadInput

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 200
# Also declared in the REST contracts' models, so /openapi.json tells clients the same rules.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
NO_NUL_PATTERN = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000 (graph/arguments.py)
_ID = re.compile(ID_PATTERN)

# Figures a client states (summary hours, counts; an admin's corrected value). Hours are
# printed in hundredths, so the bound keeps `value * 100` an exact, finite float.
MAX_FIGURE = 1_000_000_000
MAX_COUNT = 2**31 - 1  # counts are stored and compared as 32-bit integers on both dialects

# Free-form status metadata: a JSON object, bounded so that reading it back is cheap and
# every encoder on the way out (orjson stops at 255 levels) can print it.
MAX_METADATA_DEPTH = 32
MAX_METADATA_BYTES = 16 * 1024  # of its compact UTF-8 JSON encoding

NUL = "\x00"
NUL_PROBLEM = "must not contain the NUL character (U+0000)"
SURROGATE_PROBLEM = "must be valid Unicode: a lone surrogate (U+D800-U+DFFF) is not text"
# Python keeps a JSON `\ud800` escape as a lone surrogate; no UTF-8 encoder accepts one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogate(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def text_problem(value: str, *, nul_allowed: bool = False) -> str | None:
    """What keeps `value` from being stored and printed as text, if anything."""
    if has_surrogate(value):
        return SURROGATE_PROBLEM
    if not nul_allowed and NUL in value:
        return NUL_PROBLEM
    return None


def check_id(field: str, value: str) -> str:
    """Ids are opaque, but 1-64 characters of letters, digits and `._:-`, so they fit in URLs."""
    if not 1 <= len(value) <= MAX_ID_LENGTH or not _ID.fullmatch(value):
        raise BadInput.field(
            field, f"must be 1-{MAX_ID_LENGTH} letters, digits or . _ : - (starting alphanumeric)"
        )
    return value


def check_text(field: str, value: str | None, *, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    if value is None:
        return None
    problem = text_problem(value)
    if problem is not None:
        raise BadInput.field(field, problem)
    if len(value) > max_length:
        raise BadInput.field(field, f"must be at most {max_length} characters")
    return value


def check_name(field: str, value: str) -> str:
    if not value.strip():
        raise BadInput.field(field, "must not be blank")
    checked = check_text(field, value, max_length=MAX_NAME_LENGTH)
    assert checked is not None
    return checked


def number_problem(value: object, *, high: float) -> str | None:
    """What keeps `value` from being a figure in [0, high], if anything."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if not 0 <= value <= high:
        return f"must be between 0 and {high:,}"
    return None


def check_number(field: str, value: float, *, high: float = MAX_FIGURE) -> float:
    """A figure a client states: finite, between 0 and `high`."""
    problem = number_problem(value, high=high)
    if problem is not None:
        raise BadInput.field(field, problem)
    return value


def _json_values(value: Any, path: str) -> Iterator[tuple[str, int, Any]]:
    """(path, depth, value) of every value inside a JSON value, keys as str values too;
    iterative, so a deep value cannot exhaust the stack."""
    pending: list[tuple[str, int, Any]] = [(path, 0, value)]  # the object's members: depth 1
    while pending:
        where, depth, item = pending.pop()
        yield where, depth, item
        if isinstance(item, dict):
            for key, inner in item.items():
                yield where, depth, key  # named by its object: a bad key cannot be printed
                pending.append((f"{where}.{key}", depth + 1, inner))
        elif isinstance(item, list):
            pending.extend((f"{where}.{i}", depth + 1, inner) for i, inner in enumerate(item))


def _json_value_problem(value: Any, depth: int) -> str | None:
    if depth > MAX_METADATA_DEPTH:
        return f"must be nested at most {MAX_METADATA_DEPTH} levels deep"
    if isinstance(value, str):
        # Stored as JSON text, where a NUL is an escape like any other: only surrogates fail.
        return text_problem(value, nul_allowed=True)
    if isinstance(value, float) and not math.isfinite(value):
        return "must hold finite numbers only (NaN and Infinity are not JSON)"
    if value is None or isinstance(value, bool | int | float | dict | list):
        return None
    return f"must hold JSON values only, not {type(value).__name__}"


def json_object_problem(value: Any, field: str) -> tuple[str, str] | None:
    """(field path, problem) for the first thing that keeps `value` from being stored as
    free-form JSON and read back unchanged, or None when it can be."""
    if not isinstance(value, dict):
        return field, "must be a JSON object"
    for where, depth, item in _json_values(value, field):
        problem = _json_value_problem(item, depth)
        if problem is not None:
            return (field if depth > MAX_METADATA_DEPTH else where), problem
    try:  # exact, and safe now: the depth is bounded and every value is plain JSON
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except ValueError:  # an integer past Python's 4,300-digit conversion limit
        return field, f"must be at most {MAX_METADATA_BYTES:,} bytes as JSON"
    if size > MAX_METADATA_BYTES:
        return field, f"must be at most {MAX_METADATA_BYTES:,} bytes as JSON"
    return None


def check_json_object(field: str, value: Any) -> dict[str, Any]:
    """Free-form JSON a client stores (status `metadata`): an object of bounded depth and size,
    finite numbers only, text without lone surrogates."""
    found = json_object_problem(value, field)
    if found is not None:
        raise BadInput.field(*found)
    assert isinstance(value, dict)
    return value
