"""Stored values this version cannot read back (rows an older version wrote): reported once.

Readers print such a value as null and answer with the rest of the row, rather than letting
one row turn a whole list into a 500; the log says which value it was, once per process.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("mentor_gateway.unreadable")

MAX_REMEMBERED = 10_000  # values already reported; past this, each read is logged again
_reported: set[tuple[str, str]] = set()


def report_unreadable(what: str, key: str, problem: str, *, read_as: str = "null") -> None:
    """Log that `what` (a column) of row `key` is printed as `read_as` because of `problem`."""
    mark = (what, key)
    if mark in _reported:
        return
    if len(_reported) < MAX_REMEMBERED:
        _reported.add(mark)
    logger.warning(
        "stored %s of %r cannot be read back (%s); printed as %s", what, key, problem, read_as
    )


def decode_text(stored: bytes) -> str:
    """SQLite's `text_factory`: text that is not UTF-8 (a manual edit, a blob cast to text) reads
    with U+FFFD for each bad byte, instead of failing the whole statement."""
    try:
        return stored.decode()
    except UnicodeDecodeError as error:
        report_unreadable("text", repr(stored[:40]), str(error), read_as="U+FFFD replacements")
        return stored.decode(errors="replace")
