"""The dashboard in real Chromium: every role logs in and sees drawn charts, the drill-down
from organisation to team to model works, CSV downloads, keyboard focus and a laptop screen."""

import csv
import io
import re

import pytest

from inventory.models import AiModel

pytestmark = pytest.mark.usefixtures("demo")

ROLES = ["admin", "esg", "engineer", "auditor"]


@pytest.mark.parametrize("username", ROLES)
def test_each_role_logs_in_and_sees_the_overview_with_drawn_charts(page, username):
    page.log_in(username)
    assert page.tab.url.endswith("/")
    assert page.tab.get_by_role("heading", level=1).inner_text() == "Demo AI Lab"
    # Trend, location vs market, top models, phases and tiers: all drawn with data.
    drawn = page.charts_drawn()
    assert drawn == page.tab.locator(".chart").count()
    assert drawn >= 3
    assert page.tab.locator("[data-kpi=mwh]").inner_text() not in ("", "0.000")
    page.screenshot(f"overview-{username}")


def test_an_engineer_sees_only_their_team(page):
    page.log_in("engineer")
    teams = page.tab.locator("#teams-table tbody th").all_inner_texts()
    assert teams == ["Applied ML"]
    assert page.refused("/teams/research/") == 404


def test_an_auditor_reads_settings_but_cannot_change_them(page):
    page.log_in("auditor")
    page.open("/settings/facilities/")
    assert page.tab.locator("table#facilities tbody tr").count() == 2
    assert page.tab.locator("form[action*='/pue/']").count() == 0
    # The demo facilities' WUE rows and this year's indicators, readable but not changeable.
    assert page.tab.locator("table#facility-wue tbody tr").count() == 2
    assert page.tab.locator("form[action*='/wue/']").count() == 0
    assert page.tab.locator("table#facility-indicators tbody tr").count() == 2
    assert page.tab.get_by_role("link", name="API tokens").count() == 0
    assert page.refused("/settings/tokens/") == 403
    page.open("/settings/teams/")
    assert page.tab.get_by_role("button", name="Add team").count() == 0
    page.screenshot("settings-teams-auditor")


def test_drill_down_from_organisation_to_team_to_model(page):
    page.log_in("esg")
    page.tab.locator("#teams-table").get_by_role("link", name="Platform & Serving").click()
    page.tab.wait_for_load_state("networkidle")
    assert "/teams/platform/" in page.tab.url
    assert page.tab.get_by_role("heading", level=1).inner_text() == "Team Platform & Serving"
    assert page.charts_drawn() >= 4
    assert page.tab.locator("#intensity-table tbody tr").count() >= 1
    page.screenshot("team-platform")

    model_link = page.tab.locator("#models-table tbody a").first
    model_name = model_link.inner_text()
    model_link.click()
    page.tab.wait_for_load_state("networkidle")
    model = AiModel.objects.get(organisation__slug="demo", name=model_name)
    assert re.search(rf"/models/{model.id}/", page.tab.url)
    assert page.tab.get_by_role("heading", level=1).inner_text() == f"Model {model_name}"
    assert page.charts_drawn() >= 4
    # Serving records carry inference and token counts: the intensity is shown (per scope).
    intensities = page.tab.locator("[data-kpi$='-g_per_1k_inferences']").all_inner_texts()
    assert [value for value in intensities if value != "—"]
    page.screenshot("model-serving")
    # The breadcrumb leads back to the organisation.
    page.tab.get_by_role("navigation", name="Breadcrumb").get_by_role("link").first.click()
    page.tab.wait_for_load_state("networkidle")
    assert page.tab.get_by_role("heading", level=1).inner_text() == "Demo AI Lab"


def test_clicking_a_bar_of_the_trend_opens_that_team(page):
    page.log_in("admin")
    page.charts_drawn()
    bar = page.tab.locator("#trend-scope2-chart g.trace.bars g.point path").last
    bar.click(force=True)
    page.tab.wait_for_url(re.compile(r"/teams/[\w-]+/"))
    assert page.tab.get_by_role("heading", level=1).inner_text().startswith("Team ")


def test_every_chart_downloads_its_data_as_csv(page):
    page.log_in("esg")
    links = page.tab.locator("a.download")
    assert links.count() == page.tab.locator(".chart-card").count()
    with page.tab.expect_download() as info:
        page.tab.locator(".chart-card").first.locator("a.download").click()
    download = info.value
    assert download.suggested_filename.startswith("overview-trend-scope2-")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0] == ["month", "team", "mwh", "location_t_co2e", "market_t_co2e", "records"]
    # The first chart is Scope 2's trend: Applied ML runs in the public cloud only.
    assert {row[1] for row in rows[1:]} == {"Research", "Platform & Serving"}


def test_filters_narrow_the_page(page):
    page.log_in("esg")
    page.tab.get_by_label("Scope", exact=True).select_option("scope3_cat1")
    page.tab.get_by_role("button", name="Apply").click()
    page.tab.wait_for_load_state("networkidle")
    assert "scope=scope3_cat1" in page.tab.url
    # Scope 3 is the public cloud: fine-tuning on AWS/GCP, serving and billed batch GPU-hours
    # on aws:us-east-1 (largest first); Research trains only in the owned Paris data centre,
    # so it drops out.
    assert page.tab.locator("#teams-table tbody th").all_inner_texts() == [
        "Platform & Serving",
        "Applied ML",
    ]


def test_the_keyboard_reaches_the_skip_link_and_the_filters(page):
    page.log_in("esg")
    page.tab.keyboard.press("Tab")
    focused = page.tab.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.tab.keyboard.press("Enter")
    for _ in range(3):
        page.tab.keyboard.press("Tab")
    assert page.tab.evaluate("document.activeElement.tagName") in ("SELECT", "INPUT", "A")


def test_pages_fit_a_laptop_screen(laptop_page):
    laptop_page.log_in("admin")
    for path in ["/", "/teams/research/", "/data/", "/settings/teams/", "/factors/"]:
        laptop_page.open(path)
        overflow = laptop_page.tab.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    laptop_page.open("/")
    laptop_page.charts_drawn()
    laptop_page.screenshot("overview-laptop")
