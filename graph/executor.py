"""Operations whose document is fixed (the REST routes): parsed and validated once, at start-up.

docs/performance.md: validating even a tiny query costs ~1.2 ms, several times the rest of a small
request. A REST route's document never changes, so it is checked when the route table is built
and each request only executes it, through the same resolvers and loaders as `/graphql`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from graph.arguments import text_in_variables
from graph.context import Context
from graph.cost import check_cost
from graph.errors import name_operation, with_code
from graph.limits import Limits, timeout_error
from graph.metrics import ANONYMOUS, NAMES, count
from graph.schema import GatewaySchema
from graph.tracing import OperationLabel, operation_span, record_errors


class InvalidDocument(ValueError):
    """A fixed document that does not validate against the schema: a programming error."""


@dataclass(frozen=True)
class Outcome:
    """What an operation answered: data, and errors already coded like `/graphql`'s."""

    data: dict[str, Any] | None
    errors: list[GraphQLError] = field(default_factory=list)


class PreparedOperation:
    """One GraphQL document, validated against one schema, ready to run many times."""

    def __init__(
        self,
        schema: strawberry.Schema,
        document: str,
        *,
        timeout: float | None = None,
        max_cost: int | None = None,
    ) -> None:
        self._schema = schema._schema
        self.timeout = timeout
        # The schema's own budget unless told otherwise: REST and /graphql share one limit.
        limits = schema.limits if isinstance(schema, GatewaySchema) else Limits()
        self.max_cost = limits.max_cost if max_cost is None else max_cost
        self.source = document
        self.document: DocumentNode = parse(document)
        errors = validate(self._schema, self.document)
        if errors:
            raise InvalidDocument("; ".join(error.message for error in errors))
        operation = get_operation_ast(self.document)
        if operation is None:
            raise InvalidDocument("the document must hold exactly one operation")
        self.operation = operation
        self.is_mutation = operation.operation is OperationType.MUTATION
        # Its tracer and metrics are read per run: the app turns them on after building its routes.
        self._gateway = schema if isinstance(schema, GatewaySchema) else None
        name = operation.name.value if operation.name else None
        self.label = OperationLabel.of(operation.operation.value, name)
        # Admitted at start-up, before any client's name (graph.metrics).
        self.metrics_name = NAMES.label(name) if name else ANONYMOUS

    async def run(self, context: Context, variables: dict[str, Any]) -> Outcome:
        """`_run`, in the operation's span (as on /graphql) when the schema is traced, and
        counted as on /graphql when the schema counts operations (graph.metrics)."""
        tracer = self._gateway.tracer if self._gateway is not None else None
        if tracer is None:
            outcome = await self._run(context, variables)
        else:
            with operation_span(tracer, self.label) as span:
                outcome = await self._run(context, variables)
                record_errors(span, outcome.errors)
        if self._gateway is not None and self._gateway.metrics:
            count(self.metrics_name, self.operation.operation.value, outcome.errors)
        return outcome

    async def _run(self, context: Context, variables: dict[str, Any]) -> Outcome:
        """Execute with these variables; past the timeout, cancel (rolling back) and say so."""
        name_operation(self.operation.name.value if self.operation.name else None)  # in the logs
        # As /graphql does (graph.arguments, graph.cost), before any resolver.
        refused = (
            text_in_variables(self._schema, self.operation, variables)
            or check_cost(self._schema, self.document, None, variables, self.max_cost).error
        )
        if refused is not None:
            return Outcome(data=None, errors=[with_code(refused)])
        try:
            async with asyncio.timeout(self.timeout):
                result = execute(
                    self._schema, self.document, variable_values=variables, context_value=context
                )
                if isawaitable(result):
                    result = await result
        except TimeoutError:
            assert self.timeout is not None
            return Outcome(data=None, errors=[timeout_error(self.timeout)])
        assert isinstance(result, ExecutionResult)
        return Outcome(data=result.data, errors=[with_code(e) for e in result.errors or []])
