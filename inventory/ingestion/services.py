"""Ingestion: validated records in, stored once per external_id, computation queued on commit."""

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from django.db import transaction

from accounts.principal import Principal
from accounts.selectors import team_list
from inventory.ingestion.fields import ContentFields, RecordSchema, RowErrors
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD
from inventory.ingestion.writers import RecordTable, write_rows
from inventory.models import (
    AiModel,
    CloudUsageRecord,
    Hardware,
    IngestBatch,
    Location,
    UsageKind,
    WorkloadRecord,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    batch_id: int
    received: int
    created: int
    duplicates: int


_canonical_json = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
_sorted_json = msgspec.json.Encoder(order="sorted").encode


def content_hash(record: dict[str, Any], content: ContentFields) -> str:
    """SHA-256 of the record's content fields as sorted, compact JSON (datetimes in ISO 8601,
    non-ASCII escaped: what `json.dumps(sort_keys=True)` writes).

    The hot path of bulk ingestion. msgspec writes the same bytes five times faster, except in
    three places, where the standard library's encoder takes over: floats below 1e-4 or from
    1e16 up (Python writes 1e-05 and 1e+16, msgspec 0.00001 and 1e16), non-ASCII text and DEL
    (which only Python escapes). Stored hashes never change, so neither do idempotency nor
    locked reports' input hashes: fields added to a kind later enter only when given
    (`Field.hashed_when_given`).
    """
    get = record.get
    canonical = {field: get(field) for field in content.always}
    for field, default in content.when_given:
        value = get(field)
        if value is not None and value != default:
            canonical[field] = value
    plain = True
    for field, value in canonical.items():
        kind = value.__class__
        if kind is datetime:
            canonical[field] = value.isoformat()
        elif kind is float and value and not 1e-4 <= abs(value) < 1e16:
            plain = False
    text = _sorted_json(canonical) if plain else b""
    if not plain or not text.isascii() or b"\x7f" in text:
        text = _canonical_json(canonical).encode()
    return hashlib.sha256(text).hexdigest()


def choices_hint(field: str, value: str, valid: list[str]) -> str:
    shown = ", ".join(sorted(valid)[:20])
    more = f" (and {len(valid) - 20} more)" if len(valid) > 20 else ""
    return f"Unknown {field} {value!r}; valid: {shown}{more}" if valid else f"No {field}s exist"


# Which hardware kinds each cloud usage kind may name (the rest take none).
_USAGE_HARDWARE_KINDS = {
    UsageKind.COMPUTE: {Hardware.Kind.CPU},
    UsageKind.GPU: {Hardware.Kind.GPU, Hardware.Kind.TPU},
}


class References:
    """Resolves the names a batch uses to this organisation's rows, in a few queries."""

    def __init__(self, principal: Principal, records: Sequence[dict[str, Any]]) -> None:
        organisation = principal.organisation
        self.teams = dict(team_list(principal=principal).values_list("slug", "id"))
        codes = {r.get("location") for r in records}
        # An organisation's own facility wins over a shared cloud region of the same code.
        shared = Location.objects.filter(code__in=codes, organisation__isnull=True)
        self.locations = dict(shared.values_list("code", "id"))
        own = Location.objects.filter(organisation=organisation)
        self.own_locations = dict(own.values_list("code", "id"))
        self.locations.update(self.own_locations)
        hardware_codes = {r["hardware"] for r in records if r.get("hardware")}
        # The row of the active version names the device; computing takes the watts of the
        # same code in whichever version it uses.
        hardware = Hardware.objects.filter(code__in=hardware_codes, dataset__is_active=True)
        self.hardware = {
            code: (pk, kind) for code, pk, kind in hardware.values_list("code", "id", "kind")
        }

    def problems(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        """(field, message) for each name the record uses that refers to nothing; a record that
        failed validation has only the values that parsed, and those are checked."""
        found = []
        team, location = record.get("team"), record.get("location")
        if team is not None and team not in self.teams:
            found.append(("team", choices_hint("team", team, list(self.teams))))
        if location is not None and location not in self.locations:
            found.append(
                (
                    "location",
                    f"Unknown location {location!r}; use a cloud region such as "
                    "'aws:us-east-1' or one of your facilities: "
                    + (", ".join(sorted(self.own_locations)) or "none yet"),
                )
            )
        hardware = record.get("hardware")
        if hardware and hardware not in self.hardware:
            found.append(("hardware", f"Unknown hardware {hardware!r}; see GET /api/v1/hardware/"))
        elif hardware and "usage_kind" in record:
            allowed = _USAGE_HARDWARE_KINDS.get(record["usage_kind"], set())
            if self.hardware[hardware][1] not in allowed:
                found.append(
                    (
                        "hardware",
                        f"{hardware!r} cannot describe {record['usage_kind']} usage"
                        + (f"; use {'/'.join(sorted(allowed))} hardware" if allowed else ""),
                    )
                )
        return found

    def hardware_id(self, code: str | None) -> int | None:
        return self.hardware[code][0] if code else None


def _models_by_name(organisation, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    AiModel.objects.bulk_create(
        [AiModel(organisation=organisation, name=name) for name in names],
        ignore_conflicts=True,
    )
    return dict(
        AiModel.objects.filter(organisation=organisation, name__in=names).values_list("name", "id")
    )


def add_conflict(errors: RowErrors, row: int, external_id: str) -> None:
    errors.add(
        row,
        "external_id",
        f"external_id {external_id!r} was already sent with other content; "
        "send a new external_id for a new record",
    )


@dataclass(frozen=True)
class RecordKindSpec:
    """One ingestible record kind: its schema (fields, content fields), table and row builder."""

    schema: RecordSchema
    table: RecordTable
    # (record, hash, batch ids, refs, model ids) -> tuple in table.columns order (JSON columns
    # as Python objects)
    build_row: Callable[..., tuple]
    # (principal, records) -> what resolves their references and names the unknown ones
    references: Callable[[Principal, Sequence[dict[str, Any]]], Any] = References
    # The field naming the organisation's AI model (created on first use).
    ai_model_field: str = "model"


def common_values(record, digest, batch: "BatchIds", team_ids, model_ids, ai_model) -> tuple:
    """The values of COMMON_COLUMNS for a record naming the organisation's `ai_model`."""
    return (
        batch.organisation_id,
        batch.id,
        record["external_id"],
        digest,
        team_ids[record["team"]],
        model_ids[ai_model] if ai_model else None,
    )


def _workload_row(record, digest, batch: "BatchIds", refs: References, models) -> tuple:
    started_at, ended_at = record["started_at"], record["ended_at"]
    return (
        *common_values(record, digest, batch, refs.teams, models, record.get("model")),
        record["phase"],
        started_at,
        ended_at,
        (ended_at - started_at).total_seconds(),
        started_at.astimezone(UTC).date(),
        refs.locations[record["location"]],
        refs.hardware_id(record.get("hardware")),
        record.get("device_count") or 1,
        record.get("energy_kwh"),
        record.get("avg_power_w"),
        record.get("utilization"),
        record.get("pue"),
        record.get("energy_includes_pue", False),
        record.get("inferences"),
        record.get("tokens"),
        record.get("cost"),
        record.get("currency") or "",
        record.get("tags") or {},
        record.get("flops"),
        record.get("water_l"),
    )


def _cloud_usage_row(record, digest, batch: "BatchIds", refs: References, models) -> tuple:
    return (
        *common_values(record, digest, batch, refs.teams, models, record.get("model")),
        refs.locations[record["location"]],
        record["service"],
        record["usage_kind"],
        record["quantity"],
        refs.hardware_id(record.get("hardware")),
        record.get("utilization"),
        record.get("replication"),
        record["usage_start"],
        record["usage_end"],
        record["usage_start"].astimezone(UTC).date(),
        record.get("cost"),
        record.get("currency") or "",
        record.get("tags") or {},
        record.get("instance_type") or "",
    )


COMMON_COLUMNS = (
    "organisation_id",
    "batch_id",
    "external_id",
    "content_hash",
    "team_id",
    "ai_model_id",
)

WORKLOADS = RecordKindSpec(
    schema=WORKLOAD,
    table=RecordTable(
        WorkloadRecord,
        (
            *COMMON_COLUMNS,
            "phase",
            "started_at",
            "ended_at",
            "duration_s",
            "activity_date",
            "location_id",
            "hardware_id",
            "device_count",
            "energy_kwh",
            "avg_power_w",
            "utilization",
            "pue",
            "energy_includes_pue",
            "inferences",
            "tokens",
            "cost",
            "currency",
            "tags",
            "flops",
            "water_l",
        ),
    ),
    build_row=_workload_row,
)

CLOUD_USAGES = RecordKindSpec(
    schema=CLOUD_USAGE,
    table=RecordTable(
        CloudUsageRecord,
        (
            *COMMON_COLUMNS,
            "location_id",
            "service",
            "usage_kind",
            "quantity",
            "hardware_id",
            "utilization",
            "replication",
            "usage_start",
            "usage_end",
            "activity_date",
            "cost",
            "currency",
            "tags",
            "instance_type",
        ),
    ),
    build_row=_cloud_usage_row,
)

KIND_SPECS = {WORKLOAD.name: WORKLOADS, CLOUD_USAGE.name: CLOUD_USAGES}


@dataclass(frozen=True)
class BatchIds:
    id: int
    organisation_id: int


def _batch_rows(
    spec: RecordKindSpec, records: Sequence[dict[str, Any]]
) -> tuple[list[int], list[str], RowErrors]:
    """Row numbers, hashes and conflict errors of the records that are new in the batch.

    An id repeated with the same content counts once; repeated with other content it is a
    conflict, like an id stored before.
    """
    seen: dict[str, str] = {}
    numbers, hashes, conflicts = [], [], RowErrors()
    fields = spec.schema.content_fields
    for row, record in enumerate(records):
        digest = content_hash(record, fields)
        external_id = record["external_id"]
        known = seen.get(external_id)
        if known is None:
            seen[external_id] = digest
            numbers.append(row)
            hashes.append(digest)
        elif known != digest:
            add_conflict(conflicts, row, external_id)
    return numbers, hashes, conflicts


def record_batch_ingest(
    *,
    kind: "str | RecordKindSpec",
    principal: Principal,
    records: Sequence[dict[str, Any]],
    source: str = IngestBatch.Source.API,
    user=None,
    use_copy: bool | None = None,
) -> IngestResult:
    """Store a batch of validated records of one kind; all or nothing, idempotent by external_id.

    `kind`: a name in KIND_SPECS, or the spec of a kind living in its own app. `records` come
    out of the kind's RecordSchema (inventory.ingestion.schemas). Unknown references are a 400
    naming each row, ids stored (or repeated) with other content a 409.
    """
    spec = KIND_SPECS[kind] if isinstance(kind, str) else kind
    organisation = principal.organisation
    refs = spec.references(principal, records)
    errors = RowErrors()
    for row, record in enumerate(records):
        for field, message in refs.problems(record):
            errors.add(row, field, message)
    if errors:
        raise errors.error("Some records refer to unknown objects")
    numbers, hashes, conflicts = _batch_rows(spec, records)
    if conflicts:
        raise conflicts.error("Some external_ids conflict with stored records", status_code=409)

    with transaction.atomic():
        batch = IngestBatch.objects.create(
            organisation=organisation,
            source=source,
            token=principal.token,
            user=user,
            received=len(records),
        )
        ids = BatchIds(batch.id, organisation.id)
        named = spec.ai_model_field
        models = _models_by_name(organisation, {r[named] for r in records if r.get(named)})
        build = spec.build_row
        rows = [
            build(records[row], digest, ids, refs, models)
            for row, digest in zip(numbers, hashes, strict=True)
        ]
        result = write_rows(
            spec.table,
            organisation_id=organisation.id,
            rows=rows,
            row_numbers=numbers,
            use_copy=use_copy,
        )
        if result.conflicts:
            # Raising rolls back this batch: nothing of it is stored.
            conflicts = RowErrors()
            for row, external_id in result.conflicts:
                add_conflict(conflicts, row, external_id)
            raise conflicts.error("Some external_ids conflict with stored records", status_code=409)
        created = result.created
        IngestBatch.objects.filter(pk=batch.pk).update(
            created=created, duplicates=len(records) - created
        )
        if created:
            _queue_compute(batch.id)
    logger.info(
        "ingested batch",
        extra={
            "batch_id": batch.id,
            "table": spec.table.name,
            "records_created": created,
            "organisation_id": organisation.id,
        },
    )
    return IngestResult(batch.id, len(records), created, len(records) - created)


def workload_batch_ingest(
    *,
    principal: Principal,
    records: Sequence[dict[str, Any]],
    source: str = IngestBatch.Source.API,
    user=None,
) -> IngestResult:
    """Store a batch of validated workload records; all or nothing, idempotent by external_id."""
    return record_batch_ingest(
        kind=WORKLOAD.name, principal=principal, records=records, source=source, user=user
    )


def _queue_compute(batch_id: int) -> None:
    from inventory.tasks import compute_batch

    # robust: a broker outage must not fail a request whose data is already durable;
    # the periodic sweep computes what was not queued.
    transaction.on_commit(lambda: compute_batch.delay(batch_id), robust=True)
