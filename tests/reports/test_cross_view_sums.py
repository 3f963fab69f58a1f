"""The seeded demo read as an ESG officer compares it: the overview's cards for a quarter
against that quarter's Scope 2 report (its locked version), figure by figure."""

from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model

from tests.reports.scope2_data import scope2

Q3 = "start=2026-07-01&end=2026-10-01"


@pytest.fixture
def esg(demo, client):
    client.force_login(get_user_model().objects.get(username="esg"))
    return client


def test_the_overview_cards_of_a_quarter_are_its_scope2_reports_totals(esg):
    report = scope2(esg, year=2026, quarter=3).json()
    kpis = {k.key: k for k in esg.get(f"/?{Q3}").context["kpis"]}
    own, cloud = report["scope2"], report["scope3_cat1"]

    def shown(key: str) -> float:
        return float(kpis[key].value.replace(",", ""))

    # Energy card: Scope 2 facility MWh + public cloud MWh (the demo's 49.778 + 5.839 = 55.617
    # to the report's rounding; the card rounds the unrounded sum).
    assert shown("mwh") == pytest.approx(own["mwh"] + cloud["mwh"], abs=0.0015)
    assert shown("t") == pytest.approx(own["location_t"], abs=0.0005)
    assert shown("market_t") == pytest.approx(own["market_t"], abs=0.0005)
    assert shown("cloud_t") == pytest.approx(cloud["location_t"], abs=0.0005)
    # Water cards: both scopes' water (demo: 13.201 + 0.612 = 13.813 m³ on-site,
    # 177.368 + 18.306 = 195.674 m³ off-site), never one added to the other.
    for key in ("water_onsite_m3", "water_offsite_m3"):
        card = "water_m3" if key == "water_onsite_m3" else key
        assert shown(card) == pytest.approx(own[key] + cloud[key], abs=0.0015), key
    # Cost card: per currency over both scopes (demo: 9,055.64 EUR; 37,457.60 USD), whole units.
    costs: dict[str, float] = defaultdict(float)
    for line in (own, cloud):
        for cost in line["costs"] or []:
            costs[cost["currency"]] += cost["amount"]
    card = kpis["cost"]
    assert card.unit in costs
    assert shown("cost") == pytest.approx(costs[card.unit], abs=0.5)
    for currency, amount in costs.items():
        if currency != card.unit:
            assert f"{amount:,.0f} {currency}" in card.note
