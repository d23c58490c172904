"""Which route answered a request, as declared: what metrics and access logs label it by."""

from __future__ import annotations

from starlette.types import Scope

UNMATCHED = "<unmatched>"  # no route took the request (unknown path, or refused before routing)


def route_template(scope: Scope) -> str:
    """The template of the route that answered `scope` (`/api/v1/pause-records/{id}`), never the
    raw path, whose ids would make every label and log line unique; or UNMATCHED."""
    route = scope.get("route")
    if route is not None:
        template: str = getattr(route, "path_format", "")
        if template.startswith("/"):
            return template
        # FastAPI (0.16x) keeps an included router's routes at their own path (`/graphql`'s are
        # ""): the template with the router's prefix is in its effective route context.
        effective = scope.get("fastapi", {}).get("effective_route_context")
        template = getattr(effective, "path_format", "")
        return template if template.startswith("/") else UNMATCHED
    if "app_root_path" in scope:  # a Mount (static files), for which Starlette sets no route
        return str(scope["root_path"])[len(scope["app_root_path"]) :] + "/{path}"
    if scope.get("endpoint") is not None and not scope.get("path_params"):
        return str(scope["path"])  # a plain Starlette route without parameters (/openapi.json)
    return UNMATCHED
