"""The only module that assembles the `strawberry.Schema` and its extensions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import Tracer
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graph.access import install_policy
from graph.arguments import ArgumentChecks
from graph.cost import QueryCost
from graph.diagnostics import SqlStatementCount
from graph.errors import ErrorCodes, code_errors
from graph.limits import Limits, limit_extensions, timeout_error
from graph.metrics import OperationMetrics, count_result, counted
from graph.mutations.activities import ActivityMutations
from graph.mutations.milestones import MilestoneMutations
from graph.mutations.statuses import StatusMutations
from graph.mutations.sync import SyncMutations
from graph.queries.activities import ActivityQueries
from graph.queries.audit import AuditQueries
from graph.queries.mentors import MentorQueries
from graph.queries.milestones import MilestoneQueries
from graph.queries.stats import StatsQueries
from graph.queries.statuses import StatusQueries
from graph.queries.sync import SyncQueries
from graph.scalars import DATETIME, FIGURE, Figure
from graph.subscriptions import Subscription, with_deadlines
from graph.tracing import OperationTracing


@strawberry.type
class Query(
    MentorQueries,
    StatusQueries,
    SyncQueries,
    MilestoneQueries,
    ActivityQueries,
    StatsQueries,
    AuditQueries,
):
    pass


@strawberry.type
class Mutation(StatusMutations, SyncMutations, MilestoneMutations, ActivityMutations):
    pass


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema with an execution deadline, minus its logging of every error:
    `graph.errors` logs the unexpected ones (with a request id); client mistakes are not
    server errors."""

    def __init__(self, *, limits: Limits, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits
        self.tracer: Tracer | None = None
        self.metrics = False  # whether operations are counted (graph.metrics)

    def trace_operations(self, tracer: Tracer) -> None:
        """A span from `tracer` for every operation (graph.tracing), REST's prepared ones too.
        First among the extensions: its span covers theirs, and ends after ErrorCodes coded."""
        self.tracer = tracer
        self.extensions = (lambda: OperationTracing(tracer=tracer), *self.extensions)

    def count_operations(self) -> None:
        """Count every operation and its errors (graph.metrics), REST's prepared ones too.
        Before the extensions that refuse operations while validating: it reads their verdict."""
        self.metrics = True
        self.extensions = (OperationMetrics, *self.extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run the operation, cancelled (and its transaction rolled back) at the deadline."""
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                result = await super().execute(
                    query,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    allowed_operation_types,
                    operation_extensions,
                )
        except TimeoutError:
            result = ExecutionResult(data=None, errors=[timeout_error(self.limits.timeout_seconds)])
        # ParserCache parses in an extension hook, so a syntax error skips ErrorCodes.
        code_errors(result)
        if self.metrics:
            count_result(result)
        return result

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Stream the operation (websockets; `subscribe` too), each result under the deadline:
        a query's answer, each subscription event (graph.subscriptions.with_deadlines)."""
        results = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )
        results = with_deadlines(results, self.limits.timeout_seconds)
        return counted(results) if self.metrics else results


def build_schema(*, expose_sql_count: bool = False, limits: Limits | None = None) -> GatewaySchema:
    """The schema with its extensions; `limits` default to the safe ones."""
    limits = limits or Limits()
    extensions: list[Any] = [
        ErrorCodes,
        *limit_extensions(limits),
        # Parsing and validating a small query costs more than running it (docs/performance.md).
        ParserCache,
        ValidationCache,
        # After ValidationCache, which overwrites the validation errors: these refuse operations
        # that validated (graph.validated), which `execute`, `stream` and `subscribe` all honour.
        ArgumentChecks,
        lambda: QueryCost(max_cost=limits.max_cost, expose=expose_sql_count),
    ]
    if expose_sql_count:
        extensions.append(SqlStatementCount)
    batching = (
        BatchingConfig(max_operations=limits.batch_operations) if limits.batch_operations else None
    )
    schema = GatewaySchema(
        limits=limits,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map={datetime: DATETIME, Figure: FIGURE},
            disable_field_suggestions=not limits.suggestions,
            batching_config=batching,
        ),
    )
    install_policy(schema._schema)  # every root field behind its access rule (graph.access)
    return schema


def export_sdl() -> str:
    """The schema as SDL, as committed in `schema.graphql`."""
    return build_schema().as_str() + "\n"
