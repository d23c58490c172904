"""What a large load takes off the ledger's tables while it fills them, and puts back after.

Per-row upkeep is most of a large load's cost: on SQLite a B-tree insert per row and secondary
index (with a 2 MB page cache), on PostgreSQL also a foreign-key trigger per row and key (on
the 1M ledger, 15 s of the activity insert's 19 s and 8 s of the running totals' 12 s). Built
again after the load, an index is one sort, and a foreign key one join that checks every row.
All of it is DDL inside the load's transaction: a failed load puts everything back with its
rollback. Until the commit PostgreSQL keeps other sessions off the tables (and out of writes
to `mentor` and `activity_type`, which the keys refer to); SQLite's readers keep their
snapshot.
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint
from sqlmodel import SQLModel

from models.activities import activity_table

# The tables a load fills a row at a time, each with foreign keys a trigger checks per row.
_FILLED = ("activity", "activity_running_total")


def _filled() -> list[Table]:
    return [SQLModel.metadata.tables[name] for name in _FILLED]


def _secondary_indexes() -> list[Index]:
    return sorted(activity_table().indexes, key=lambda index: str(index.name))


def _foreign_keys() -> list[ForeignKeyConstraint]:
    return [
        key
        for table in _filled()
        for key in sorted(table.foreign_key_constraints, key=lambda key: tuple(key.column_keys))
    ]


def drop_ledger_indexes(connection: Connection) -> None:
    for index in _secondary_indexes():
        index.drop(connection)


def create_ledger_indexes(connection: Connection) -> None:
    for index in _secondary_indexes():
        index.create(connection)


def drop_foreign_keys(connection: Connection) -> None:
    """PostgreSQL's per-row checks, dropped by the names the database gave them. SQLite
    cannot drop a constraint, and checks one per row cheaply (an index lookup, no trigger)."""
    if connection.dialect.name != "postgresql":
        return
    inspector = inspect(connection)
    for table in _FILLED:
        for key in inspector.get_foreign_keys(table):
            connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{key["name"]}"'))


def add_foreign_keys(connection: Connection) -> None:
    """The keys again as the migrations made them (unnamed: the database names them the
    same), each validated over the whole table in one statement."""
    if connection.dialect.name != "postgresql":
        return
    for key in _foreign_keys():
        connection.execute(AddConstraint(key))
