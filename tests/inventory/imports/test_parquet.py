"""Parquet exports (FOCUS, AWS CUR 2.0), read in record batches like their CSV twins."""

import io
from datetime import datetime

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

from inventory.imports import parquet
from inventory.models import CloudUsageRecord
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
