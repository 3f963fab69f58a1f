"""Server-rendered report pages, under /reports/."""

from django.urls import path

from reports import annual_views, views

urlpatterns = [
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
