import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum

from accounts.principal import principal_for_membership
from inventory.calculation.emissions import location_based_kg
from inventory.calculation.energy import PowerProfile, facility_energy_kwh, it_energy
from inventory.ingestion.services import workload_batch_ingest
from inventory.models import (
    CloudUsageRecord,
    DailyRollup,
    FactorOverride,
    GridFactor,
    Hardware,
    IngestBatch,
    Location,
    WorkloadRecord,
)
from inventory.pipeline import (
    batch_compute,
    batches_waiting,
    daily_rollups_rebuild,
    market_allocations_rebuild,
    pending_sweep,
    records_compute,
    rollup_mismatches,
    workload_records_compute,
)


def ingest(tenant, *records):
    principal = principal_for_membership(tenant.members["admin"])
    return workload_batch_ingest(principal=principal, records=list(records))


def record(external_id="job-1", **overrides):
    started = datetime(2026, 1, 10, tzinfo=UTC)
    values = {
        "external_id": external_id,
        "team": "research",
        "model": "atlas-7b",
        "phase": "training",
        "started_at": started,
        "ended_at": started + timedelta(hours=10),
        "location": "lab-paris",
        "hardware": "nvidia-h100-sxm",
        "device_count": 8,
    }
    values.update(overrides)
    return values


def posted_and_computed(tenant, records: list[dict]) -> None:
    """Workload records sent over the API with the tenant's token (all accepted), then computed."""
    response = tenant.token_client().post("/api/v1/workloads/", records, format="json")
    assert response.status_code == 201, response.content
    workload_records_compute()


def fr_override(organisation, kg_per_kwh=0.05):
    return FactorOverride.objects.create(
        organisation=organisation,
        zone="FR",
        kind="grid_average",
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        kg_per_kwh=kg_per_kwh,
        source="Supplier letter 2026-01",
    )


