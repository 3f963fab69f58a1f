"""Page routes of file imports; mounted at /data/imports/ by greenai_portal/urls.py."""

from django.urls import path

from inventory.imports.views import imports_page

urlpatterns = [path("", imports_page, name="data-imports")]
