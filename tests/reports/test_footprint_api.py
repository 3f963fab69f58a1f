from datetime import UTC, datetime, timedelta

import pytest

from inventory.pipeline import workload_records_compute
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override


def seed(tenant):
    fr_override(tenant.organisation)
    client = tenant.token_client()
    body = []
    for i in range(6):
        start = datetime(2026, 1 + i % 3, 5, tzinfo=UTC)
        body.append(
            workload(
                external_id=f"job-{i}",
                team="research" if i < 4 else "serving",
                model="atlas-7b" if i % 2 else "atlas-chat",
                avg_power_w=500.0,
                started_at=start.isoformat(),
                ended_at=(start + timedelta(hours=10)).isoformat(),
            )
        )
    assert client.post("/api/v1/workloads/", body, format="json").status_code == 201
    workload_records_compute()
    return client


def footprint(client, group_by="team", start="2026-01-01", end="2026-04-01"):
    return client.get(f"/api/v1/footprint/?start={start}&end={end}&group_by={group_by}")


@pytest.mark.django_db
class TestFootprintApi:
    def test_it_sums_energy_and_emissions_by_team(self, tenant):
        body = footprint(seed(tenant)).json()
        # 6 records × 8 GPUs × 500 W × 10 h = 240 kWh IT; × PUE 1.2; × 0.05 kg/kWh.
        scope2 = body["totals"]["scope2"]
        assert scope2["it_kwh"] == pytest.approx(240.0)
        assert scope2["facility_kwh"] == pytest.approx(288.0)
        assert scope2["location_kg"] == pytest.approx(14.4)
        by_team = {g["label"]: g["scope2"] for g in body["groups"]}
        assert by_team["Research"]["record_count"] == 4
        assert by_team["Serving"]["location_kg"] == pytest.approx(4.8)

    def test_it_groups_by_model_and_month(self, tenant):
        client = seed(tenant)
        models = {
            g["label"]: g["scope2"]["record_count"]
            for g in footprint(client, "model").json()["groups"]
        }
        assert models == {"atlas-7b": 3, "atlas-chat": 3}
        months = footprint(client, "month").json()["groups"]
        assert [g["key"] for g in months] == ["2026-01", "2026-02", "2026-03"]
        assert [g["scope2"]["facility_kwh"] for g in months] == pytest.approx([96.0, 96.0, 96.0])

    def test_the_end_date_is_exclusive(self, tenant):
        body = footprint(seed(tenant), start="2026-01-01", end="2026-02-01").json()
        assert body["totals"]["scope2"]["record_count"] == 2

    def test_a_period_of_partial_months_counts_its_days_only(self, tenant):
        client = seed(tenant)
        # Two records on the 5th of January, February and March, 96 kWh a month. From the
        # 5th of January to the 4th of March: January's and February's; from the 6th of
        # January to the 5th of March: February's and March's.
        for start, end, months in (
            ("2026-01-05", "2026-03-05", ["2026-01", "2026-02"]),
            ("2026-01-06", "2026-03-06", ["2026-02", "2026-03"]),
        ):
            groups = footprint(client, "month", start, end).json()["groups"]
            assert [g["key"] for g in groups] == months
            assert [g["scope2"]["facility_kwh"] for g in groups] == pytest.approx([96.0, 96.0])
        # The serving team's two records are of February and March (jobs 4 and 5).
        engineer = footprint(tenant.client_for("engineer"), "month", "2026-01-06", "2026-03-06")
        assert engineer.json()["totals"]["scope2"]["record_count"] == 2

    def test_an_engineer_sees_only_their_teams(self, tenant):
        seed(tenant)
        body = footprint(tenant.client_for("engineer")).json()
        assert [g["label"] for g in body["groups"]] == ["Serving"]
        assert body["totals"]["scope2"]["record_count"] == 2

    def test_another_organisation_sees_none_of_it(self, tenant, outsider):
        seed(tenant)
        body = footprint(outsider.token_client(scopes=("read",))).json()
        assert body["totals"]["scope2"]["record_count"] == 0
        assert body["groups"] == []

    def test_an_ingest_only_token_cannot_read(self, tenant):
        seed(tenant)
        assert footprint(tenant.token_client(scopes=("ingest",))).status_code == 403

    def test_it_names_bad_filters(self, tenant):
        response = tenant.token_client().get(
            "/api/v1/footprint/?start=2026-02-01&end=2026-01-01&group_by=planet"
        )
        assert response.status_code == 400
        assert {e["field"] for e in response.json()["errors"]} == {"group_by"}
