from django.urls import path

from inventory.apis import HardwareListApi, WorkloadIngestApi

urlpatterns = [
    path("workloads/", WorkloadIngestApi.as_view(), name="workload-ingest"),
    path("hardware/", HardwareListApi.as_view(), name="hardware-list"),
]
