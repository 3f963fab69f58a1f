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
    WorkloadIngestApi,
)

urlpatterns = [
    path("workloads/", WorkloadIngestApi.as_view(), name="workload-ingest"),
    path("cloud-usage/", CloudUsageIngestApi.as_view(), name="cloud-usage-ingest"),
    path("hardware/", HardwareListApi.as_view(), name="hardware-list"),
    path("imports/", ImportJobCreateApi.as_view(), name="import-create"),
    path("imports/<int:job_id>/", ImportJobDetailApi.as_view(), name="import-detail"),
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
]
