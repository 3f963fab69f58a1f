"""Real public exports (tests/fixtures/billing/README.md), imported as-is through the import API
and the upload page, with the energy worked by hand from each file's own lines.

Coefficients: Cloud Carbon Footprint's, as /work/shared/reference/cloud-coefficients.md lists
them and the shipped factor dataset holds them: Azure's unknown processor 0.74–3.54 W per vCPU at
50 % (2.14 W), PUE 1.185, managed disks replicated 3 times, SSD 1.2 Wh per TB-hour, inter-region
network 0.001 kWh per GB. Grids: US EPA eGRID2023 SRVC 0.270489 kg/kWh (East US), ECCC v4.0
Ontario 0.073 kg/kWh (Canada Central).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import CloudUsageRecord

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db

AZURE_VCPU_W = 0.74 + 0.5 * (3.54 - 0.74)  # 2.14 W per vCPU
AZURE_PUE = 1.185
EAST_US_2023 = 0.270489
ONTARIO = 0.073

# (file, format picked, lines skipped by reason, records stored): every real fixture.
REAL_FILES = [
    ("focus_aws_savings_plan_excerpt.csv", "focus",
     {"charge category Purchase": 1, "instance hours without a vCPU count": 3}, 0),
    ("azure_ea_actual_cost_small.csv", "azure_usage", None, 2),
    ("azure_ea_amortized_cost_small.csv", "azure_usage",
     {"not energy the CCF methodology counts": 18}, 10),
    ("azure_opencost_enterprise.csv", "azure_usage", {}, 1),
    ("azure_opencost_enterprise_camel.csv", "azure_usage",
     {"not energy the CCF methodology counts": 1}, 0),
    ("azure_opencost_german.csv", "azure_usage", {"not energy the CCF methodology counts": 1}, 0),
    ("aws_cur_anonymized_excerpt.csv", "aws_cur",
     {"line item type Tax": 12, "inter-region transfer in (CCF counts the sending side)": 26,
      "not energy the CCF methodology counts": 118}, 56),
    ("aws_cur_workshop_dec2018_excerpt.snappy.parquet", "aws_cur",
     {"line item type RIFee": 6, "inter-region transfer in (CCF counts the sending side)": 40,
      "not energy the CCF methodology counts": 123}, 77),
]  # fmt: skip


def records_by_line() -> dict[tuple[str, str, str], CloudUsageRecord]:
    """(location, kind, day) → record, for the lines of one import."""
    return {
        (r.location.code, r.usage_kind, r.usage_start.date().isoformat()): r
        for r in CloudUsageRecord.objects.select_related("location")
    }


def test_it_reads_the_vcpus_of_a_real_amortized_export_and_works_out_their_energy(
    import_file, default_team, compute
):
    content = (FIXTURES / "azure_ea_amortized_cost_small.csv").read_bytes()
    job = import_file("amortized.csv", content, "azure_usage")
    assert (job["status"], job["rows_created"], job["rows_skipped"]) == ("completed", 10, 18), job
    compute()
    rows = records_by_line()
    # Line 2: "D2 v2/DS2 v2" covered by a reservation (ChargeType Usage), 8 hours; AdditionalInfo
    # says "VCPUs":2 → 16 vCPU-hours, its amortized cost kept.
    reserved = rows[("azure:eastus", "compute", "2023-09-22")]
    assert (reserved.quantity, float(reserved.cost)) == (16.0, 0.493152)
    # 16 vCPU-h × 2.14 W = 34.24 Wh; × PUE 1.185 × 0.270489 kg/kWh = 0.0109750 kg
    assert reserved.it_kwh == pytest.approx(0.03424)
    assert reserved.location_kg == pytest.approx(0.03424 * 1.185 * 0.270489)
    # Its embodied share (CCF ccf-coefficients): D2 v2's platform 1205.52 kg, 16 vCPUs at most
    # on it, 35,040 h; 16 vCPU-h → 1205.52 / 35040 × 16 / 16 = 0.03440411 kg
    assert reserved.instance_type == "D2 v2"
    assert reserved.embodied_kg == pytest.approx(0.03440411, rel=1e-6)
    # Line 3: B2s under a savings plan, 0.32085564 h × 2 vCPUs
    b2s = rows[("azure:eastus", "compute", "2023-09-03")]
    assert b2s.quantity == pytest.approx(0.64171128)
    # CCF names it B2S (sizes are case-insensitive): 1238.83 kg over the B series' 20 vCPUs
    # → 1238.83 / 35040 × 0.64171128 / 20 = 0.001134377 kg
    assert b2s.instance_type == "B2s"
    assert b2s.embodied_kg == pytest.approx(0.001134377, rel=1e-6)
    # Line 22: "D2 v3/D2s v3", 24 h × 2 vCPUs in South Central US
    d2_v3 = rows[("azure:southcentralus", "compute", "2023-09-04")]
    assert d2_v3.quantity == 48.0
    # D2 v3: 1483.12 kg over 64 platform vCPUs → 1483.12 / 35040 × 48 / 64 = 0.03174486 kg
    assert d2_v3.embodied_kg == pytest.approx(0.03174486, rel=1e-6)
    # Line 7: a P30 disk (1024 GiB) for 0.033336 of September:
    # 0.033336 × 1024 × 1.073741824 GB × 720 h / 1000 = 26.3904 TB-h, × 1.2 Wh × 3 copies
    disk = rows[("azure:westus2", "storage_ssd", "2023-09-04")]
    assert disk.quantity == pytest.approx(0.033336 * 1024 * 1.073741824 * 720 / 1000)
    assert disk.it_kwh == pytest.approx(26.390390 * 1.2 * 3 / 1000)
    # Line 14: 0.017343 GB between two regions of one continent → 0.000017343 kWh
    assert rows[("azure:eastus2", "network", "2023-09-20")].it_kwh == pytest.approx(0.017343e-3)
    # Log Analytics, IP addresses, SQL licences, disk operations...: no energy by CCF's method
    assert job["skipped_reasons"] == {"not energy the CCF methodology counts": 18}


def test_it_counts_hours_once_whatever_the_pricing_block(import_file, default_team, compute):
    """OpenCost's EA export: E4 v3 priced per "10 Hours", Quantity 10. Cost Management counts
    Quantity in single units (the FinOps toolkit's FOCUS conversion divides it by the block
    size to price it), so this is 10 hours, not 100."""
    content = (FIXTURES / "azure_opencost_enterprise.csv").read_bytes()
    job = import_file("ea.csv", content, "azure_usage")
    assert job["status"] == "completed", job
    compute()
    (record,) = CloudUsageRecord.objects.select_related("location")
    # 10 h × 4 vCPUs ("VCPUs":4); the Canadian dollar kept
    assert (record.location.code, record.quantity, record.currency) == (
        "azure:canadacentral", 40.0, "CAD",
    )  # fmt: skip
    # 40 vCPU-h × 2.14 W = 0.0856 kWh; × 1.185 × 0.073 kg/kWh = 0.0074048 kg
    assert record.it_kwh == pytest.approx(0.0856)
    assert record.location_kg == pytest.approx(0.0856 * AZURE_PUE * ONTARIO)


def test_it_recognises_a_localized_header_without_being_told_the_format(import_file, default_team):
    content = (FIXTURES / "azure_opencost_german.csv").read_bytes()
    assert content.startswith(b"Abonnement-GUID (SubscriptionGuid),")
    job = import_file("kosten.csv", content, None)
    assert (job["format"], job["status"]) == ("azure_usage", "completed"), job
    # its one line is a load balancer's rules: read, and skipped as no energy
    assert job["skipped_reasons"] == {"not energy the CCF methodology counts": 1}


@pytest.mark.parametrize(("name", "file_format", "skipped", "stored"), REAL_FILES)
def test_every_real_export_imports_as_is_through_the_api(
    import_file, default_team, name, file_format, skipped, stored
):
    job = import_file(name, (FIXTURES / name).read_bytes(), file_format)
    assert (job["status"], job["rows_created"]) == ("completed", stored), job
    if skipped is not None:
        assert job["skipped_reasons"] == skipped


@pytest.mark.parametrize(("name", "file_format", "skipped", "stored"), REAL_FILES)
def test_every_real_export_imports_as_is_through_the_upload_page(
    tenant, default_team, django_capture_on_commit_callbacks, name, file_format, skipped, stored
):
    """What the upload page posts: the file as picked, with the session's login, no format
    (the page's "detect" choice)."""
    client = tenant.client_for("admin")
    upload = SimpleUploadedFile(name, (FIXTURES / name).read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "format": ""})
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (job["format"], job["status"], job["rows_created"]) == (
        file_format, "completed", stored,
    ), job  # fmt: skip
    assert CloudUsageRecord.objects.filter(organisation=tenant.organisation).count() == stored


