"""Property tests for the body parsers and the file importers.

- Any bytes: the parsers give rows or a clean ApplicationError, nothing else.
- Any text: the billing and CodeCarbon readers yield rows, problems or skips, and the record
  schema turns each into a record or per-field errors, never an exception.
- Any valid workload, sent as JSON or as CSV, gives the same canonical record and the same
  content hash (so re-sending it in the other format is a duplicate, not a conflict).
- Any uploaded file: refused at upload with a 400 (a header of another format), or an import
  job that ends completed or failed, never with an exception.
"""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from greenai_portal.errors import ApplicationError
from inventory.imports import readers
from inventory.imports.codecarbon import codecarbon_file_runs
from inventory.imports.services import import_job_create, import_job_run
from inventory.ingestion.fields import RowProblem
from inventory.ingestion.parsers import TAG_PREFIX, parse_csv, parse_json, parse_ndjson
from inventory.ingestion.schemas import CLOUD_USAGE, SCHEMAS, WORKLOAD, batch_context
from inventory.ingestion.services import content_hash
from inventory.models import ImportFormat, ImportJob, ImportStatus, Phase

FAST = settings(max_examples=300, deadline=None)

# Text without NUL: a NUL is a known bug tracked in test_hostile_bodies.py.
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)
CSV_TEXTISH = st.text(
    alphabet=st.sampled_from('abc,;"\n\r\t xyz0123456789:-_.{}[]éß€\ufeff'), max_size=400
)


# --- parsers: any bytes -------------------------------------------------------------------


@FAST
@given(st.binary(max_size=2000))
def test_parse_csv_gives_rows_or_a_clean_error_for_any_bytes(body):
    for schema in (WORKLOAD, CLOUD_USAGE):
        try:
            raw = parse_csv(body, schema.field_names)
        except ApplicationError as error:
            assert error.status_code == 400 and error.message
            continue
        assert len(raw.rows) == len(raw.lines)
        schema.validate(raw.rows, batch_context(), lines=raw.lines)


@FAST
@given(CSV_TEXTISH.map(lambda text: ("external_id,team,tag:x\n" + text).encode()))
def test_parse_csv_gives_rows_or_a_clean_error_for_csv_like_text(body):
    try:
        raw = parse_csv(body, WORKLOAD.field_names)
    except ApplicationError as error:
        assert error.status_code == 400 and error.message
        return
    records, errors = WORKLOAD.validate(raw.rows, batch_context(), lines=raw.lines)
    assert records or errors or not raw.rows


@FAST
@given(st.binary(max_size=2000))
def test_parse_json_and_ndjson_give_rows_or_a_clean_error_for_any_bytes(body):
    for parse in (parse_json, parse_ndjson):
        try:
            raw = parse(body)
        except ApplicationError as error:
            assert error.status_code == 400 and error.message
            continue
        WORKLOAD.validate(raw.rows, batch_context(), lines=raw.lines)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@FAST
@given(st.lists(st.dictionaries(st.sampled_from(sorted(WORKLOAD.field_names)), JSON_VALUES)))
def test_the_record_schema_refuses_any_json_with_per_field_errors(rows):
    records, errors = WORKLOAD.validate(rows, batch_context())
    for error in errors.errors:
        assert set(error) >= {"row", "field", "message"}
    assert bool(records) != bool(errors) or not rows


# --- readers: any text --------------------------------------------------------------------

CONTEXT = readers.ReaderContext(rules=[], default_team="research", replication={})
HEADERS = {
    "aws": "identity/LineItemId,lineItem/UsageStartDate,lineItem/UsageEndDate,"
    "lineItem/UsageType,lineItem/UsageAmount,pricing/unit,lineItem/ProductCode,"
    "product/regionCode,product/instanceType,lineItem/LineItemType,resourceTags/user:team\n",
    "gcp": "usage_start_time,usage_end_time,sku.description,usage.amount,usage.unit,"
    "location.region,project.id,cost,currency,labels\n",
    "azure": "date,meterCategory,meterName,meterSubCategory,unitOfMeasure,quantity,"
    "resourceLocation,tags,costInBillingCurrency\n",
}
READERS = {
    "aws": lambda lines: readers.aws_rows(lines, CONTEXT),
    "gcp": lambda lines: readers.gcp_rows(lines, CONTEXT),
    "azure": lambda lines: readers.azure_rows(lines, CONTEXT),
}
CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "Usage",
            "Tax",
            "BoxUsage:p5.48xlarge",
            "EBS:VolumeUsage.gp3",
            "Hrs",
            "GB-Mo",
            "AmazonEC2",
            "us-east-1",
            "2026-01-01T00:00:00Z",
            "2026-01-01 00:00:00 UTC",
            "01/31/2026",
            "seconds",
            "byte-seconds",
            "N1 Predefined Instance Core",
            "Nvidia Tesla T4 GPU",
            "Virtual Machines",
            "Standard_NC24ads_A100_v4",
            "1 Hour",
            "10 Hours",
            "P30 Disks",
            "Storage",
            "1/Month",
            "europe-west4",
            "westeurope",
            "FRA",
            "NaN",
            "inf",
            "-1",
            "1e308",
            '{"team": "research"}',
            '[{"key": "team", "value": "x"}]',
            '"team": "x"',
        ]
    ),
    st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{0,5})?", fullmatch=True),
    TEXT,
)


