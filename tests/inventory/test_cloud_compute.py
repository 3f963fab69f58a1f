"""Cloud usage records (billing lines) computed set-based, checked against the pure engine."""

import random
from datetime import date, timedelta

import pytest
from django.db.models import Sum

from inventory.calculation.cloud import CloudCoefficients, cloud_usage_it_kwh
from inventory.calculation.emissions import location_based_kg
from inventory.calculation.energy import PowerProfile, facility_energy_kwh
from inventory.calculation.methodology import METHODOLOGY_VERSION
from inventory.factors.library import active_dataset
from inventory.models import CloudCoefficient, CloudUsageRecord, DailyRollup, Hardware, Location
from inventory.pipeline import records_compute, rollup_mismatches
from tests.inventory.test_pipeline import stored_batch, stored_cloud_usage, stored_workload

pytestmark = pytest.mark.django_db


def coefficients() -> CloudCoefficients:
    values = dict(
        CloudCoefficient.objects.filter(dataset=active_dataset()).values_list("key", "value")
    )
    return CloudCoefficients(
        memory_kwh_per_gb_hour=values["memory_kwh_per_gb_hour"],
        ssd_wh_per_tb_hour=values["storage_ssd_wh_per_tb_hour"],
        hdd_wh_per_tb_hour=values["storage_hdd_wh_per_tb_hour"],
        network_kwh_per_gb=values["network_kwh_per_gb"],
    )


def test_it_prices_vcpu_hours_without_hardware_at_the_providers_unknown_cpu(tenant):
    record = stored_cloud_usage(tenant, usage_kind="compute", quantity=1000.0)
    assert records_compute().computed == 1
    record.refresh_from_db()
    unknown = Hardware.objects.get(code="unknown-cpu-aws")
    # CCF: (0.74 + 0.5 × (3.5 − 0.74)) W × 1000 vCPU-h / 1000 = 2.12 kWh; × AWS PUE 1.135.
    assert record.status == "computed"
    assert record.power_model == unknown
    assert record.it_kwh == pytest.approx(2.12)
    assert record.pue_used == pytest.approx(1.135)
    assert record.facility_kwh == pytest.approx(2.12 * 1.135)
    assert record.location_kg == record.facility_kwh * record.location_kg_per_kwh
    assert record.scope == "scope3_cat1" and record.energy_tier == "modelled"
    assert record.factor_dataset == active_dataset()
    assert record.methodology_version == METHODOLOGY_VERSION
    assert record.replication_used == 1.0


def test_it_applies_storage_replication_and_names_the_coefficient_row(tenant):
    record = stored_cloud_usage(
        tenant, service="AmazonS3", usage_kind="storage_ssd", quantity=10.0, replication=6.0
    )
    records_compute()
    record.refresh_from_db()
    ssd = CloudCoefficient.objects.get(dataset=active_dataset(), key="storage_ssd_wh_per_tb_hour")
    assert record.coefficient == ssd
    assert record.power_model is None
    # 10 TB-h × 1.2 Wh/TB-h × 6 copies / 1000 = 0.072 kWh before PUE.
    assert record.it_kwh == pytest.approx(0.072)
    assert record.replication_used == 6.0


def test_gpu_hours_without_hardware_fail_with_a_reason_and_stay_out_of_rollups(tenant):
    good = stored_cloud_usage(tenant, usage_kind="memory", quantity=90.0)
    bad = stored_cloud_usage(tenant, usage_kind="gpu", quantity=5.0)
    assert records_compute().failed == 1
    bad.refresh_from_db()
    assert bad.status == "failed"
    assert "power profile" in bad.compute_error
    assert bad.location_kg is None
    rollup = DailyRollup.objects.get()
    assert rollup.record_count == 1
    assert rollup.facility_kwh == CloudUsageRecord.objects.get(pk=good.pk).facility_kwh


def test_network_transfer_is_never_replicated(tenant):
    record = stored_cloud_usage(tenant, usage_kind="network", quantity=1000.0, replication=2.0)
    records_compute()
    record.refresh_from_db()
    assert record.status == "failed"
    assert "network" in record.compute_error


def test_cloud_rollups_are_scope_3_phase_other_with_market_equal_to_location(tenant):
    stored_cloud_usage(tenant, usage_kind="memory", quantity=500.0)
    stored_cloud_usage(tenant, usage_kind="memory", quantity=250.0)
    stored_workload(tenant, avg_power_w=300.0)
    records_compute()
    cloud = DailyRollup.objects.get(record_kind="cloud_usage")
    assert (cloud.phase, cloud.scope, cloud.energy_tier) == ("other", "scope3_cat1", "modelled")
    assert cloud.record_count == 2
    assert cloud.market_kg == cloud.location_kg
    workload = DailyRollup.objects.get(record_kind="workload")
    assert workload.scope == "scope2"
    assert rollup_mismatches() == []


def test_sql_matches_the_pure_engine_on_random_usage_to_the_gram(tenant):
    rng = random.Random(11)
    cpus = list(Hardware.objects.filter(kind="cpu"))
    gpus = list(Hardware.objects.filter(kind="gpu"))
    regions = list(Location.objects.filter(kind="cloud").order_by("code")[:40])
    batch = stored_batch(tenant)
    for _ in range(300):
        kind = rng.choice(["compute", "gpu", "memory", "storage_ssd", "storage_hdd", "network"])
        fields = {"usage_kind": kind, "quantity": rng.uniform(0, 5000)}
        if kind == "compute" and rng.random() < 0.6:
            fields["hardware"] = rng.choice(cpus)
        if kind == "gpu":
            fields["hardware"] = rng.choice(gpus)
        if kind in ("compute", "gpu") and rng.random() < 0.5:
            fields["utilization"] = rng.uniform(0, 1)
        if kind in ("compute", "memory", "storage_ssd", "storage_hdd") and rng.random() < 0.5:
            fields["replication"] = float(rng.choice([2, 3, 6]))
        day = date(2024, 1, 1) + timedelta(days=rng.randint(0, 900))
        stored_cloud_usage(tenant, batch, day=day, location=rng.choice(regions), **fields)
    records_compute()
    coefficients_now = coefficients()
    rows = CloudUsageRecord.objects.select_related("power_model", "grid_factor", "location")
    assert rows.filter(status="computed").count() == 300
    for row in rows:
        power = row.power_model
        it_kwh = cloud_usage_it_kwh(
            kind=row.usage_kind,
            quantity=row.quantity,
            power=PowerProfile(idle_w=power.idle_w, max_w=power.max_w) if power else None,
            utilization=row.utilization,
            replication=row.replication if row.replication is not None else 1.0,
            coefficients=coefficients_now,
        )
        facility = facility_energy_kwh(it_kwh=it_kwh, pue=row.pue_used)
        kg = location_based_kg(facility_kwh=facility, kg_per_kwh=row.grid_factor.kg_per_kwh)
        if row.usage_kind == "compute" and row.hardware_id is None:
            assert power.code == f"unknown-cpu-{row.location.provider}"
        assert row.it_kwh == it_kwh
        assert row.facility_kwh == facility
        assert abs(row.location_kg - kg) < 0.0005
    totals = DailyRollup.objects.aggregate(kg=Sum("location_kg"), n=Sum("record_count"))
    assert totals["n"] == 300
    raw = CloudUsageRecord.objects.aggregate(kg=Sum("location_kg"))["kg"]
    assert totals["kg"] == pytest.approx(raw, rel=1e-12)
