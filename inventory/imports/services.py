"""File imports: an upload becomes an ImportJob; a worker streams it twice.

1. *validating*: every row is read, checked against the record schema and the organisation's
   teams, locations and hardware, and its content compared with what is stored under its
   external_id; errors are kept by row and line (the first 1000). One bad row and nothing is
   stored: the job fails naming them.
2. *importing*: the checked records, spooled to a temporary file by the first pass (so a
   large export is read, mapped and checked once), are stored in chunks of
   GREENAI_IMPORT_CHUNK_ROWS, one transaction each (COPY on Postgres), through the same service
   as the REST API; progress is written after each chunk.
Memory stays flat whatever the file size: only one chunk, the error list and small caches are
held. Re-importing a file stores nothing twice (external_ids; billing lines without one get
an id hashed from the line).
"""

import csv
import gzip
import io
import logging
import pickle
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from accounts.principal import Access, Principal
from greenai_portal.errors import ApplicationError
from greenai_portal.job_locks import JobKind, job_claim, orphaned_jobs_requeue
from inventory.ingestion.fields import RowErrors, shown
from inventory.ingestion.mapping import mapping_rules
from inventory.ingestion.schemas import SCHEMAS, batch_context
from inventory.ingestion.services import KIND_SPECS, References, content_hash, record_batch_ingest
from inventory.models import (
    ImportFormat,
    ImportJob,
    ImportStatus,
    IngestBatch,
    MappingSource,
    ReplicationFactor,
)

from . import readers
from .archives import open_export
from .billing import BILLING_FORMATS, billing_rows
from .codecarbon import CodeCarbonImport, codecarbon_file_import, codecarbon_file_runs
from .focus import is_focus
from .parquet import ParquetExport

logger = logging.getLogger(__name__)

_FINISHED = (ImportStatus.COMPLETED, ImportStatus.FAILED)

_SOURCES = {
    ImportFormat.AWS_CUR: MappingSource.AWS,
    ImportFormat.GCP_BILLING: MappingSource.GCP,
    ImportFormat.AZURE_USAGE: MappingSource.AZURE,
}


def import_job_create(
    *, principal: Principal, upload, file_format: str | None = None, user=None
) -> ImportJob:
    """Keep the upload under MEDIA_ROOT and queue its import; the worker takes the job id.

    The file's header is checked against the format chosen, or tells it when none is: a file
    of another format is refused, saying what it looks like, rather than read as lines to skip.
    """
    if file_format and file_format not in ImportFormat.values:
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
        format=_format_of(upload, file_format),
        original_name=upload.name[:255],
        size_bytes=upload.size,
        token=principal.token,
        created_by=user,
        team_ids=sorted(principal.team_ids) if principal.team_ids is not None else None,
    )
    job.file.save(upload.name, upload, save=False)
    job.save()
    from inventory.tasks import run_import_job

    transaction.on_commit(lambda: run_import_job.delay(job.id), robust=True)
    return job


def _format_of(upload, chosen: str | None) -> str:
    """The chosen format if the upload's header is one of its headers, the format the header
    is if none was chosen; a 400 saying what the file looks like otherwise. A header that
    cannot be read (not text, not gzip) is left for the import to name."""
    header = _upload_header(upload)
    if header is None:
        if chosen:
            return chosen
        raise ApplicationError(
            "Choose the file's format: its first line could not be read as a CSV header",
            errors=[{"field": "format", "message": "This field is required"}],
        )
    found = readers.header_formats(header)
    found += [ImportFormat.FOCUS] if is_focus(h.strip() for h in header) else []
    if chosen in found or (not chosen and len(found) == 1):
        return chosen or found[0]
    # The providers' FOCUS exports are read as FOCUS under any billing format (billing_rows).
    if chosen in BILLING_FORMATS and ImportFormat.FOCUS in found:
        return chosen
    labels = dict(ImportFormat.choices)
    looks = (
        "it looks like " + " or ".join(f"a {labels[f]}" for f in found)
        if found
        else "it looks like none of the formats this import reads; its header starts: "
        + ", ".join(shown(name, 40) for name in header[:6])
    )
    wanted = f"This file is not a {labels[chosen]}" if chosen else "Choose the file's format"
    raise ApplicationError(
        f"{wanted}: {looks}",
        errors=[{"field": "format", "message": f"{wanted}: {looks}"}],
    )


def _upload_header(upload) -> list[str] | None:
    """The first CSV row of an upload (gzipped or zipped), or a Parquet export's columns; None
    if it cannot be read."""
    upload.seek(0)
    try:
        content = _content(upload.file)
        if isinstance(content, ParquetExport):
            return list(content.columns)
        try:
            first = next(_bounded_lines(content), "")
            return next(csv.reader([first]), None) or None  # an empty file: the import says so
        finally:
            content.detach()  # the upload stays open, to be saved
    except (ApplicationError, UnicodeDecodeError, csv.Error, *GZIP_ERRORS):
        return None
    finally:
        upload.seek(0)


