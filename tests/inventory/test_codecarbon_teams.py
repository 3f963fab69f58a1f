"""A token limited to one team reaches that team's CodeCarbon runs only, and always posts as it."""

import pytest
from rest_framework.test import APIClient

from inventory.models import CodeCarbonRun, TeamMappingRule, WorkloadRecord
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


DEFAULT_EXPERIMENT = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"  # CodeCarbon's default


@pytest.mark.django_db
class TestMappingRules:
    def rule(self, tenant, team: str, **fields) -> TeamMappingRule:
        values = {"source": "codecarbon", "key": "experiment_id", "value": DEFAULT_EXPERIMENT}
        return TeamMappingRule.objects.create(
            organisation=tenant.organisation, team=tenant.teams[team], **(values | fields)
        )

    def test_a_team_token_keeps_its_team_over_a_rule_on_the_default_experiment(
        self, tenant, client
    ):
        self.rule(tenant, "serving", location_code="country:FR")
        run_id = register(client, token_key(tenant, team="research"), DEFAULT_EXPERIMENT)
        assert post_delta(client, token_key(tenant, team="research"), run_id).status_code == 201
        assert CodeCarbonRun.objects.get().team.slug == "research"
        assert set(WorkloadRecord.objects.values_list("team__slug", flat=True)) == {"research"}

    def test_a_rule_of_the_tokens_own_team_still_names_model_and_place(self, tenant, client):
        self.rule(tenant, "serving", location_code="aws:us-east-1", priority=1)
        self.rule(tenant, "research", model_name="atlas-7b", location_code="country:DE")
        key = token_key(tenant, team="research")
        run_id = register(client, key, DEFAULT_EXPERIMENT)
        run = CodeCarbonRun.objects.get(run_id=run_id)
        assert (run.team.slug, run.ai_model.name, run.location.code) == (
            "research",
            "atlas-7b",
            "country:DE",
        )

    def test_an_organisation_token_follows_the_rule(self, tenant, client):
        self.rule(tenant, "serving")
        register(client, token_key(tenant), DEFAULT_EXPERIMENT)
        assert CodeCarbonRun.objects.get().team.slug == "serving"

    def test_it_tells_an_api_client_what_it_can_send(self, tenant, client):
        response = client.post(
            "/api/v1/codecarbon/runs", {"experiment_id": "e-9"}, format="json",
            HTTP_X_API_TOKEN=token_key(tenant),
        )  # fmt: skip
        assert response.status_code == 400
        message = response.json()["message"]
        assert "sent experiment_id 'e-9' (CodeCarbon's API client sends nothing else)" in message
        assert "mapping rule (source codecarbon) on experiment_id 'e-9'" in message
        assert response.json()["errors"][0]["field"] == "experiment_id"
        self.rule(tenant, "serving", value="e-9")
        response = client.post(
            "/api/v1/codecarbon/runs", {"experiment_id": "e-9"}, format="json",
            HTTP_X_API_TOKEN=token_key(tenant),
        )  # fmt: skip
        assert "API client sends no country" in response.json()["message"]

    def test_rule_locations_are_checked_when_the_rule_is_made(self, tenant):
        admin = tenant.client_for("admin")
        body = {"source": "codecarbon", "key": "experiment_id", "value": "e-1", "priority": 1,
                "team": tenant.teams["research"].pk, "location_code": "lab-tokyo"}  # fmt: skip
        response = admin.post("/settings/mapping-rules/create/", body, follow=True)
        messages = [str(m) for m in response.context["messages"]]
        assert any("Unknown location 'lab-tokyo'" in m for m in messages), messages
        assert not TeamMappingRule.objects.exists()
        body["location_code"] = "country:JP"
        admin.post("/settings/mapping-rules/create/", body)
        assert TeamMappingRule.objects.get().location_code == "country:JP"
