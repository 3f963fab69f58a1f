"""A token limited to one team reaches that team's CodeCarbon runs only, and always posts as it."""

import pytest
from rest_framework.test import APIClient

from inventory.models import CodeCarbonRun, WorkloadRecord
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key

DELTA = {
    "timestamp": "2026-01-10T10:02:00+00:00",
    "duration": 120,
    "emissions_sum": 0.001,
    "energy_consumed": 0.01,
}


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def register(client, key, experiment_id="e-1") -> str:
    response = client.post(
        "/api/v1/codecarbon/runs",
        {
            "timestamp": "2026-01-10T10:00:00+00:00",
            "experiment_id": experiment_id,
            "provider": "aws",
            "region": "eu-west-3",
        },
        format="json",
        HTTP_X_API_TOKEN=key,
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def post_delta(client, key, run_id):
    return client.post(
        "/api/v1/codecarbon/emissions", {**DELTA, "run_id": run_id}, format="json",
        HTTP_X_API_TOKEN=key,
    )  # fmt: skip


@pytest.mark.django_db
class TestTeamLimits:
    def test_it_refuses_a_delta_into_another_teams_run(self, tenant, client):
        run_id = register(client, token_key(tenant, team="serving"))
        response = post_delta(client, token_key(tenant, team="research"), run_id)
        assert response.status_code == 404
        assert WorkloadRecord.objects.count() == 0
        # The run's own team, and an organisation-wide token, still post into it.
        assert post_delta(client, token_key(tenant, team="serving"), run_id).status_code == 201
        later = {**DELTA, "timestamp": "2026-01-10T10:04:00+00:00"}
        response = client.post(
            "/api/v1/codecarbon/emissions", {**later, "run_id": run_id}, format="json",
            HTTP_X_API_TOKEN=token_key(tenant),
        )  # fmt: skip
        assert response.status_code == 201
        assert set(WorkloadRecord.objects.values_list("team__slug", flat=True)) == {"serving"}

    def test_it_refuses_running_totals_into_another_teams_run(self, tenant, client):
        assert (
            post_output(client, token_key(tenant, team="serving"), emissions_data()).status_code
            == 201
        )
        later = emissions_data(
            timestamp="2026-01-10T13:00:00", duration=7200.0, energy_consumed=2.0
        )
        response = post_output(client, token_key(tenant, team="research"), later)
        assert response.status_code == 404
        run = CodeCarbonRun.objects.get()
        # Only the first post (1.2 kWh, one hour) is stored, under its own team.
        assert (run.energy_kwh, run.posts, run.team.slug) == (1.2, 1, "serving")
        assert WorkloadRecord.objects.count() == 1

    def test_another_organisations_run_is_unknown(self, tenant, outsider, client):
        run_id = register(client, token_key(tenant, team="serving"))
        assert post_delta(client, token_key(outsider), run_id).status_code == 404
