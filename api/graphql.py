"""`/graphql`: Strawberry's router with a per-request context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import strawberry
from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from graph.context import Context

ContextFactory = Callable[[Request], Context]


def graphql_router(
    schema: strawberry.Schema, make_context: ContextFactory, *, graphiql: bool
) -> GraphQLRouter[Context, None]:
    async def context_getter(request: Request) -> AsyncIterator[Context]:
        context = make_context(request)
        try:
            yield context
        finally:
            await context.close()

    return GraphQLRouter(
        schema,
        context_getter=context_getter,
        graphql_ide="graphiql" if graphiql else None,
    )
