"""Endpoints and pages as the URL resolver and the OpenAPI schema know them, found at run time.

New routes appear here by themselves; the suites then demand an expectation for each, so a new
endpoint cannot ship without its access rules being written down and tested.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str  # the URL name, namespaced ("admin:index") where it has one
    route: str  # the pattern as written, e.g. "api/v1/imports/<int:job_id>/"
    callback: object

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/v1/")

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)

    def api_methods(self) -> tuple[str, ...]:
        """The HTTP methods a DRF view implements (pages declare theirs in the table)."""
        cls = self.view_class
        return tuple(m.upper() for m in HTTP_METHODS if cls is not None and hasattr(cls, m))

    def path(self, values: dict[str, object]) -> str:
        def fill(match: re.Match) -> str:
            return str(values[match.group(1)])

        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, self.route)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield Route(name, prefix + str(pattern.pattern), pattern.callback)


def routes() -> list[Route]:
    """Every URL of the project except the Django admin's own (only its index is kept)."""
    found = []
    for route in _walk(get_resolver().url_patterns):
        if route.route.startswith("admin/") and route.name != "admin:index":
            continue
        found.append(route)
    return found


def unnamed_routes() -> list[str]:
    return [r.route for r in routes() if not r.name]


def schema_operations(schema: dict) -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in an OpenAPI document."""
    return {
        (method.upper(), path)
        for path, item in schema.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def openapi_path(route: Route) -> str:
    """The OpenAPI template of a route: "api/v1/x/<int:job_id>/" → "/api/v1/x/{job_id}/"
    (drf-spectacular names a `pk` parameter `id`)."""

    def name(match: re.Match) -> str:
        return "{id}" if match.group(1) == "pk" else "{" + match.group(1) + "}"

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", name, route.route)
