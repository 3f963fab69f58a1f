"""Server-rendered pages of the figures: the overview, team and model pages, what-if, targets,
the data page, the quarterly and annual reports, and the record browser."""

from django.urls import include, path

from reports import annual_views, records_views, views
from reports.dashboard import model_page, overview, team_page
from reports.data_page import data_page
from reports.model_documentation_apis import model_documentation_pdf
from reports.target_apis import target_create_view, target_delete_view, targets_page
from reports.variants_apis import variant_comparison_page
from reports.what_if_apis import what_if_page

report_pages = [
    path("", views.reports_index, name="reports"),
    path("annual/", annual_views.annual_latest, name="report-annual-latest"),
    path("annual/<int:fiscal_year>/", annual_views.annual_page, name="report-annual"),
    path("<int:year>/Q<int:quarter>/", views.report_quarter, name="report-quarter"),
    path("<int:year>/Q<int:quarter>/lock/", views.report_lock_page, name="report-lock-page"),
    path(
        "<int:year>/Q<int:quarter>/close/approve/",
        views.report_close_approve_page,
        name="report-close-approve-page",
    ),
    path(
        "<int:year>/Q<int:quarter>/close/send-back/",
        views.report_close_send_back_page,
        name="report-close-send-back-page",
    ),
    path(
        "<int:year>/Q<int:quarter>/restate/",
        views.report_restate_page,
        name="report-restate-page",
    ),
    path(
        "<int:year>/Q<int:quarter>/export/",
        views.report_export_page_create,
        name="report-export-create-page",
    ),
    path("exports/<int:pk>/", views.report_export_page, name="report-export-page"),
    path("exports/<int:pk>/pdf/", views.report_export_download, name="report-export-download"),
]

record_pages = [
    path("", records_views.record_list_page, name="records"),
    path("csv/", records_views.record_csv, name="records-csv"),
    # Before <kind>/: "batches" is not a record kind.
    path("batches/<int:pk>/", records_views.record_batch_page, name="record-batch"),
    path("<slug:kind>/<int:pk>/", records_views.record_detail_page, name="record-detail"),
]

urlpatterns = [
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
    path("data/", data_page, name="data"),
    path("reports/", include(report_pages)),
    path("records/", include(record_pages)),
]
