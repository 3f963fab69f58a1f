import pytest

from inventory.models import Location, WorkloadRecord
from tests.conftest import workload

URL = "/api/v1/workloads/"


def post(client, body, **kwargs):
    return client.post(URL, body, format="json", **kwargs)


@pytest.mark.django_db
class TestWorkloadIngest:
    def test_it_stores_one_record(self, tenant):
        response = post(tenant.token_client(), workload())
        assert response.status_code == 201
        assert response.json()["created"] == 1
        record = WorkloadRecord.objects.get()
        assert record.organisation == tenant.organisation
        assert record.duration_s == 36000.0
        assert record.status == "pending"
        assert record.ai_model.name == "atlas-7b"

    def test_it_stores_an_array(self, tenant):
        body = [workload(external_id=f"job-{i}") for i in range(5)]
        response = post(tenant.token_client(), body)
        assert response.json() == {
            "batch_id": response.json()["batch_id"],
            "received": 5,
            "created": 5,
            "duplicates": 0,
        }

    def test_it_counts_a_resent_batch_as_duplicates(self, tenant):
        client = tenant.token_client()
        body = [workload(external_id=f"job-{i}") for i in range(3)]
        post(client, body)
        response = post(client, [*body, workload(external_id="job-new")])
        assert response.json()["created"] == 1
        assert response.json()["duplicates"] == 3
        assert WorkloadRecord.objects.count() == 4

    def test_it_reports_a_resent_id_with_other_content_as_a_conflict(self, tenant):
        client = tenant.token_client()
        post(client, workload())
        response = post(client, workload(device_count=16))
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "external_id"
        assert WorkloadRecord.objects.get().device_count == 8

    def test_it_names_every_bad_row_and_stores_nothing(self, tenant):
        body = [
            workload(external_id="ok"),
            workload(external_id="bad-end", ended_at="2026-01-09T00:00:00Z"),
            workload(external_id="bad-util", utilization=1.5),
        ]
        response = post(tenant.token_client(), body)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert {(e["row"], e["field"]) for e in errors} == {(1, "ended_at"), (2, "utilization")}
        assert WorkloadRecord.objects.count() == 0

    def test_it_lists_valid_teams_for_an_unknown_team(self, tenant):
        response = post(tenant.token_client(), workload(team="nope"))
        assert response.status_code == 400
        message = response.json()["errors"][0]["message"]
        assert "research" in message and "serving" in message

    def test_it_rejects_unknown_location_and_hardware(self, tenant):
        response = post(tenant.token_client(), workload(location="mars:1", hardware="gpu-9000"))
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"location", "hardware"}

    def test_it_rejects_records_in_the_future(self, tenant):
        body = workload(started_at="2099-01-01T00:00:00Z", ended_at="2099-01-01T01:00:00Z")
        response = post(tenant.token_client(), body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "ended_at"

    def test_it_rejects_malformed_json(self, tenant):
        response = tenant.token_client().post(URL, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert "JSON" in response.json()["message"]

    def test_it_needs_an_energy_source(self, tenant):
        response = post(tenant.token_client(), workload(hardware=None))
        assert response.json()["errors"][0]["field"] == "hardware"

    def test_it_refuses_a_read_only_token(self, tenant):
        response = post(tenant.token_client(scopes=("read",)), workload())
        assert response.status_code == 403

    def test_it_refuses_an_auditor(self, tenant):
        response = post(tenant.client_for("auditor"), workload())
        assert response.status_code == 403

    def test_it_keeps_a_team_token_to_its_team(self, tenant):
        client = tenant.token_client(team="serving")
        assert post(client, workload(team="research")).status_code == 400
        assert post(client, workload(team="serving")).status_code == 201

    def test_it_keeps_external_ids_per_organisation(self, tenant, outsider):
        post(tenant.token_client(), workload())
        outsider_response = post(outsider.token_client(), workload(location="lab-paris"))
        assert outsider_response.json()["created"] == 1
        assert WorkloadRecord.objects.count() == 2

    def test_it_cannot_use_another_organisations_facility(self, tenant, outsider):
        outsider.organisation.facilities.filter(code="lab-paris").update(code="globex-dc")
        response = post(tenant.token_client(), workload(location="globex-dc"))
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "location"

    def test_it_refuses_an_anonymous_caller(self, tenant):
        from rest_framework.test import APIClient

        assert post(APIClient(), workload()).status_code == 401


@pytest.mark.django_db
class TestEveryProblemAtOnce:
    NINE_PROBLEMS = [
        workload(
            external_id="a",
            started_at="2026-01-10T08:00:00Z",
            ended_at="2026-01-10T07:00:00Z",
            device_count=0,
            utilization=1.5,
        ),
        workload(
            external_id="b",
            team="nope",
            location="mars:1",
            hardware="gpu-9000",
            phase="pretraining",
            started_at="yesterday",
            device_count="eight",
        ),
    ]

    def test_it_names_all_nine_problems_of_two_rows_in_one_answer(self, tenant):
        response = post(tenant.token_client(), self.NINE_PROBLEMS)
        assert response.status_code == 400
        # row 0: 2 bad values + end before start (its dates parsed) = 3;
        # row 1: 3 bad values + unknown team, location and hardware = 6; 3 + 6 = 9
        assert sorted((e["row"], e["field"]) for e in response.json()["errors"]) == [
            (0, "device_count"),
            (0, "ended_at"),
            (0, "utilization"),
            (1, "device_count"),
            (1, "hardware"),
            (1, "location"),
            (1, "phase"),
            (1, "started_at"),
            (1, "team"),
        ]
        assert WorkloadRecord.objects.count() == 0

    def test_it_names_them_in_csv_with_each_rows_line(self, tenant):
        body = (
            "external_id,team,phase,started_at,ended_at,location,hardware,device_count\n"
            "a,research,training,2026-01-10T08:00:00Z,2026-01-10T07:00:00Z,lab-paris,,0\n"
            "b,nope,pretraining,yesterday,2026-01-10T07:00:00Z,mars:1,gpu-9000,eight\n"
        )
        response = tenant.token_client().post(URL, body, content_type="text/csv")
        assert response.status_code == 400
        found = sorted((e["line"], e["field"]) for e in response.json()["errors"])
        # line 2: device_count 0, end before start, no energy source (no hardware) = 3;
        # line 3: phase, started_at, device_count, team, location, hardware = 6
        assert found == [
            (2, "device_count"),
            (2, "ended_at"),
            (2, "hardware"),
            (3, "device_count"),
            (3, "hardware"),
            (3, "location"),
            (3, "phase"),
            (3, "started_at"),
            (3, "team"),
        ]

    def test_it_skips_a_cross_field_check_whose_field_is_already_named(self, tenant):
        response = post(tenant.token_client(), workload(started_at="yesterday"))
        # the period check cannot run without a start: only the start is named
        assert [e["field"] for e in response.json()["errors"]] == ["started_at"]

    def test_it_checks_teams_against_the_tokens_team_on_bad_rows_too(self, tenant):
        client = tenant.token_client(team="research")
        response = post(client, workload(team="serving", utilization=2))
        assert sorted(e["field"] for e in response.json()["errors"]) == ["team", "utilization"]

    def test_it_names_another_tenants_location_as_unknown_on_bad_rows(self, tenant, outsider):
        Location.objects.create(
            organisation=outsider.organisation, code="lab-globex", name="Globex", zone="FR"
        )
        response = post(tenant.token_client(), workload(location="lab-globex", utilization=2))
        assert sorted(e["field"] for e in response.json()["errors"]) == ["location", "utilization"]

    def test_it_lists_at_most_1000_problems_and_counts_the_rest(self, tenant):
        body = [workload(external_id=f"j{i}", team="nope") for i in range(1500)]
        response = post(tenant.token_client(), body)
        assert response.status_code == 400
        # 1500 rows with an unknown team: 1000 listed, 1500 - 1000 = 500 counted
        assert len(response.json()["errors"]) == 1000
        assert "(500 more errors not shown)" in response.json()["message"]

    def test_it_counts_conflicts_past_1000_too(self, tenant):
        client = tenant.token_client()
        post(client, [workload(external_id=f"j{i}") for i in range(1200)])
        response = post(
            client, [workload(external_id=f"j{i}", device_count=4) for i in range(1200)]
        )
        assert response.status_code == 409
        # 1200 ids stored with 8 devices, re-sent with 4: 1000 listed, 200 counted
        assert len(response.json()["errors"]) == 1000
        assert "(200 more errors not shown)" in response.json()["message"]
