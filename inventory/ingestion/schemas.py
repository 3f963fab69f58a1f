"""The record kinds the portal ingests: their fields, limits and cross-field rules."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from inventory.ingestion.fields import (
    BatchContext,
    Check,
    Field,
    RecordSchema,
    boolean,
    choice,
    integer,
    number,
    slug,
    tags,
    text,
    timestamp,
)
from inventory.models import Phase, UsageKind

# Upper bounds far above any real record (the largest published training runs used tens of GWh,
# a year is 3.2e7 s), low enough that no sum of a window's records can overflow a float.
MAX_RECORD_KWH = 1e9
MAX_USAGE_QUANTITY = 1e12
MAX_DURATION_S = 10 * 366 * 86400
MAX_FLOPS = 1e30


def batch_context() -> BatchContext:
    return BatchContext(
        future_horizon=timezone.now() + timedelta(days=settings.GREENAI_MAX_FUTURE_DAYS)
    )


def period_check(start: str, end: str) -> Check:
    def check(record: dict[str, Any], context: BatchContext) -> list[tuple[str, str]]:
        if record[end] <= record[start]:
            return [(end, f"Must be after {start} (durations must be positive)")]
        if record[end] > context.future_horizon:
            return [
                (
                    end,
                    f"Is in the future (more than {settings.GREENAI_MAX_FUTURE_DAYS} day(s) "
                    "ahead of now)",
                )
            ]
        return []

    return Check(
        (start, end),
        check,
        f"{end} must be after {start}, and not further ahead of now than the server allows "
        "(GREENAI_MAX_FUTURE_DAYS).",
    )


def _energy_source(record: dict[str, Any], context: BatchContext) -> list[tuple[str, str]]:
    if "energy_kwh" in record or "avg_power_w" in record or "hardware" in record:
        return []
    return [("hardware", "Give energy_kwh, avg_power_w or a hardware code to model from")]


def _gpu_needs_hardware(record: dict[str, Any], context: BatchContext) -> list[tuple[str, str]]:
    if record["usage_kind"] == UsageKind.GPU and "hardware" not in record:
        return [("hardware", "GPU usage needs the GPU's hardware code (see GET /api/v1/hardware/)")]
    return []


def _cost_has_currency(record: dict[str, Any], context: BatchContext) -> list[tuple[str, str]]:
    if ("cost" in record) != ("currency" in record):
        return [("currency", "Give cost and currency together (currencies are never mixed)")]
    return []


_CURRENCY = text(3, pattern=r"[A-Z]{3}", hint="An ISO 4217 code such as USD")

WORKLOAD = RecordSchema(
    name="workload",
    fields=(
        Field("external_id", text(200), required=True),
        Field("team", slug(60), required=True),
        Field("model", text(160)),
        Field("phase", choice(Phase.values), required=True),
        Field("started_at", timestamp(), required=True),
        Field("ended_at", timestamp(), required=True),
        Field("location", text(80), required=True),
        Field("hardware", text(60)),
        Field("device_count", integer(min_value=1, max_value=100_000), default=1),
        Field("energy_kwh", number(min_value=0, max_value=MAX_RECORD_KWH)),
        Field("avg_power_w", number(min_value=0, max_value=100_000)),
        Field("utilization", number(min_value=0, max_value=1)),
        Field("pue", number(min_value=1, max_value=5)),
        Field("energy_includes_pue", boolean(), default=False),
        Field("inferences", integer(min_value=0)),
        Field("tokens", integer(min_value=0)),
        Field("cost", number(min_value=0, max_value=MAX_RECORD_KWH), hashed_when_given=True),
        Field("currency", _CURRENCY, hashed_when_given=True),
        Field("tags", tags()),
        # The job's floating point operations, when the client counts them (EU AI Act
        # Annex XI 1.2(d)); the largest published training runs are near 5e25.
        Field("flops", number(min_value=0, max_value=MAX_FLOPS), hashed_when_given=True),
        # Litres the record measured itself (on-site, cooling): taken before any WUE.
        Field("water_l", number(min_value=0, max_value=MAX_RECORD_KWH), hashed_when_given=True),
    ),
    checks=(
        period_check("started_at", "ended_at"),
        Check(
            ("cost", "currency"),
            _cost_has_currency,
            "cost (the electricity's cost, if known) comes with its ISO 4217 currency.",
        ),
        Check(
            ("energy_kwh", "avg_power_w", "hardware"),
            _energy_source,
            "Give energy_kwh, avg_power_w or a hardware code to model the energy from.",
        ),
    ),
)

CLOUD_USAGE = RecordSchema(
    name="cloud_usage",
    fields=(
        Field("external_id", text(200), required=True),
        Field("team", slug(60), required=True),
        Field("model", text(160)),
        Field("location", text(80), required=True),
        Field("service", text(120), required=True),
        Field("usage_kind", choice(UsageKind.values), required=True),
        Field("quantity", number(min_value=0, max_value=MAX_USAGE_QUANTITY), required=True),
        Field("hardware", text(60)),
        Field("utilization", number(min_value=0, max_value=1)),
        Field("replication", number(min_value=1, max_value=20)),
        Field("usage_start", timestamp(), required=True),
        Field("usage_end", timestamp(), required=True),
        Field("cost", number()),
        Field("currency", _CURRENCY),
        Field("tags", tags()),
        # The billed instance type (m5.large): its vCPU-hours carry the instance's embodied
        # share (docs/methodology.md §21). Importers read it from the usage type, which the
        # hashed fields already reflect: not hashed, so billing files imported before it was
        # kept are duplicates when imported again (their lines keep no type).
        Field("instance_type", text(60), hashed=False),
    ),
    checks=(
        period_check("usage_start", "usage_end"),
        Check(
            ("usage_kind", "hardware"),
            _gpu_needs_hardware,
            "gpu usage needs the GPU's hardware code.",
        ),
    ),
)

SCHEMAS = {WORKLOAD.name: WORKLOAD, CLOUD_USAGE.name: CLOUD_USAGE}
