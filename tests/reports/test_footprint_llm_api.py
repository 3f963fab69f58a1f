"""LLM API usage in the footprint API: ranges per group, beside Scope 2 and the public cloud."""

import pytest
from ecologits.tracers.utils import llm_impacts

from inventory.llm.estimation import llm_usage_estimate
from tests.inventory.llm.test_llm_usage_ingest import post, usage
from tests.reports.test_footprint_api import footprint, seed


def bounds(value) -> tuple[float, float]:
    return (value.min, value.max) if hasattr(value, "min") else (value, value)


def seed_llm(tenant):
    client = tenant.token_client()
    body = [
        # serving: 3 requests of 500 output tokens at 2 s, in January and February
        usage(
            external_id="s-1", team="serving", output_tokens=1000, requests=2, ai_model="helpdesk"
        ),
        usage(
            external_id="s-2",
            team="serving",
            output_tokens=500,
            requests=1,
            input_tokens=300,
            started_at="2026-02-02T09:00:00Z",
            ended_at="2026-02-02T10:00:00Z",
        ),
        # research: one claude-haiku-4-5 request, 200 output tokens at 1 s
        usage(
            external_id="r-1",
            team="research",
            provider="anthropic",
            model="claude-haiku-4-5",
            output_tokens=200,
            requests=1,
            input_tokens=100,
            latency_s=1.0,
        ),
    ]
    assert post(client, body).status_code == 201
    llm_usage_estimate()


@pytest.mark.django_db
class TestFootprintLlmApi:
    def test_it_gives_each_team_its_llm_ranges_beside_its_workloads(self, tenant):
        client = seed(tenant)
        seed_llm(tenant)
        body = footprint(client).json()
        by_team = {g["label"]: g for g in body["groups"]}
        gpt = llm_impacts("openai", "gpt-4o-mini", 500, 2.0)
        haiku = llm_impacts("anthropic", "claude-haiku-4-5", 200, 1.0)
        serving = by_team["Serving"]["llm_api"]
        # 3 requests of the same gpt-4o-mini request: 3 × EcoLogits' range
        low, high = bounds(gpt.usage.energy.value)
        assert (serving["energy_kwh"]["min"], serving["energy_kwh"]["max"]) == pytest.approx(
            (3 * low, 3 * high), rel=1e-12
        )
        assert (serving["requests"], serving["input_tokens"], serving["output_tokens"]) == (
            3,
            1500,
            1500,
        )
        usage_low, usage_high = bounds(gpt.usage.gwp.value)
        embodied_low, embodied_high = bounds(gpt.embodied.gwp.value)
        assert serving["gwp_kg"]["min"] == pytest.approx(3 * (usage_low + embodied_low))
        assert serving["gwp_kg"]["max"] == pytest.approx(3 * (usage_high + embodied_high))
        research = by_team["Research"]["llm_api"]
        assert research["water_l"]["max"] == pytest.approx(bounds(haiku.usage.wcf.value)[1])
        total = body["totals"]["llm_api"]
        assert total["energy_kwh"]["min"] == pytest.approx(
            3 * low + bounds(haiku.usage.energy.value)[0]
        )
        # Never added into the organisation's own figures: Scope 2 is the workloads' alone.
        assert body["totals"]["scope2"]["it_kwh"] == pytest.approx(240.0)
        assert body["totals"]["scope3_cat1"]["record_count"] == 0

    def test_a_group_without_llm_usage_has_none_and_llm_only_teams_appear(self, tenant):
        client = tenant.token_client()
        seed_llm(tenant)
        body = footprint(client, group_by="model").json()
        by_model = {g["label"]: g for g in body["groups"]}
        assert by_model["helpdesk"]["llm_api"]["requests"] == 2
        assert by_model["(unspecified)"]["llm_api"]["requests"] == 2
        assert by_model["helpdesk"]["scope2"]["record_count"] == 0
        by_month = {
            g["key"]: g["llm_api"]["requests"] for g in footprint(client, "month").json()["groups"]
        }
        assert by_month == {"2026-03": 3, "2026-02": 1}

    def test_no_estimate_yet_is_not_available_rather_than_zero(self, tenant):
        client = tenant.token_client()
        post(client, usage())
        block = footprint(client).json()["totals"]["llm_api"]
        assert (block["record_count"], block["estimated_count"]) == (1, 0)
        assert block["energy_kwh"] is None

    def test_a_team_limited_token_and_another_organisation_see_only_their_own(
        self, tenant, outsider
    ):
        seed_llm(tenant)
        limited = footprint(tenant.token_client(scopes=("read",), team="research")).json()
        assert [g["label"] for g in limited["groups"]] == ["Research"]
        assert limited["totals"]["llm_api"]["requests"] == 1
        assert (
            footprint(outsider.token_client(scopes=("read",))).json()["totals"]["llm_api"] is None
        )

    def test_by_scope_it_sits_in_scope_3_category_1_and_by_location_in_the_total_only(self, tenant):
        client = seed(tenant)
        seed_llm(tenant)
        by_scope = {g["key"]: g["llm_api"] for g in footprint(client, "scope").json()["groups"]}
        assert by_scope["scope2"] is None
        assert by_scope["scope3_cat1"]["requests"] == 4
        by_location = footprint(client, "location").json()
        assert all(g["llm_api"] is None for g in by_location["groups"])
        assert by_location["totals"]["llm_api"]["requests"] == 4
