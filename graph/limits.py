"""Abuse limits for `/graphql`: what a single operation may ask for, checked before it runs.

Depth, aliases and tokens use Strawberry's own limiters; root fields are checked here, page sizes
in `graph.arguments`. Every rejection carries its own `extensions.code`, and none of them lets a
resolver run: tokens stop the parser, the rules below stop validation, and arguments and cost
are checked once the document validated (graph.validated), on every transport.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_ROOT_FIELDS = "TOO_MANY_ROOT_FIELDS"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one GraphQL operation may ask for; the defaults are the safe ones."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_root_fields: int = 10
    # graph.cost: admits the full introspection query, every REST document, a 50-mentor screen
    # and 100 mentors' stats lists at their default pages; one more nested page of 100 is over
    # it, and the costliest admitted operations end well inside the timeout (README "Query cost").
    max_cost: int = 6_000
    timeout_seconds: float = 10.0
    batch_operations: int = 0  # 0: a JSON array of operations is refused
    introspection: bool = True
    suggestions: bool = True


def timeout_error(seconds: float) -> GraphQLError:
    """The error of an operation cancelled at its deadline."""
    return GraphQLError(
        f"The operation did not finish within {seconds:g} s and was cancelled.",
        extensions={"code": TIMEOUT},
    )


class _CodingContext:
    """A validation context whose reported errors carry `code`; everything else passes through."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self._code}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """`rule`, with every error it reports carrying `extensions.code = code`."""

    def __init__(self: ASTValidationRule, context: ValidationContext) -> None:
        # Strawberry's limiters report through the context they were given, not via the rule.
        rule.__init__(self, cast(ValidationContext, _CodingContext(context, code)))

    return type(f"{rule.__name__}Coded", (rule,), {"__init__": __init__})


def _root_field_count(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += 1
        elif isinstance(selection, InlineFragmentNode):
            count += _root_field_count(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:  # unknown fragments are another rule's error
                count += _root_field_count(fragment.selection_set, fragments)
    return count


def root_field_rule(max_root_fields: int) -> type[ASTValidationRule]:
    """A rule refusing operations that select more than `max_root_fields` top-level fields."""

    class RootFieldLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            count = _root_field_count(node.selection_set, fragments)
            if count > max_root_fields:
                self.report_error(
                    GraphQLError(
                        f"The operation selects {count} root fields; at most {max_root_fields}"
                        " are allowed (send several requests instead).",
                        node,
                        extensions={"code": TOO_MANY_ROOT_FIELDS},
                    )
                )

    return RootFieldLimit


class HideSuggestions(SchemaExtension):
    """Drops graphql-core's "Did you mean ...?" hints, which spell out the schema to a prober."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in (result.errors or []) if result is not None else []:
            error.message = error.message.split(" Did you mean ")[0]


def limit_extensions(limits: Limits) -> list[type[SchemaExtension] | Any]:
    """The schema extensions (classes or factories) that enforce `limits`."""
    rules = [
        coded(depth_validator(limits.max_depth, None), QUERY_TOO_DEEP),
        coded(alias_validator(limits.max_aliases), TOO_MANY_ALIASES),
        root_field_rule(limits.max_root_fields),
    ]
    if not limits.introspection:
        rules.append(coded(NoSchemaIntrospectionCustomRule, INTROSPECTION_DISABLED))
    # The rule classes are built once, here: ValidationCache keys on them, so per-request
    # classes would never hit the cache.
    extensions: list[type[SchemaExtension] | Any] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),
    ]
    if not limits.suggestions:
        extensions.append(HideSuggestions)
    return extensions
