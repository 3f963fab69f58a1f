"""The record browser: pages under /records/, API under /api/v1/records/."""

from django.urls import path

from reports import records_views
from reports.records_apis import RecordBatchApi, RecordDetailApi, RecordListApi

page_urlpatterns = [
    path("", records_views.record_list_page, name="records"),
    path("csv/", records_views.record_csv, name="records-csv"),
    # Before <kind>/: "batches" is not a record kind.
    path("batches/<int:pk>/", records_views.record_batch_page, name="record-batch"),
    path("<slug:kind>/<int:pk>/", records_views.record_detail_page, name="record-detail"),
]

api_urlpatterns = [
    path("records/batches/<int:pk>/", RecordBatchApi.as_view(), name="record-batch-api"),
    path("records/<slug:kind>/", RecordListApi.as_view(), name="record-list-api"),
    path("records/<slug:kind>/<int:pk>/", RecordDetailApi.as_view(), name="record-detail-api"),
]
