"""The one way an extension's check runs "after validation, before execution".

Strawberry's `execute`, `stream` and `subscribe` all stop on `pre_execution_errors` set in the
validation step, while a result preset in `on_execute` is ignored by `subscribe`: so checks that
must hold for subscriptions too refuse from `on_validate`, through here.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext


def validated(context: ExecutionContext) -> bool:
    """Whether the operation's document parsed and validated (validating it now if no extension
    did yet, as Strawberry would), so a later check may refuse it."""
    document = context.graphql_document
    if document is None:
        return False
    if context.pre_execution_errors is None:
        context.pre_execution_errors = validate_document(
            context.schema._schema, document, tuple(context.validation_rules)
        )
    return not context.pre_execution_errors


def refuse(context: ExecutionContext, error: GraphQLError) -> None:
    """Stop the operation before execution with `error`, on every path (HTTP, websocket,
    subscriptions)."""
    context.pre_execution_errors = [error]
