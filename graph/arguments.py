"""Argument checks that need the variables, so they run after validation and before execution.

- `first` above MAX_PAGE_SIZE: refused before any resolver, rather than by the list's resolver
  after its parents have already run.
- Text that cannot be stored and read back (domain.validation `text_problem`): a NUL, which a
  PostgreSQL text value cannot hold (the statement would fail: a 500), refused on SQLite too to
  answer alike; and a lone surrogate (`"\\ud800"` in JSON), which no UTF-8 encoder accepts,
  neither the driver's nor the response's. Free-form JSON values may hold a NUL (they are stored
  as JSON text, where it is an escape like any other) but no surrogate, in keys or values. Every
  string of the variables is checked, declared or not, so none reaches an error message either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_input_type,
    type_from_ast,
    value_from_ast_untyped,
    visit,
)
from strawberry.extensions import SchemaExtension

from domain.validation import NUL, NUL_PROBLEM, text_problem
from graph.pagination import MAX_PAGE_SIZE
from graph.validated import refuse, validated

PAGE_SIZE_ARGUMENT = "first"
FREE_FORM = "JSON"  # the scalar of free-form values (status metadata)


@dataclass(frozen=True)
class OperationInputs:
    """The operation about to run, its fragments and its variables (declared defaults applied):
    what every walk of a document before execution needs (page sizes here, cost in graph.cost)."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    @classmethod
    def of(
        cls, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
    ) -> OperationInputs | None:
        """None when the document names no such operation (execution refuses it anyway)."""
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        values = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        } | dict(variables)
        return cls(operation=operation, fragments=fragments, variables=values)

    def value(self, node: ValueNode) -> object:
        """A literal's value, or the value of the variable it names (None if not given)."""
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node, self.variables)

    def argument(self, field: FieldNode, name: str) -> object:
        """The value `field` passes for argument `name`; None when it passes none."""
        for argument in field.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None


def as_int(value: object) -> int | None:
    """`value` as GraphQL's Int coerces it (so `100.0` from JSON is 100), or None if it is not
    one: then variable coercion refuses it on its own."""
    try:
        coerced = GraphQLInt.parse_value(value)
    except (GraphQLError, TypeError, ValueError):
        return None
    return coerced if isinstance(coerced, int) else None


def _page_sizes(inputs: OperationInputs) -> Iterator[tuple[FieldNode, object]]:
    """Each field of the operation that passes `first`, with its value (variables resolved)."""
    pending, seen = [inputs.operation.selection_set], set[str]()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if any(a.name.value == PAGE_SIZE_ARGUMENT for a in selection.arguments or ()):
                    yield selection, inputs.argument(selection, PAGE_SIZE_ARGUMENT)
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in inputs.fragments:
                    seen.add(name)
                    pending.append(inputs.fragments[name].selection_set)


def oversized_page(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The error for the first `first` above MAX_PAGE_SIZE in the operation, if any."""
    inputs = OperationInputs.of(document, operation_name, variables)
    for field, value in _page_sizes(inputs) if inputs is not None else ():
        size = as_int(value)
        if size is not None and size > MAX_PAGE_SIZE:
            problem = f"must be between 0 and {MAX_PAGE_SIZE}"
            return GraphQLError(
                f"{PAGE_SIZE_ARGUMENT}: {problem} (got {size} on '{field.name.value}')",
                field,
                extensions={"code": "BAD_USER_INPUT", "fields": {PAGE_SIZE_ARGUMENT: problem}},
            )
    return None


def _free_form(type_: GraphQLInputType | None) -> bool:
    # JSON values are stored as escaped JSON text, which holds a NUL without harm.
    return type_ is not None and getattr(get_named_type(type_), "name", None) == FREE_FORM


def _text_in_value(
    value: object, type_: GraphQLInputType | None, path: str
) -> tuple[str, str] | None:
    """(path, problem) of the first string in `value` (keys included) that cannot be stored;
    `type_` (None where the schema declares nothing) tells where free-form JSON begins.
    Iterative: a variable nested a thousand levels deep cannot exhaust the stack."""
    pending: list[tuple[object, GraphQLInputType | None, str, bool]] = [
        (value, type_, path, _free_form(type_))
    ]
    while pending:
        item, kind, where, free = pending.pop()
        inner = get_nullable_type(kind) if kind is not None and not free else None
        if isinstance(item, str):
            problem = text_problem(item, nul_allowed=free)
            if problem is not None:
                return where, problem
        elif isinstance(item, list):
            of = inner.of_type if isinstance(inner, GraphQLList) else None
            pending.extend(
                (e, of, f"{where}.{i}", free or _free_form(of)) for i, e in enumerate(item)
            )
        elif isinstance(item, dict):
            fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
            for name, entry in item.items():
                problem = text_problem(name, nul_allowed=free) if isinstance(name, str) else None
                if problem is not None:  # named by its object: the key itself cannot be printed
                    return where, f"has a key that {problem}"
                field = fields.get(name)
                of = field.type if field is not None else None
                pending.append((entry, of, f"{where}.{name}", free or _free_form(of)))
    return None


def text_error(field: str, problem: str, node: StringValueNode | None = None) -> GraphQLError:
    """The error for a string that cannot be stored (NUL, lone surrogate)."""
    return GraphQLError(
        f"{field}: {problem}",
        node,
        extensions={"code": "BAD_USER_INPUT", "fields": {field: problem}},
    )


def text_in_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The error for the first variable holding text that cannot be stored, if any."""
    declared = {d.variable.name.value: d.type for d in operation.variable_definitions or ()}
    for name, value in variables.items():
        problem = text_problem(name)
        if problem is not None:  # an undeclared name; the name itself cannot be printed
            return text_error("variables", f"has a name that {problem}")
        node = declared.get(name)
        type_ = type_from_ast(schema, node) if node is not None else None
        found = _text_in_value(value, type_ if is_input_type(type_) else None, name)
        if found is not None:
            return text_error(*found)
    return None


class _NulLiteral(Visitor):
    """Finds a string literal holding a NUL, outside JSON literals."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: StringValueNode | None = None

    def enter_object_value(self, *_: Any) -> Any:
        return self.SKIP if _free_form(self.type_info.get_input_type()) else None

    enter_list_value = enter_object_value

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if NUL in node.value and not _free_form(self.type_info.get_input_type()):
            self.found = node
            return self.BREAK
        return None


def nul_in_document(
    schema: GraphQLSchema, source: str, document: DocumentNode
) -> GraphQLError | None:
    """The error for a string literal holding a NUL (JSON literals aside), if any."""
    # A NUL literal is written raw or as a \u escape: skip the walk for the usual query.
    if NUL not in source and "\\u" not in source:
        return None
    type_info = TypeInfo(schema)
    finder = _NulLiteral(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    found = finder.found
    return text_error("query", NUL_PROBLEM, found) if found is not None else None


class ArgumentChecks(SchemaExtension):
    """Refuses oversized pages and text that cannot be stored before any resolver runs, in the
    validation step (graph.validated), so subscriptions are refused too."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if validated(context) and document is not None and operation is not None:
            schema, variables = context.schema._schema, context.variables or {}
            error = (
                text_in_variables(schema, operation, variables)
                or nul_in_document(schema, context.query or "", document)
                or oversized_page(document, context.operation_name, variables)
            )
            if error is not None:
                refuse(context, error)
        yield
