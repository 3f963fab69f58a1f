"""Parquet exports (FOCUS, AWS CUR 2.0), read in record batches like their CSV twins."""

import io
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from inventory.imports import focus, parquet, readers
from inventory.models import CloudUsageRecord, TeamMappingRule
from tests.inventory.test_imports_api import upload

from .conftest import FIXTURES
from .test_focus import MIXED

pytestmark = pytest.mark.django_db


def as_parquet(table: pa.Table, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def csv_table(content: bytes) -> pa.Table:
    return pyarrow.csv.read_csv(io.BytesIO(content))


def with_map_tags(table: pa.Table) -> pa.Table:
    """Tags as the providers' Parquet exports hold them: map<string, string>."""
    import json

    tags = [list(json.loads(t or "{}").items()) for t in table.column("Tags").to_pylist()]
    column = pa.array(tags, type=pa.map_(pa.string(), pa.string()))
    return table.set_column(table.schema.get_field_index("Tags"), "Tags", column)


def test_it_reads_a_real_focus_export_converted_to_parquet(import_file, default_team):
    real = (FIXTURES / "focus_aws_savings_plan_excerpt.csv").read_bytes()
    job = import_file("focus.parquet", as_parquet(csv_table(real)), "focus")
    assert job["status"] == "completed", job
    assert job["skipped_reasons"] == {
        "charge category Purchase": 1,
        "instance hours without a vCPU count": 3,
    }


def test_it_maps_typed_columns_and_map_tags_like_the_csv(
    import_file, default_team, tag_rule, monkeypatch
):
    monkeypatch.setattr(parquet, "BATCH_ROWS", 2)  # 7 rows: four batches
    table = with_map_tags(csv_table(MIXED.encode()))
    assert table.schema.field("ChargePeriodStart").type == pa.timestamp("s", tz="UTC")
    job = import_file("focus.parquet", as_parquet(table, row_group_size=3), "focus")
    assert job["status"] == "completed", job
    assert job["rows_skipped"] == 3
    assert (job["rows_created"], job["rows_processed"]) == (5, 5)  # 2 AWS EC2, EBS, Azure, GCP
    vcpu = CloudUsageRecord.objects.get(location__code="aws:us-east-1", usage_kind="compute")
    assert (vcpu.quantity, vcpu.team.slug, float(vcpu.cost)) == (2.0, "serving", 0.06)
    assert vcpu.usage_start == datetime.fromisoformat("2026-01-10T00:00:00+00:00")


def test_it_reads_cur2_parquet_with_map_columns(import_file, default_team, tag_rule):
    strings = pa.map_(pa.string(), pa.string())
    table = pa.table(
        {
            "identity_line_item_id": ["p1"],
            "identity_time_interval": ["2026-01-10T00:00:00Z/2026-01-10T01:00:00Z"],
            "line_item_line_item_type": ["SavingsPlanCoveredUsage"],
            "line_item_usage_start_date": pa.array([datetime(2026, 1, 10)], pa.timestamp("ms")),
            "line_item_usage_end_date": pa.array([datetime(2026, 1, 10, 1)], pa.timestamp("ms")),
            "line_item_usage_account_id": ["111"],
            "line_item_product_code": ["AmazonEC2"],
            "line_item_usage_type": ["USE1-BoxUsage:p4d.24xlarge"],
            "line_item_usage_amount": [2.0],
            "line_item_unblended_cost": [65.5],
            "line_item_currency_code": ["USD"],
            "pricing_unit": ["Hrs"],
            "product": pa.array([[("instance_type", "p4d.24xlarge"), ("vcpu", "96")]], strings),
            "product_region_code": ["us-east-1"],
            "resource_tags": pa.array([[("user_team", "serving")]], strings),
        }
    )
    job = import_file("cur2.snappy.parquet", as_parquet(table), "aws_cur")
    assert job["status"] == "completed", job
    rows = {r.usage_kind: r for r in CloudUsageRecord.objects.select_related("team")}
    # 2 h × 96 vCPUs and 2 h × 8 A100s
    assert (rows["compute"].quantity, rows["compute"].team.slug) == (192.0, "serving")
    assert (rows["gpu"].quantity, rows["gpu"].hardware.code) == (16.0, "nvidia-a100-40gb")
    # p4d: 1152 GB on one chip, Cascade Lake holds 98.12: (1152 − 98.12) × 2 h
    assert rows["memory"].quantity == pytest.approx(1053.88 * 2)
    assert rows["compute"].usage_start == datetime.fromisoformat("2026-01-10T00:00:00+00:00")


def test_it_fails_a_damaged_or_foreign_parquet_file(tenant, import_file, default_team):
    damaged = import_file("x.parquet", b"PAR1 not really parquet", "focus")
    assert damaged["status"] == "failed"
    assert "cannot be read" in damaged["errors"][0]["message"]
    # A Parquet file of other columns is refused at upload, its columns named.
    foreign = upload(
        tenant.token_client(), "y.parquet", as_parquet(pa.table({"a": [1]})), "gcp_billing"
    )
    assert foreign.status_code == 400
    assert foreign.json()["message"] == (
        "This file is not a GCP billing export (CSV): it looks like none of the formats this "
        "import reads; its header starts: 'a'"
    )


def records_of(organisation) -> set[tuple]:
    return {
        (r.location.code, r.usage_kind, round(r.quantity, 6), r.team.slug, r.cost, r.usage_start)
        for r in CloudUsageRecord.objects.filter(organisation=organisation).select_related(
            "location", "team"
        )
    }


def test_a_parquet_of_several_row_groups_stores_what_its_csv_stores_from_the_same_lines(
    import_file, default_team, tag_rule, tenant, outsider, monkeypatch
):
    monkeypatch.setattr(parquet, "BATCH_ROWS", 3)  # batches across the row groups of 2 rows
    TeamMappingRule.objects.create(
        organisation=outsider.organisation, key="tag:team", value="serving",
        team=outsider.teams["serving"], model_name="atlas-7b-chat",
    )  # fmt: skip
    TeamMappingRule.objects.create(
        organisation=outsider.organisation, key="*", value="*",
        team=outsider.teams["research"], priority=1000,
    )  # fmt: skip
    csv_job = import_file("focus.csv", MIXED.encode(), "focus")
    table = with_map_tags(csv_table(MIXED.encode()))
    parquet_file = as_parquet(table, row_group_size=2)
    assert pq.ParquetFile(io.BytesIO(parquet_file)).num_row_groups == 4  # 7 lines
    parquet_job = import_file("focus.parquet", parquet_file, "focus", outsider.token_client())

    for job in (csv_job, parquet_job):
        assert job["status"] == "completed", job
        # 7 lines: a tax, a credit and a correction skipped; the m5.large hour makes two
        # records (vCPU and memory), the EBS, Azure and GCP lines one each.
        assert (job["rows_skipped"], job["rows_created"]) == (3, 5)
    stored = records_of(outsider.organisation)
    assert stored == records_of(tenant.organisation)
    assert {(code, kind, quantity) for code, kind, quantity, *_ in stored} == {
        ("aws:us-east-1", "compute", 2.0),  # 1 h × 2 vCPUs
        ("aws:us-east-1", "memory", round(302.68 * 8 / 384, 6)),  # (384 − 81.32) × 8/384 GB-h
        ("aws:us-east-1", "storage_ssd", 74.4),  # 100 GB-months × 744 h / 1000
        ("azure:eastus", "compute", 48.0),  # 24 h × 2 vCPUs
        ("gcp:us-central1", "compute", 3.0),
    }


def test_a_bad_line_is_named_by_the_same_line_number_in_parquet_as_in_csv(
    import_file, default_team, monkeypatch
):
    monkeypatch.setattr(parquet, "BATCH_ROWS", 3)
    # The GCP line, 4th of the data (line 5 of the CSV, in the second row group of 2 rows
    # and the second batch of 3), consumed -3 vCPU-hours.
    bad = MIXED.replace("USD,3,vCPU-Hours", "USD,-3,vCPU-Hours").encode()
    as_csv = import_file("focus.csv", bad, "focus")
    as_pq = import_file("focus.parquet", as_parquet(csv_table(bad), row_group_size=2), "focus")
    for job in (as_csv, as_pq):
        assert job["status"] == "failed", job
        assert [(e["line"], e["field"]) for e in job["errors"]] == [(5, "quantity")]


def test_the_focus_reader_gets_python_values_of_the_columns_it_reads_only(monkeypatch):
    monkeypatch.setattr(parquet, "BATCH_ROWS", 3)
    table = with_map_tags(csv_table(MIXED.encode()))
    table = table.append_column("ResourceId", pa.array([f"i-{n}" for n in range(7)]))
    content = as_parquet(table, row_group_size=2)
    every_cell = parquet.ParquetExport(io.BytesIO(content)).records()
    read = parquet.ParquetExport(io.BytesIO(content)).digested_records(focus.READ_COLUMNS)
    lines = []
    for (line, full), (same_line, record, digest) in zip(every_cell, read, strict=True):
        lines.append(same_line)
        assert line == same_line
        assert set(record) == set(focus.READ_COLUMNS) & set(table.column_names)
        assert "ResourceId" not in record and "BillingPeriodStart" not in record
        # The line's id still hashes every cell (ResourceId tells two instances apart).
        assert digest == readers.cells_digest(full.values())
    assert lines == [2, 3, 4, 5, 6, 7, 8]
    export = parquet.ParquetExport(io.BytesIO(content))
    sizes, shares = [], []
    for _, batch in export._batches():
        sizes.append(batch.num_rows)
        shares.append(export.share_read())  # the progress bar's measure of a Parquet file
    assert max(sizes) <= 3 and sum(sizes) == 7
    assert shares == [sum(sizes[: n + 1]) / 7 for n in range(len(sizes))]
    assert shares[-1] == 1.0


def test_the_digest_made_in_arrow_reads_each_cell_as_python_does():
    """Ids stay those the row-by-row digest gave: floats as repr() writes them (arrow writes
    1.0 as "1" and 1e-05 as "0.00001"), "null" and None empty, Python's whitespace stripped."""
    strings, cents = pa.map_(pa.string(), pa.string()), pa.decimal128(4, 2)
    table = pa.table(
        {
            "text": [" a ", "null", None, "x\u3000\x1f"],
            "real": [1.0, 1e-05, None, -0.0],
            "whole": pa.array([1, None, -3, 4], pa.int32()),
            "flag": [True, False, None, True],
            "tags": pa.array([[("k", "v")], None, [], [("a", None)]], strings),
            "money": pa.array([Decimal("1.50"), None, Decimal(0), Decimal(-2)], cents),
            "day": pa.array([date(2026, 1, 2)] * 4),
            "hour": pa.array([datetime(2026, 1, 1, 5)] * 4, pa.timestamp("ms", tz="UTC")),
        }
    )  # fmt: skip
    content = as_parquet(table)
    every_cell = parquet.ParquetExport(io.BytesIO(content)).records()
    read = parquet.ParquetExport(io.BytesIO(content)).digested_records({"text"})
    first_row = ["a", "1.0", "1", "True", "[('k', 'v')]", "1.5", "2026-01-02",
                 "2026-01-01T05:00:00+00:00"]  # fmt: skip
    digests = [digest for _, _, digest in read]
    assert digests[0] == readers.text_digest("\x1f".join(first_row))
    assert digests == [readers.cells_digest(row.values()) for _, row in every_cell]


def test_reading_parquet_does_not_import_pandas(tmp_path):
    """pyarrow.array() and pyarrow.scalar() import pandas where it is installed (37 MB of an
    import's memory): the reader makes its arrow values without them. In a fresh process, as
    a worker starts."""
    path = tmp_path / "focus.parquet"
    path.write_bytes(as_parquet(with_map_tags(csv_table(MIXED.encode()))))
    script = (
        "import sys, django; django.setup()\n"
        "from inventory.imports import focus, parquet\n"
        f"export = parquet.ParquetExport(open({str(path)!r}, 'rb'))\n"
        "rows = list(export.digested_records(focus.READ_COLUMNS))\n"
        "print(len(rows), 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["7", "False"], done.stderr


def test_floats_are_written_in_arrow_as_repr_writes_them_or_left_to_python():
    """Arrow writes the same shortest digits as repr() but 1.0 as "1" and exponents at other
    magnitudes: a column with such a value is left to Python (None)."""
    values = [0.096, 1.0, 100.0, -0.0, 0.0, 1e-4, 0.1 + 0.2, 123456.789, 1.25 * 0.3, None]
    written = parquet._float_text(pa.array(values))
    assert written.to_pylist() == [
        "0.096", "1.0", "100.0", "-0.0", "0.0", "0.0001", "0.30000000000000004", "123456.789",
        "0.375", "",
    ]  # fmt: skip
    for python_only in (1e-05, 1e16, 5903871311313.933, float("nan"), float("inf")):
        assert parquet._float_text(pa.array([1.0, python_only])) is None, python_only
