"""Embodied emissions, energy cost and SCI computed per record and read back through the APIs,
against figures worked out by hand from the published inputs (factor library 2026.6)."""

from datetime import date

import pytest

from accounts.principal import principal_for_membership
from inventory.calculation.embodied import amortised_embodied_kg, instance_host_hours
from inventory.models import DailyRollup, RecalculationJob, WorkloadRecord
from inventory.pipeline import records_compute
from reports.services import report_lock
from tests.inventory.test_pipeline import stored_batch, stored_cloud_usage, stored_workload
from tests.inventory.test_recalculation import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

# H100 SXM (hardware.csv): idle 79.1 W, max 700 W; at 50 % utilisation
# 79.1 + 0.5 × (700 − 79.1) = 389.55 W per GPU; 8 GPUs × 24 h = 74.7936 kWh of IT energy;
# × PUE 1.2 (lab-paris) = 89.75232 kWh of facility energy.
FACILITY_KWH = 389.55 * 8 * 24 / 1000 * 1.2
# Tariff 0.18 EUR/kWh: 89.75232 × 0.18 = 16.1554176 EUR.
COST_EUR = FACILITY_KWH * 0.18
# embodied.csv: H100 SXM 164 kg (NVIDIA HGX H100 PCF 1312 kg / 8) + 712.5 kg host share
# (EcoLogits 5700 kg / 8) = 876.5 kg over 3 years = 26280 h; × 192 device-hours = 6.40365 kg.
EMBODIED_KG = 876.5 / 26280 * 192

TARIFF = {
    "facility": "lab-paris",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "price_per_kwh": 0.18,
    "currency": "EUR",
    "source": "Supply contract 2026",
}


def eight_h100s(tenant, batch=None, *, day=date(2026, 1, 10), **fields):
    return stored_workload(
        tenant,
        batch,
        day=day,
        hours=24.0,
        hardware=hardware("nvidia-h100-sxm"),
        device_count=8,
        utilization=0.5,
        **fields,
    )


def hardware(code):
    from inventory.models import Hardware

    return Hardware.objects.get(dataset__is_active=True, code=code)


def add_tariff(tenant, capture, **changes):
    with capture(execute=True):
        return tenant.manage_client().post("/api/v1/tariffs/", {**TARIFF, **changes}, format="json")


def test_it_amortises_embodied_and_prices_energy_at_the_facility_tariff(
    tenant, django_capture_on_commit_callbacks
):
    answer = add_tariff(tenant, django_capture_on_commit_callbacks)
    assert answer.status_code == 201, answer.content
    record = eight_h100s(tenant, stored_batch(tenant))
    records_compute()
    record = fresh(record)
    assert record.facility_kwh == pytest.approx(FACILITY_KWH)
    assert record.energy_cost == pytest.approx(COST_EUR)
    assert record.energy_cost == pytest.approx(16.1554176)
    assert (record.energy_cost_currency, record.tariff.source) == ("EUR", "Supply contract 2026")
    assert record.embodied_kg == pytest.approx(EMBODIED_KG)
    assert record.embodied_kg == pytest.approx(6.4036529680)
    assert record.embodied_factor.hardware_code == "nvidia-h100-sxm"
    # Embodied is beside Scope 2, never in it: location kg is the electricity's alone.
    assert record.location_kg == pytest.approx(FACILITY_KWH * record.location_kg_per_kwh)
    rollup = DailyRollup.objects.get(organisation=tenant.organisation)
    assert (rollup.embodied_kg, rollup.energy_cost) == pytest.approx((EMBODIED_KG, COST_EUR))


def test_it_keeps_a_records_own_cost_and_says_not_available_without_tariff_or_figure(tenant):
    batch = stored_batch(tenant)
    own = eight_h100s(tenant, batch, cost=12.5, currency="USD")
    plain = stored_workload(tenant, batch, avg_power_w=1000.0)  # no hardware, no tariff
    records_compute()
    own, plain = fresh(own), fresh(plain)
    assert (own.energy_cost, own.energy_cost_currency, own.tariff) == (12.5, "USD", None)
    assert (plain.energy_cost, plain.energy_cost_currency) == (None, "")
    assert (plain.embodied_kg, plain.embodied_factor) == (None, None)


