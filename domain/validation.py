"""Checks on client-supplied values that every entry point shares."""

from __future__ import annotations

import re

from domain.errors import BadInput

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 200
# Also declared in the REST contracts' models, so /openapi.json tells clients the same rules.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
NO_NUL_PATTERN = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000 (graph/arguments.py)
_ID = re.compile(ID_PATTERN)


def check_id(field: str, value: str) -> str:
    """Ids are opaque, but 1-64 characters of letters, digits and `._:-`, so they fit in URLs."""
    if not 1 <= len(value) <= MAX_ID_LENGTH or not _ID.fullmatch(value):
        raise BadInput.field(
            field, f"must be 1-{MAX_ID_LENGTH} letters, digits or . _ : - (starting alphanumeric)"
        )
    return value


def check_text(field: str, value: str | None, *, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    if value is not None and len(value) > max_length:
        raise BadInput.field(field, f"must be at most {max_length} characters")
    return value


def check_name(field: str, value: str) -> str:
    if not value.strip():
        raise BadInput.field(field, "must not be blank")
    checked = check_text(field, value, max_length=MAX_NAME_LENGTH)
    assert checked is not None
    return checked
