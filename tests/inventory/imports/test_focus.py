"""FOCUS 1.0–1.2 exports: usage lines only, mapped CCF-style, tags to teams, cost kept."""

import csv
import io

import pytest

from inventory.imports.focus import READ_COLUMNS, focus_records
from inventory.imports.readers import ReaderContext
from inventory.models import CloudUsageRecord, TeamMappingRule
from tests.inventory.test_imports_api import upload

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db

REAL_AWS = (FIXTURES / "focus_aws_savings_plan_excerpt.csv").read_bytes()

HEADER = (
    "BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeClass,"
    "ChargeDescription,ProviderName,SubAccountId,SubAccountName,ServiceName,ServiceCategory,"
    "RegionId,BilledCost,EffectiveCost,BillingCurrency,ConsumedQuantity,ConsumedUnit,Tags,"
    "SkuPriceDetails,x_ServiceCode,x_UsageType,x_SkuMeterCategory,x_SkuMeterSubcategory,"
    "x_SkuMeterName,x_PricingUnitDescription\n"
)
# One line of each kind the providers' FOCUS exports hold (AWS x_ and Azure x_ columns).
MIXED = HEADER + (
    # 1 h of an m5.large, tagged team=serving, covered by a savings plan (billed 0, effective 0.06)
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,Usage,,m5.large,AWS,111,"
    'prod,Amazon Elastic Compute Cloud,Compute,us-east-1,0,0.06,USD,1,Hrs,"{""team"": '
    '""serving""}",,AmazonEC2,USE1-BoxUsage:m5.large,,,,\n'
    # 100 GB-months of gp3 in January (31 days)
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,Usage,,gp3,AWS,111,prod,"
    "Amazon Elastic Compute Cloud,Storage,us-east-1,8,8,USD,100,GB-Mo,{},,AmazonEC2,"
    "USE1-EBS:VolumeUsage.gp3,,,,\n"
    # 24 h of a D2s v3 (2 vCPUs)
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,Usage,,D2s v3,"
    "Microsoft,sub-1,prod-sub,Virtual Machines,Compute,eastus,2.3,2.3,EUR,24,Hours,{},,,,"
    "Virtual Machines,Dv3/DSv3 Series,D2s v3,1 Hour\n"
    # 3 vCPU-hours of a provider without x_ columns, read by its unit
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,Usage,,Cores,"
    "Google Cloud,ml-research,ML,Compute Engine,Compute,us-central1,0.1,0.1,USD,3,vCPU-Hours,"
    "{},,,,,,,\n"
    # a tax, a credit and a correction of last month: no energy
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,Tax,,VAT,AWS,111,prod,,,"
    ",1.5,1.5,USD,,,{},,,,,,,\n"
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-11T00:00:00Z,Credit,,Promo,AWS,111,"
    "prod,,,,-5,-5,USD,,,{},,,,,,,\n"
    "2026-01-01T00:00:00Z,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,Usage,Correction,m5.large,"
    "AWS,111,prod,Amazon Elastic Compute Cloud,Compute,us-east-1,0.1,0.1,USD,1,Hrs,{},,"
    "AmazonEC2,USE1-BoxUsage:m5.large,,,,\n"
)


def by_id_suffix() -> dict[tuple[str, str], CloudUsageRecord]:
    return {
        (r.location.code, r.external_id.rsplit(":", 1)[1]): r
        for r in CloudUsageRecord.objects.select_related("location", "team", "hardware")
    }


def test_it_skips_and_counts_the_purchase_of_a_real_focus_export(import_file, default_team):
    job = import_file("focus.csv", REAL_AWS, "focus")
    assert job["status"] == "completed", job
    # FOCUS spec sample: 1 savings-plan Purchase, 3 instance hours that name no instance size.
    assert job["skipped_reasons"] == {
        "charge category Purchase": 1,
        "instance hours without a vCPU count": 3,
    }
    assert CloudUsageRecord.objects.count() == 0


def test_it_reads_a_focus_export_uploaded_under_a_native_format(import_file, default_team):
    job = import_file("focus.csv", REAL_AWS, "azure_usage")
    assert job["skipped_reasons"]["charge category Purchase"] == 1
    assert job["rows_skipped"] == 4


