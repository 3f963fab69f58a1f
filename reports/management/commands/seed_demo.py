"""Seed a demo organisation with teams, facilities, users, contractual instruments and about
two and a half years of realistic AI workloads (fiscal years from April, a base year, and the
last whole fiscal year closed quarter by quarter, so the annual report is final), a year of
hourly LLM API usage, an optimised model variant and team budgets."""

import math
import random
from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation, Role
from accounts.principal import principal_for_membership
from accounts.services import (
    member_add,
    organisation_create,
    organisation_fiscal_year_set,
    organisation_reporting_set,
    team_create,
)
from greenai_portal import periods
from greenai_portal.errors import ApplicationError
from greenai_portal.fiscal_years import FiscalYear, fiscal_year_of
from inventory.facility_services import facility_wue_create, tariff_create
from inventory.ingestion.schemas import CLOUD_USAGE
from inventory.ingestion.services import record_batch_ingest, workload_batch_ingest
from inventory.instrument_services import instrument_create
from inventory.llm.demo import demo_custom_llm, demo_llm_usage
from inventory.llm.services import llm_usage_ingest
from inventory.mapping_rule_services import mapping_rule_create
from inventory.meters.prometheus import Series
from inventory.meters.services import HOUR, prometheus_series_store
from inventory.meters.sources import prometheus_source_create
from inventory.model_variants import model_variant_set
from inventory.models import (
    FacilityWue,
    IngestBatch,
    InstrumentKind,
    Location,
    MappingSource,
    OptimisationTechnique,
    Phase,
    PrometheusSource,
)
from inventory.otlp.decoding import PROTOBUF
from inventory.otlp.demo import demo_trace_export
from inventory.otlp.services import otlp_traces_ingest
from inventory.pipeline import records_compute
from reports.models import QuarterClose, Target
from reports.services import report_close_approve, report_close_prepare
from reports.target_services import target_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "greenai-demo"  # noqa: S105 - a published demo login, never used in production
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("esg", Role.ESG_OFFICER),
    ("engineer", Role.ENGINEER),
    ("auditor", Role.AUDITOR),
]
# What the audit PDF's cover states the inventory covers.
DEMO_REPORTING = {
    "reporting_boundary": (
        "Demo AI Lab SAS: its AI compute in Paris DC1 (owned) and the Frankfurt colocation, and"
        " its public cloud use on AWS, Google Cloud and Azure."
    ),
    "consolidation_approach": Organisation.Consolidation.OPERATIONAL_CONTROL,
    "reporting_exclusions": (
        "Office laptops and desktops: under 1 % of the lab's electricity, not metered.\n"
        "Embodied emissions of servers and GPUs: outside Scope 2; no supplier data yet."
    ),
}
# Fiscal years from April; the base year is the one before the last whole fiscal year, and
# the records begin on its first day.
FISCAL_YEAR_START_MONTH = 4
# What the ESG officer buys for each calendar quarter, so the market-based figures and the
# renewable share have something to show in every quarter: guarantees of origin for part of
# the Paris pre-training (~40 MWh a quarter) and a wind PPA for part of the Frankfurt serving
# (~2.7 MWh a quarter); the rest of each market takes its residual mix. (Bought for a whole
# year, they would be used up by the first months: the allocation goes month by month.)
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


def last_whole_fiscal_year(today: date) -> FiscalYear:
    return fiscal_year_of(today, FISCAL_YEAR_START_MONTH).shifted(-1)


def demo_days(today: date) -> int:
    """Days of records before `today`: from the first day of the base year."""
    return (today - last_whole_fiscal_year(today).shifted(-1).start).days


