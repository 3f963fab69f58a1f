"""A small, hand-checkable quarter for the Scope 2 report tests.

2026 Q1 at lab-paris (FR, PUE 1.2, organisation override 0.05 kg/kWh), 8 GPUs × 500 W × 10 h
= 40 kWh IT = 48 kWh facility unless measured:
  Jan  research / atlas-7b   training     48 kWh  2.4 kg
  Feb  serving  / atlas-chat inference    48 kWh  2.4 kg  (1M inferences, 50M tokens)
  Mar  research / atlas-7b   fine-tuning  100 kWh measured → 120 kWh  6.0 kg
  Mar  serving  / atlas-chat inference    on aws:us-east-1: public cloud, Scope 3 cat. 1
One 100 kWh zero-emission certificate (EAC) for FR covers Jan, Feb and 4 kWh of Mar; the
other 116 kWh take the residual mix 0.1 kg/kWh: market-based 11.6 kg.
2025 Q1 and 2025 Q4 each have one 48 kWh training record, for the comparisons.
"""

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from inventory.models import (
    AiModel,
    ContractualInstrument,
    DailyRollup,
    Hardware,
    IngestBatch,
    Location,
    MarketAllocation,
    WorkloadRecord,
)
from inventory.pipeline import workload_records_compute
from inventory.pipeline.rollups import monthly_rollups_refresh
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override

RESIDUAL_KG_PER_KWH = 0.1


def job(external_id, day: date, team="research", model="atlas-7b", phase="training", **extra):
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return workload(
        external_id=external_id,
        team=team,
        model=model,
        phase=phase,
        avg_power_w=None if extra.get("energy_kwh") else 500.0,
        utilization=None,
        started_at=start.isoformat(),
        ended_at=(start + timedelta(hours=10)).isoformat(),
        **extra,
    )


QUARTER_JOBS = [
    job("jan-train", date(2026, 1, 5)),
    job(
        "feb-serve",
        date(2026, 2, 5),
        team="serving",
        model="atlas-chat",
        phase="inference",
        inferences=1_000_000,
        tokens=50_000_000,
    ),
    job("mar-tune", date(2026, 3, 5), phase="fine_tuning", energy_kwh=100.0),
    job(
        "mar-cloud",
        date(2026, 3, 6),
        team="serving",
        model="atlas-chat",
        phase="inference",
        location="aws:us-east-1",
        inferences=500_000,
    ),
]
HISTORY_JOBS = [job("last-year-q1", date(2025, 2, 5)), job("last-q4", date(2025, 11, 5))]


def send(tenant, records):
    """Store records as ingestion would (one batch) and compute them with the pipeline.

    Written through the ORM so these tests exercise the reports, not the ingestion API.
    """
    organisation = tenant.organisation
    batch = IngestBatch.objects.create(
        organisation=organisation, source="api", received=len(records), created=len(records)
    )
    rows = []
    for record in records:
        started = datetime.fromisoformat(record["started_at"])
        ended = datetime.fromisoformat(record["ended_at"])
        model, _ = AiModel.objects.get_or_create(organisation=organisation, name=record["model"])
        location = Location.objects.filter(
            Q(organisation=organisation) | Q(organisation__isnull=True), code=record["location"]
        ).first()
        rows.append(
            WorkloadRecord(
                organisation=organisation,
                batch=batch,
                external_id=record["external_id"],
                content_hash=hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest(),
                team=tenant.teams[record["team"]],
                ai_model=model,
                phase=record["phase"],
                started_at=started,
                ended_at=ended,
                duration_s=(ended - started).total_seconds(),
                activity_date=started.date(),
                location=location,
                hardware=Hardware.objects.get(code=record["hardware"]),
                device_count=record["device_count"],
                energy_kwh=record.get("energy_kwh"),
                avg_power_w=record.get("avg_power_w"),
                inferences=record.get("inferences"),
                tokens=record.get("tokens"),
            )
        )
    WorkloadRecord.objects.bulk_create(rows)
    workload_records_compute()


def allocate_market(organisation, instrument=None):
    """Market-based figures as the pipeline makes them: instruments first per zone × month,
    the rest at the residual mix; rollups take market_kg pro rata. Rebuilt from scratch."""
    MarketAllocation.objects.filter(organisation=organisation).delete()
    rows = (
        DailyRollup.objects.filter(organisation=organisation, scope="scope2")
        .values("location__zone", "day")
        .annotate(kwh=Sum("facility_kwh"))
    )
    by_zone_month: dict[tuple, float] = defaultdict(float)
    for row in rows:
        by_zone_month[(row["location__zone"], row["day"].replace(day=1))] += row["kwh"]
    left = instrument.mwh * 1000.0 if instrument else 0.0
    kg_by_zone_month = {}
    for (zone, month), kwh in sorted(by_zone_month.items()):
        covered = 0.0
        if instrument and zone == instrument.zone and instrument.valid_from <= month:
            covered = min(left, kwh)
            left -= covered
        parts = []
        if covered:
            parts.append(("instrument", instrument, covered, instrument.kg_per_kwh))
        if kwh - covered:
            parts.append(("residual_mix", None, kwh - covered, RESIDUAL_KG_PER_KWH))
        for basis, inst, part_kwh, factor in parts:
            MarketAllocation.objects.create(
                organisation=organisation,
                zone=zone,
                month=month,
                basis=basis,
                instrument=inst,
                kwh=part_kwh,
                kg_per_kwh=factor,
                kg=part_kwh * factor,
                methodology_version="2026.1",
                computed_at=timezone.now(),
            )
        kg_by_zone_month[(zone, month)] = sum(p[2] * p[3] for p in parts)
    for rollup in DailyRollup.objects.filter(organisation=organisation).select_related("location"):
        key = (rollup.location.zone, rollup.day.replace(day=1))
        if rollup.scope == "scope2":
            rollup.market_kg = kg_by_zone_month[key] * rollup.facility_kwh / by_zone_month[key]
        else:
            rollup.market_kg = None
        rollup.save(update_fields=["market_kg"])
    monthly_rollups_refresh(organisation_id=organisation.id)


def eac(organisation, mwh=0.1):
    return ContractualInstrument.objects.create(
        organisation=organisation,
        kind="eac",
        zone="FR",
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        mwh=mwh,
        kg_per_kwh=0.0,
        reference="GO-2026-0001",
        supplier="Hydro France",
    )


def seed_quarter(tenant):
    """The quarter above, computed, with market-based figures."""
    fr_override(tenant.organisation)
    send(tenant, QUARTER_JOBS + HISTORY_JOBS)
    allocate_market(tenant.organisation, eac(tenant.organisation))
    return tenant.client_for("esg_officer")


def scope2(client, year=2026, quarter=1, **params):
    query = "&".join(f"{k}={v}" for k, v in {"year": year, "quarter": quarter, **params}.items())
    return client.get(f"/api/v1/reports/scope2/?{query}")


def rollup(owner, day: date, kwh: float, scope: str = "scope2", **extra) -> None:
    """A research training rollup row at lab-paris: kg = kWh / 10, market kg = kWh / 20."""
    DailyRollup.objects.create(
        organisation=owner.organisation,
        day=day,
        team=owner.teams["research"],
        location=Location.objects.get(organisation=owner.organisation, code="lab-paris"),
        phase="training",
        energy_tier="measured",
        scope=scope,
        record_count=1,
        it_kwh=kwh,
        facility_kwh=kwh,
        location_kg=kwh / 10,
        market_kg=kwh / 20,
        **extra,
    )
    monthly_rollups_refresh(organisation_id=owner.organisation.id)
