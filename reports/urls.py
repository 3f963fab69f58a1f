from django.urls import path

from reports.apis import (
    FootprintApi,
    QuarterCloseApproveApi,
    QuarterCloseListApi,
    QuarterClosePrepareApi,
    QuarterCloseSendBackApi,
    ReportExportCreateApi,
    ReportExportDetailApi,
    ReportExportPdfApi,
    ReportLockApi,
    ReportRestateApi,
    ReportVersionDetailApi,
    ReportVersionListApi,
    Scope2CsvApi,
    Scope2FactorsApi,
    Scope2ReportApi,
    Scope2XlsxApi,
)
from reports.cost_sci_apis import CostListApi, ModelSciApi

urlpatterns = [
    path("footprint/", FootprintApi.as_view(), name="footprint"),
    path("costs/", CostListApi.as_view(), name="costs"),
    path("models/<int:model_id>/sci/", ModelSciApi.as_view(), name="model-sci"),
    path("reports/scope2/", Scope2ReportApi.as_view(), name="scope2-report"),
    path("reports/scope2/factors/", Scope2FactorsApi.as_view(), name="scope2-factors"),
    path("reports/scope2/csv/", Scope2CsvApi.as_view(), name="scope2-csv"),
    path("reports/scope2/xlsx/", Scope2XlsxApi.as_view(), name="scope2-xlsx"),
    path("reports/scope2/locks/", ReportLockApi.as_view(), name="report-lock"),
    path("reports/scope2/restatements/", ReportRestateApi.as_view(), name="report-restate"),
    path("reports/scope2/closes/", QuarterCloseListApi.as_view(), name="quarter-closes"),
    path(
        "reports/scope2/closes/prepare/",
        QuarterClosePrepareApi.as_view(),
        name="quarter-close-prepare",
    ),
    path(
        "reports/scope2/closes/approve/",
        QuarterCloseApproveApi.as_view(),
        name="quarter-close-approve",
    ),
    path(
        "reports/scope2/closes/send-back/",
        QuarterCloseSendBackApi.as_view(),
        name="quarter-close-send-back",
    ),
    path("reports/scope2/versions/", ReportVersionListApi.as_view(), name="report-versions"),
    path(
        "reports/scope2/versions/<int:pk>/",
        ReportVersionDetailApi.as_view(),
        name="report-version",
    ),
    path("reports/scope2/exports/", ReportExportCreateApi.as_view(), name="report-exports"),
    path("reports/scope2/exports/<int:pk>/", ReportExportDetailApi.as_view(), name="report-export"),
    path(
        "reports/scope2/exports/<int:pk>/pdf/",
        ReportExportPdfApi.as_view(),
        name="report-export-pdf",
    ),
]