@pytest.mark.django_db
class TestCompute:
    def test_it_computes_metered_power_with_the_facility_pue(self, tenant):
        override = fr_override(tenant.organisation)
        ingest(tenant, record(avg_power_w=500.0))
        assert workload_records_compute().computed == 1
        result = WorkloadRecord.objects.get()
        assert result.status == "computed"
        assert result.energy_tier == "metered"
        assert result.scope == "scope2"
        assert result.it_kwh == pytest.approx(40.0)
        assert result.pue_used == 1.2
        assert result.facility_kwh == pytest.approx(48.0)
        assert result.location_kg == pytest.approx(2.4)
        assert result.factor_override == override
        assert result.methodology_version

    def test_it_never_applies_pue_twice_to_measured_energy_that_includes_it(self, tenant):
        fr_override(tenant.organisation)
        ingest(tenant, record(energy_kwh=30.0, energy_includes_pue=True))
        workload_records_compute()
        result = WorkloadRecord.objects.get()
        assert (result.energy_tier, result.facility_kwh, result.location_kg) == (
            "measured",
            30.0,
            pytest.approx(1.5),
        )

    def test_it_models_energy_from_the_hardware_catalogue(self, tenant):
        ingest(tenant, record(utilization=0.7))
        workload_records_compute()
        result = WorkloadRecord.objects.get()
        h100 = Hardware.objects.get(code="nvidia-h100-sxm")
        expected = it_energy(
            duration_s=36000.0,
            device_count=8,
            utilization=0.7,
            power=PowerProfile(idle_w=h100.idle_w, max_w=h100.max_w),
        )
        assert result.energy_tier == "modelled"
        assert result.it_kwh == expected.kwh

    def test_it_uses_the_library_factor_of_the_zone(self, tenant):
        ingest(tenant, record(avg_power_w=400.0))
        workload_records_compute()
        result = WorkloadRecord.objects.get()
        factor = result.grid_factor
        assert factor.zone == "FR" and factor.kind == "grid_average"
        assert factor.year <= 2026 and factor.basis == "direct"
        assert result.location_kg == result.facility_kwh * factor.kg_per_kwh

    def test_cloud_regions_are_scope_3_with_the_provider_pue(self, tenant):
        ingest(tenant, record(location="aws:us-east-1", avg_power_w=400.0))
        workload_records_compute()
        result = WorkloadRecord.objects.get()
        assert result.scope == "scope3_cat1"
        assert result.pue_used == pytest.approx(1.135)

    def test_another_organisations_override_changes_nothing(self, tenant, outsider):
        fr_override(outsider.organisation, kg_per_kwh=0.9)
        ingest(tenant, record(avg_power_w=400.0))
        workload_records_compute()
        result = WorkloadRecord.objects.get()
        assert result.factor_override is None
        assert result.location_kg_per_kwh == result.grid_factor.kg_per_kwh

    def test_it_computes_nothing_twice(self, tenant):
        ingest(tenant, record(avg_power_w=400.0))
        assert workload_records_compute().computed == 1
        assert workload_records_compute().computed == 0
        assert DailyRollup.objects.get().record_count == 1

    def test_sql_matches_the_pure_engine_on_random_records(self, tenant):
        rng = random.Random(7)
        hardware = {h.code: h for h in Hardware.objects.filter(kind="gpu")}
        records = []
        for i in range(200):
            hours = rng.uniform(0.01, 72)
            start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 600_000))
            rule = rng.choice(["energy", "power", "model"])
            records.append(
                record(
                    external_id=f"r{i}",
                    started_at=start,
                    ended_at=start + timedelta(hours=hours),
                    hardware=rng.choice(sorted(hardware)),
                    device_count=rng.randint(1, 64),
                    location=rng.choice(["lab-paris", "aws:us-east-1", "gcp:europe-west4"]),
                    energy_kwh=rng.uniform(0, 500) if rule == "energy" else None,
                    avg_power_w=rng.uniform(10, 700) if rule == "power" else None,
                    utilization=rng.uniform(0, 1)
                    if rule == "model" and rng.random() < 0.8
                    else None,
                )
            )
        ingest(tenant, *[{k: v for k, v in r.items() if v is not None} for r in records])
        workload_records_compute()
        for row in WorkloadRecord.objects.select_related("hardware", "grid_factor"):
            expected = it_energy(
                duration_s=row.duration_s,
                device_count=row.device_count,
                energy_kwh=row.energy_kwh,
                avg_power_w=row.avg_power_w,
                utilization=row.utilization,
                power=PowerProfile(idle_w=row.hardware.idle_w, max_w=row.hardware.max_w),
            )
            facility = facility_energy_kwh(it_kwh=expected.kwh, pue=row.pue_used)
            kg = location_based_kg(facility_kwh=facility, kg_per_kwh=row.grid_factor.kg_per_kwh)
            assert row.energy_tier == expected.tier
            assert row.it_kwh == pytest.approx(expected.kwh, rel=1e-12)
            # Reproducible to the gram.
            assert abs(row.location_kg - kg) < 0.0005

    def test_rollups_equal_the_raw_sums(self, tenant):
        records = [
            record(
                external_id=f"r{i}",
                avg_power_w=100.0 + i,
                started_at=datetime(2026, 1, 1 + i % 20, tzinfo=UTC),
                ended_at=datetime(2026, 1, 1 + i % 20, 5, tzinfo=UTC),
                team="research" if i % 2 else "serving",
            )
            for i in range(60)
        ]
        ingest(tenant, *records)
        workload_records_compute()
        raw = WorkloadRecord.objects.aggregate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"))
        rolled = DailyRollup.objects.aggregate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"))
        assert rolled["kwh"] == pytest.approx(raw["kwh"], rel=1e-12)
        assert rolled["kg"] == pytest.approx(raw["kg"], rel=1e-12)
        assert DailyRollup.objects.aggregate(n=Sum("record_count"))["n"] == 60

    def test_rollups_written_with_the_update_equal_a_rebuild_from_the_tables(self, tenant):
        # Postgres writes the rollups of days computed for the first time in the UPDATE
        # statement itself; the portable rebuild must give the same rows.
        batch = stored_batch(tenant)
        for n in range(40):
            day = date(2026, 2, 1 + n % 9)
            stored_workload(tenant, batch, day=day, avg_power_w=100.0 + n, phase="inference")
            stored_cloud_usage(tenant, batch, day=day, usage_kind="memory", quantity=10.0 + n)
        records_compute()

        def snapshot():
            fields = ("day", "team_id", "ai_model_id", "location_id", "record_kind", "phase")
            rows = DailyRollup.objects.order_by(*fields, "energy_tier", "scope")
            return [
                (*(getattr(r, f) for f in fields), r.record_count, r.facility_kwh, r.market_kg)
                for r in rows
            ]

        written = snapshot()
        with transaction.atomic():
            days = [date(2026, 2, d) for d in range(1, 10)]
            daily_rollups_rebuild(organisation_id=tenant.organisation.id, days=days)
            market_allocations_rebuild(organisation_id=tenant.organisation.id, months=days)
        rebuilt = snapshot()
        assert [r[:7] for r in written] == [r[:7] for r in rebuilt]
        for a, b in zip(written, rebuilt, strict=True):
            assert a[7] == pytest.approx(b[7], rel=1e-12)
            assert a[8] == pytest.approx(b[8], rel=1e-12)
        assert rollup_mismatches() == []

    def test_an_absurd_figure_fails_its_record_not_its_window(self, tenant):
        batch = stored_batch(tenant)
        absurd = stored_workload(tenant, batch, energy_kwh=1e308)
        absurd_usage = stored_cloud_usage(tenant, batch, usage_kind="network", quantity=1e308)
        good = stored_workload(tenant, batch, avg_power_w=100.0)
        result = records_compute()
        assert (result.computed, result.failed) == (3, 2)
        for record in (absurd, absurd_usage):
            record.refresh_from_db()
            assert record.status == "failed"
            assert "above 1e12" in record.compute_error
        assert DailyRollup.objects.get().facility_kwh == pytest.approx(
            WorkloadRecord.objects.get(pk=good.pk).facility_kwh
        )

    def test_it_refreshes_the_rollup_of_a_day_when_more_records_arrive(self, tenant):
        fr_override(tenant.organisation)
        ingest(tenant, record(external_id="a", avg_power_w=500.0))
        workload_records_compute()
        ingest(tenant, record(external_id="b", avg_power_w=500.0))
        workload_records_compute()
        rollup = DailyRollup.objects.get()
        assert rollup.record_count == 2
        assert rollup.facility_kwh == pytest.approx(96.0)

    def test_a_grid_factor_names_its_source(self, factors):
        factor = GridFactor.objects.filter(zone="FR").first()
        assert factor.source and factor.licence


