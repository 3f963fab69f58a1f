"""From accounting to action in real Chromium, on the demo: a model's variants compared per
inference, the what-if of a team at every location, the budgets with their forecasts, a
variant declared in the model settings."""

import json

import pytest

from inventory.models import AiModel

pytestmark = pytest.mark.usefixtures("demo")


def api(page, path: str) -> dict | list:
    return json.loads(page.context.request.get(f"{page.base_url}{path}").body())


def test_variants_what_if_and_budgets_as_their_users_see_them(page):
    # One demo seed for the three (seeding is the slow part of a browser test).
    compare_the_quantised_variant_with_its_base_model(page)
    re_price_a_team_at_every_location(page)
    follow_the_budgets_and_set_one(page)


def compare_the_quantised_variant_with_its_base_model(page):
    base = AiModel.objects.get(organisation__slug="demo", name="atlas-7b-chat")
    page.log_in("esg")
    page.open(f"/models/{base.id}/")
    page.tab.get_by_role("link", name="Compare with its variants").click()
    page.tab.wait_for_load_state("networkidle")
    start, end = (page.tab.locator(f"input[name={n}]").input_value() for n in ("start", "end"))
    body = api(page, f"/api/v1/models/{base.id}/variants/comparison/?start={start}&end={end}")
    [variant] = body["variants"]
    row = page.tab.locator('tr[data-model="atlas-7b-chat-int8"]')
    assert row.locator('[data-figure="g-per-1k"]').inner_text() == (
        f"{variant['per_1k_inferences']['g_co2e']:,.2f}"
    )
    assert row.locator('[data-figure="change-per-1k"]').inner_text() == (
        f"{variant['change_per_inference_pct']:+.1f} %"
    )
    assert "Quantisation (int8)" in row.inner_text()
    page.screenshot("variants")


def re_price_a_team_at_every_location(page):
    page.open("/teams/platform/")
    page.tab.get_by_role("link", name="What if it ran elsewhere?").click()
    page.tab.wait_for_load_state("networkidle")
    rows = page.tab.locator("#what-if-table tbody tr")
    assert rows.count() >= 2
    start = page.tab.locator("input[name=start]").input_value()
    end = page.tab.locator("input[name=end]").input_value()
    body = api(page, f"/api/v1/what-if/?team=platform&start={start}&end={end}")
    codes = [rows.nth(i).get_attribute("data-location") for i in range(rows.count())]
    assert codes == [c["code"] for c in body["candidates"]]
    page.screenshot("what-if")


def follow_the_budgets_and_set_one(page):
    page.tab.context.clear_cookies()
    page.log_in("admin")
    page.open("/")
    table = page.tab.locator("#targets-table")
    assert "Serving: Scope 2 budget" in table.inner_text()
    page.open("/settings/targets/")
    form = page.tab.locator("form[action$='/settings/targets/create/']")
    form.locator("input[name=name]").fill("Research energy budget")
    form.locator("select[name=kind]").select_option("budget")
    form.locator("select[name=team]").select_option("research")
    form.locator("select[name=scope]").select_option("scope2")
    form.locator("select[name=basis]").select_option("energy")
    form.locator("input[name=budget]").fill("40")
    form.get_by_role("button", name="Set target").click()
    page.tab.wait_for_load_state("networkidle")
    assert "Target Research energy budget set" in page.tab.content()
    names = [t["name"] for t in api(page, "/api/v1/targets/")]
    assert "Research energy budget" in names
    page.screenshot("targets")
