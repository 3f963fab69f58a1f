"""Azure usage details as Cost Management exports them: charge types, schemas, bandwidth."""

import pytest

from inventory.models import CloudUsageRecord

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db

REAL_EA = (FIXTURES / "azure_ea_actual_cost_small.csv").read_bytes()

# The older pay-as-you-go schema: UsageDateTime, UsageQuantity, PreTaxCost, Currency.
USAGE_QUANTITY_SCHEMA = (
    "UsageDateTime,SubscriptionName,ResourceGroup,ResourceLocation,MeterCategory,"
    "MeterSubcategory,MeterName,UnitOfMeasure,UsageQuantity,PreTaxCost,Currency,Tags\n"
    "2026-01-10,prod,rg-train,westeurope,Virtual Machines,Dv3/DSv3 Series,D4s v3,1 Hour,10,"
    "1.9,EUR,\n"
    "2026-01-10,prod,rg-train,westeurope,Bandwidth,Inter-Region,Intra Continent Data Transfer "
    "Out,1 GB,40,0.8,Euro,\n"
)


def test_it_skips_a_reservation_purchase_of_a_real_ea_export(import_file, default_team):
    job = import_file("ea.csv", REAL_EA, "azure_usage")
    assert job["status"] == "completed", job
    # Line 2 buys a 3-year B1s reservation (Quantity 1, "1 Hour"): a purchase, not 1 vCPU-hour.
    assert job["skipped_reasons"]["charge type Purchase"] == 1
    assert not CloudUsageRecord.objects.filter(location__code="azure:uksouth").exists()
    records = {
        (r.location.code, r.usage_kind): r
        for r in CloudUsageRecord.objects.select_related("location")
    }
    assert set(records) == {("azure:southcentralus", "compute"), ("azure:ukwest", "storage_ssd")}
    # "D2 v3/D2s v3", 24 hours × 2 vCPUs
    assert records[("azure:southcentralus", "compute")].quantity == 48.0
    # P4 (32 GiB) for 0.033336 of September: 0.033336 × 32 × 1.073741824 GB × 720 h / 1000
    disk = records[("azure:ukwest", "storage_ssd")]
    assert disk.quantity == pytest.approx(0.033336 * 32 * 1.073741824 * 720 / 1000)
    assert float(disk.cost) == pytest.approx(0.21268368)


def test_it_reads_the_usage_quantity_schema_and_inter_region_bandwidth(import_file, default_team):
    job = import_file("usage.csv", USAGE_QUANTITY_SCHEMA.encode(), "azure_usage")
    assert job["status"] == "completed", job
    records = {r.usage_kind: r for r in CloudUsageRecord.objects.all()}
    # 10 h × 4 vCPUs of a D4s v3; 40 GB between two regions of one continent
    assert (records["compute"].quantity, float(records["compute"].cost)) == (40.0, 1.9)
    assert records["compute"].currency == "EUR"
    assert records["network"].quantity == 40.0
    # "Euro" is no ISO 4217 code: kept as text, the line still imported
    assert (records["network"].currency, records["network"].tags) == (
        "", {"billing_currency": "Euro"},
    )  # fmt: skip


def test_it_reads_a_region_named_as_older_exports_name_it(import_file, default_team):
    # The pay-as-you-go schema's ResourceLocation "US East" is the region eastus (FinOps
    # toolkit's Regions.csv), not an unknown "useast".
    content = USAGE_QUANTITY_SCHEMA.replace("westeurope", "US East").encode()
    job = import_file("usage.csv", content, "azure_usage")
    assert job["status"] == "completed", job
    codes = set(CloudUsageRecord.objects.values_list("location__code", flat=True))
    assert codes == {"azure:eastus"}
