"""Every figure of a Scope 2 report names its factor rows: each location line of the report,
Scope 2 and cloud, has its rows at GET /api/v1/reports/scope2/factors/, with the dataset and
methodology versions, and every row there carries its value, source and licence."""

from datetime import date

import pytest

from inventory.models import (
    CloudCoefficient,
    CloudInstanceEmbodied,
    EmbodiedFactor,
    FactorOverride,
    GridFactor,
    Hardware,
    OffsiteWaterFactor,
)
from inventory.pipeline import records_compute
from tests.inventory.test_pipeline import stored_cloud_usage, stored_workload

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/scope2/factors/?year=2026&quarter=1"


@pytest.fixture
def quarter(tenant):
    """Q1 2026: a modelled H100 job and a metered one (February, under a French override) in
    Paris, SSD storage, unnamed vCPU-hours and an m5.large's on AWS us-east-1; computed."""
    h100 = Hardware.objects.get(code="nvidia-h100-sxm", dataset__is_active=True)
    FactorOverride.objects.create(
        organisation=tenant.organisation,
        zone="FR",
        kind="grid_average",
        valid_from=date(2026, 2, 1),
        valid_to=date(2026, 2, 28),
        kg_per_kwh=0.05,
        source="Supplier letter 2026",
    )
    stored_workload(tenant, day=date(2026, 1, 10), hardware=h100, device_count=8)
    stored_workload(tenant, day=date(2026, 2, 10), avg_power_w=700.0)
    stored_cloud_usage(tenant, usage_kind="storage_ssd", quantity=10.0)
    stored_cloud_usage(tenant, usage_kind="compute", quantity=100.0)
    stored_cloud_usage(tenant, usage_kind="compute", quantity=20.0, instance_type="m5.large")
    records_compute()


def test_every_report_line_names_its_factor_rows(tenant, quarter):
    client = tenant.client_for("auditor")
    report = client.get("/api/v1/reports/scope2/?year=2026&quarter=1").json()
    body = client.get(URL).json()
    lines = {line["key"]: line for line in body["locations"]}
    report_lines = [
        *report["breakdowns"]["location"],
        *report["scope3_cat1"]["by_location"],
    ]
    assert {line["key"] for line in report_lines} == set(lines)
    rows = {row["id"]: row for row in body["factors"]}
    for line in lines.values():
        assert line["factor_ids"], line
        assert set(line["factor_ids"]) <= set(rows)
        assert line["factor_datasets"] == [report["factor_dataset"]]
        assert line["methodology_versions"] == [report["methodology_version"]]
    for row in rows.values():
        assert row["source"] and row["licence"] and row["dataset"], row

    france = GridFactor.objects.get(
        dataset__is_active=True, zone="FR", year=2024, kind="grid_average", basis="direct"
    )
    override = FactorOverride.objects.get()
    h100 = Hardware.objects.get(code="nvidia-h100-sxm", dataset__is_active=True)
    embodied = EmbodiedFactor.objects.get(hardware_code="nvidia-h100-sxm", dataset=h100.dataset)
    # France's water consumption of generation, behind the lab's off-site water.
    water = OffsiteWaterFactor.objects.get(country_iso="FR", dataset=h100.dataset)
    paris = next(line for line in lines.values() if line["code"] == "lab-paris")
    assert paris["factor_ids"] == sorted(
        [
            f"grid:{france.id}",
            f"override:{override.id}",
            f"hardware:{h100.id}",
            f"embodied:{embodied.id}",
            f"offsite_water:{water.id}",
        ]
    )
    assert paris["records"] == 2
    assert rows[f"hardware:{h100.id}"]["max_w"] == 700.0
    assert rows[f"override:{override.id}"]["kg_per_kwh"] == 0.05

    aws = next(line for line in lines.values() if line["code"] == "aws:us-east-1")
    ssd = CloudCoefficient.objects.get(dataset__is_active=True, key="storage_ssd_wh_per_tb_hour")
    unknown_cpu = Hardware.objects.get(code="unknown-cpu-aws", dataset__is_active=True)
    assert f"coefficient:{ssd.id}" in aws["factor_ids"]
    assert f"hardware:{unknown_cpu.id}" in aws["factor_ids"]
    assert rows[f"coefficient:{ssd.id}"]["value"] == 1.2
    # The m5.large's vCPU-hours name the instance's embodied row (CCF ccf-coefficients).
    m5 = CloudInstanceEmbodied.objects.get(dataset=h100.dataset, instance_type="m5.large")
    assert f"instance_embodied:{m5.id}" in aws["factor_ids"]
    assert rows[f"instance_embodied:{m5.id}"]["source"].startswith(
        "aws m5.large: 1610.79 kg CO2e over 35040 h and 96 vCPUs; Cloud Carbon Footprint"
    )
    assert rows[f"instance_embodied:{m5.id}"]["licence"] == "Apache-2.0"