def test_it_maps_usage_lines_to_ccf_quantities_and_keeps_cost(
    import_file, default_team, tag_rule, compute, tenant
):
    job = import_file("focus.csv", MIXED.encode(), "focus")
    assert job["status"] == "completed", job
    assert job["skipped_reasons"] == {
        "charge category Tax": 1,
        "charge category Credit": 1,
        "correction of an earlier billing period": 1,
    }
    rows = by_id_suffix()
    vcpu = rows[("aws:us-east-1", "vcpu")]
    assert (vcpu.usage_kind, vcpu.quantity, vcpu.hardware.code) == ("compute", 2.0, "intel-skylake")
    assert (vcpu.team.slug, vcpu.ai_model.name, vcpu.tags) == (
        "serving", "atlas-7b-chat", {"team": "serving"},
    )  # fmt: skip
    assert (float(vcpu.cost), vcpu.currency) == (0.06, "USD")  # EffectiveCost, not BilledCost
    # CCF memory of an m5.large hour: largest m5 (96 vCPUs, 384 GB) is one chip; Skylake holds
    # 81.32 GB per chip; (384 − 81.32) × 8 GB / 384 GB × 1 h = 6.305833 GB-h
    memory = rows[("aws:us-east-1", "memory")]
    assert memory.quantity == pytest.approx(302.68 * 8 / 384)
    ebs = rows[("aws:us-east-1", "storage")]
    # 100 GB-months × 744 h / 1000 = 74.4 TB-h, EBS replicated twice
    assert (ebs.usage_kind, ebs.quantity, ebs.replication) == ("storage_ssd", 74.4, 2.0)
    azure = rows[("azure:eastus", "vcpu")]
    # 24 h × 2 vCPUs; EUR kept
    assert (azure.quantity, azure.currency, azure.team.slug) == (48.0, "EUR", "research")
    assert rows[("gcp:us-central1", "vcpu")].quantity == 3.0

    compute()
    vcpu.refresh_from_db()
    memory.refresh_from_db()
    # CCF, Skylake 0.65–4.26 W per vCPU at 50 %: (0.65 + 0.5 × 3.61) × 2 vCPU-h / 1000
    assert vcpu.it_kwh == pytest.approx(0.00491)
    # 6.305833 GB-h × 0.000392 kWh/GB-h = 0.0024719 kWh: a third of the instance's energy
    assert memory.it_kwh == pytest.approx(302.68 / 48 * 0.000392)
    assert memory.it_kwh / (memory.it_kwh + vcpu.it_kwh) == pytest.approx(0.3349, abs=1e-4)


def test_it_ignores_the_mapping_rules_of_other_organisations(
    import_file, default_team, outsider, tenant
):
    TeamMappingRule.objects.create(
        organisation=outsider.organisation, key="tag:team", value="serving",
        team=outsider.teams["serving"],
    )  # fmt: skip
    job = import_file("focus.csv", MIXED.encode(), "focus")
    assert job["status"] == "completed", job
    teams = {r.team for r in CloudUsageRecord.objects.select_related("team")}
    assert teams == {tenant.teams["research"]}
    assert CloudUsageRecord.objects.filter(team__slug="serving").count() == 0


def test_it_keeps_an_unknown_currency_as_text(import_file, default_team):
    content = MIXED.replace(",EUR,", ",Euro (EMU),").encode()
    job = import_file("focus.csv", content, "focus")
    assert job["status"] == "completed", job
    azure = CloudUsageRecord.objects.get(location__code="azure:eastus", usage_kind="compute")
    assert (azure.currency, azure.tags) == ("", {"billing_currency": "Euro (EMU)"})


def test_it_refuses_a_file_that_is_not_focus(tenant):
    response = upload(
        tenant.token_client(),
        "cur.csv",
        b"identity_line_item_id,line_item_usage_amount\na,1\n",
        "focus",
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("This file is not a FOCUS 1.0–1.2 billing export")


def test_it_counts_azure_consumed_quantity_once_whatever_the_pricing_unit():
    row = {
        "ChargeCategory": "Usage", "ProviderName": "Microsoft", "RegionId": "westeurope",
        "ChargePeriodStart": "2026-01-10T00:00:00Z", "ChargePeriodEnd": "2026-01-11T00:00:00Z",
        "ConsumedQuantity": "24", "ConsumedUnit": "Hours", "x_SkuMeterCategory":
        "Virtual Machines", "x_SkuMeterName": "D4s v3", "x_PricingUnitDescription": "10 Hours",
    }  # fmt: skip
    context = ReaderContext(rules=[], default_team="ml", replication={})
    (source,) = focus_records([(2, row, None)], context)
    # 24 consumed hours × 4 vCPUs (priced per 10 hours, which changes nothing consumed)
    assert (source.raw["usage_kind"], source.raw["quantity"]) == ("compute", 96.0)


class ReadCells(dict):
    """A row that remembers which of its columns were read."""

    read: set[str] = set()

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)


def test_the_mapping_reads_no_column_outside_read_columns():
    """A Parquet export is turned into Python values of READ_COLUMNS only: a column read
    but not listed would be empty in every Parquet line."""
    rows = list(csv.DictReader(io.StringIO(MIXED)))
    # Every branch: AWS by x_UsageType, Azure by meter, GCP by unit, skipped lines.
    context = ReaderContext(rules=[], default_team="ml", replication={})
    sources = list(focus_records([(n, ReadCells(r), "d") for n, r in enumerate(rows)], context))
    assert len(sources) == 8  # 5 records (the m5.large hour makes two) and 3 skips
    assert ReadCells.read <= READ_COLUMNS
    assert {"ChargeCategory", "x_UsageType", "x_SkuMeterName", "ConsumedUnit"} <= ReadCells.read
