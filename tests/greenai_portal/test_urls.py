"""One URL convention for every app: its API in `<app>/api_urls.py`, mounted under /api/v1/, its
pages in `<app>/page_urls.py`, mounted at the root, and the API tried first."""

from pathlib import Path

from django.conf import settings
from django.urls import URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir())


def routes() -> list[tuple[str, str]]:
    """(full route, url module it is written in) of every pattern of the apps, in the order
    Django tries them."""
    found = []

    def walk(patterns, prefix: str, module: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                # include("app.x_urls") holds the module; include([...]) a list of its module's.
                inner = getattr(pattern.urlconf_name, "__name__", module)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif module.split(".")[0] in APPS:
                found.append((prefix + str(pattern.pattern), module))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_the_apps_are_those_of_the_project():
    assert APPS == ["accounts", "inventory", "reports"]


def test_each_app_routes_in_an_api_and_a_page_module_and_no_other():
    written = sorted(
        str(p.relative_to(ROOT)) for app in APPS for p in (ROOT / app).rglob("*urls*.py")
    )
    expected = sorted(f"{app}/{kind}_urls.py" for app in APPS for kind in ("api", "page"))
    assert written == expected


def test_every_api_route_is_under_api_v1_and_no_page_route_is():
    misplaced = [
        (route, module)
        for route, module in routes()
        if route.startswith("api/v1/") != module.endswith(".api_urls")
    ]
    assert misplaced == []
    # Each app's modules are mounted (a module left out would route nothing).
    assert {module for _, module in routes()} == {
        f"{app}.{kind}_urls" for app in APPS for kind in ("api", "page")
    }


def test_the_api_is_tried_before_any_page():
    kinds = [module.endswith(".api_urls") for _, module in routes()]
    assert kinds == sorted(kinds, reverse=True)  # every API route, then every page route
