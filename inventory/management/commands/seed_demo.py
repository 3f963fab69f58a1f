"""Seed a demo organisation with teams, facilities, users, contractual instruments and ~90 days
of realistic AI workloads."""

import math
import random
from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation, Role
from accounts.principal import principal_for_membership
from accounts.services import member_add, organisation_create, team_create
from greenai_portal.errors import ApplicationError
from inventory.meters.prometheus import Series
from inventory.meters.services import HOUR, prometheus_series_store
from inventory.meters.sources import prometheus_source_create
from inventory.models import (
    IngestBatch,
    InstrumentKind,
    Location,
    MappingSource,
    Phase,
    PrometheusSource,
)
from inventory.pipeline import records_compute
from inventory.services import workload_batch_ingest
from inventory.settings_services import instrument_create, mapping_rule_create
from reports import periods
from reports.models import QuarterClose
from reports.services import report_close_approve, report_close_prepare

DEMO_SLUG = "demo"
DEMO_PASSWORD = "greenai-demo"  # noqa: S105 - a published demo login, never used in production
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("esg", Role.ESG_OFFICER),
    ("engineer", Role.ENGINEER),
    ("auditor", Role.AUDITOR),
]
DAYS = 90
# What the ESG officer bought for each calendar year, so the market-based figures and the
# renewable share have something to show: guarantees of origin for part of the Paris
# pre-training (~40 MWh a quarter) and a wind PPA for part of the Frankfurt serving
# (~2.7 MWh a quarter); the rest of each market takes its residual mix.
DEMO_INSTRUMENTS = [
    (
        InstrumentKind.EAC,
        "FR",
        30.0,
        "GO-FR",
        "Compagnie Nationale du Rhône (guarantees of origin)",
    ),
    (InstrumentKind.PPA, "DE", 1.5, "PPA-DE", "Nordsee Windpark GmbH"),
]


def _job(external_id, team, model, phase, start, hours, location, hardware, devices, **extra):
    return {
        "external_id": external_id,
        "team": team,
        "model": model,
        "phase": phase,
        "started_at": start,
        "ended_at": start + timedelta(hours=hours),
        "location": location,
        "hardware": hardware,
        "device_count": devices,
        "energy_includes_pue": False,
        "tags": {"seed": "demo"},
        **extra,
    }


def demo_records(today: datetime) -> list[dict]:
    """Demo workloads for the DAYS before `today` (UTC midnight).

    Each day's records derive from its date alone, so seeding again on a later day re-sends
    identical records for the days already there (counted as duplicates) and adds the new ones.
    """
    records = []
    for offset in range(DAYS, 0, -1):
        midnight = today - timedelta(days=offset)
        day = midnight.date().toordinal()
        rng = random.Random(day)
        if day % 7 == 0:
            # Pre-training run of the foundation model: 64 H100s, a few days, modelled.
            records.append(
                _job(
                    f"pretrain-{midnight:%Y%m%d}",
                    "research",
                    "atlas-7b",
                    "training",
                    midnight + timedelta(hours=2),
                    min(rng.uniform(40, 96), offset * 24 - 3),
                    "paris-dc1",
                    "nvidia-h100-sxm",
                    64,
                    utilization=round(rng.uniform(0.75, 0.92), 2),
                )
            )
        if day % 2 == 0:
            # Fine-tuning in the cloud, metered by DCGM (average power per GPU).
            records.append(
                _job(
                    f"finetune-{midnight:%Y%m%d}",
                    "applied-ml",
                    "atlas-7b-chat",
                    "fine_tuning",
                    midnight + timedelta(hours=9),
                    rng.uniform(4, 14),
                    "aws:us-east-1",
                    "nvidia-h100-sxm",
                    8,
                    avg_power_w=round(rng.uniform(480, 640), 1),
                )
            )
            records.append(
                _job(
                    f"classifier-{midnight:%Y%m%d}",
                    "applied-ml",
                    "support-classifier",
                    "fine_tuning",
                    midnight + timedelta(hours=13),
                    rng.uniform(1, 3),
                    "gcp:europe-west4",
                    "nvidia-a100-80gb",
                    2,
                    utilization=round(rng.uniform(0.5, 0.8), 2),
                )
            )
        # Serving: a day per site, energy measured at the PDU, with inference and token counts.
        for site, gpus in (("frankfurt-colo", 16), ("aws:us-east-1", 8)):
            inferences = rng.randint(180_000, 320_000) * gpus // 8
            records.append(
                _job(
                    f"serve-{site}-{midnight:%Y%m%d}",
                    "platform",
                    "atlas-7b-chat",
                    "inference",
                    midnight,
                    24,
                    site,
                    "nvidia-l4",
                    gpus,
                    energy_kwh=round(gpus * 24 * rng.uniform(0.045, 0.065), 3),
                    inferences=inferences,
                    tokens=inferences * rng.randint(350, 650),
                )
            )
    return records


