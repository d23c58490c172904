"""The committed SDL equals the code, and every REST route's document matches its contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, SelectionSetNode
from pydantic import BaseModel

from api.rest.register import ETAG_KEY
from api.rest.route import RestRoute
from api.rest.table import ROUTES
from graph.executor import PreparedOperation
from graph.schema import build_schema, export_sdl

ROOT = Path(__file__).parent.parent


def test_schema_graphql_is_the_running_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), "run `mentor-gateway export-schema` and commit schema.graphql"


def _selected(
    selection: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> dict[str, Any]:
    """Response key -> nested selection (or None for leaves), with fragments inlined."""
    keys: dict[str, Any] = {}
    for node in selection.selections:
        if isinstance(node, FragmentSpreadNode):
            keys.update(_selected(fragments[node.name.value].selection_set, fragments))
        elif isinstance(node, FieldNode):
            key = node.alias.value if node.alias else node.name.value
            keys[key] = _selected(node.selection_set, fragments) if node.selection_set else None
    return keys


def _model_shape(model: type[BaseModel]) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        shape[name] = _model_shape(annotation) if nested else None  # type: ignore[arg-type]
    return shape


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_document_selects_exactly_the_documented_fields(route: RestRoute) -> None:
    prepared = PreparedOperation(build_schema(), route.operation)  # validates, or raises
    definitions = prepared.document.definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in definitions if not isinstance(d, FragmentDefinitionNode))
    root = _selected(operation.selection_set, fragments)  # type: ignore[attr-defined]
    result = root[route.result]
    if route.paginated:
        assert set(result) == {"totalCount", "nodes"}
        documented = _model_shape(route.response)["data"]
        result = result["nodes"]
    else:
        documented = _model_shape(route.response)
        result.pop(ETAG_KEY, None)
    assert result == documented


def test_every_route_is_served_at_both_paths() -> None:
    paths = {(route.method, route.path) for route in ROUTES}
    assert len(paths) == len(ROUTES)
    assert all(route.doubled_path.startswith(route.catalogue_base + "/api/v1/") for route in ROUTES)
