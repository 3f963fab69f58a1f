from django.urls import path

from inventory.apis import CloudUsageIngestApi, HardwareListApi, WorkloadIngestApi

urlpatterns = [
    path("workloads/", WorkloadIngestApi.as_view(), name="workload-ingest"),
    path("cloud-usage/", CloudUsageIngestApi.as_view(), name="cloud-usage-ingest"),
    path("hardware/", HardwareListApi.as_view(), name="hardware-list"),
]
