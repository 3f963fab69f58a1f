"""File imports: an upload becomes an ImportJob; a worker streams it twice.

1. *validating*: every row is read, checked against the record schema and the organisation's
   teams, locations and hardware, and its content compared with what is stored under its
   external_id; errors are kept by row and line (the first 1000). One bad row and nothing is
   stored: the job fails naming them.
2. *importing*: the rows are read again and stored in chunks of GREENAI_IMPORT_CHUNK_ROWS, one
   transaction each (COPY on Postgres), through the same service as the REST API; progress is
   written after each chunk.
Memory stays flat whatever the file size: only one chunk, the error list and small caches are
held. Re-importing a file stores nothing twice (external_ids; billing lines without one get
an id hashed from the line).
"""

import io
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from accounts.principal import Access, Principal
from greenai_portal.errors import ApplicationError
from inventory.ingestion.fields import RowErrors
from inventory.ingestion.mapping import location_by_code, mapping_rules
from inventory.ingestion.schemas import SCHEMAS, batch_context
from inventory.models import (
    ImportFormat,
    ImportJob,
    ImportStatus,
    IngestBatch,
    MappingSource,
    ReplicationFactor,
)
from inventory.services import KIND_SPECS, References, content_hash, record_batch_ingest

from . import readers
from .archives import open_export
from .billing import billing_rows
from .parquet import ParquetExport

logger = logging.getLogger(__name__)

_SOURCES = {
    ImportFormat.AWS_CUR: MappingSource.AWS,
    ImportFormat.GCP_BILLING: MappingSource.GCP,
    ImportFormat.AZURE_USAGE: MappingSource.AZURE,
    ImportFormat.CODECARBON_CSV: MappingSource.CODECARBON,
}


def import_job_create(*, principal: Principal, upload, file_format: str, user=None) -> ImportJob:
    """Keep the upload under MEDIA_ROOT and queue its import; the worker takes the job id."""
    if file_format not in ImportFormat.values:
        raise ApplicationError(
            f"Unknown format {file_format!r}; choose one of {', '.join(ImportFormat.values)}",
            errors=[{"field": "format", "message": "Unknown format"}],
        )
    limit = settings.GREENAI_MAX_IMPORT_BYTES
    if upload.size > limit:
        raise ApplicationError(
            f"File too large: the limit is {limit} bytes (GREENAI_MAX_IMPORT_BYTES)",
            status_code=413,
        )
    job = ImportJob(
        organisation=principal.organisation,
        format=file_format,
        original_name=upload.name[:255],
        size_bytes=upload.size,
        token=principal.token,
        created_by=user,
        team_ids=sorted(principal.team_ids) if principal.team_ids is not None else None,
    )
    job.file.save(upload.name, upload, save=False)
    job.save()
    from inventory.imports.tasks import run_import_job

    transaction.on_commit(lambda: run_import_job.delay(job.id), robust=True)
    return job


def import_progress(job: ImportJob) -> float:
    """0..1 for the progress bar: checking is the first half, storing the second."""
    if job.status == ImportStatus.COMPLETED:
        return 1.0
    if job.status == ImportStatus.IMPORTING and job.rows_total:
        return 0.5 + 0.5 * min(1.0, job.rows_processed / job.rows_total)
    if job.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING) and job.size_bytes:
        return 0.5 * min(1.0, job.bytes_processed / job.size_bytes)
    return 0.0


def _principal(job: ImportJob) -> Principal:
    return Principal(
        organisation=job.organisation,
        access=frozenset({Access.INGEST}),
        team_ids=frozenset(job.team_ids) if job.team_ids is not None else None,
        token=job.token,
    )