# The demo's GPU energy meter: the Paris cluster's Prometheus scraping NVIDIA's dcgm-exporter.
# Its address is in the reserved .example domain and it is paused: seeding never reaches a
# server; the README (Demo) says how to point it at a real Prometheus.
DEMO_METER = "Paris GPU cluster (DCGM)"
DEMO_METER_URL = "http://prometheus.paris-dc1.example:9090"
DEMO_GPU_MODEL = "NVIDIA H100 80GB HBM3"
# (namespace, pod, GPUs, average W at the daily peak, at night): what each namespace runs.
DEMO_GPU_PODS = [
    ("llm-serving", "atlas-chat-vllm-7f9c", 2, 520.0, 180.0),
    ("research", "atlas-eval-5d2k", 1, 640.0, 610.0),
]


def demo_meter_series(day_end: datetime) -> list[Series]:
    """What `increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1h])` answers for the 24 hours
    before `day_end`, in mJ per GPU and hour: serving follows the day, evaluation runs flat.
    Derived from the date alone, so seeding again re-sends identical readings."""
    series = []
    for namespace, pod, gpus, peak_w, night_w in DEMO_GPU_PODS:
        for gpu in range(gpus):
            rng = random.Random(f"{day_end:%Y%m%d}-{pod}-{gpu}")
            points = []
            for hour in range(1, 25):
                hour_end = day_end - timedelta(days=1) + hour * HOUR
                daylight = max(0.0, math.sin(math.pi * (hour_end.hour - 6) / 16))
                watts = night_w + (peak_w - night_w) * daylight + rng.uniform(-15, 15)
                points.append((hour_end, round(watts * 3600 * 1000)))  # W × s → mJ
            labels = {
                "gpu": str(gpu),
                "UUID": f"GPU-{namespace[:4]}-{gpu}",
                "modelName": DEMO_GPU_MODEL,
                "Hostname": "paris-gpu-07",
                "namespace": namespace,
                "pod": pod,
                "container": "main",
                "job": "dcgm-exporter",
                "instance": "10.20.3.7:9400",
            }
            series.append(Series(labels=labels, points=points))
    return series


def demo_gpu_meter(*, organisation: Organisation, today: datetime, actor) -> int:
    """The Paris cluster's Prometheus source, its mapping rules, and yesterday's hourly energy
    per GPU as a pull stores it (the same service); the records created."""
    source = PrometheusSource.objects.filter(organisation=organisation, name=DEMO_METER).first()
    if source is None:
        source = prometheus_source_create(
            organisation=organisation,
            actor=actor,
            location="paris-dc1",
            name=DEMO_METER,
            url=DEMO_METER_URL,
            hardware_by_gpu_model={DEMO_GPU_MODEL: "nvidia-h100-sxm"},
            enabled=False,
        )
        teams = {t.slug: t for t in organisation.teams.all()}
        for namespace, team, model, phase in (
            ("llm-serving", "platform", "atlas-7b-chat", Phase.INFERENCE),
            ("research", "research", "atlas-7b", Phase.OTHER),
        ):
            mapping_rule_create(
                organisation=organisation,
                actor=actor,
                source=MappingSource.PROMETHEUS,
                key="label:namespace",
                value=namespace,
                team=teams[team],
                model_name=model,
                phase=phase,
            )
    result = prometheus_series_store(
        source=source,
        window=(today - timedelta(days=1), today),
        series_by_metric={"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": demo_meter_series(today)},
    )
    return result.created


