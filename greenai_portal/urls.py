from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from greenai_portal.exception_handler import not_found, unavailable_or_server_error
from greenai_portal.health import health
from reports.dashboard import model_page, overview, team_page
from reports.data_page import data_page
from reports.model_documentation_apis import model_documentation_pdf
from reports.records_urls import api_urlpatterns as records_api
from reports.records_urls import page_urlpatterns as records_pages
from reports.target_apis import target_create_view, target_delete_view, targets_page
from reports.variants_apis import variant_comparison_page
from reports.what_if_apis import what_if_page

api_v1 = [
    path("", include("inventory.urls")),
    path("", include("accounts.api_urls")),
    path("", include("inventory.pipeline.urls")),
    path("", include("reports.urls")),
    path("", include(records_api)),
]

urlpatterns = [
    # First: Django tries patterns in order, and the API (CodeCarbon's posts above all) is
    # the hot path.
    path("api/v1/", include(api_v1)),
    path("", overview, name="overview"),
    path("teams/<slug:slug>/", team_page, name="dashboard-team"),
    path("models/<int:model_id>/", model_page, name="dashboard-model"),
    path("models/<int:model_id>/variants/", variant_comparison_page, name="model-variants"),
    path(
        "models/<int:model_id>/ai-act.pdf",
        model_documentation_pdf,
        name="model-documentation-pdf",
    ),
    path("what-if/", what_if_page, name="what-if-page"),
    path("settings/targets/", targets_page, name="settings-targets"),
    path("settings/targets/create/", target_create_view, name="settings-target-create"),
    path("settings/targets/<int:pk>/delete/", target_delete_view, name="settings-target-delete"),
    path("settings/", include("accounts.urls")),
    path("data/", data_page, name="data"),
    path("data/imports/", include("inventory.imports.urls")),
    path("", include("inventory.page_urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reports/", include("reports.page_urls")),
    path("records/", include(records_pages)),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = not_found
handler500 = unavailable_or_server_error
