"""The cost of an operation, computed after validation and before any resolver runs.

The cost bounds the number of objects the answer can hold, which is what execution time and
memory follow (a timeout cannot interrupt CPU-bound work, so the budget must forbid it):

- a scalar or enum field costs 0 (it is read from a row its object already loaded);
- an object field costs 1 plus the cost of its selection;
- a list field costs 1 plus its size times (1 plus the cost of its selection): its `first`
  (variables resolved; the argument's default when absent or null), or, inside a connection
  (a field with `first` returning one object), the connection's `first` for `nodes` and `edges`;
  a few lists have a fixed bound instead (`LIST_SIZES`);
- fragments and inline fragments count where they are spread, as often as they are spread;
- `@skip`/`@include` are ignored (an upper bound stays an upper bound);
- introspection (`__schema`, `__type`) counts the schema itself: its lists are as long as the
  schema makes them, so the full query GraphiQL sends costs what it returns (not a product of
  the longest lists, which would refuse it), and walks of the schema over and over grow as
  their answers would (graphql-core's MaxIntrospectionDepthRule refuses the deepest ones).

Written here rather than taken from a library: Strawberry has no cost extension (its PR
#3721 is still open), and `graphql-complexity` 1.0, the one Python package for graphql-core,
costs every operation of a document rather than the one named, reads a variable's declared
default only when it is set, knows no connections (a `first` on the connection sizing its
`nodes`), prices introspection like data (the full query would be refused or the budget
useless), and its Strawberry extension re-renders the SDL on every request; it would also be a
new dependency. The walk is small and shares `graph.arguments.OperationInputs` with the page check.

Both transports call `check_cost`: Strawberry through `QueryCost`, in the validation step, which
`execute`, `stream` and `subscribe` all run (so websocket operations and subscriptions are
checked too), and the REST layer in `graph.executor.PreparedOperation.run`.

Every selection set is costed once per (type, page) or introspection subject, so a document of
fragments spread into fragments costs its walk no more than its size times the schema's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLDirective,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.type.introspection import introspection_types
from strawberry.extensions import SchemaExtension

from graph.arguments import PAGE_SIZE_ARGUMENT, OperationInputs, as_int
from graph.metrics import COST_REJECTED
from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from graph.validated import refuse, validated

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"

# The default milestone catalogue (docs/domain.md); a mentor holds at most one row per entry.
MILESTONE_CATALOGUE = 15
# Lists without `first` and outside a connection: what bounds their length.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Query", "milestoneDefinitions"): MILESTONE_CATALOGUE,
    ("Mentor", "milestones"): MILESTONE_CATALOGUE,
    ("MilestoneDetection", "milestones"): MILESTONE_CATALOGUE,
    ("YearContribution", "monthlyBreakdown"): 12,
}
# Fields whose result's lists are as long as one of their list arguments (a batch's payload).
SIZED_BY_ARGUMENT: Mapping[tuple[str, str], str] = {
    ("Mutation", "recordActivities"): "input",
}
# A list nothing above bounds is priced as a full page: never free, and a test lists them.
UNKNOWN_LIST_SIZE = MAX_PAGE_SIZE
_SCHEMA, _TYPE = "__schema", "__type"


def _size(value: object, default: int) -> int:
    """A page size as execution will read it (`100.0` is 100); a value that is not an Int is
    refused by variable coercion, and costs the default meanwhile."""
    size = as_int(value)
    return default if size is None else max(size, 0)


def _is_list(type_: GraphQLType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def _introspected(subject: object, field_name: str, schema: GraphQLSchema) -> object:
    """What graphql-core's introspection resolver of `field_name` answers for `subject`:
    a sequence for lists, an object or None otherwise (graphql.type.introspection)."""
    if isinstance(subject, GraphQLSchema):
        return {
            "types": list(schema.type_map.values()),
            "directives": list(schema.directives),
            "queryType": schema.query_type,
            "mutationType": schema.mutation_type,
            "subscriptionType": schema.subscription_type,
        }.get(field_name)
    if isinstance(subject, GraphQLField | GraphQLArgument | GraphQLInputField):
        if field_name == "args":
            return list(subject.args.values()) if isinstance(subject, GraphQLField) else []
        return subject.type if field_name == "type" else None
    if isinstance(subject, GraphQLDirective):
        return list(subject.args.values()) if field_name == "args" else None
    if field_name == "ofType":
        return getattr(subject, "of_type", None)
    if isinstance(subject, GraphQLObjectType | GraphQLInterfaceType):
        if field_name == "fields":
            return list(subject.fields.values())
        if field_name == "interfaces":
            return list(subject.interfaces)
    if isinstance(subject, GraphQLInterfaceType | GraphQLUnionType):
        return list(schema.get_possible_types(subject)) if field_name == "possibleTypes" else None
    if isinstance(subject, GraphQLEnumType):
        return list(subject.values.values()) if field_name == "enumValues" else None
    if isinstance(subject, GraphQLInputObjectType):
        return list(subject.fields.values()) if field_name == "inputFields" else None
    return None


@dataclass
class _Costing:
    schema: GraphQLSchema
    inputs: OperationInputs
    memo: dict[tuple[int, str, int | None, int | None], int] = field(default_factory=dict)

    def selection_set(
        self, node: SelectionSetNode, parent: GraphQLNamedType, page: int | None, subject: object
    ) -> int:
        """The cost of `node` on `parent`; `page` sizes a connection's lists; `subject` is what
        an introspection type describes (held by id: it lives as long as the schema)."""
        key = (id(node), parent.name, page, None if subject is None else id(subject))
        if key not in self.memo:
            self.memo[key] = sum(
                self._selection(selection, parent, page, subject) for selection in node.selections
            )
        return self.memo[key]

    def _selection(
        self, selection: SelectionNode, parent: GraphQLNamedType, page: int | None, subject: object
    ) -> int:
        if isinstance(selection, FieldNode):
            return self.field(selection, parent, page, subject)
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.inputs.fragments.get(selection.name.value)
            if fragment is None:
                return 0  # validation refuses it; nothing runs
            condition: NamedTypeNode | None = fragment.type_condition
            selections = fragment.selection_set
        else:
            assert isinstance(selection, InlineFragmentNode)
            condition, selections = selection.type_condition, selection.selection_set
        on = self.schema.get_type(condition.name.value) if condition is not None else parent
        # Every branch counts, as if the object were of each type: an upper bound.
        return self.selection_set(selections, on, page, subject) if on is not None else 0

    def field(
        self, node: FieldNode, parent: GraphQLNamedType, page: int | None, subject: object
    ) -> int:
        name = node.name.value
        if name == _SCHEMA:
            return 1 + self._below(node, introspection_types["__Schema"], None, self.schema)
        if name == _TYPE:
            described = self.schema.get_type(str(self.inputs.argument(node, "name")))
            if described is None:
                return 1
            return 1 + self._below(node, introspection_types["__Type"], None, described)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0  # __typename on a union, or a type validation refused
        definition = parent.fields.get(name)
        if definition is None:
            return 0  # __typename, or a field validation refused
        result = get_named_type(definition.type)
        if is_leaf_type(result):
            return 0
        if parent.name in introspection_types:
            return self._introspection(node, parent, result, subject, _is_list(definition.type))
        own_page = self._own_page(node, parent, definition)
        if _is_list(definition.type):
            size = (
                own_page
                if own_page is not None
                else page
                if page is not None
                else LIST_SIZES.get((parent.name, name), UNKNOWN_LIST_SIZE)
            )
            return 1 + size * (1 + self._below(node, result, None, None))
        return 1 + self._below(node, result, own_page, None)

    def _own_page(
        self, node: FieldNode, parent: GraphQLNamedType, definition: GraphQLField
    ) -> int | None:
        """The page this field asks for: its `first`, or the length of its batch argument."""
        batch = SIZED_BY_ARGUMENT.get((parent.name, node.name.value))
        if batch is not None:
            value = self.inputs.argument(node, batch)
            return len(value) if isinstance(value, list) else 1
        argument = definition.args.get(PAGE_SIZE_ARGUMENT)
        if argument is None:
            return None
        default = _size(argument.default_value, DEFAULT_PAGE_SIZE)
        return _size(self.inputs.argument(node, PAGE_SIZE_ARGUMENT), default)

    def _below(
        self, node: FieldNode, type_: GraphQLNamedType, page: int | None, subject: object
    ) -> int:
        if node.selection_set is None:
            return 0
        return self.selection_set(node.selection_set, type_, page, subject)

    def _introspection(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        result: GraphQLNamedType,
        subject: object,
        is_list: bool,
    ) -> int:
        value = _introspected(subject, node.name.value, self.schema)
        if value is None:
            return 1
        items: Sequence[object] = value if isinstance(value, list) else [value]
        cost = sum(1 + self._below(node, result, None, item) for item in items)
        return 1 + cost if is_list else cost


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> int:
    """The cost of the operation of `document` that would run (0 if none would)."""
    inputs = OperationInputs.of(document, operation_name, variables)
    if inputs is None:
        return 0
    root = schema.get_root_type(inputs.operation.operation)
    if root is None:
        return 0
    return _Costing(schema, inputs).selection_set(inputs.operation.selection_set, root, None, None)


@dataclass(frozen=True)
class CostCheck:
    """An operation's cost, and the error refusing it when the budget does not allow it."""

    cost: int
    error: GraphQLError | None


def check_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    max_cost: int,
) -> CostCheck:
    """The one check both transports run: `/graphql` (QueryCost) and REST (PreparedOperation)."""
    cost = operation_cost(schema, document, operation_name, variables)
    if cost <= max_cost:
        return CostCheck(cost, None)
    COST_REJECTED.inc()
    error = GraphQLError(
        f"The operation costs {cost:,}; at most {max_cost:,} is allowed. Ask for smaller pages"
        " (`first`) or fewer nested lists, or send several requests.",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "maxCost": max_cost},
    )
    return CostCheck(cost, error)


class QueryCost(SchemaExtension):
    """Refuses an operation over the budget once it has validated: a validation error of its own,
    so queries, mutations and subscriptions, over HTTP and websockets, stop before execution."""

    def __init__(self, *, max_cost: int, expose: bool = False) -> None:
        super().__init__()
        self.max_cost = max_cost
        self.expose = expose
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if validated(context):
            assert context.graphql_document is not None
            check = check_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables or {},
                self.max_cost,
            )
            self.cost = check.cost
            if check.error is not None:
                refuse(context, check.error)
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.expose and self.cost is not None else {}