def test_an_l4_without_a_published_embodied_figure_has_none(tenant):
    record = stored_workload(
        tenant, stored_batch(tenant), hardware=hardware("nvidia-l4"), utilization=0.5
    )
    records_compute()
    record = fresh(record)
    assert record.status == "computed"
    assert record.embodied_kg is None
    assert record.embodied_factor.source.startswith("Not available")


def test_cloud_gpu_hours_amortise_the_gpu_and_keep_the_billed_cost(tenant):
    usage = stored_cloud_usage(
        tenant,
        stored_batch(tenant),
        usage_kind="gpu",
        quantity=10.0,
        hardware=hardware("nvidia-a100-40gb"),
        cost=32.77,
        currency="USD",
    )
    vcpu = stored_cloud_usage(tenant, stored_batch(tenant), usage_kind="compute", quantity=100.0)
    records_compute()
    usage, vcpu = (type(usage).objects.get(pk=r.pk) for r in (usage, vcpu))
    # A100 40GB: 181 kg (ADEME/Hubblo) + 712.5 kg host = 893.5 kg / 26280 h × 10 GPU-h
    assert usage.embodied_kg == pytest.approx(893.5 / 26280 * 10)
    assert (usage.energy_cost, usage.energy_cost_currency) == (32.77, "USD")
    assert vcpu.embodied_kg is None  # no instance type, no per-vCPU figure


# cloud_instance_embodied.csv (CCF ccf-coefficients @b0032d9): m5.large's platform 1610.79 kg
# CO2e, family's largest size m5.24xlarge 96 vCPUs, 4 years = 35,040 h. 2 vCPUs × 10 h = 20
# vCPU-h: CCF's TE × (TR / EL) × (RR / TR) = 1610.79 × (10 / 35040) × (2 / 96)
# = 1610.79 / 35040 × 20 / 96 = 0.00957709 kg.
M5_LARGE_KG = 1610.79 / 35040 * (20 / 96)


def test_cloud_vcpu_hours_of_a_known_instance_type_amortise_its_platform(tenant, outsider):
    m5 = stored_cloud_usage(tenant, stored_batch(tenant), quantity=20.0, instance_type="m5.large")
    unknown = stored_cloud_usage(
        tenant, stored_batch(tenant), quantity=20.0, instance_type="m99.large"
    )
    # Another organisation's t2.micro, 1 vCPU × 10 h: 1477.54 kg over t2.2xlarge's 8 vCPUs
    # → 1477.54 / 35040 × 10 / 8 = 0.05270905 kg, its own figure beside ours.
    theirs = stored_cloud_usage(
        outsider, stored_batch(outsider), quantity=10.0, instance_type="t2.micro"
    )
    records_compute()
    m5, unknown, theirs = (type(r).objects.get(pk=r.pk) for r in (m5, unknown, theirs))
    assert m5.embodied_kg == pytest.approx(M5_LARGE_KG)
    assert m5.embodied_kg == pytest.approx(0.00957709, rel=1e-6)
    assert (m5.instance_embodied.instance_type, m5.instance_embodied.family_vcpus) == (
        "m5.large", 96,
    )  # fmt: skip
    assert m5.embodied_factor is None  # the device table is for GPUs; the instance row is named
    # The pipeline's SQL and the Python twin agree to the last digit.
    host_hours = instance_host_hours(vcpu_hours=20.0, family_vcpus=96)
    twin = amortised_embodied_kg(kg_co2e=1610.79, lifetime_hours=35040, device_hours=host_hours)
    assert m5.embodied_kg == twin
    # Embodied is beside the electricity's kg, never in it; an unknown type has no figure.
    assert m5.location_kg == pytest.approx(m5.facility_kwh * m5.location_kg_per_kwh)
    assert (unknown.status, unknown.embodied_kg, unknown.instance_embodied) == (
        "computed", None, None,
    )  # fmt: skip
    assert theirs.embodied_kg == pytest.approx(1477.54 / 35040 * 10 / 8)
    assert theirs.embodied_kg == pytest.approx(0.05270905, rel=1e-6)
    rollup = DailyRollup.objects.get(organisation=tenant.organisation, record_kind="cloud_usage")
    assert rollup.embodied_kg == pytest.approx(M5_LARGE_KG)  # the unknown type adds nothing


