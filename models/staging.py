"""The import's staging tables, and the set-based statements that merge them into the ledger.

An import first copies every valid row of its file into `import_row`, a temporary table of the
import's own connection (SQLite: `executemany` of tuples; PostgreSQL: COPY). A handful of
statements then do what the row-at-a-time writer did per chunk, each once for the whole file:
count inserted, updated and unchanged rows, name the mentors to create, upsert the ledger, and
list the mentors whose running totals and milestones change. The tables live and die inside
the import's transaction: a rolled-back import leaves nothing behind.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, TextClause, text

from models.ingest import UPDATED_FIELDS
from models.types import UTCDateTime

staging = MetaData()  # not the application's metadata: migrations never see these tables

import_row = Table(
    "import_row",
    staging,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # the file's order
    Column("id", String, nullable=False),
    Column("mentor_id", String, nullable=False),
    Column("mentor_name", String, nullable=False),
    Column("activity_type_id", String, nullable=False),
    Column("contact_id", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),  # stored as the ledger stores it
    Column("duration_minutes", Integer, nullable=False),
    Column("status", String, nullable=False),
    prefixes=["TEMPORARY"],
)
ROW_COLUMNS = tuple(import_row.c.keys())  # the order StagedImport.add hands rows in

# Built after the load (one sort, not a million index inserts): the later statements find each
# id's rows, and the one before or after, by it.
# (An Index on the Table would be created with it, before the load.)
INDEX_ROWS = text("CREATE INDEX import_row_by_id ON import_row (id, seq)")

# Mentors whose ledger the import changed: their running totals and milestones are rebuilt.
import_mentor = Table(
    "import_mentor",
    staging,
    Column("mentor_id", String, primary_key=True),
    prefixes=["TEMPORARY"],
)

_LEDGER = UPDATED_FIELDS  # what decides "same data" is what an upsert overwrites


def _same(left: str, right: str) -> str:
    return " AND ".join(f"{left}.{name} = {right}.{name}" for name in _LEDGER)


# Each staged row judged against what its id held just before it: the file's previous row for
# that id, else the ledger's. Identical is unchanged, absent is inserted, the rest updated (the
# row-at-a-time writer's counts, duplicates within a file included).
VERDICTS = text(f"""
WITH ordered AS (
    SELECT r.*, LAG(r.seq) OVER (PARTITION BY r.id ORDER BY r.seq) AS prior_seq
    FROM import_row r
)
SELECT verdict, count(*) FROM (
    SELECT CASE
        WHEN o.prior_seq IS NOT NULL THEN
            CASE WHEN {_same("p", "o")} THEN 'unchanged' ELSE 'updated' END
        WHEN a.id IS NULL THEN 'inserted'
        WHEN {_same("a", "o")} THEN 'unchanged'
        ELSE 'updated'
    END AS verdict
    FROM ordered o
    LEFT JOIN import_row p ON p.seq = o.prior_seq
    LEFT JOIN activity a ON a.id = o.id
) judged
GROUP BY verdict
""")

# The last row of each id (it wins) where it differs from the ledger.
_CHANGED = f"""
SELECT r.* FROM import_row r
LEFT JOIN activity a ON a.id = r.id
WHERE NOT EXISTS (SELECT 1 FROM import_row later WHERE later.id = r.id AND later.seq > r.seq)
  AND (a.id IS NULL OR NOT ({_same("a", "r")}))
"""

# Every staged row, when the ledger is empty and no id repeats: then each row is new and none
# needs judging (a first import, the usual large one).
_EVERY_ROW = "SELECT r.* FROM import_row r"


def _changed(every_row_new: bool) -> str:
    return _EVERY_ROW if every_row_new else _CHANGED


def touched_mentors(*, every_row_new: bool) -> TextClause:
    """Before the upsert: the mentors of the changed rows, and of the rows they overwrite."""
    changed = _changed(every_row_new)
    return text(f"""
INSERT INTO import_mentor (mentor_id)
SELECT mentor_id FROM ({changed}) changed
UNION
SELECT a.mentor_id FROM ({changed}) changed JOIN activity a ON a.id = changed.id
""")


# Mentors the file names that do not exist yet, each with the name on its first row.
NEW_MENTORS = text("""
SELECT r.mentor_id, r.mentor_name FROM import_row r
JOIN (
    SELECT min(seq) AS seq FROM import_row
    WHERE mentor_id NOT IN (SELECT id FROM mentor)
    GROUP BY mentor_id
) first ON first.seq = r.seq
ORDER BY r.seq
""")

_WRITTEN = ("id", *_LEDGER)


def upsert_changed(*, every_row_new: bool) -> TextClause:
    """The changed rows into the ledger. SQLite needs the SELECT's WHERE to read ON CONFLICT
    as the upsert's."""
    return text(f"""
INSERT INTO activity ({", ".join(_WRITTEN)})
SELECT {", ".join(_WRITTEN)} FROM ({_changed(every_row_new)}) changed WHERE true
ON CONFLICT (id) DO UPDATE SET {", ".join(f"{name} = excluded.{name}" for name in _LEDGER)}
""")


DISTINCT_IDS = text("SELECT count(DISTINCT id) FROM import_row")
TOUCHED_IDS = text("SELECT mentor_id FROM import_mentor ORDER BY mentor_id")


def drop_staging() -> list[TextClause]:
    """Before the commit: on SQLite a temporary table would outlive it, on the pooled
    connection."""
    return [text(f"DROP TABLE {table.name}") for table in (import_row, import_mentor)]