def _csv_text(header: str, rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return header + out.getvalue()


@FAST
@given(
    st.sampled_from(sorted(READERS)),
    st.lists(st.lists(CELL, min_size=0, max_size=12), max_size=6),
)
def test_readers_turn_any_rows_into_records_problems_or_skips(kind, rows):
    text = _csv_text(HEADERS[kind], rows)
    for source in READERS[kind](io.StringIO(text, newline="")):
        assert isinstance(source.raw, dict | RowProblem | readers.Skip), source
        if isinstance(source.raw, dict | RowProblem):
            SCHEMAS[source.kind].validate_one(source.raw, batch_context())


@FAST
@given(st.sampled_from(sorted(READERS)), CSV_TEXTISH)
def test_readers_survive_any_text(kind, text):
    for source in READERS[kind](io.StringIO(text, newline="")):
        if isinstance(source.raw, dict | RowProblem):
            SCHEMAS[source.kind].validate_one(source.raw, batch_context())


# --- valid rows round-trip ----------------------------------------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)
FINITE = {"allow_nan": False, "allow_infinity": False}


@st.composite
def workloads(draw) -> dict:
    started = draw(MOMENTS)
    ended = started + draw(st.timedeltas(timedelta(seconds=1), timedelta(days=30)))
    record = {
        "external_id": draw(TEXT),
        "team": draw(st.from_regex(r"[-a-zA-Z0-9_]{1,60}", fullmatch=True)),
        "phase": draw(st.sampled_from(Phase.values)),
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "location": draw(TEXT),
        "energy_kwh": draw(st.floats(min_value=0, max_value=1e9, **FINITE)),
    }
    optional = {
        "model": TEXT,
        "hardware": TEXT.map(lambda s: s[:60]),
        "device_count": st.integers(1, 100_000),
        "avg_power_w": st.floats(min_value=0, max_value=100_000, **FINITE),
        "utilization": st.floats(min_value=0, max_value=1, **FINITE),
        "pue": st.floats(min_value=1, max_value=5, **FINITE),
        "energy_includes_pue": st.booleans(),
        "inferences": st.integers(0, 10**15),
        "tokens": st.integers(0, 10**15),
        "tags": st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True), TEXT, max_size=4
        ),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        record[name] = draw(optional[name])
    return record


def _as_csv(records: list[dict]) -> bytes:
    tag_keys = sorted({k for r in records for k in r.get("tags", {})})
    plain = sorted({k for r in records for k in r if k != "tags"})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*plain, *(f"{TAG_PREFIX}{k}" for k in tag_keys)])
    for record in records:
        tags = record.get("tags", {})
        writer.writerow([*(record.get(k, "") for k in plain), *(tags.get(k, "") for k in tag_keys)])
    return out.getvalue().encode()


@settings(max_examples=200, deadline=None)
@given(st.lists(workloads(), min_size=1, max_size=5))
def test_a_valid_record_is_the_same_record_sent_as_json_or_csv(records):
    assume(all(not (isinstance(r.get("tags"), dict) and r["tags"] == {}) for r in records))
    context = batch_context()
    from_json, json_errors = WORKLOAD.validate(
        parse_json(json.dumps(records).encode()).rows, context
    )
    raw = parse_csv(_as_csv(records), WORKLOAD.field_names)
    from_csv, csv_errors = WORKLOAD.validate(raw.rows, context, lines=raw.lines)
    assert not json_errors and not csv_errors, (json_errors.errors, csv_errors.errors)
    assert from_csv == from_json
    assert [content_hash(r, WORKLOAD.content_fields) for r in from_csv] == [
        content_hash(r, WORKLOAD.content_fields) for r in from_json
    ]
    # Each record is one line unless a quoted cell holds a line break.
    cells = [v for r in records for v in (*r.values(), *r.get("tags", {}).values())]
    if not any("\n" in str(v) or "\r" in str(v) for v in cells):
        assert raw.lines == list(range(2, 2 + len(records)))


# --- whole imports: any file --------------------------------------------------------------

FILES = st.one_of(
    st.binary(max_size=3000),
    st.sampled_from(sorted(HEADERS.values())).flatmap(
        lambda header: CSV_TEXTISH.map(lambda text: (header + text).encode())
    ),
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(ImportFormat.values), FILES)
def test_an_import_of_any_file_completes_or_fails_cleanly(tenant, file_format, content):
    from accounts.principal import principal_for_membership

    principal = principal_for_membership(tenant.members["admin"])
    try:
        job = import_job_create(
            principal=principal,
            upload=SimpleUploadedFile("upload.csv", content, content_type="text/csv"),
            file_format=file_format,
        )
    except ApplicationError as error:  # a header of another format: refused, saying so
        assert error.status_code == 400 and error.message
        # the worker still meets any file (one queued before the check, say): the same
        job = ImportJob.objects.create(
            organisation=tenant.organisation, format=file_format, size_bytes=len(content),
            file=SimpleUploadedFile("upload.csv", content),
        )  # fmt: skip
    job = import_job_run(job_id=job.id)
    assert job.status in (ImportStatus.COMPLETED, ImportStatus.FAILED), job.status
    if job.status == ImportStatus.FAILED:
        assert job.message and job.error_count >= 0


@FAST
@given(st.lists(st.lists(CELL, min_size=0, max_size=9), max_size=6))
def test_the_codecarbon_reader_groups_any_rows_into_runs(rows):
    header = "timestamp,project_name,run_id,duration,emissions,energy_consumed,country_iso_code\n"
    runs = codecarbon_file_runs(io.StringIO(_csv_text(header, rows), newline=""))
    assert sum(len(run) for run in runs) == len([row for row in rows if row])  # blank: skipped
    for run in runs:
        assert all(isinstance(line, int) and isinstance(row, dict) for line, row in run)
