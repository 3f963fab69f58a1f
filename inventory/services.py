"""Ingestion: validated records in, stored once per external_id, computation queued on commit."""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from accounts.models import Team
from accounts.principal import Principal
from greenai_portal.errors import ApplicationError
from inventory.models import AiModel, Hardware, IngestBatch, Location, WorkloadRecord

logger = logging.getLogger(__name__)

# The fields whose values make a record what it is; a re-sent id must match on all of them.
WORKLOAD_CONTENT_FIELDS = (
    "team",
    "model",
    "phase",
    "started_at",
    "ended_at",
    "location",
    "hardware",
    "device_count",
    "energy_kwh",
    "avg_power_w",
    "utilization",
    "pue",
    "energy_includes_pue",
    "inferences",
    "tokens",
    "tags",
)


@dataclass(frozen=True)
class IngestResult:
    batch_id: int
    received: int
    created: int
    duplicates: int


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def content_hash(record: dict[str, Any]) -> str:
    canonical = {field: _jsonable(record.get(field)) for field in WORKLOAD_CONTENT_FIELDS}
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _choices_hint(field: str, value: str, valid: list[str]) -> str:
    shown = ", ".join(sorted(valid)[:20])
    more = f" (and {len(valid) - 20} more)" if len(valid) > 20 else ""
    return f"Unknown {field} {value!r}; valid: {shown}{more}" if valid else f"No {field}s exist"


