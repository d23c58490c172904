"""Prometheus counts of GraphQL operations, on `/graphql`, websockets and the REST routes alike.

An operation is counted once, with its answer, where its errors are final (coded, timeouts
included): `GatewaySchema.execute` (HTTP), `GatewaySchema.stream` (websockets: at the first
result, so a subscription counts when it sends its first event or error) and
`PreparedOperation.run` (REST, under the name of the route's document). Its labels come from
`OperationMetrics`, an extension that reads them once the document has validated, and hands
them to those places through a context variable (each operation runs in a task of its own, or
one after another in a request's task).

Label values are bounded, so clients cannot grow the number of series: an operation that did not
parse or validate (limits, cost and argument checks included) is `<invalid>`, an unnamed one
`<anonymous>`; a name longer than MAX_NAME_LENGTH, or beyond the first MAX_OPERATION_NAMES
distinct names this process has seen, is `<other>` (the REST routes' names are admitted first).
An error code that is not an upper-case identifier is `<other>` too.

The counters are created at import, as prometheus-client expects; the app turns the counting on
(api/metrics.py `install_metrics`), and without that nothing here runs per operation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Iterable, Iterator
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, get_operation_ast
from prometheus_client import Counter, Gauge
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

INVALID = "<invalid>"
ANONYMOUS = "<anonymous>"
OTHER = "<other>"
UNKNOWN_TYPE = "unknown"  # the operation type of a document that did not parse
MAX_NAME_LENGTH = 100
MAX_OPERATION_NAMES = 200
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")

OPERATIONS = Counter(
    "graphql_operations_total",
    "GraphQL operations answered, by operation name and type (REST routes count as theirs).",
    ["operation_name", "operation_type"],
)
ERRORS = Counter(
    "graphql_errors_total",
    "Errors in GraphQL answers, by operation name and extensions.code.",
    ["operation_name", "code"],
)
SUBSCRIPTIONS = Gauge(
    "graphql_subscriptions",
    "GraphQL subscriptions running now (validated, until they end).",
    multiprocess_mode="livesum",
)
COST_REJECTED = Counter(
    "query_cost_rejected_total",
    "Operations refused for costing more than GRAPHQL_MAX_COST (REST and /graphql).",
)


class OperationNames:
    """The operation names this process labels series with: at most `limit` distinct ones."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.admitted: set[str] = set()

    def label(self, name: str) -> str:
        """`name` itself if it may be a label value, else OTHER (admitting it if there is room)."""
        if name in self.admitted:
            return name
        if len(name) > MAX_NAME_LENGTH or len(self.admitted) >= self.limit:
            return OTHER
        self.admitted.add(name)
        return name


NAMES = OperationNames()


@dataclass
class Labels:
    """The labels of one operation; `counted` once its answer has been."""

    name: str = INVALID
    type: str = UNKNOWN_TYPE
    counted: bool = False


_current: ContextVar[Labels | None] = ContextVar("graphql_operation_labels", default=None)
_codes: dict[str, str] = {}  # a code -> its label value (codes are few: a check once each)


def _code_label(error: GraphQLError) -> str:
    code = str((error.extensions or {}).get("code", ""))
    label = _codes.get(code)
    if label is None:
        label = code if _CODE.fullmatch(code) else OTHER
        if len(_codes) < MAX_OPERATION_NAMES:
            _codes[code] = label
    return label


# Label values -> the counters' children: `labels()` costs more than the increment, and the
# values are bounded (above), so each is looked up once.
_operations: dict[tuple[str, str], Any] = {}
_errors: dict[tuple[str, str], Any] = {}


def count(name: str, operation_type: str, errors: Iterable[GraphQLError] | None) -> None:
    """Count one operation answered, and its errors by code."""
    counter = _operations.get((name, operation_type))
    if counter is None:
        counter = _operations[name, operation_type] = OPERATIONS.labels(name, operation_type)
    counter.inc()
    count_errors(name, errors)


def count_errors(name: str, errors: Iterable[GraphQLError] | None) -> None:
    for error in errors or ():
        code = _code_label(error)
        counter = _errors.get((name, code))
        if counter is None:
            counter = _errors[name, code] = ERRORS.labels(name, code)
        counter.inc()


def count_result(result: Any) -> None:
    """Count the operation the current task ran (labelled by OperationMetrics), with `result`'s
    errors; nothing if no operation was labelled (metrics off)."""
    labels = _current.get()
    if labels is None:
        return
    errors = getattr(result, "errors", None)
    if labels.counted:
        count_errors(labels.name, errors)
        return
    labels.counted = True
    count(labels.name, labels.type, errors)


async def counted(results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """`results` (a stream's), the operation counted with the first and each one's errors."""
    async with aclosing(results):
        async for result in results:
            count_result(result)
            yield result


def labels_of(context: ExecutionContext) -> tuple[str, str]:
    """(name, type) of the operation `context` runs, as label values."""
    document = context.graphql_document
    operation = get_operation_ast(document, context.operation_name) if document else None
    if operation is None:
        return INVALID, UNKNOWN_TYPE
    if context.pre_execution_errors:
        return INVALID, operation.operation.value
    name = NAMES.label(operation.name.value) if operation.name else ANONYMOUS
    return name, operation.operation.value


class OperationMetrics(SchemaExtension):
    """Labels each operation for `count_result` once it has validated, and keeps the
    subscriptions gauge. Must come before the extensions that refuse operations in their
    validation step (hooks exit in reverse order: this one then sees their verdict)."""

    def on_operation(self) -> Iterator[None]:
        self.labels = Labels()
        _current.set(self.labels)
        self.subscribed = False
        try:
            yield
        finally:
            if self.subscribed:
                SUBSCRIPTIONS.dec()

    def on_validate(self) -> Iterator[None]:
        yield
        self.labels.name, self.labels.type = labels_of(self.execution_context)
        if self.labels.type == "subscription" and self.labels.name != INVALID:
            SUBSCRIPTIONS.inc()
            self.subscribed = True
