"""One span per GraphQL operation, for `/graphql` and the REST routes alike.

Written here rather than using Strawberry's `OpenTelemetryExtension`: that one wraps every
resolver in a span (making each field, even a plain attribute read, an awaited call), starts its
operation span without making it current (so SQL spans would not nest under it), marks it a
second SERVER span, and records the whole document as an attribute. This is one INTERNAL span
per operation, current while it runs, named and labelled by the OpenTelemetry semantic
conventions for GraphQL ("query MentorStatus"; `graphql.operation.name`, `.type`); the document
itself is not recorded (its literals may be personal data). An operation whose answer carries
errors ends with status ERROR, described by their `extensions.code`s.

The tracer comes from the app (api/tracing.py); without one nothing here runs at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

# The conventions' name for an operation whose type is unknown (it did not parse).
UNKNOWN_OPERATION = "GraphQL Operation"


@dataclass(frozen=True)
class OperationLabel:
    """What an operation span is named and labelled with."""

    span_name: str
    attributes: dict[str, str]

    @classmethod
    def of(cls, operation_type: str | None, name: str | None) -> OperationLabel:
        if operation_type is None:
            return cls(UNKNOWN_OPERATION, {"graphql.operation.name": name} if name else {})
        attributes = {"graphql.operation.type": operation_type}
        if name:
            attributes["graphql.operation.name"] = name
        return cls(f"{operation_type} {name}" if name else operation_type, attributes)


def label_of(execution_context: ExecutionContext) -> OperationLabel:
    """The label of the operation Strawberry ran (or tried to: it may not have parsed)."""
    try:
        operation_type: str | None = execution_context.operation_type.value
    except Exception:  # no document, or no operation by that name: the label says unknown
        operation_type = None
    return OperationLabel.of(operation_type, execution_context.operation_name)


def record_errors(span: Span, errors: Iterable[GraphQLError] | None) -> None:
    """Mark the span failed if the answer carries errors, described by their codes."""
    errors = list(errors or ())
    if errors:
        codes = {code for error in errors if (code := (error.extensions or {}).get("code"))}
        span.set_status(Status(StatusCode.ERROR, ", ".join(sorted(codes)) or None))


@contextmanager
def operation_span(tracer: Tracer, label: OperationLabel) -> Iterator[Span]:
    """The operation's span, current inside the block (its SQL spans are its children)."""
    with tracer.start_as_current_span(
        label.span_name, kind=SpanKind.INTERNAL, attributes=label.attributes
    ) as span:
        yield span


class OperationTracing(SchemaExtension):
    """The span of each operation `/graphql` and websockets run (subscriptions: its lifetime).

    Named once the operation is known (after parsing), so it is started generic and renamed.
    """

    def __init__(
        self, *, tracer: Tracer, execution_context: ExecutionContext | None = None
    ) -> None:
        self.tracer = tracer
        if execution_context is not None:
            self.execution_context = execution_context

    def on_operation(self) -> Iterator[None]:
        with operation_span(self.tracer, OperationLabel.of(None, None)) as span:
            try:
                yield
            finally:
                label = label_of(self.execution_context)
                span.update_name(label.span_name)
                span.set_attributes(label.attributes)
            result: Any = self.execution_context.result
            record_errors(span, getattr(result, "errors", None))
