"""The data page: what came in, what waits, what failed, and how good the energy data is.

It reads the rollup cube and the pipeline status, so it lives with the other reads of reports
(dependencies run inventory ← reports).
"""

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.principal import Access, Principal
from accounts.views import settings_context, settings_page
from inventory.figures import FACILITY_ENERGY
from inventory.models import EnergyTier
from inventory.selectors import import_jobs_recent
from reports.dashboard import parse_filters, period_presets
from reports.dashboard_selectors import (
    batches_recent,
    recalculations_recent,
    records_failed,
    records_waiting,
    rollup_cube,
)


@settings_page()
def data_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    """What came in, what waits, what failed, and how good the energy data is."""
    filters, period_key = parse_filters(request)
    cube = rollup_cube(principal=principal, filters=filters, groupings=[("energy_tier",)])
    tiers = cube.by("energy_tier")
    total = cube.total()
    quality = [
        {
            "key": tier,
            "label": label,
            "records": tiers[tier].record_count if tier in tiers else 0,
            "mwh": tiers[tier].shown(FACILITY_ENERGY) if tier in tiers else 0.0,
            "share": tiers[tier].facility_kwh / total.facility_kwh
            if tier in tiers and total.facility_kwh
            else 0.0,
        }
        for tier, label in EnergyTier.choices
    ]
    return render(
        request,
        "dashboard/data.html",
        settings_context(
            principal,
            "data",
            filters=filters,
            period_key=period_key,
            presets=period_presets(date.today()),
            quality=quality,
            total=total,
            waiting=records_waiting(principal=principal),
            failed=records_failed(principal=principal),
            batches=batches_recent(principal=principal),
            recalculations=recalculations_recent(principal=principal),
            imports=import_jobs_recent(principal=principal, limit=10),
            imports_url=reverse("data-imports"),
            can_ingest=principal.can(Access.INGEST),
        ),
    )
