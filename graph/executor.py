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
from graph.errors import with_code
from graph.limits import Limits, timeout_error
from graph.schema import GatewaySchema


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

    async def run(self, context: Context, variables: dict[str, Any]) -> Outcome:
        """Execute with these variables; past the timeout, cancel (rolling back) and say so."""
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