def _principal(job: ImportJob) -> Principal:
    return Principal(
        organisation=job.organisation,
        access=frozenset({Access.INGEST}),
        team_ids=frozenset(job.team_ids) if job.team_ids is not None else None,
        token=job.token,
    )


class _Position:
    """Bytes read so far from the (possibly gzipped) upload, for the progress bar; of a
    Parquet export, whose position jumps a row group at a time (all of a file written as one),
    its share of rows read."""

    def __init__(self, raw, size: int) -> None:
        self.raw, self.size = raw, size
        self.parquet: ParquetExport | None = None

    def __call__(self) -> int:
        if self.parquet is not None:
            return round(self.size * self.parquet.share_read())
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0


GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def _content(raw) -> io.TextIOWrapper | ParquetExport:
    """The upload as UTF-8 text (unpacked from gzip or zip, known by their first bytes whatever
    the file is called), or its Parquet batches. The caller holds the text until done: once it
    is dropped, it closes the file under it, and the position with it."""
    stream = open_export(raw)
    if isinstance(stream, ParquetExport):
        return stream
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")


def _lines(content: io.TextIOWrapper | ParquetExport) -> Iterator[str] | ParquetExport:
    return content if isinstance(content, ParquetExport) else _bounded_lines(content)


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The file's lines, refused (ApplicationError) past the longest line or the most text an
    import reads: a line is read up to the limit, never whole, so memory stays bounded."""
    longest = settings.GREENAI_MAX_IMPORT_LINE_CHARS
    most = settings.GREENAI_MAX_IMPORT_EXPANDED_BYTES
    number = read = 0
    while line := text.readline(longest + 1):
        number += 1
        read += len(line)
        if len(line) > longest:
            raise ApplicationError(
                f"Line {number} is longer than {longest} characters "
                "(GREENAI_MAX_IMPORT_LINE_CHARS): not a CSV file this import reads"
            )
        if read > most:
            raise ApplicationError(
                f"The file holds more than {most} characters of text once decompressed "
                "(GREENAI_MAX_IMPORT_EXPANDED_BYTES); split it into smaller files"
            )
        yield line


def _reader_context(principal: Principal, job: ImportJob) -> readers.ReaderContext:
    source = _SOURCES.get(job.format, MappingSource.ANY)
    rules = mapping_rules(principal=principal, source=source)
    teams = Team.objects.filter(organisation=principal.organisation)
    if principal.token and principal.token.team_id:
        teams = teams.filter(pk=principal.token.team_id)
    only = list(teams.values_list("slug", flat=True)[:2])
    return readers.ReaderContext(
        rules=rules,
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
    raise ValueError(f"No reader for {job.format}")


class _Row(NamedTuple):  # one per row read: a tuple is the cheapest to make
    row: int
    line: int
    record: dict[str, Any]  # the clean record, or the values that parsed of a bad row
    problems: list[tuple[str, str]]


@dataclass
class _Chunk:
    kind: str
    rows: list[_Row] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r.record for r in self.rows if not r.problems]


def _chunks(job: ImportJob, context, errors: RowErrors, skipped: Counter) -> Iterator[_Chunk]:
    """The rows checked, in chunks of one kind, with skips counted on the way; what is wrong
    with the file as a whole (not CSV, not UTF-8) is added to `errors` after its rows."""
    size = settings.GREENAI_IMPORT_CHUNK_ROWS
    batch = batch_context()
    raw = job.file.open("rb")
    position = _Position(raw, job.size_bytes)
    pending: dict[str, _Chunk] = {}
    file_problems: list[tuple[str, str]] = []
    row = 0
    try:
        try:
            content = _content(raw)
            if isinstance(content, ParquetExport):
                position.parquet = content
            for source in _rows(job, _lines(content), context):
                if isinstance(source.raw, readers.Skip):
                    skipped[source.raw.reason] += 1
                    continue
                schema = SCHEMAS[source.kind]
                record, problems = schema.check_one(source.raw, batch)
                chunk = pending.setdefault(source.kind, _Chunk(source.kind))
                chunk.rows.append(_Row(row, source.line, record, problems))
                row += 1
                if len(chunk.rows) >= size:
                    del pending[source.kind]
                    yield chunk
                    _progress(job, position(), row)
        except UnicodeDecodeError as error:
            file_problems.append(("file", f"Not UTF-8 text ({error.reason})"))
        except GZIP_ERRORS as error:
            file_problems.append(("file", f"The gzip data is damaged or cut short ({error})"))
        except ApplicationError as error:  # a malformed CSV (quotes, header), zip or Parquet
            file_problems.append(("file", error.message))
            file_problems.extend((e.get("field", "file"), e["message"]) for e in error.errors)
        yield from (c for c in pending.values() if c.rows)
        _progress(job, position(), row)
    finally:
        raw.close()
    for field_name, message in file_problems:
        errors.add(row, field_name, message)


def _spooled(spool) -> Iterator[tuple[str, list[dict[str, Any]], int]]:
    """The chunks the validating pass checked and spooled: (kind, clean records, rows)."""
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 - the worker's own temporary file
        except EOFError:
            return


def _progress(job: ImportJob, position: int, rows: int) -> None:
    """Bytes and rows read while validating (the stored pass counts stored records)."""
    ImportJob.objects.filter(pk=job.pk).update(bytes_processed=position, rows_processed=rows)


def _check_chunk(principal: Principal, chunk: _Chunk, errors: RowErrors) -> None:
    """Every problem of a chunk's rows, row by row: their values', references to unknown
    teams, locations and hardware (one lookup for the chunk), and content conflicting with
    what is stored under their external_id (what the write would refuse)."""
    refs = References(principal, [r.record for r in chunk.rows])
    conflicts = _stored_conflicts(principal, chunk)
    for r in chunk.rows:
        for field_name, message in [*r.problems, *refs.problems(r.record)]:
            errors.add(r.row, field_name, message, r.line)
        if r.row in conflicts:
            errors.add(r.row, "external_id", conflicts[r.row], r.line)


def _stored_conflicts(principal: Principal, chunk: _Chunk) -> dict[int, str]:
    """Row → message, for the chunk's clean records whose external_id is stored with other
    content."""
    spec = KIND_SPECS[chunk.kind]
    by_id = {r.record["external_id"]: r for r in chunk.rows if not r.problems}
    stored = spec.table.model.objects.filter(
        organisation=principal.organisation, external_id__in=list(by_id)
    ).values_list("external_id", "content_hash")
    return {
        by_id[external_id].row: f"external_id {external_id!r} was already stored with other content"
        for external_id, digest in stored
        if content_hash(by_id[external_id].record, spec.schema.content_fields) != digest
    }


UNATTRIBUTED_HINT = (
    ". Billing lines are attributed to teams by mapping rules, and some matched none: add "
    "rules (Settings, tab Billing tag → team rules, or POST /api/v1/mapping-rules/) matching their "
    "account, subscription, project, resource group or tags (key tag:<name>), or a catch-all "
    "rule (key and value *), then import the file again"
)


def _unattributed_hint(job: ImportJob, errors: RowErrors) -> str:
    """Why billing lines have no team and what to do about it, when that is a problem found."""
    unattributed = any(
        e["field"] == "team" and e["message"] == "This field is required" for e in errors.errors
    )
    return UNATTRIBUTED_HINT if unattributed and job.format in BILLING_FORMATS else ""


def _why_skipped(skipped: Counter) -> str:
    """The commonest reasons lines were skipped, for the job's message."""
    reasons = [f"{reason} ({count})" for reason, count in skipped.most_common(3)]
    more = len(skipped) - len(reasons)
    return (
        (": " + "; ".join(reasons) + (f"; {more} other reasons" if more else "")) if reasons else ""
    )