def test_market_lines_name_the_residual_mix_row(tenant, quarter):
    body = tenant.client_for("esg_officer").get(URL).json()
    residual = GridFactor.objects.get(
        dataset__is_active=True, zone="FR", year=2025, kind="residual_mix"
    )
    january = next(m for m in body["market"] if m["month"] == "2026-01-01")
    assert (january["zone"], january["basis"], january["factor_id"]) == (
        "FR",
        "residual_mix",
        f"grid:{residual.id}",
    )
    assert january["kg_per_kwh"] == residual.kg_per_kwh == 0.01711
    assert f"grid:{residual.id}" in {row["id"] for row in body["factors"]}


def test_another_organisation_sees_only_its_own_lines(tenant, outsider, quarter):
    body = outsider.client_for("admin").get(URL).json()
    assert (body["locations"], body["market"], body["factors"]) == ([], [], [])


def test_a_bad_quarter_is_refused(tenant):
    response = tenant.client_for("admin").get("/api/v1/reports/scope2/factors/?year=2026")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "quarter"


def test_a_locked_version_keeps_every_factor_row_its_figures_used(tenant, quarter):
    from accounts.principal import principal_for_membership
    from reports.services import report_lock

    before = tenant.client_for("auditor").get(URL).json()
    esg = tenant.members["esg_officer"]
    version = report_lock(
        principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user
    )
    locked = {row["id"]: row for row in version.factors}
    assert set(locked) == {row["id"] for row in before["factors"]}
    kinds = {row_id.split(":")[0] for row_id in locked}
    # cloud_wue: AWS us-east-1's published WUE behind the cloud records' on-site water; the
    # H100 records name their embodied row too (factor library 2026.4), every record its
    # country's off-site water row (2026.5) and the m5.large its instance's (2026.6).
    assert kinds == {
        "grid",
        "override",
        "hardware",
        "coefficient",
        "cloud_wue",
        "embodied",
        "offsite_water",
        "instance_embodied",
    }

    # The version holds the figures as they were: a later edit of a row does not reach it.
    h100 = Hardware.objects.get(code="nvidia-h100-sxm", dataset__is_active=True)
    Hardware.objects.filter(pk=h100.pk).update(max_w=1000.0)
    after = tenant.client_for("auditor").get(URL).json()
    assert after["locked_version"] == version.version == 1
    assert after["locations"] == before["locations"]
    shown = {row["id"]: row for row in after["factors"]}
    assert shown[f"hardware:{h100.id}"]["max_w"] == 700.0
    ssd = CloudCoefficient.objects.get(dataset__is_active=True, key="storage_ssd_wh_per_tb_hour")
    assert shown[f"coefficient:{ssd.id}"]["value"] == 1.2


def test_a_team_limited_caller_gets_its_lines_and_no_organisation_wide_allocation(tenant, quarter):
    # Every record of the quarter is research's; the market allocation is the organisation's.
    research = tenant.token_client(scopes=["read"], team="research").get(URL).json()
    assert {line["code"] for line in research["locations"]} == {"lab-paris", "aws:us-east-1"}
    assert research["market"] == []
    serving = tenant.client_for("engineer").get(URL).json()  # limited to serving
    assert (serving["locations"], serving["market"]) == ([], [])
    assert tenant.client_for("admin").get(URL).json()["market"] != []
