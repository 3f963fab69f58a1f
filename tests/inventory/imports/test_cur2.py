"""AWS CUR 2.0 (Data Exports): the `product` and `resource_tags` map columns; zipped CURs."""

import io
import zipfile

import pytest

from inventory.models import CloudUsageRecord
from tests.inventory.test_imports_api import AWS_CUR

pytestmark = pytest.mark.django_db

# CUR 2.0 CSV: product attributes and tags as JSON maps, the region as a flat column.
CUR2_CSV = (
    "identity_line_item_id,identity_time_interval,line_item_line_item_type,"
    "line_item_usage_start_date,line_item_usage_end_date,line_item_usage_account_id,"
    "line_item_product_code,line_item_usage_type,line_item_usage_amount,"
    "line_item_unblended_cost,line_item_currency_code,pricing_unit,product,product_region_code,"
    "resource_tags\n"
    "c1,2026-01-10T00:00:00Z/2026-01-10T01:00:00Z,Usage,2026-01-10T00:00:00Z,"
    '2026-01-10T01:00:00Z,111,AmazonEC2,USE1-BoxUsage:t3.micro,3,0.0312,USD,Hrs,"{""instance_'
    'type"": ""t3.micro"", ""vcpu"": ""2"", ""memory"": ""1 GiB""}",us-east-1,"{""user_team"": '
    '""serving""}"\n'
    "c2,2026-01-10T00:00:00Z/2026-01-10T01:00:00Z,Usage,2026-01-10T00:00:00Z,"
    '2026-01-10T01:00:00Z,111,AmazonEC2,USE1-BoxUsage:m5.metal,1,4.608,USD,Hrs,"{""instance_'
    'type"": ""m5.metal"", ""vcpu"": ""96"", ""memory"": ""384 GiB""}",us-east-1,{}\n'
)


def zipped(name: str, *files: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in files:
            archive.writestr(member, content)
    return buffer.getvalue()


def test_it_reads_vcpus_and_tags_from_the_map_columns(import_file, default_team, tag_rule):
    job = import_file("cur2.csv", CUR2_CSV.encode(), "aws_cur")
    assert job["status"] == "completed", job
    rows = {r.external_id: r for r in CloudUsageRecord.objects.select_related("team")}
    t3 = rows["aws:c1:2026-01-10T00:00:00Z/2026-01-10T01:00:00Z:vcpu"]
    # 3 h × 2 vCPUs (product.vcpu; the size name alone would say 1); the tag rule matched
    assert (t3.quantity, t3.team.slug, t3.tags) == (6.0, "serving", {"team": "serving"})
    # CCF counts no memory for burstable families
    assert "aws:c1:2026-01-10T00:00:00Z/2026-01-10T01:00:00Z:memory" not in rows
    # m5.metal: no vCPU count in its size name, 96 in product.vcpu
    assert rows["aws:c2:2026-01-10T00:00:00Z/2026-01-10T01:00:00Z:vcpu"].quantity == 96.0
    memory = rows["aws:c2:2026-01-10T00:00:00Z/2026-01-10T01:00:00Z:memory"]
    # product.memory 384 GiB, a whole chip: (384 − 81.32) GB × 384 / 384 × 1 h
    assert memory.quantity == pytest.approx(302.68)
    assert (memory.team.slug, memory.cost) == ("research", None)


def test_it_reads_a_zipped_legacy_cur_like_its_csv(import_file, default_team):
    job = import_file("cur.csv.zip", zipped("cur", ("cur-00001.csv", AWS_CUR.encode())),
                      "aws_cur")  # fmt: skip
    assert job["status"] == "completed", job
    assert job["skipped_reasons"] == {"line item type Tax": 1}
    m5 = CloudUsageRecord.objects.get(external_id="aws:a1:2026-01-10/2026-01-11:vcpu")
    assert (m5.quantity, m5.hardware.code) == (4.0, "intel-skylake")
    # m5.xlarge hour: (384 − 81.32) × 16 / 384 = 12.611667 GB-h
    memory = CloudUsageRecord.objects.get(external_id="aws:a1:2026-01-10/2026-01-11:memory")
    assert memory.quantity == pytest.approx(302.68 * 16 / 384)


def test_it_refuses_a_zip_with_several_files(import_file, default_team):
    content = zipped("two", ("a.csv", AWS_CUR.encode()), ("b.csv", AWS_CUR.encode()))
    job = import_file("two.zip", content, "aws_cur")
    assert job["status"] == "failed"
    assert "must hold one export file" in job["errors"][0]["message"]
    assert CloudUsageRecord.objects.count() == 0
