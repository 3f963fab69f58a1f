from django.urls import path

from inventory.pipeline.apis import RecalculationDetailApi, RecalculationListApi

urlpatterns = [
    path("recalculations/", RecalculationListApi.as_view(), name="recalculation-list"),
    path(
        "recalculations/<int:job_id>/",
        RecalculationDetailApi.as_view(),
        name="recalculation-detail",
    ),
]
