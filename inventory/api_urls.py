"""The inventory API (mounted under /api/v1/): ingestion, imports, recalculations, settings."""

from django.urls import path

from inventory.apis import (
    CloudUsageIngestApi,
    CodeCarbonEmissionCreateApi,
    CodeCarbonOutputApi,
    CodeCarbonOutputQueryApi,
    CodeCarbonRunCreateApi,
    HardwareListApi,
    ImportJobCreateApi,
    ImportJobDetailApi,
    LlmUsageIngestApi,
    WorkloadIngestApi,
)
from inventory.facility_apis import (
    FacilityDetailApi,
    FacilityIndicatorsApi,
    FacilityListApi,
    FacilityWueDetailApi,
    FacilityWueListApi,
    TariffDetailApi,
    TariffListApi,
)
from inventory.instrument_apis import InstrumentDetailApi, InstrumentListApi
from inventory.llm.apis import CustomLlmDetailApi, CustomLlmListApi
from inventory.mapping_rule_apis import MappingRuleDetailApi, MappingRuleListApi
from inventory.meters.apis import PrometheusSourceDetailApi, PrometheusSourceListApi
from inventory.model_variant_apis import AiModelListApi, AiModelVariantApi
from inventory.otlp.apis import OtlpTraceExportApi
from inventory.override_apis import OverrideDetailApi, OverrideListApi
from inventory.pipeline.apis import RecalculationDetailApi, RecalculationListApi

urlpatterns = [
    # CodeCarbon's HTTP output (emissions_endpoint): the token in the path or in ?key=.
    path(
        "codecarbon/emissions/<str:key>/",
        CodeCarbonOutputApi.as_view(),
        name="codecarbon-output",
    ),
    path(
        "codecarbon/emissions/", CodeCarbonOutputQueryApi.as_view(), name="codecarbon-output-query"
    ),
    # CodeCarbon's API client (api_endpoint = .../api/v1/codecarbon): no trailing slashes.
    path("codecarbon/runs", CodeCarbonRunCreateApi.as_view(), name="codecarbon-runs"),
    path(
        "codecarbon/emissions", CodeCarbonEmissionCreateApi.as_view(), name="codecarbon-emissions"
    ),
    # OpenTelemetry's OTLP/HTTP exporter: endpoint <portal>/api/v1/otlp/v1/traces.
    path("otlp/v1/traces", OtlpTraceExportApi.as_view(), name="otlp-traces"),
    path("workloads/", WorkloadIngestApi.as_view(), name="workload-ingest"),
    path("cloud-usage/", CloudUsageIngestApi.as_view(), name="cloud-usage-ingest"),
    path("llm-usage/", LlmUsageIngestApi.as_view(), name="llm-usage-ingest"),
    path("llm-models/", CustomLlmListApi.as_view(), name="custom-llm-list"),
    path("llm-models/<int:pk>/", CustomLlmDetailApi.as_view(), name="custom-llm-detail"),
    path("hardware/", HardwareListApi.as_view(), name="hardware-list"),
    path("models/", AiModelListApi.as_view(), name="model-list"),
    path("models/<int:model_id>/variant/", AiModelVariantApi.as_view(), name="model-variant"),
    path("facilities/", FacilityListApi.as_view(), name="facility-list"),
    path("facilities/<int:pk>/", FacilityDetailApi.as_view(), name="facility-detail"),
    path("facilities/wue/", FacilityWueListApi.as_view(), name="facility-wue-list"),
    path("facilities/wue/<int:pk>/", FacilityWueDetailApi.as_view(), name="facility-wue-detail"),
    path("facilities/indicators/", FacilityIndicatorsApi.as_view(), name="facility-indicators"),
    path("instruments/", InstrumentListApi.as_view(), name="instrument-list"),
    path("instruments/<int:pk>/", InstrumentDetailApi.as_view(), name="instrument-detail"),
    path("tariffs/", TariffListApi.as_view(), name="tariff-list"),
    path("tariffs/<int:pk>/", TariffDetailApi.as_view(), name="tariff-detail"),
    path("factor-overrides/", OverrideListApi.as_view(), name="override-list"),
    path("factor-overrides/<int:pk>/", OverrideDetailApi.as_view(), name="override-detail"),
    path("mapping-rules/", MappingRuleListApi.as_view(), name="mapping-rule-list"),
    path("mapping-rules/<int:pk>/", MappingRuleDetailApi.as_view(), name="mapping-rule-detail"),
    path("prometheus-sources/", PrometheusSourceListApi.as_view(), name="prometheus-source-list"),
    path(
        "prometheus-sources/<int:pk>/",
        PrometheusSourceDetailApi.as_view(),
        name="prometheus-source-detail",
    ),
    path("imports/", ImportJobCreateApi.as_view(), name="import-create"),
    path("imports/<int:job_id>/", ImportJobDetailApi.as_view(), name="import-detail"),
    path("recalculations/", RecalculationListApi.as_view(), name="recalculation-list"),
    path(
        "recalculations/<int:job_id>/",
        RecalculationDetailApi.as_view(),
        name="recalculation-detail",
    ),
]
