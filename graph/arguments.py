"""Argument checks that need the variables, so they run after validation and before execution.

- `first` above MAX_PAGE_SIZE: refused before any resolver, rather than by the list's resolver
  after its parents have already run.
- NUL characters: a PostgreSQL text value cannot hold one (the statement would fail: a 500), so
  a string holding one is refused, on SQLite too, to answer alike. Free-form JSON values are
  exempt: they are stored as JSON text, where a NUL is an escape like any other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
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
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from graph.pagination import MAX_PAGE_SIZE

PAGE_SIZE_ARGUMENT = "first"
NUL = "\x00"
NUL_PROBLEM = "must not contain the NUL character (U+0000)"
FREE_FORM = "JSON"  # the scalar of free-form values (status metadata)


def _page_sizes(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> Iterator[tuple[FieldNode, object]]:
    """Each field of the operation about to run with its `first` value (variables resolved)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    } | dict(variables)
    pending, seen = [operation.selection_set], set[str]()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value == PAGE_SIZE_ARGUMENT:
                        node = argument.value
                        value = (
                            values.get(node.name.value)
                            if isinstance(node, VariableNode)
                            else value_from_ast_untyped(node)
                        )
                        yield selection, value
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)


def oversized_page(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The error for the first `first` above MAX_PAGE_SIZE in the operation, if any."""
    for field, value in _page_sizes(document, operation_name, variables):
        # bool is an int subclass; a non-integer fails variable coercion on its own.
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_PAGE_SIZE:
            problem = f"must be between 0 and {MAX_PAGE_SIZE}"
            return GraphQLError(
                f"{PAGE_SIZE_ARGUMENT}: {problem} (got {value} on '{field.name.value}')",
                field,
                extensions={"code": "BAD_USER_INPUT", "fields": {PAGE_SIZE_ARGUMENT: problem}},
            )
    return None


def nul_path(value: object, path: str) -> str | None:
    """`path` if `value` is a string holding a NUL, else None."""
    return path if isinstance(value, str) and NUL in value else None


def _free_form(type_: GraphQLInputType | None) -> bool:
    # JSON values are stored as escaped JSON text, which holds a NUL without harm.
    return type_ is not None and getattr(get_named_type(type_), "name", None) == FREE_FORM


def _nul_in_value(value: object, type_: GraphQLInputType, path: str) -> str | None:
    if _free_form(type_):
        return None
    inner = get_nullable_type(type_)
    if isinstance(inner, GraphQLList) and isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_value(item, inner.of_type, f"{path}.{index}")
            if found is not None:
                return found
    elif isinstance(inner, GraphQLInputObjectType) and isinstance(value, dict):
        for name, item in value.items():
            field = inner.fields.get(name)
            found = _nul_in_value(item, field.type, f"{path}.{name}") if field else None
            if found is not None:
                return found
    return nul_path(value, path)


def nul_error(field: str, node: StringValueNode | None = None) -> GraphQLError:
    """The error for a string holding a NUL character."""
    return GraphQLError(
        f"{field}: {NUL_PROBLEM}",
        node,
        extensions={"code": "BAD_USER_INPUT", "fields": {field: NUL_PROBLEM}},
    )


def nul_in_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The error for the first variable holding a NUL in a string (JSON values aside)."""
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        if name in variables and is_input_type(type_):
            found = _nul_in_value(variables[name], type_, name)
            if found is not None:
                return nul_error(found)
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
    return nul_error("query", finder.found) if finder.found is not None else None


class ArgumentChecks(SchemaExtension):
    """Refuses oversized pages and NUL characters before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None and context.result is None:
            schema, variables = context.schema._schema, context.variables or {}
            error = (
                nul_in_variables(schema, operation, variables)
                or nul_in_document(schema, context.query or "", document)
                or oversized_page(document, context.operation_name, variables)
            )
            if error is not None:
                # A preset result is what Strawberry returns instead of executing.
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
