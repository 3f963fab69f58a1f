"""One rule for every app: `<app>/api_urls.py` holds its API, mounted under /api/v1/, and
`<app>/page_urls.py` its pages, mounted at the root; each module spells out its whole paths
below that mount (grouping some under a prefix of its own). Only what belongs to no app is
routed here."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from greenai_portal.exception_handler import not_found, unavailable_or_server_error
from greenai_portal.health import health

APPS = ("inventory", "accounts", "reports")

urlpatterns = [
    # First: Django tries patterns in order, and the API (CodeCarbon's posts above all) is
    # the hot path.
    path("api/v1/", include([path("", include(f"{app}.api_urls")) for app in APPS])),
    *(path("", include(f"{app}.page_urls")) for app in APPS),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = not_found
handler500 = unavailable_or_server_error
