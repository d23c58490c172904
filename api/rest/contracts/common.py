"""Shapes every contract shares: list envelopes and query parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, get_args, get_type_hints

from pydantic import BaseModel, Field, create_model

from api.rest.route import camel
from graph.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_POSITION

# The last page whose offset is still a position the GraphQL cursors accept.
MAX_PAGE = MAX_POSITION // MAX_PAGE_SIZE

T = TypeVar("T")


class Pagination(BaseModel):
    page: int
    limit: int
    total: int


class ListOf(BaseModel, Generic[T]):
    data: list[T]
    pagination: Pagination


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="1-based page number.")
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page."
    )


def model_of(
    name: str,
    source: type[Any],
    *,
    types: Mapping[str, Any] | None = None,
    added: Mapping[str, Any] | None = None,
    before: str | None = None,
) -> Any:
    """A response model with the fields of the domain dataclass `source`, in its order and with
    its types (all required): a field the domain adds reaches the contract without being
    written again. `types` gives a field the contract's own type (a nested response model);
    `added` are fields the domain computes apart, placed before the field `before` (or last).

    The model is built at run time: its name must be annotated `Any` for mypy to accept it in
    `ListOf[...]`; FastAPI and /openapi.json see every field.
    """
    hints, types, added = get_type_hints(source), types or {}, added or {}
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(source):
        if field.name == before:
            fields.update(added)
        fields[field.name] = types.get(field.name, hints[field.name])
    fields.update({name: kind for name, kind in added.items() if name not in fields})
    required: dict[str, Any] = {field: (kind, ...) for field, kind in fields.items()}
    return create_model(name, **required)


def selection(model: type[BaseModel], *, indent: int) -> str:
    """A document's selection of every field of a response model, one a line, each under the
    contract's name (`mentor_id: mentorId`); a list of a nested model is selected inline."""
    lines = []
    for name, field in model.model_fields.items():
        line = name if camel(name) == name else f"{name}: {camel(name)}"
        nested = [kind for kind in get_args(field.annotation) if _is_model(kind)]
        if nested:
            line += " { " + selection(nested[0], indent=0).replace("\n", " ") + " }"
        lines.append(line)
    return ("\n" + " " * indent).join(lines)


def _is_model(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)
