"""The only module that assembles the `strawberry.Schema` and its extensions."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.diagnostics import SqlStatementCount
from graph.errors import ErrorCodes
from graph.mutations.statuses import StatusMutations
from graph.mutations.sync import SyncMutations
from graph.queries.mentors import MentorQueries
from graph.queries.statuses import StatusQueries
from graph.queries.sync import SyncQueries
from graph.scalars import DATETIME
from graph.subscriptions import Subscription


@strawberry.type
class Query(MentorQueries, StatusQueries, SyncQueries):
    pass


@strawberry.type
class Mutation(StatusMutations, SyncMutations):
    pass


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its logging of every error: `graph.errors` logs the
    unexpected ones (with a request id) and client mistakes are not server errors."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(*, expose_sql_count: bool = False) -> strawberry.Schema:
    extensions: list[type[SchemaExtension]] = [ErrorCodes]
    if expose_sql_count:
        extensions.append(SqlStatementCount)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map={datetime: DATETIME}),
    )


def export_sdl() -> str:
    """The schema as SDL, as committed in `schema.graphql`."""
    return build_schema().as_str() + "\n"
