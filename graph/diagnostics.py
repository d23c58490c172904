"""`extensions.sqlStatements`: how many SQL statements an operation ran (EXPOSE_SQL_COUNT=1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension

from models.database import StatementCounter, count_statements


class SqlStatementCount(SchemaExtension):
    """Lets frontend teams see a query's cost, and lets tests prove the loaders batch."""

    counter: StatementCounter | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        async with count_statements() as counter:
            self.counter = counter
            yield

    def get_results(self) -> dict[str, Any]:
        return {"sqlStatements": self.counter.count} if self.counter is not None else {}