def _finish(job: ImportJob, status: str, message: str, **fields: Any) -> ImportJob:
    """Record the outcome. A finished import is never run again, so its upload goes: what it
    held is stored as records, or was refused (the errors name the rows)."""
    job.file.delete(save=False)
    # Only these fields: a full save would write back the progress counters the passes wrote
    # with update() (bytes read), which this copy of the job holds at 0.
    values = {"status": status, "message": message[:500], "finished_at": timezone.now(), **fields}
    for name, value in values.items():
        setattr(job, name, value)
    job.save(update_fields=[*values, "file"])
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Validate then store an uploaded file (see the module docstring). A job another worker
    holds, or one already finished, is left as it is."""
    with job_claim(JobKind.IMPORT, job_id) as claimed:
        job = ImportJob.objects.select_related("organisation", "token").get(pk=job_id)
        if not claimed or job.status in _FINISHED:
            return job
        try:
            return _run(job)
        except Exception as error:
            # The job must not stay "validating" for ever: fail it, and let the worker log it.
            logger.exception("import failed", extra={"job_id": job.id})
            reason = (
                "it took longer than its time limit"
                if isinstance(error, SoftTimeLimitExceeded)
                else "internal error"
            )
            _finish(job, ImportStatus.FAILED, f"Stopped ({reason}); nothing more stored")
            raise


def import_jobs_resume(*, quiet_for: timedelta) -> int:
    """Queue again the imports left unfinished longer than quiet_for that no worker holds:
    their message was lost (broker down when it was queued) or their worker died."""
    from inventory.tasks import run_import_job

    unfinished = ImportJob.objects.exclude(status__in=_FINISHED).filter(
        created_at__lt=timezone.now() - quiet_for
    )
    return orphaned_jobs_requeue(JobKind.IMPORT, unfinished, run_import_job)


def _run(job: ImportJob) -> ImportJob:
    principal = _principal(job)
    job.status, job.started_at = ImportStatus.VALIDATING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    if job.format == ImportFormat.CODECARBON_CSV:
        return _run_codecarbon(job, principal)
    context = _reader_context(principal, job)

    with tempfile.TemporaryFile(prefix="greenai-import-") as spool:
        return _validate_then_store(job, principal, context, spool)


def _validate_then_store(job: ImportJob, principal: Principal, context, spool) -> ImportJob:
    errors, skipped = RowErrors(), Counter()
    total = 0
    for chunk in _chunks(job, context, errors, skipped):
        total += len(chunk.rows)
        _check_chunk(principal, chunk, errors)
        if not errors:  # once a row is bad nothing is stored: no need to keep the rest
            pickle.dump((chunk.kind, chunk.records, len(chunk.rows)), spool, protocol=5)
    summary = {"skipped_reasons": dict(skipped), "rows_skipped": sum(skipped.values())}
    if errors:
        return _finish(
            job,
            ImportStatus.FAILED,
            f"{errors.count} problem{'' if errors.count == 1 else 's'} in the file; "
            f"nothing was stored{_unattributed_hint(job, errors)}",
            errors=errors.errors,
            error_count=errors.count,
            **summary,
        )

    job.status, job.rows_total, job.rows_processed = ImportStatus.IMPORTING, total, 0
    job.save(update_fields=["status", "rows_total", "rows_processed"])
    created = duplicates = done = 0
    try:
        for kind, records, rows in _spooled(spool):
            result = record_batch_ingest(
                kind=kind,
                principal=principal,
                records=records,
                source=IngestBatch.Source.IMPORT,
                user=job.created_by,
            )
            created, duplicates = created + result.created, duplicates + result.duplicates
            done += rows
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
        f"{summary['rows_skipped']} lines skipped{_why_skipped(skipped)}",
        rows_processed=done,
        rows_created=created,
        rows_duplicates=duplicates,
        **summary,
    )


def _run_codecarbon(job: ImportJob, principal: Principal) -> ImportJob:
    """emissions.csv: run by run (inventory.imports.codecarbon); each run is stored or
    refused on its own, and the job reports both."""
    raw = job.file.open("rb")
    try:
        text = _content(raw)
        if isinstance(text, ParquetExport):
            raise ApplicationError("A CodeCarbon emissions.csv is text, not Parquet")
        runs = codecarbon_file_runs(_bounded_lines(text))
    except UnicodeDecodeError as error:
        return _finish(job, ImportStatus.FAILED, f"Not UTF-8 text ({error.reason})")
    except GZIP_ERRORS as error:
        return _finish(job, ImportStatus.FAILED, f"The gzip data is damaged or cut short ({error})")
    except ApplicationError as error:
        errors = [{"row": 0, **e} for e in error.errors]
        return _finish(job, ImportStatus.FAILED, error.message, errors=errors, error_count=1)
    finally:
        raw.close()
    job.status, job.rows_total = ImportStatus.IMPORTING, sum(len(r) for r in runs)
    job.save(update_fields=["status", "rows_total"])

    def progress(outcome: CodeCarbonImport) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            bytes_processed=job.size_bytes,
            rows_processed=outcome.rows,
            rows_created=outcome.created,
            rows_duplicates=outcome.duplicates,
        )

    outcome = codecarbon_file_import(principal=principal, runs=runs, on_progress=progress)
    message = (
        f"{outcome.runs_stored} runs stored ({outcome.created} records new, "
        f"{outcome.duplicates} rows already counted), {outcome.runs_refused} refused. "
        f"Times without an offset read in {principal.organisation.time_zone} "
        "(the organisation's time zone)"
    )
    logger.info("import done", extra={"job_id": job.id, "records_created": outcome.created})
    nothing_stored = outcome.runs_refused and not outcome.runs_stored
    return _finish(
        job,
        ImportStatus.FAILED if nothing_stored else ImportStatus.COMPLETED,
        message,
        errors=outcome.errors,
        error_count=len(outcome.errors),
        runs=outcome.runs,
        rows_processed=outcome.rows,
        rows_created=outcome.created,
        rows_duplicates=outcome.duplicates,
    )