# Records written straight to the tables, as any ingestion path leaves them: pending.
def stored_batch(tenant) -> IngestBatch:
    # created > 0: a batch that holds records, as ingestion leaves it.
    return IngestBatch.objects.create(organisation=tenant.organisation, source="api", created=1)


def _stored(model, tenant, batch, day: date, **values):
    """A pending record of `model` on `day`, with the fields every record has."""
    batch = batch or stored_batch(tenant)
    common = {
        "organisation": tenant.organisation,
        "batch": batch,
        "external_id": f"{model.__name__}-{model.objects.count()}-{batch.pk}",
        "content_hash": "x",
        "team": tenant.teams["research"],
        "activity_date": day,
    }
    return model.objects.create(**{**common, **values})


def stored_workload(tenant, batch=None, *, day=date(2026, 1, 10), hours=10.0, **fields):
    started = datetime(day.year, day.month, day.day, tzinfo=UTC)
    values = {
        "phase": "training",
        "started_at": started,
        "ended_at": started + timedelta(hours=hours),
        "duration_s": hours * 3600.0,
        "location": Location.objects.get(organisation=tenant.organisation, code="lab-paris"),
        "device_count": 1,
    }
    return _stored(WorkloadRecord, tenant, batch, day, **{**values, **fields})


def stored_cloud_usage(tenant, batch=None, *, day=date(2026, 1, 10), **fields):
    started = datetime(day.year, day.month, day.day, tzinfo=UTC)
    values = {
        "location": Location.objects.get(organisation=None, code="aws:us-east-1"),
        "service": "AmazonEC2",
        "usage_kind": "compute",
        "quantity": 100.0,
        "usage_start": started,
        "usage_end": started + timedelta(hours=1),
    }
    return _stored(CloudUsageRecord, tenant, batch, day, **{**values, **fields})


@pytest.mark.django_db
class TestQueue:
    def test_a_batch_task_computes_its_batch_and_takes_it_off_the_queue(self, tenant):
        mine, other = stored_batch(tenant), stored_batch(tenant)
        stored_workload(tenant, mine, avg_power_w=100.0)
        stored_workload(tenant, other, avg_power_w=100.0)
        assert batches_waiting() == [mine.id, other.id]
        assert batch_compute(batch_id=mine.id).computed == 1
        assert batches_waiting() == [other.id]
        assert WorkloadRecord.objects.get(batch=other).status == "pending"

    def test_the_sweep_computes_the_batches_whose_task_never_ran(self, tenant):
        for _ in range(3):
            stored_workload(tenant, avg_power_w=100.0)
        assert pending_sweep().computed == 3
        assert batches_waiting() == []
        assert pending_sweep().computed == 0

    def test_the_full_sweep_finds_pending_records_outside_any_queue(self, tenant):
        record = stored_workload(tenant, avg_power_w=100.0)
        pending_sweep()
        WorkloadRecord.objects.filter(pk=record.pk).update(status="pending")
        assert pending_sweep().computed == 0  # its batch is done
        assert records_compute().computed == 1
