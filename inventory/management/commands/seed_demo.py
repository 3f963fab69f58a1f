"""Seed a demo organisation with teams, facilities, users, contractual instruments and ~90 days
of realistic AI workloads."""

import random
from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation, Role
from accounts.principal import principal_for_membership
from accounts.services import member_add, organisation_create, team_create
from greenai_portal.errors import ApplicationError
from inventory.ingestion.schemas import CLOUD_USAGE
from inventory.models import IngestBatch, InstrumentKind, Location
from inventory.pipeline import records_compute
from inventory.services import record_batch_ingest, workload_batch_ingest
from inventory.settings_services import instrument_create, tariff_create
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
        # Serving on owned H100s (cited embodied row: the SCI shows M), measured at the PDU.
        inferences = rng.randint(400_000, 600_000)
        records.append(
            _job(
                f"serve-paris-dc1-{midnight:%Y%m%d}",
                "platform",
                "atlas-7b-chat",
                "inference",
                midnight,
                24,
                "paris-dc1",
                "nvidia-h100-sxm",
                8,
                energy_kwh=round(8 * 24 * rng.uniform(0.32, 0.42), 3),
                inferences=inferences,
                tokens=inferences * rng.randint(350, 650),
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


def demo_cloud_usage(today: datetime) -> list[dict]:
    """Billed GPU-hours of batch inference on AWS (A100 40GB, billed in USD), one line a day:
    their cost is the bill's, their embodied share the GPU's cited row."""
    lines = []
    for offset in range(DAYS, 0, -1):
        midnight = today - timedelta(days=offset)
        gpu_hours = 8 * random.Random(midnight.date().toordinal()).randint(6, 18)
        lines.append(
            {
                "external_id": f"aws-batch-{midnight:%Y%m%d}",
                "team": "platform",
                "model": "atlas-7b-chat",
                "location": "aws:us-east-1",
                "service": "AmazonEC2",
                "usage_kind": "gpu",
                "quantity": float(gpu_hours),
                "hardware": "nvidia-a100-40gb",
                "usage_start": midnight,
                "usage_end": midnight + timedelta(days=1),
                "cost": round(gpu_hours * 4.1, 2),  # the demo bill's price per GPU-hour
                "currency": "USD",
                "tags": {"seed": "demo"},
            }
        )
    return lines


# Demo supply contracts per facility: EUR per kWh (the organisation's own figures).
DEMO_TARIFFS = (("paris-dc1", 0.18), ("frankfurt-colo", 0.21))


def demo_tariffs(*, organisation: Organisation, first_day: date, last_day: date, actor) -> int:
    """One electricity tariff per facility and calendar year; those there already are kept."""
    created = 0
    for year in range(first_day.year, last_day.year + 1):
        for code, price in DEMO_TARIFFS:
            facility = Location.objects.get(organisation=organisation, code=code)
            if facility.tariffs.filter(valid_from=date(year, 1, 1)).exists():
                continue
            tariff_create(
                location=facility,
                valid_from=date(year, 1, 1),
                valid_to=date(year, 12, 31),
                price_per_kwh=price,
                currency="EUR",
                source=f"Demo supply contract {year}",
                created_by=actor,
            )
            created += 1
    return created


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
        tariffs = demo_tariffs(
            organisation=organisation,
            first_day=(today - timedelta(days=DAYS)).date(),
            last_day=today.date(),
            actor=admin.user,
        )
        result = workload_batch_ingest(
            principal=principal_for_membership(admin),
            records=demo_records(today),
            source=IngestBatch.Source.DEMO,
        )
        billed = record_batch_ingest(
            kind=CLOUD_USAGE.name,
            principal=principal_for_membership(admin),
            records=demo_cloud_usage(today),
            source=IngestBatch.Source.DEMO,
        )
        closed = close_last_quarter(organisation=organisation, today=today.date())
        self.stdout.write(
            f"Demo organisation '{organisation.slug}': {result.created} records created, "
            f"{result.duplicates} already there; {billed.created} billed cloud GPU lines; "
            f"{tariffs} electricity tariffs and {instruments} contractual instruments added; "
            f"{closed}"
        )
