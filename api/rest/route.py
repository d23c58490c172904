"""A legacy REST route, declared as data: which GraphQL operation serves it and how."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from graph.pagination import encode_cursor

Method = Literal["GET", "POST", "PUT", "DELETE"]
_PATH_PARAM = re.compile(r"{(\w+)}")


def _drop_null(schema: dict[str, Any]) -> None:
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    else:
        schema["anyOf"] = branches
    schema.pop("default", None)


def omittable(*, description: str | None = None, **constraints: Any) -> Any:
    """A body field that may be left out but not sent as null: /openapi.json shows no null, and
    a null still reaches the domain, whose 422 says "omit it to leave it unchanged"."""
    return Field(default=None, description=description, json_schema_extra=_drop_null, **constraints)


def camel(name: str) -> str:
    """snake_case to camelCase, as Strawberry names fields and arguments."""
    return to_camel(name)


class RequestBody(BaseModel):
    """A legacy request body: read in the contract's snake_case, written out as the GraphQL
    input's camelCase (nested models too; free-form JSON values are left as they are)."""

    model_config = ConfigDict(alias_generator=AliasGenerator(serialization_alias=to_camel))


@dataclass(frozen=True, kw_only=True)
class RestRoute:
    """One legacy endpoint; `operation` is a GraphQL document run through `/graphql`'s resolvers.

    The operation's variables come from the path parameters (camelCased), the query model's
    fields (`page`/`limit` become `first`/`after`), the body (as `$input`) and `headers`.
    `tag` names the legacy service (its group in /openapi.json); `service` sets it.
    """

    method: Method
    path: str  # the canonical path, `{name}` for parameters
    catalogue_base: str  # the API catalogue's prefix: clients also call base + path
    operation: str
    result: str  # the field of `data` that holds the answer
    response: type[BaseModel]
    summary: str
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # HTTP header -> variable
    paginated: bool = False
    not_found: str | None = None  # the resource a null result names in its 404
    status_of: Callable[[Mapping[str, Any]], int] | None = None
    # The other success statuses `status_of` can answer -> when; same `response` model.
    also: Mapping[int, str] = field(default_factory=dict)
    tag: str = ""

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        """A stable OpenAPI operationId, such as `get_api_v1_pause_records_id`."""
        return re.sub(r"\W+", "_", f"{self.method.lower()} {self.path}").strip("_")

    @property
    def doubled_path(self) -> str:
        return self.catalogue_base + self.path


def service(tag: str, *routes: RestRoute) -> list[RestRoute]:
    """One legacy service's routes, tagged with its name."""
    return [replace(route, tag=tag) for route in routes]


def page_variables(page: int, limit: int) -> dict[str, Any]:
    """REST's `page`/`limit` as a connection's `first`/`after`."""
    offset = (page - 1) * limit
    return {"first": limit, "after": encode_cursor(offset - 1) if offset else None}


def operation_variables(
    route: RestRoute,
    *,
    path: Mapping[str, str],
    query: BaseModel | None,
    body: BaseModel | None,
    headers: Mapping[str, str | None],
) -> dict[str, Any]:
    variables: dict[str, Any] = {camel(name): value for name, value in path.items()}
    if query is not None:
        values = query.model_dump(mode="json", exclude_none=True)
        if route.paginated:
            variables.update(page_variables(values.pop("page"), values.pop("limit")))
        variables.update({camel(name): value for name, value in values.items()})
    if body is not None:
        variables["input"] = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for header, variable in route.headers.items():
        if headers.get(header) is not None:
            variables[variable] = headers[header]
    return variables