def test_costs_are_totalled_per_currency_never_mixed(tenant, django_capture_on_commit_callbacks):
    add_tariff(tenant, django_capture_on_commit_callbacks)
    batch = stored_batch(tenant)
    eight_h100s(tenant, batch, external_id="eur", inferences=2_000_000, tokens=90_000_000)
    eight_h100s(tenant, batch, external_id="usd", cost=12.5, currency="USD")
    records_compute()
    answer = tenant.client_for("admin").get(
        "/api/v1/costs/", {"start": "2026-01-01", "end": "2026-04-01"}
    )
    lines = {line["currency"]: line for line in answer.json()["lines"]}
    assert set(lines) == {"EUR", "USD"}
    assert lines["EUR"]["cost"] == pytest.approx(COST_EUR)
    assert lines["USD"]["cost"] == pytest.approx(12.5)
    # 16.1554176 EUR / 2,000,000 inferences × 1000 = 0.0080777088 EUR per 1k inferences
    assert lines["EUR"]["cost_per_1k_inferences"] == pytest.approx(COST_EUR / 2000)
    # 16.1554176 EUR / 90,000,000 tokens × 1e6 = 0.17950464 EUR per 1M tokens
    assert lines["EUR"]["cost_per_1m_tokens"] == pytest.approx(COST_EUR / 90)
    assert lines["USD"]["cost_per_1k_inferences"] is None
    by_team = tenant.client_for("admin").get(
        "/api/v1/costs/", {"start": "2026-01-01", "end": "2026-04-01", "group_by": "team"}
    )
    assert {(line["label"], line["currency"]) for line in by_team.json()["lines"]} == {
        ("Research", "EUR"),
        ("Research", "USD"),
    }


def test_a_tariff_recalculates_an_open_quarter_but_not_a_locked_one(
    tenant, django_capture_on_commit_callbacks
):
    batch = stored_batch(tenant)
    march = eight_h100s(tenant, batch, day=date(2026, 3, 10))
    april = eight_h100s(tenant, batch, day=date(2026, 4, 10))
    records_compute()
    esg = tenant.members["esg_officer"]
    report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)

    answer = add_tariff(tenant, django_capture_on_commit_callbacks)

    assert answer.json()["recalculation"]["trigger"] == "tariff"
    assert fresh(march).energy_cost is None  # Q1 is locked: computed before the tariff
    assert fresh(april).energy_cost == pytest.approx(COST_EUR)
    job = RecalculationJob.objects.get(organisation=tenant.organisation)
    assert (job.status, job.processed_records) == ("done", 1)


def test_tariffs_are_refused_when_bad_and_other_organisations_cannot_see_them(
    tenant, outsider, django_capture_on_commit_callbacks
):
    client = tenant.manage_client()
    for bad in ({"currency": "euro"}, {"valid_to": "2025-01-01"}, {"price_per_kwh": -1}):
        assert client.post("/api/v1/tariffs/", {**TARIFF, **bad}, format="json").status_code == 400
    assert (
        client.post(
            "/api/v1/tariffs/", {**TARIFF, "facility": "aws:us-east-1"}, format="json"
        ).status_code
        == 404
    )
    tariff = add_tariff(tenant, django_capture_on_commit_callbacks).json()
    theirs = outsider.manage_client()
    assert theirs.get("/api/v1/tariffs/").json() == []
    assert theirs.get(f"/api/v1/tariffs/{tariff['id']}/").status_code == 404
    assert theirs.delete(f"/api/v1/tariffs/{tariff['id']}/").status_code == 404
    reader = tenant.client_for("auditor")
    assert reader.post("/api/v1/tariffs/", TARIFF, format="json").status_code == 403


