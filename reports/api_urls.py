"""The reports API (mounted under /api/v1/): footprint, costs, models, targets, what-if,
annual and Scope 2 reports, and the record browser."""

from django.urls import path

from reports.annual_apis import AnnualPdfApi, AnnualReportApi, AnnualXlsxApi
from reports.apis import (
    FootprintApi,
    QuarterCloseApproveApi,
    QuarterCloseListApi,
    QuarterClosePrepareApi,
    QuarterCloseSendBackApi,
    ReportExportCreateApi,
    ReportExportDetailApi,
    ReportExportPdfApi,
    ReportRestateApi,
    ReportVersionDetailApi,
    ReportVersionListApi,
    Scope2CsvApi,
    Scope2FactorsApi,
    Scope2ReportApi,
    Scope2TraceApi,
    Scope2XlsxApi,
)
from reports.cost_sci_apis import CostListApi, ModelSciApi
from reports.lifecycle_apis import ModelLifecycleApi
from reports.model_documentation_apis import ModelDocumentationApi
from reports.records_apis import RecordBatchApi, RecordDetailApi, RecordListApi
from reports.target_apis import TargetDetailApi, TargetListApi
from reports.variants_apis import VariantComparisonApi
from reports.what_if_apis import WhatIfApi

urlpatterns = [
    path("footprint/", FootprintApi.as_view(), name="footprint"),
    path("costs/", CostListApi.as_view(), name="costs"),
    path("models/<int:model_id>/sci/", ModelSciApi.as_view(), name="model-sci"),
    path("targets/", TargetListApi.as_view(), name="target-list"),
    path("what-if/", WhatIfApi.as_view(), name="what-if"),
    path("targets/<int:pk>/", TargetDetailApi.as_view(), name="target-detail"),
    path(
        "models/<int:model_id>/documentation/",
        ModelDocumentationApi.as_view(),
        name="model-documentation",
    ),
    path("models/<int:model_id>/lifecycle/", ModelLifecycleApi.as_view(), name="model-lifecycle"),
    path(
        "models/<int:model_id>/variants/comparison/",
        VariantComparisonApi.as_view(),
        name="model-variant-comparison",
    ),
    path("reports/annual/", AnnualReportApi.as_view(), name="annual-report"),
    path("reports/annual/xlsx/", AnnualXlsxApi.as_view(), name="annual-xlsx"),
    path("reports/annual/pdf/", AnnualPdfApi.as_view(), name="annual-pdf"),
    path("reports/scope2/", Scope2ReportApi.as_view(), name="scope2-report"),
    path("reports/scope2/factors/", Scope2FactorsApi.as_view(), name="scope2-factors"),
    path("reports/scope2/trace/", Scope2TraceApi.as_view(), name="scope2-trace"),
    path("reports/scope2/csv/", Scope2CsvApi.as_view(), name="scope2-csv"),
    path("reports/scope2/xlsx/", Scope2XlsxApi.as_view(), name="scope2-xlsx"),
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
    path("records/batches/<int:pk>/", RecordBatchApi.as_view(), name="record-batch-api"),
    path("records/<slug:kind>/", RecordListApi.as_view(), name="record-list-api"),
    path("records/<slug:kind>/<int:pk>/", RecordDetailApi.as_view(), name="record-detail-api"),
]
