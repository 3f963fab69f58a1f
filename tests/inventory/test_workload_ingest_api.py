import pytest

from inventory.models import WorkloadRecord
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
