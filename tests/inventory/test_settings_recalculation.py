"""Changes made on the settings pages recompute exactly the open periods they affect, and each
enters the audit trail; locked quarters and other organisations keep their figures."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent
from accounts.principal import principal_for_membership
from inventory.models import Location, MarketAllocation, RecalculationJob
from inventory.pipeline import records_compute
from reports.services import report_lock
from tests.inventory.test_pipeline import stored_workload
from tests.inventory.test_recalculation import dataset_variant, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

FEBRUARY_OVERRIDE = {
    "zone": "FR",
    "kind": "grid_average",
    "valid_from": "2026-02-01",
    "valid_to": "2026-03-31",
    "kg_per_kwh": "0.1",
    "source": "Supplier disclosure 2026",
}


def post_and_commit(client, capture, path: str, data: dict):
    """Post as the browser does and run what the commit queues (the recalculation task)."""
    with capture(execute=True):
        return client.post(path, data)


def test_an_override_added_on_the_page_recomputes_only_its_zone_and_period(
    tenant, outsider, computed, django_capture_on_commit_callbacks
):
    january, february, april = computed
    theirs = stored_workload(outsider, avg_power_w=1000.0, day=date(2026, 2, 10))
    records_compute()
    theirs = fresh(theirs)

    post_and_commit(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        "/settings/overrides/create/",
        FEBRUARY_OVERRIDE,
    )

    # 1 kW for 10 h at PUE 1.2 = 12 kWh; at the override's 0.1 kg/kWh = 1.2 kg.
    assert fresh(february).location_kg == pytest.approx(1.2)
    assert fresh(february).factor_override.source == "Supplier disclosure 2026"
    for untouched in (january, april):
        assert fresh(untouched).location_kg == untouched.location_kg
        assert fresh(untouched).computed_at == untouched.computed_at
    assert fresh(theirs).location_kg == theirs.location_kg
    job = RecalculationJob.objects.get(organisation=tenant.organisation)
    assert (job.status, job.trigger, job.processed_records) == ("done", "override", 1)


def test_an_override_never_changes_a_locked_quarter(
    tenant, computed, django_capture_on_commit_callbacks
):
    _, february, april = computed
    esg = tenant.members["esg_officer"]
    report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)

    post_and_commit(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        "/settings/overrides/create/",
        {**FEBRUARY_OVERRIDE, "valid_to": "2026-06-30"},
    )

    assert fresh(february).location_kg == february.location_kg  # Q1 is locked
    assert fresh(april).location_kg == pytest.approx(1.2)  # Q2 is open


def test_a_facility_pue_changed_on_the_page_recomputes_its_records(
    tenant, computed, django_capture_on_commit_callbacks
):
    lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    post_and_commit(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        f"/settings/facilities/{lab.pk}/pue/",
        {"pue": "1.5", "pue_source": "metered 2026"},
    )
    for record in computed:
        assert fresh(record).pue_used == 1.5
        assert fresh(record).facility_kwh == pytest.approx(15.0)
    event = AuditEvent.objects.get(action="facility.pue_update")
    assert event.details["before"]["pue"] == 1.2
    assert event.details["after"]["pue"] == 1.5


def test_an_instrument_added_on_the_page_covers_its_market_and_months(
    tenant, computed, django_capture_on_commit_callbacks
):
    post_and_commit(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        "/settings/instruments/create/",
        {
            "kind": "eac",
            "reference": "GO-2026-0042",
            "supplier": "Hydro du Rhône",
            "zone": "FR",
            "valid_from": "2026-02-01",
            "valid_to": "2026-02-28",
            "mwh": "1",
            "kg_per_kwh": "0",
        },
    )
    covered = MarketAllocation.objects.get(
        organisation=tenant.organisation, month=date(2026, 2, 1), basis="instrument"
    )
    assert (covered.instrument.reference, covered.kwh, covered.kg) == ("GO-2026-0042", 12.0, 0.0)
    assert not MarketAllocation.objects.filter(
        organisation=tenant.organisation, month=date(2026, 1, 1), basis="instrument"
    ).exists()


def test_loading_a_new_factor_dataset_queues_the_recalculation_of_open_periods(
    tenant, computed, tmp_path
):
    directory = dataset_variant(tmp_path, "2026.9-test")
    out = io.StringIO()

    call_command("load_factors", directory=directory, stdout=out)

    assert "Queued 1 recalculation(s) of open periods" in out.getvalue()
    job = RecalculationJob.objects.get(organisation=tenant.organisation)
    assert (job.trigger, job.description) == (
        "dataset",
        "Factor dataset greenai-factors 2026.9-test",
    )
    out = io.StringIO()
    call_command("load_factors", directory=directory, stdout=out)
    assert "Queued" not in out.getvalue()  # the same version again: nothing to recompute
