"""The worker's estimate of pending LLM usage records, with EcoLogits (inventory.calculation.llm).

Impacts are computed once per distinct (provider, model, tokens per request, latency) in a
worker process (the calculation module's caches) and written back set-based: one UPDATE ...
FROM a VALUES list per chunk of records, on Postgres and SQLite alike.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from inventory.calculation.llm import (
    ECOLOGITS_VERSION,
    UnknownLlmError,
    declared_request_impacts,
    ecologits_knows,
    electricity_mix_zone,
    request_impacts,
)
from inventory.llm.services import unknown_llm_message
from inventory.models import ComputeStatus, CustomLlm, LlmUsageRecord

logger = logging.getLogger(__name__)

# 13 values a record: 2,000 records stay under SQLite's 32,766 bound parameters.
_CHUNK = 2_000
_FIGURES = (
    "energy_kwh_min",
    "energy_kwh_max",
    "gwp_usage_kg_min",
    "gwp_usage_kg_max",
    "gwp_embodied_kg_min",
    "gwp_embodied_kg_max",
    "water_l_min",
    "water_l_max",
)
_VALUES = ("id", "status", "custom_llm_id", *_FIGURES, "electricity_mix_zone", "estimate_error")
_CASTS = {"id": "BIGINT", "custom_llm_id": "BIGINT", **dict.fromkeys(_FIGURES, "DOUBLE PRECISION")}


@dataclass(frozen=True)
class EstimateResult:
    estimated: int
    failed: int


def _estimate_row(record: tuple, declared: dict[tuple, CustomLlm]) -> tuple:
    """(id, status, custom llm id, 8 figures, zone, error) for one pending record."""
    pk, organisation_id, provider, model, output_tokens, requests, latency_s = record
    per_request_tokens = output_tokens / requests
    custom = None
    try:
        if ecologits_knows(provider, model):
            impacts = request_impacts(provider, model, per_request_tokens, latency_s)
        else:
            custom = declared.get((organisation_id, provider, model))
            if custom is None:
                raise UnknownLlmError(unknown_llm_message(provider, model))
            impacts = declared_request_impacts(
                provider,
                custom.active_parameters_b,
                custom.total_parameters_b,
                per_request_tokens,
                latency_s,
            )
    except UnknownLlmError as error:
        return (pk, ComputeStatus.FAILED, None, *([None] * 8), "", str(error)[:300])
    figures = impacts.times(requests).flat()
    zone = electricity_mix_zone(provider)
    return (pk, ComputeStatus.COMPUTED, custom.pk if custom else None, *figures, zone, "")


def _declarations(records: list[tuple]) -> dict[tuple, CustomLlm]:
    wanted = {(r[1], r[2], r[3]) for r in records if not ecologits_knows(r[2], r[3])}
    if not wanted:
        return {}
    found = CustomLlm.objects.filter(
        organisation_id__in={w[0] for w in wanted},
        provider__in={w[1] for w in wanted},
        name__in={w[2] for w in wanted},
    )
    return {(c.organisation_id, c.provider, c.name): c for c in found}


def _write(rows: list[tuple]) -> None:
    table = LlmUsageRecord._meta.db_table
    names = ", ".join(_VALUES)
    marks = ", ".join(["(" + ", ".join(["%s"] * len(_VALUES)) + ")"] * len(rows))
    # Cast: a chunk whose column is all NULL would otherwise be text on Postgres.
    sets = ", ".join(
        f"{column} = CAST(v.{column} AS {_CASTS[column]})"
        if column in _CASTS
        else f"{column} = v.{column}"
        for column in _VALUES[1:]
    )
    params: list[Any] = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v ({names}) AS (VALUES {marks}) "  # noqa: S608 - identifiers are ours
            f"UPDATE {table} SET {sets}, ecologits_version = %s, estimated_at = %s "
            f"FROM v WHERE {table}.id = CAST(v.id AS BIGINT)",
            [*params, ECOLOGITS_VERSION, timezone.now()],
        )


def llm_usage_estimate(
    *, batch_id: int | None = None, organisation_id: int | None = None
) -> EstimateResult:
    """Estimate the pending LLM usage records of a batch, of an organisation, or all of them.

    A record of a model neither EcoLogits nor its organisation knows (a declaration deleted
    since) is marked failed, with the message saying how to declare it.
    """
    pending = LlmUsageRecord.objects.filter(status=ComputeStatus.PENDING)
    if batch_id is not None:
        pending = pending.filter(batch_id=batch_id)
    if organisation_id is not None:
        pending = pending.filter(organisation_id=organisation_id)
    columns = ("id", "organisation_id", "provider", "model", "output_tokens", "requests")
    records = list(pending.order_by("id").values_list(*columns, "latency_s"))
    estimated = failed = 0
    declared = _declarations(records)
    for start in range(0, len(records), _CHUNK):
        rows = [_estimate_row(record, declared) for record in records[start : start + _CHUNK]]
        with transaction.atomic():
            _write(rows)
        chunk_failed = sum(1 for row in rows if row[1] == ComputeStatus.FAILED)
        failed += chunk_failed
        estimated += len(rows) - chunk_failed
    if records:
        logger.info(
            "estimated llm usage",
            extra={"batch_id": batch_id, "estimated": estimated, "failed": failed},
        )
    return EstimateResult(estimated=estimated, failed=failed)