class _Position:
    """Bytes read so far from the (possibly gzipped) upload, for the progress bar."""

    def __init__(self, raw) -> None:
        self.raw = raw

    def __call__(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0


def _content(raw) -> Iterator[str] | ParquetExport:
    """Text lines of the upload (unpacked from gzip or zip), or its Parquet batches."""
    stream = open_export(raw)
    if isinstance(stream, ParquetExport):
        return stream
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")


def _reader_context(principal: Principal, job: ImportJob) -> readers.ReaderContext:
    source = _SOURCES.get(job.format, MappingSource.ANY)
    rules = mapping_rules(principal=principal, source=source)
    teams = Team.objects.filter(organisation=principal.organisation)
    if principal.token and principal.token.team_id:
        teams = teams.filter(pk=principal.token.team_id)
    only = list(teams.values_list("slug", flat=True)[:2])
    return readers.ReaderContext(
        rules=rules,
        codecarbon_rules=rules if source == MappingSource.CODECARBON else [],
        default_team=only[0] if len(only) == 1 else None,
        replication={
            (r.provider, r.service): r.factor
            for r in ReplicationFactor.objects.filter(dataset__is_active=True)
        },
    )


def _rows(job: ImportJob, lines, context) -> Iterator[readers.SourceRow]:
    billing = billing_rows(job.format, lines, context)
    if billing is not None:
        return billing
    if job.format == ImportFormat.PORTAL_WORKLOADS_CSV:
        return readers.portal_rows(lines, "workload", SCHEMAS["workload"].field_names)
    if job.format == ImportFormat.PORTAL_CLOUD_USAGE_CSV:
        return readers.portal_rows(lines, "cloud_usage", SCHEMAS["cloud_usage"].field_names)
    return readers.codecarbon_rows(lines, context)


@dataclass
class _Chunk:
    kind: str
    records: list[dict[str, Any]]
    lines: list[int]
    first_row: int


def _chunks(
    job: ImportJob, context, errors: RowErrors, skipped: Counter, *, validating: bool
) -> Iterator[_Chunk]:
    """Validated records in chunks of one kind, with row errors and skips counted on the way."""
    size = settings.GREENAI_IMPORT_CHUNK_ROWS
    batch = batch_context()
    raw = job.file.open("rb")
    position = _Position(raw)
    row = 0
    try:
        lines = _content(raw)
        pending: dict[str, _Chunk] = {}
        for source in _rows(job, lines, context):
            if isinstance(source.raw, readers.Skip):
                skipped[source.raw.reason] += 1
                continue
            schema = SCHEMAS[source.kind]
            if job.format == ImportFormat.CODECARBON_CSV:
                _country_location(job, source.raw)
            clean, found = schema.validate_one(source.raw, batch)
            for field, message in found:
                errors.add(row, field, message, source.line)
            chunk = pending.setdefault(source.kind, _Chunk(source.kind, [], [], row))
            if clean is not None:
                chunk.records.append(clean)
                chunk.lines.append(source.line)
            row += 1
            if len(chunk.records) >= size:
                del pending[source.kind]
                yield chunk
                _progress(job, position(), row if validating else None)
        yield from (c for c in pending.values() if c.records)
        _progress(job, position(), row if validating else None)
    except UnicodeDecodeError as error:
        errors.add(row, "file", f"Not UTF-8 text ({error.reason})")
    except ApplicationError as error:  # a malformed CSV (quotes, header)
        errors.add(row, "file", error.message)
        for detail in error.errors:
            errors.add(row, detail.get("field", "file"), detail["message"])
    finally:
        raw.close()


def _country_location(job: ImportJob, raw) -> None:
    """Country locations (`country:XX`) exist once used: make them before references."""
    if isinstance(raw, dict) and str(raw.get("location", "")).startswith("country:"):
        location_by_code(organisation=job.organisation, code=raw["location"])


def _progress(job: ImportJob, position: int, rows: int | None) -> None:
    """While validating: bytes and rows read. While importing, rows count stored records."""
    fields: dict[str, Any] = {"bytes_processed": position}
    if rows is not None:
        fields["rows_processed"] = rows
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _check_chunk(principal: Principal, chunk: _Chunk, errors: RowErrors) -> None:
    """References and stored-content conflicts of a chunk (what the write would refuse)."""
    refs = References(principal, chunk.records)
    spec = KIND_SPECS[chunk.kind]
    for offset, record in enumerate(chunk.records):
        for error in refs.errors(chunk.first_row + offset, record):
            errors.add(error["row"], error["field"], error["message"], chunk.lines[offset])
    model = spec.table.model
    by_id = {r["external_id"]: (i, r) for i, r in enumerate(chunk.records)}
    stored = model.objects.filter(
        organisation=principal.organisation, external_id__in=list(by_id)
    ).values_list("external_id", "content_hash")
    for external_id, digest in stored:
        index, record = by_id[external_id]
        if content_hash(record, spec.content_fields) != digest:
            errors.add(
                chunk.first_row + index,
                "external_id",
                f"external_id {external_id!r} was already stored with other content",
                chunk.lines[index],
            )


def _finish(job: ImportJob, status: str, message: str, **fields: Any) -> ImportJob:
    for name, value in {"status": status, "message": message[:500], **fields}.items():
        setattr(job, name, value)
    job.finished_at = timezone.now()
    job.save()
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Validate then store an uploaded file (see the module docstring)."""
    job = ImportJob.objects.select_related("organisation", "token").get(pk=job_id)
    if job.status in (ImportStatus.COMPLETED, ImportStatus.FAILED):
        return job
    try:
        return _run(job)
    except Exception:
        # The job must not stay "validating" for ever: fail it, and let the worker log it.
        logger.exception("import failed", extra={"job_id": job.id})
        _finish(job, ImportStatus.FAILED, "Internal error while importing; nothing more stored")
        raise


def _run(job: ImportJob) -> ImportJob:
    principal = _principal(job)
    context = _reader_context(principal, job)
    job.status, job.started_at = ImportStatus.VALIDATING, timezone.now()
    job.save(update_fields=["status", "started_at"])

    errors, skipped = RowErrors(), Counter()
    total = 0
    for chunk in _chunks(job, context, errors, skipped, validating=True):
        total += len(chunk.records)
        if not errors:
            _check_chunk(principal, chunk, errors)
    summary = {"skipped_reasons": dict(skipped), "rows_skipped": sum(skipped.values())}
    if errors:
        return _finish(
            job,
            ImportStatus.FAILED,
            f"{errors.count} problems in the file; nothing was stored",
            errors=errors.errors,
            error_count=errors.count,
            **summary,
        )

    job.status, job.rows_total, job.rows_processed = ImportStatus.IMPORTING, total, 0
    job.save(update_fields=["status", "rows_total", "rows_processed"])
    created = duplicates = done = 0
    try:
        for chunk in _chunks(job, context, RowErrors(), Counter(), validating=False):
            result = record_batch_ingest(
                kind=chunk.kind,
                principal=principal,
                records=chunk.records,
                source=IngestBatch.Source.IMPORT,
                user=job.created_by,
            )
            created, duplicates = created + result.created, duplicates + result.duplicates
            done += len(chunk.records)
            ImportJob.objects.filter(pk=job.pk).update(
                rows_processed=done, rows_created=created, rows_duplicates=duplicates
            )
    except ApplicationError as error:  # e.g. an id stored concurrently with other content
        return _finish(
            job,
            ImportStatus.FAILED,
            f"Stopped after {done} rows: {error.message}",
            errors=error.errors,
            error_count=len(error.errors),
            rows_processed=done,
            rows_created=created,
            rows_duplicates=duplicates,
            **summary,
        )
    logger.info("import done", extra={"job_id": job.id, "records_created": created})
    return _finish(
        job,
        ImportStatus.COMPLETED,
        f"{created} records stored, {duplicates} already known, "
        f"{summary['rows_skipped']} lines skipped",
        rows_processed=done,
        rows_created=created,
        rows_duplicates=duplicates,
        **summary,
    )