def demo_records(today: datetime) -> list[dict]:
    """Demo workloads for the demo_days before `today` (UTC midnight).

    Each day's records derive from its date alone, so seeding again on a later day re-sends
    identical records for the days already there (counted as duplicates) and adds the new ones.
    """
    records = []
    for offset in range(demo_days(today.date()), 0, -1):
        midnight = today - timedelta(days=offset)
        day = midnight.date().toordinal()
        rng = random.Random(day)
        if day % 7 == 0:
            # Pre-training run of the foundation model: 64 H100s, a few days, modelled; the
            # trainer counts its FLOPs (H100 SXM dense BF16 peak 989 TFLOP/s at 40 % use).
            hours = min(rng.uniform(40, 96), offset * 24 - 3)
            records.append(
                _job(
                    f"pretrain-{midnight:%Y%m%d}",
                    "research",
                    "atlas-7b",
                    "training",
                    midnight + timedelta(hours=2),
                    hours,
                    "paris-dc1",
                    "nvidia-h100-sxm",
                    64,
                    utilization=round(rng.uniform(0.75, 0.92), 2),
                    flops=float(f"{64 * hours * 3600 * 989e12 * 0.40:.3e}"),
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
        # The int8-quantised chat model serves part of Frankfurt's traffic on 4 more L4s:
        # about 40 % less energy per inference than the base model (measured at the PDU).
        inferences = rng.randint(90_000, 160_000)
        records.append(
            _job(
                f"serve-int8-frankfurt-colo-{midnight:%Y%m%d}",
                "platform",
                "atlas-7b-chat-int8",
                "inference",
                midnight,
                24,
                "frankfurt-colo",
                "nvidia-l4",
                4,
                energy_kwh=round(4 * 24 * rng.uniform(0.027, 0.039), 3),
                inferences=inferences,
                tokens=inferences * rng.randint(350, 650),
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
    for offset in range(demo_days(today.date()), 0, -1):
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
    """One zero-emission instrument per market and calendar quarter from `first_day` to
    `last_day`; those there already are kept. Returns how many were created."""
    created = 0
    year, number = periods.quarter_of(first_day)
    while (year, number) <= periods.quarter_of(last_day):
        quarter = periods.quarter(year, number)
        for kind, zone, mwh, prefix, supplier in DEMO_INSTRUMENTS:
            reference = f"{prefix}-{year}Q{number}-DEMO"
            if organisation.instruments.filter(reference=reference).exists():
                continue
            instrument_create(
                organisation=organisation,
                kind=kind,
                zone=zone,
                valid_from=quarter.start,
                valid_to=quarter.end - timedelta(days=1),
                mwh=mwh,
                kg_per_kwh=0.0,
                reference=reference,
                supplier=supplier,
                created_by=buyer,
            )
            created += 1
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)
    return created


def declare_variants(*, organisation: Organisation, admin) -> None:
    """The quantised serving model is declared a variant of the chat model it was made from."""
    models = {m.name: m for m in organisation.ai_models.all()}
    model_variant_set(
        model=models["atlas-7b-chat-int8"],
        base_model=models["atlas-7b-chat"],
        technique=OptimisationTechnique.QUANTISATION,
        precision="int8",
        note="Weight-only int8 (GPTQ), same vLLM serving stack and L4 hardware",
        actor=admin,
    )


DEMO_BUDGETS = [
    # (name, team, scope, basis, budget per quarter)
    # (the serving team's runs a little over at the demo's pace: the forecast shows the alert)
    ("Serving: Scope 2 budget", "platform", "scope2", "location", 1.1),
    ("Applied ML: cloud energy budget", "applied-ml", "scope3_cat1", "energy", 2.5),
]


def demo_targets(*, organisation: Organisation, admin) -> None:
    """Quarterly budgets for two teams, so progress and forecasts show on the overview."""
    for name, team, scope, basis, budget in DEMO_BUDGETS:
        if not organisation.targets.filter(name=name).exists():
            target_create(
                organisation=organisation, name=name, kind=Target.Kind.BUDGET,
                team=organisation.teams.get(slug=team), scope=scope, basis=basis,
                budget=budget, actor=admin,
            )  # fmt: skip


# The demo facilities' own site-water readings (fictional, like their PUE): Paris is cooled
# mostly by dry coolers, the Frankfurt colocation by evaporative towers in summer.
DEMO_WUE = {
    "paris-dc1": (0.3, "Facility BMS: site water meter ÷ IT meter, 2025 annual (demo figure)"),
    "frankfurt-colo": (
        0.9,
        "Colocation provider's 2025 sustainability report, site WUE (demo figure)",
    ),
}


def demo_wue(*, organisation: Organisation, first_day: date, last_day: date, actor) -> int:
    """The facilities' WUE over the demo period (once): on-site water shows from the start."""
    if FacilityWue.objects.filter(organisation=organisation).exists():
        return 0
    for code, (wue, source) in DEMO_WUE.items():
        facility_wue_create(
            location=Location.objects.get(organisation=organisation, code=code),
            valid_from=date(first_day.year, 1, 1),
            valid_to=date(last_day.year, 12, 31),
            wue_l_per_kwh=wue,
            source=source,
            actor=actor,
        )
    return len(DEMO_WUE)


def quarters_to_close(today: date) -> list[tuple[int, int]]:
    """The last whole fiscal year's quarters and the last quarter that has ended."""
    quarters = [(q.year, q.quarter) for q in last_whole_fiscal_year(today).quarters]
    last_ended = periods.previous_quarter(*periods.quarter_of(today))
    return quarters + ([last_ended] if last_ended not in quarters else [])


def close_quarter(*, organisation: Organisation, year: int, quarter: int) -> str:
    """Close a quarter as two people do: the ESG officer prepares it, the admin approves
    (which locks it). Done once; says what happened."""
    label = periods.quarter(year, quarter).label
    if QuarterClose.objects.filter(organisation=organisation, year=year, quarter=quarter).exists():
        return f"{label} already closed"
    esg = organisation.memberships.get(role=Role.ESG_OFFICER)
    admin = organisation.memberships.get(role=Role.ADMIN)
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


def close_quarters(*, organisation: Organisation, today: date) -> str:
    # Closing reads computed records only: compute the seeded ones now, not on commit.
    records_compute(organisation_id=organisation.id)
    return "; ".join(
        close_quarter(organisation=organisation, year=year, quarter=quarter)
        for year, quarter in quarters_to_close(today)
    )


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
        if not organisation.reporting_boundary:
            organisation_reporting_set(
                organisation=organisation, actor=admin.user, **DEMO_REPORTING
            )
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if organisation.base_fiscal_year is None:
            organisation_fiscal_year_set(
                organisation=organisation,
                start_month=FISCAL_YEAR_START_MONTH,
                base_year=last_whole_fiscal_year(today.date()).shifted(-1).start_year,
                actor=admin.user,
            )
        # Before the records: their computation allocates the instruments as it goes.
        instruments = demo_instruments(
            organisation=organisation,
            first_day=(today - timedelta(days=demo_days(today.date()))).date(),
            last_day=today.date(),
            buyer=organisation.memberships.get(role=Role.ESG_OFFICER).user,
        )
        wue_rows = demo_wue(
            organisation=organisation,
            first_day=(today - timedelta(days=demo_days(today.date()))).date(),
            last_day=today.date(),
            actor=admin.user,
        )
        tariffs = demo_tariffs(
            organisation=organisation,
            first_day=(today - timedelta(days=demo_days(today.date()))).date(),
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
        metered = demo_gpu_meter(organisation=organisation, today=today, actor=admin.user)
        declare_variants(organisation=organisation, admin=admin.user)
        demo_targets(organisation=organisation, admin=admin.user)
        demo_custom_llm(organisation=organisation, actor=admin.user)
        llm = llm_usage_ingest(
            principal=principal_for_membership(admin),
            rows=demo_llm_usage(today),
            source=IngestBatch.Source.DEMO,
        )
        # A week of an instrumented app's traces, through the OTLP endpoint's own service.
        body = demo_trace_export(today)
        traces = otlp_traces_ingest(
            principal=principal_for_membership(admin),
            body=body,
            content_type=PROTOBUF,
            content_encoding=None,
            limit=len(body),
        )
        closed = close_quarters(organisation=organisation, today=today.date())
        self.stdout.write(
            f"Demo organisation '{organisation.slug}': {result.created} records created, "
            f"{result.duplicates} already there; {billed.created} billed cloud GPU lines; "
            f"{metered} GPU-hours from its Prometheus meter; "
            f"{tariffs} electricity tariffs added; {llm.created} hours of LLM API usage created, "
            f"{llm.duplicates} already there; {traces.created} LLM calls from OpenTelemetry "
            f"traces created, {traces.duplicates} already there; "
            f"{instruments} contractual instruments added; "
            f"{wue_rows} facility WUE rows added; "
            f"{closed}"
        )