def test_the_sci_of_a_model_is_e_times_i_plus_m_per_unit(tenant, outsider):
    serving = eight_h100s(
        tenant,
        stored_batch(tenant),
        phase="inference",
        inferences=2_000_000,
        tokens=90_000_000,
        ai_model=model_named(tenant, "atlas-7b"),
    )
    records_compute()
    serving = fresh(serving)
    model_id = serving.ai_model_id
    answer = tenant.client_for("admin").get(
        f"/api/v1/models/{model_id}/sci/", {"start": "2026-01-01", "end": "2026-02-01"}
    )
    assert answer.status_code == 200, answer.content
    by_unit = {s["unit"]: s for s in answer.json()["sci"]}
    per_1k = by_unit["1k_inferences"]
    # E = 89.75232 kWh at I (FR grid average of the record) gives O = E × I; M = 6.40365 kg;
    # R = 2,000,000 / 1000 = 2000: SCI = (O + M) / 2000.
    operational = FACILITY_KWH * serving.location_kg_per_kwh
    assert per_1k["energy_kwh"] == pytest.approx(FACILITY_KWH)
    assert per_1k["intensity_kg_per_kwh"] == pytest.approx(serving.location_kg_per_kwh)
    assert per_1k["embodied_kg"] == pytest.approx(EMBODIED_KG)
    assert per_1k["functional_units"] == 2000
    assert per_1k["kg_per_unit"] == pytest.approx((operational + EMBODIED_KG) / 2000)
    assert by_unit["1m_tokens"]["kg_per_unit"] == pytest.approx((operational + EMBODIED_KG) / 90)
    assert by_unit["training_run"]["kg_per_unit"] is None  # no training run in the period
    assert (
        outsider.client_for("admin")
        .get(f"/api/v1/models/{model_id}/sci/", {"start": "2026-01-01", "end": "2026-02-01"})
        .status_code
        == 404
    )


def model_named(tenant, name):
    from inventory.models import AiModel

    return AiModel.objects.get_or_create(organisation=tenant.organisation, name=name)[0]


def test_workload_cost_arrives_through_the_ingest_api_with_its_currency(tenant):
    from tests.conftest import workload

    client = tenant.token_client()
    missing = client.post("/api/v1/workloads/", workload(cost=3.5), format="json")
    assert missing.status_code == 400
    sent = client.post("/api/v1/workloads/", workload(cost=3.5, currency="EUR"), format="json")
    assert sent.status_code in (200, 201, 202), sent.content
    record = WorkloadRecord.objects.get(organisation=tenant.organisation)
    assert (record.cost, record.currency) == (3.5, "EUR")


def test_a_tariff_added_on_the_settings_page_is_audited_and_prices_open_records(
    tenant, django_capture_on_commit_callbacks
):
    from accounts.models import AuditEvent
    from inventory.models import Location

    record = eight_h100s(tenant, stored_batch(tenant))
    records_compute()
    facility = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    form = {**TARIFF, "location": facility.pk}
    with django_capture_on_commit_callbacks(execute=True):
        answer = tenant.client_for("admin").post("/settings/tariffs/create/", form)
    assert answer.status_code == 302
    assert fresh(record).energy_cost == pytest.approx(COST_EUR)
    event = AuditEvent.objects.get(action="tariff.create")
    assert event.details["price_per_kwh"] == 0.18
    page = tenant.client_for("auditor").get("/settings/tariffs/")
    assert b"Supply contract 2026" in page.content
    refused = tenant.client_for("auditor").post("/settings/tariffs/create/", form)
    assert refused.status_code in (302, 403, 404)
    assert AuditEvent.objects.filter(action="tariff.create").count() == 1


def test_a_quarters_factor_rows_name_the_embodied_row_and_tariff_it_used(
    tenant, django_capture_on_commit_callbacks
):
    from reports.lineage_selectors import quarter_factor_rows, quarter_inputs

    add_tariff(tenant, django_capture_on_commit_callbacks)
    eight_h100s(tenant, stored_batch(tenant))
    records_compute()
    inputs = quarter_inputs(
        organisation_id=tenant.organisation.id, start=date(2026, 1, 1), end=date(2026, 4, 1)
    )
    rows = quarter_factor_rows(organisation_id=tenant.organisation.id, inputs=inputs)
    kinds = {row["kind"]: row for row in rows}
    embodied = kinds["embodied (per device)"]
    assert embodied["source"].startswith("nvidia-h100-sxm: 876.5 kg CO2e over 26280 h; device:")
    assert embodied["dataset"] == "greenai-factors 2026.6"
    # The figure itself, for the PDF's value column (it printed "not published" before).
    assert (embodied["value"], embodied["unit"]) == (876.5, "kg CO2e per device over 26280 h")
    tariff = kinds["electricity tariff"]
    assert tariff["source"].startswith("lab-paris: 0.18 EUR/kWh, Supply contract 2026")
    assert (tariff["value"], tariff["unit"]) == (0.18, "EUR/kWh")
