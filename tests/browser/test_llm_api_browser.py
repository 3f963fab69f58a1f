"""The demo's LLM API usage card in real Chromium: ranges shown beside the workloads, and
the records behind them in the record browser."""

import re

import pytest

from inventory.llm.estimation import llm_usage_estimate
from inventory.llm.selectors import Range
from inventory.models import AiModel, LlmUsageRecord
from reports.templatetags.dashboard_tags import span

pytestmark = pytest.mark.usefixtures("demo")
RANGE = re.compile(r"^[\d.,]+–[\d.,]+$")


def test_the_overview_and_a_team_show_llm_usage_as_ranges(page):
    llm_usage_estimate()  # the worker's job; no worker runs in this test
    page.log_in("admin")
    page.open("/?period=12m")
    card = page.tab.locator("#llm-api")
    assert card.get_by_role("heading", name="LLM API usage (EcoLogits estimate)").is_visible()
    assert RANGE.match(card.locator("[data-llm=energy]").inner_text())
    assert RANGE.match(card.locator("[data-llm=gwp]").inner_text())
    llms = card.locator("#llm-llms tbody th").all_inner_texts()
    assert llms == [
        "anthropic/claude-haiku-4-5",
        "mistralai/open-mistral-nemo-2407",
        "openai/gpt-4o-mini",
    ]
    card.scroll_into_view_if_needed()
    page.screenshot("overview-llm-api")
    page.open("/teams/platform/?period=12m")
    assert page.tab.locator("#llm-llms tbody th").all_inner_texts() == ["openai/gpt-4o-mini"]
    page.screenshot("team-llm-api")
    classifier = AiModel.objects.get(name="support-classifier")
    page.open(f"/models/{classifier.id}/?period=12m")
    assert page.tab.locator("#llm-teams tbody th").all_inner_texts() == ["Applied ML"]
    page.screenshot("model-llm-api")


def test_an_auditor_walks_from_an_llm_figure_to_a_records_estimate(page):
    llm_usage_estimate()
    page.log_in("auditor")
    page.open("/?period=12m")
    line = page.tab.locator("#llm-llms tbody tr").filter(has_text="openai/gpt-4o-mini")
    figure = line.locator("[data-figure=llm-energy]").inner_text()
    line.get_by_title("The records behind this line").click()
    page.tab.wait_for_load_state("networkidle")
    assert "kind=llm-usage" in page.tab.url and "llm=openai%2Fgpt-4o-mini" in page.tab.url
    assert "LLM openai/gpt-4o-mini" in page.tab.locator("#active-filters").inner_text()
    # The records listed sum to the line they were reached from.
    assert page.tab.locator("[data-total=energy]").inner_text() == figure
    page.screenshot("records-llm-usage")

    page.tab.locator("#records tbody tr th a").first.click()
    page.tab.wait_for_load_state("networkidle")
    record = LlmUsageRecord.objects.get(pk=int(page.tab.url.rstrip("/").rsplit("/", 1)[1]))
    assert (record.provider, record.model) == ("openai", "gpt-4o-mini")
    heading = page.tab.get_by_role("heading", level=1).inner_text()
    assert heading == f"LLM API usage record {record.external_id}"
    energy = page.tab.locator('[data-step="1"]').inner_text()
    assert energy == f"{span(Range(record.energy_kwh_min, record.energy_kwh_max))} kWh"
    assert "B active" in page.tab.locator('[data-lineage="parameters"]').inner_text()
    assert "Scope 3 category 1" in page.tab.locator("#scope").inner_text()
    page.screenshot("record-llm-usage")