def test_an_outsider_sees_none_of_a_real_import(import_file, default_team, outsider):
    content = (FIXTURES / "azure_ea_amortized_cost_small.csv").read_bytes()
    job = import_file("amortized.csv", content, "azure_usage")
    assert job["status"] == "completed"
    response = outsider.token_client().get(f"/api/v1/imports/{job['id']}/")
    assert response.status_code == 404
    assert not CloudUsageRecord.objects.filter(organisation=outsider.organisation).exists()


def test_it_says_how_to_attribute_billing_lines_that_match_no_mapping_rule(import_file, tenant):
    """Two teams and no rule: no line of the real export can be given a team."""
    content = (FIXTURES / "azure_ea_amortized_cost_small.csv").read_bytes()
    job = import_file("amortized.csv", content, "azure_usage")
    assert job["status"] == "failed"
    # the 10 lines with energy, each without a team
    assert job["message"].startswith("10 problems in the file; nothing was stored. Billing lines")
    assert (
        "(Settings, tab Billing tag → team rules, or POST /api/v1/mapping-rules/)"
        in (job["message"])
    )
    assert {e["field"] for e in job["errors"]} == {"team"}
    assert not CloudUsageRecord.objects.exists()


def test_it_gives_no_mapping_hint_when_the_problem_is_elsewhere(import_file, default_team):
    bad = b"external_id,team,usage_kind,usage_start\nx,research,compute,yesterday\n"
    job = import_file("usage.csv", bad, "portal_cloud_usage_csv")
    assert job["status"] == "failed"
    assert "mapping rules" not in job["message"]
