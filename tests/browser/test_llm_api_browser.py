"""The demo's LLM API usage card in real Chromium: ranges shown beside the workloads."""

import re

import pytest

from inventory.llm.estimation import llm_usage_estimate
from inventory.models import AiModel

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