def demo_instruments(*, organisation: Organisation, first_day: date, last_day: date, buyer) -> int:
    """One zero-emission instrument per market and calendar year from `first_day` to
    `last_day`; those there already are kept. Returns how many were created."""
    created = 0
    for year in range(first_day.year, last_day.year + 1):
        for kind, zone, mwh, prefix, supplier in DEMO_INSTRUMENTS:
            reference = f"{prefix}-{year}-DEMO"
            if organisation.instruments.filter(reference=reference).exists():
                continue
            instrument_create(
                organisation=organisation,
                kind=kind,
                zone=zone,
                valid_from=date(year, 1, 1),
                valid_to=date(year, 12, 31),
                mwh=mwh,
                kg_per_kwh=0.0,
                reference=reference,
                supplier=supplier,
                created_by=buyer,
            )
            created += 1
    return created


def close_last_quarter(*, organisation: Organisation, today: date) -> str:
    """Close the last quarter that has ended as two people do: the ESG officer prepares it,
    the admin approves (which locks it). Done once; says what happened."""
    year, quarter = periods.previous_quarter(*periods.quarter_of(today))
    label = periods.quarter(year, quarter).label
    if QuarterClose.objects.filter(organisation=organisation, year=year, quarter=quarter).exists():
        return f"{label} already closed"
    esg = organisation.memberships.get(role=Role.ESG_OFFICER)
    admin = organisation.memberships.get(role=Role.ADMIN)
    # Closing reads computed records only: compute the seeded ones now, not on commit.
    records_compute(organisation_id=organisation.id)
    try:
        report_close_prepare(
            principal=principal_for_membership(esg),
            year=year,
            quarter=quarter,
            note=f"{label}: GPU meters, colocation PUE and cloud bills checked; ready to lock.",
            user=esg.user,
        )
        report_close_approve(
            principal=principal_for_membership(admin),
            year=year,
            quarter=quarter,
            comment="Reviewed against the finance ledger; approved.",
            user=admin.user,
        )
    except ApplicationError as exc:  # e.g. no data in that quarter on this seeding day
        return f"{label} not closed: {exc.message}"
    return f"{label} closed by esg (prepared) and admin (approved)"


class Command(BaseCommand):
    help = "Create the demo organisation (idempotent) and ingest its workloads."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        organisation = Organisation.objects.filter(slug=DEMO_SLUG).first()
        if organisation is None:
            organisation = organisation_create(name="Demo AI Lab", slug=DEMO_SLUG)
            teams = {
                slug: team_create(organisation=organisation, name=name, slug=slug)
                for slug, name in (
                    ("research", "Research"),
                    ("applied-ml", "Applied ML"),
                    ("platform", "Platform & Serving"),
                )
            }
            Location.objects.create(
                organisation=organisation,
                code="paris-dc1",
                name="Paris DC1 (owned)",
                kind=Location.Kind.OWNED,
                zone="FR",
                pue=1.25,
                pue_source="Facility BMS, 2025 annual average",
            )
            Location.objects.create(
                organisation=organisation,
                code="frankfurt-colo",
                name="Frankfurt colocation",
                kind=Location.Kind.COLOCATION,
                zone="DE",
                pue=1.42,
                pue_source="Colocation provider's 2025 sustainability report",
            )
            for username, role in DEMO_USERS:
                member_add(
                    organisation=organisation,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    teams=[teams["applied-ml"]] if role == Role.ENGINEER else [],
                )
        admin = organisation.memberships.get(role=Role.ADMIN)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        # Before the records: their computation allocates the instruments as it goes.
        instruments = demo_instruments(
            organisation=organisation,
            first_day=(today - timedelta(days=DAYS)).date(),
            last_day=today.date(),
            buyer=organisation.memberships.get(role=Role.ESG_OFFICER).user,
        )
        result = workload_batch_ingest(
            principal=principal_for_membership(admin),
            records=demo_records(today),
            source=IngestBatch.Source.DEMO,
        )
        metered = demo_gpu_meter(organisation=organisation, today=today, actor=admin.user)
        closed = close_last_quarter(organisation=organisation, today=today.date())
        self.stdout.write(
            f"Demo organisation '{organisation.slug}': {result.created} records created, "
            f"{result.duplicates} already there; {metered} GPU-hours from its Prometheus meter; "
            f"{instruments} contractual instruments added; {closed}"
        )
