"""Pulls an organisation's GPU energy counters from its Prometheus into hourly workload records.

Energy per hour is Prometheus's own `increase(counter[1h])` evaluated at each hour's end (one
range query per meter, step one hour): Prometheus already handles counter resets (a GPU or
node restart) and scrapes that straddle the hour, so the portal does not re-implement them and
reads one number per series and hour instead of every raw sample.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.principal import Access, Principal
from greenai_portal.errors import ApplicationError
from inventory.ingestion.mapping import mapping_rules, match_rule
from inventory.ingestion.schemas import WORKLOAD, batch_context
from inventory.ingestion.services import record_batch_ingest
from inventory.meters.prometheus import Series, range_query
from inventory.models import IngestBatch, MappingSource, Phase, PrometheusSource, TeamMappingRule

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# A new source starts this far back; one pull covers at most MAX_HOURS (the next one goes on).
FIRST_PULL_HOURS = 24
MAX_HOURS = 7 * 24
JOULES_PER_KWH = 3.6e6
# The labels a record keeps as tags (DCGM and Kepler's), to find the pod or GPU behind a figure.
TAGGED_LABELS = (
    "namespace",
    "pod",
    "container",
    "job",
    "instance",
    "Hostname",
    "gpu",
    "UUID",
    "modelName",
    "container_namespace",
    "pod_name",
    "container_name",
    "mode",
)


@dataclass(frozen=True)
class Meter:
    metric: str
    joules_per_unit: float


METERS = (
    # NVIDIA dcgm-exporter: "Total energy consumption since boot (in mJ)", per GPU.
    Meter("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 1e-3),
    # Kepler: joules per container (and mode: dynamic/idle) since the exporter started.
    Meter("kepler_container_joules_total", 1.0),
)


@dataclass(frozen=True)
class PullResult:
    hours: int
    created: int
    duplicates: int
    unmapped_series: int


def pull_window(
    *, pulled_until: datetime | None, now: datetime
) -> tuple[datetime, datetime] | None:
    """The complete hours to pull: from the last hour stored to the last hour that has ended
    (never the running one), at most MAX_HOURS; None when there is none."""
    last_end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = pulled_until or last_end - FIRST_PULL_HOURS * HOUR
    end = min(last_end, start + MAX_HOURS * HOUR)
    return (start, end) if end > start else None


def series_external_id(
    *, source_id: int, metric: str, labels: dict[str, str], hour: datetime
) -> str:
    """The same for every pull of this series and hour, so a re-pull is a duplicate."""
    digest = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:24]
    return f"prometheus:{source_id}:{metric}:{digest}:{hour:%Y-%m-%dT%H}"


def _record(
    source: PrometheusSource,
    meter: Meter,
    series: Series,
    rule: TeamMappingRule,
    hour_end: datetime,
    increase: float,
) -> dict[str, Any]:
    started_at = hour_end - HOUR
    record = {
        "external_id": series_external_id(
            source_id=source.id, metric=meter.metric, labels=series.labels, hour=started_at
        ),
        "team": rule.team.slug,
        "phase": rule.phase or Phase.OTHER,
        # as a client sends them: the schema validates what the REST API would
        "started_at": started_at.isoformat(),
        "ended_at": hour_end.isoformat(),
        "location": rule.location_code or source.location.code,
        "energy_kwh": increase * meter.joules_per_unit / JOULES_PER_KWH,
        "tags": {
            "metric": meter.metric,
            **{k: series.labels[k][:200] for k in TAGGED_LABELS if k in series.labels},
        },
    }
    if rule.model_name:
        record["model"] = rule.model_name
    hardware = source.hardware_by_gpu_model.get(series.labels.get("modelName", ""))
    if hardware:
        record["hardware"] = hardware
    return record


def _meter_records(
    source: PrometheusSource, meter: Meter, rules: list[TeamMappingRule], found: list[Series]
) -> tuple[list[dict[str, Any]], int]:
    records, unmapped = [], 0
    for series in found:
        rule = match_rule(rules, {f"label:{k}": v for k, v in series.labels.items()})
        if rule is None:
            unmapped += 1
            continue
        records += [
            _record(source, meter, series, rule, hour_end, increase)
            for hour_end, increase in series.points
            if increase > 0  # no energy, or no samples that hour
        ]
    return records, unmapped


def prometheus_source_pull(*, source_id: int, now: datetime | None = None) -> PullResult:
    """Store every complete hour since the last pull as measured workload records, one per
    series and hour. Idempotent: a re-pulled hour is a duplicate, never counted twice."""
    source = PrometheusSource.objects.select_related("organisation", "location").get(pk=source_id)
    window = pull_window(pulled_until=source.pulled_until, now=now or timezone.now())
    if window is None:
        return PullResult(0, 0, 0, 0)
    start, end = window
    try:
        found = {
            meter.metric: range_query(
                url=source.url,
                token=source.bearer_token,
                query=f"increase({meter.metric}[1h])",
                start=start + HOUR,
                end=end,
                step_s=int(HOUR.total_seconds()),
            )
            for meter in METERS
        }
    except ApplicationError as error:
        PrometheusSource.objects.filter(pk=source.pk).update(last_error=str(error))
        raise
    return prometheus_series_store(source=source, window=window, series_by_metric=found)


def prometheus_series_store(
    *,
    source: PrometheusSource,
    window: tuple[datetime, datetime],
    series_by_metric: dict[str, list[Series]],
) -> PullResult:
    """Store what the source's Prometheus answered for `window` (per meter's metric, the series
    of `increase(metric[1h])` at each hour's end), attributed by the `prometheus` mapping rules,
    and move the source's cursor to the window's end."""
    principal = Principal(
        organisation=source.organisation, access=frozenset({Access.INGEST}), team_ids=None
    )
    rules = mapping_rules(principal=principal, source=MappingSource.PROMETHEUS)
    try:
        records, unmapped = [], 0
        for meter in METERS:
            found, skipped = _meter_records(
                source, meter, rules, series_by_metric.get(meter.metric, [])
            )
            records += found
            unmapped += skipped
        created, duplicates = _stored(principal, source, records, window[1])
    except ApplicationError as error:
        PrometheusSource.objects.filter(pk=source.pk).update(last_error=str(error))
        raise
    hours = int((window[1] - window[0]) / HOUR)
    logger.info(
        "prometheus pulled",
        extra={"source_id": source.id, "hours": hours, "records_created": created},
    )
    return PullResult(hours, created, duplicates, unmapped)


def _stored(
    principal: Principal, source: PrometheusSource, records, pulled_until: datetime
) -> tuple[int, int]:
    """(created, duplicates); the source's cursor moves with the records it stored."""
    clean, errors = WORKLOAD.validate(records, batch_context())
    if errors:
        raise errors.error("Some meter readings are not valid workload records")
    created = duplicates = 0
    with transaction.atomic():
        if clean:
            result = record_batch_ingest(
                kind=WORKLOAD.name,
                principal=principal,
                records=clean,
                source=IngestBatch.Source.PROMETHEUS,
            )
            created, duplicates = result.created, result.duplicates
        PrometheusSource.objects.filter(pk=source.pk).update(
            pulled_until=pulled_until, last_error=""
        )
    return created, duplicates
