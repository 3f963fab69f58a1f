"""The "LLM API usage (EcoLogits estimate)" card on the overview, team and model pages."""

import pytest
from ecologits.tracers.utils import llm_impacts

from accounts.models import Role
from inventory.llm.selectors import Range
from inventory.models import AiModel
from reports.templatetags.dashboard_tags import span
from tests.reports.test_footprint_api import seed
from tests.reports.test_footprint_llm_api import bounds, seed_llm

PERIOD = "start=2026-01-01&end=2026-04-01"


def card(html: str) -> str:
    start = html.index('id="llm-api"')
    return html[start : html.index("</section>\n", html.index("LLM API usage totals", start))]


class TestSpan:
    @pytest.mark.parametrize(
        ("low", "high", "shown"),
        [
            (0.12134, 0.15234, "0.121–0.152"),
            (3.4e-05, 9.87e-05, "0.0000340–0.0000987"),
            (1234.6, 2345.6, "1,235–2,346"),
            (12.0, 12.0, "12.0"),
            (0.0, 0.5, "0–0.500"),
        ],
    )
    def test_it_shows_a_range_to_three_significant_figures(self, low, high, shown):
        assert span(Range(low, high)) == shown

    def test_no_range_is_not_available_rather_than_zero(self):
        assert span(None) == "not available"


@pytest.mark.django_db
class TestLlmApiCard:
    def test_the_overview_shows_the_range_beside_the_workloads(self, tenant):
        seed(tenant)
        seed_llm(tenant)
        html = tenant.client_for(Role.ESG_OFFICER).get(f"/?{PERIOD}").content.decode()
        shown = card(html)
        gpt = llm_impacts("openai", "gpt-4o-mini", 500, 2.0).usage.energy.value
        haiku = llm_impacts("anthropic", "claude-haiku-4-5", 200, 1.0).usage.energy.value
        # organisation: 3 gpt-4o-mini requests + 1 claude-haiku-4-5 request
        total = Range(3 * bounds(gpt)[0] + bounds(haiku)[0], 3 * bounds(gpt)[1] + bounds(haiku)[1])
        assert f'data-llm="energy">{span(total)}<' in shown
        assert "LLM API usage (EcoLogits estimate)" in shown
        assert 'data-llm="requests">4<' in shown
        # EcoLogits' water is one figure, on- and off-site together: labelled as declared.
        assert "Water, on- and off-site</span>" in shown
        tables = html[html.index('id="llm-llms"') :]
        assert "openai/gpt-4o-mini" in tables and "anthropic/claude-haiku-4-5" in tables
        assert span(Range(3 * bounds(gpt)[0], 3 * bounds(gpt)[1])) in tables
        assert 'data-kpi="mwh">0.288<' in html  # Scope 2 alone, as without LLM usage

    def test_the_team_page_shows_only_the_teams_usage(self, tenant):
        seed(tenant)
        seed_llm(tenant)
        html = tenant.client_for(Role.ADMIN).get(f"/teams/research/?{PERIOD}").content.decode()
        haiku = llm_impacts("anthropic", "claude-haiku-4-5", 200, 1.0).usage.energy.value
        assert f'data-llm="energy">{span(Range(*bounds(haiku)))}<' in card(html)
        assert "openai/gpt-4o-mini" not in html

    def test_the_model_page_shows_the_usage_serving_that_model(self, tenant):
        seed(tenant)
        seed_llm(tenant)
        model = AiModel.objects.get(organisation=tenant.organisation, name="helpdesk")
        html = tenant.client_for(Role.ADMIN).get(f"/models/{model.id}/?{PERIOD}").content.decode()
        assert 'data-llm="requests">2<' in card(html)

    def test_a_location_filter_or_scope_2_hides_it(self, tenant):
        seed(tenant)
        seed_llm(tenant)
        client = tenant.client_for(Role.ADMIN)
        location = tenant.organisation.facilities.get(code="lab-paris").id
        assert 'id="llm-api"' not in client.get(f"/?{PERIOD}&location={location}").content.decode()
        assert 'id="llm-api"' not in client.get(f"/?{PERIOD}&scope=scope2").content.decode()
        assert 'id="llm-api"' in client.get(f"/?{PERIOD}&scope=scope3_cat1").content.decode()

    def test_a_limited_engineer_sees_only_their_teams_usage(self, tenant):
        seed_llm(tenant)
        html = tenant.client_for(Role.ENGINEER).get(f"/?{PERIOD}").content.decode()
        assert 'data-llm="requests">3<' in card(html)  # serving's, not research's
        assert "claude-haiku-4-5" not in html

    def test_an_organisation_with_only_llm_usage_sees_its_card(self, tenant, outsider):
        seed_llm(tenant)
        html = tenant.client_for(Role.ADMIN).get(f"/?{PERIOD}").content.decode()
        assert 'id="llm-api"' in html
        assert "first-record-title" not in html
        other = outsider.client_for(Role.ADMIN).get(f"/?{PERIOD}").content.decode()
        assert 'id="llm-api"' not in other
