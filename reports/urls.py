from django.urls import path

from reports.apis import FootprintApi

urlpatterns = [
    path("footprint/", FootprintApi.as_view(), name="footprint"),
]
