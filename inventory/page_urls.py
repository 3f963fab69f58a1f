"""Inventory pages: settings (models, meters, facilities, tariffs, instruments, overrides, mapping
rules), the factor library, CodeCarbon runs and file imports."""

from django.urls import path

from inventory import model_variant_views, views
from inventory.imports.views import imports_page
from inventory.meters import views as meter_views

urlpatterns = [
    path("settings/models/", model_variant_views.models_page, name="settings-models"),
    path(
        "settings/models/<int:pk>/variant/",
        model_variant_views.model_variant_view,
        name="settings-model-variant",
    ),
    path(
        "settings/prometheus-sources/",
        meter_views.prometheus_sources_page,
        name="settings-prometheus-sources",
    ),
    path(
        "settings/prometheus-sources/create/",
        meter_views.prometheus_source_create_view,
        name="settings-prometheus-source-create",
    ),
    path(
        "settings/prometheus-sources/<int:pk>/delete/",
        meter_views.prometheus_source_delete_view,
        name="settings-prometheus-source-delete",
    ),
    path("settings/facilities/", views.facilities_page, name="settings-facilities"),
    path(
        "settings/facilities/create/", views.facility_create_view, name="settings-facility-create"
    ),
    path(
        "settings/facilities/<int:pk>/pue/", views.facility_pue_view, name="settings-facility-pue"
    ),
    path(
        "settings/facilities/wue/create/",
        views.facility_wue_create_view,
        name="settings-facility-wue-create",
    ),
    path(
        "settings/facilities/wue/<int:pk>/delete/",
        views.facility_wue_delete_view,
        name="settings-facility-wue-delete",
    ),
    path("settings/tariffs/", views.tariffs_page, name="settings-tariffs"),
    path("settings/tariffs/create/", views.tariff_create_view, name="settings-tariff-create"),
    path(
        "settings/tariffs/<int:pk>/delete/",
        views.tariff_delete_view,
        name="settings-tariff-delete",
    ),
    path("settings/instruments/", views.instruments_page, name="settings-instruments"),
    path(
        "settings/instruments/create/",
        views.instrument_create_view,
        name="settings-instrument-create",
    ),
    path(
        "settings/instruments/<int:pk>/delete/",
        views.instrument_delete_view,
        name="settings-instrument-delete",
    ),
    path("settings/overrides/", views.overrides_page, name="settings-overrides"),
    path("settings/overrides/create/", views.override_create_view, name="settings-override-create"),
    path(
        "settings/overrides/<int:pk>/delete/",
        views.override_delete_view,
        name="settings-override-delete",
    ),
    path("settings/mapping-rules/", views.mapping_rules_page, name="settings-mapping-rules"),
    path(
        "settings/mapping-rules/create/",
        views.mapping_rule_create_view,
        name="settings-mapping-rule-create",
    ),
    path(
        "settings/mapping-rules/<int:pk>/delete/",
        views.mapping_rule_delete_view,
        name="settings-mapping-rule-delete",
    ),
    path("factors/", views.factors_page, name="factor-library"),
    path("data/codecarbon-runs/", views.codecarbon_runs_page, name="codecarbon-runs-page"),
    path("data/imports/", imports_page, name="data-imports"),
]