class _References:
    """Resolves the names a batch uses to this organisation's rows, in a few queries."""

    def __init__(self, principal: Principal, records: list[dict[str, Any]]) -> None:
        organisation = principal.organisation
        teams = Team.objects.filter(organisation=organisation)
        if principal.team_ids is not None:
            teams = teams.filter(id__in=principal.team_ids)
        self.teams = {t.slug: t for t in teams}
        codes = {r["location"] for r in records}
        # An organisation's own facility wins over a shared cloud region of the same code.
        locations = Location.objects.filter(code__in=codes, organisation__isnull=True)
        self.locations = {loc.code: loc for loc in locations}
        self.locations.update(
            {loc.code: loc for loc in Location.objects.filter(organisation=organisation)}
        )
        hardware_codes = {r["hardware"] for r in records if r.get("hardware")}
        self.hardware = {h.code: h for h in Hardware.objects.filter(code__in=hardware_codes)}

    def errors(self, row: int, record: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        if record["team"] not in self.teams:
            found.append(("team", _choices_hint("team", record["team"], list(self.teams))))
        if record["location"] not in self.locations:
            found.append(
                (
                    "location",
                    f"Unknown location {record['location']!r}; use a cloud region such as "
                    "'aws:us-east-1' or one of your facilities: "
                    + (", ".join(sorted(k for k in self.locations)) or "none yet"),
                )
            )
        hardware = record.get("hardware")
        if hardware and hardware not in self.hardware:
            found.append(("hardware", f"Unknown hardware {hardware!r}; see GET /api/v1/hardware/"))
        return [{"row": row, "field": field, "message": message} for field, message in found]


def _models_by_name(organisation, names: set[str]) -> dict[str, AiModel]:
    AiModel.objects.bulk_create(
        [AiModel(organisation=organisation, name=name) for name in names],
        ignore_conflicts=True,
    )
    return {m.name: m for m in AiModel.objects.filter(organisation=organisation, name__in=names)}


def _duplicates_and_conflicts(
    organisation, records: list[dict[str, Any]], hashes: list[str]
) -> tuple[set[str], list[dict[str, Any]]]:
    """Ids already stored (or repeated in the batch) with the same content, and conflicts."""
    stored = dict(
        WorkloadRecord.objects.filter(
            organisation=organisation, external_id__in=[r["external_id"] for r in records]
        ).values_list("external_id", "content_hash")
    )
    seen: dict[str, str] = {}
    duplicates: set[str] = set()
    conflicts = []
    for row, (record, digest) in enumerate(zip(records, hashes, strict=True)):
        external_id = record["external_id"]
        known = stored.get(external_id, seen.get(external_id))
        if known is None:
            seen[external_id] = digest
        elif known == digest:
            duplicates.add(external_id)
        else:
            conflicts.append(
                {
                    "row": row,
                    "field": "external_id",
                    "message": f"external_id {external_id!r} was already sent with other "
                    "content; send a new external_id for a new record",
                }
            )
    return duplicates, conflicts


def workload_batch_ingest(
    *,
    principal: Principal,
    records: list[dict[str, Any]],
    source: str = IngestBatch.Source.API,
    user=None,
) -> IngestResult:
    """Store a batch of validated workload records; all or nothing, idempotent by external_id."""
    organisation = principal.organisation
    refs = _References(principal, records)
    errors = [e for row, record in enumerate(records) for e in refs.errors(row, record)]
    if errors:
        raise ApplicationError("Some records refer to unknown objects", errors=errors)
    hashes = [content_hash(r) for r in records]
    duplicates, conflicts = _duplicates_and_conflicts(organisation, records, hashes)
    if conflicts:
        raise ApplicationError(
            "Some external_ids conflict with stored records", errors=conflicts, status_code=409
        )

    with transaction.atomic():
        batch = IngestBatch.objects.create(
            organisation=organisation,
            source=source,
            token=principal.token,
            user=user,
            received=len(records),
        )
        models = _models_by_name(organisation, {r["model"] for r in records if r.get("model")})
        new_rows = []
        written: set[str] = set()
        for record, digest in zip(records, hashes, strict=True):
            external_id = record["external_id"]
            if external_id in duplicates or external_id in written:
                continue
            written.add(external_id)
            new_rows.append(_workload_row(record, digest, batch, refs, models))
        # ON CONFLICT DO NOTHING: a concurrent identical batch cannot double count.
        WorkloadRecord.objects.bulk_create(new_rows, batch_size=2000, ignore_conflicts=True)
        created = WorkloadRecord.objects.filter(batch=batch).count()
        batch.created = created
        batch.duplicates = len(records) - created
        batch.save(update_fields=["created", "duplicates"])
        if created:
            _queue_compute(batch.id)
    logger.info(
        "ingested batch",
        extra={"batch_id": batch.id, "created": created, "organisation_id": organisation.id},
    )
    return IngestResult(batch.id, len(records), created, len(records) - created)


def _workload_row(record, digest, batch, refs: _References, models) -> WorkloadRecord:
    started_at, ended_at = record["started_at"], record["ended_at"]
    model_name = record.get("model")
    return WorkloadRecord(
        organisation=batch.organisation,
        batch=batch,
        external_id=record["external_id"],
        content_hash=digest,
        team=refs.teams[record["team"]],
        ai_model=models[model_name] if model_name else None,
        phase=record["phase"],
        started_at=started_at,
        ended_at=ended_at,
        duration_s=(ended_at - started_at).total_seconds(),
        activity_date=started_at.astimezone(UTC).date(),
        location=refs.locations[record["location"]],
        hardware=refs.hardware.get(record.get("hardware") or ""),
        device_count=record.get("device_count") or 1,
        energy_kwh=record.get("energy_kwh"),
        avg_power_w=record.get("avg_power_w"),
        utilization=record.get("utilization"),
        pue=record.get("pue"),
        energy_includes_pue=record.get("energy_includes_pue", False),
        inferences=record.get("inferences"),
        tokens=record.get("tokens"),
        tags=record.get("tags") or {},
    )


def _queue_compute(batch_id: int) -> None:
    from inventory.tasks import compute_batch

    # robust: a broker outage must not fail a request whose data is already durable;
    # the periodic sweep computes what was not queued.
    transaction.on_commit(lambda: compute_batch.delay(batch_id), robust=True)
