"""A model name that is markup shows as typed in the charts: no live link in a label."""

import pytest

from inventory.models import AiModel

pytestmark = pytest.mark.usefixtures("demo")

LINK = '<a href="https://evil.example/">atlas</a>'


def test_a_model_named_like_a_link_is_text_in_every_chart(page):
    # Any ingest token can name a model; the demo's largest one gets a hostile name.
    model = AiModel.objects.order_by("id").first()
    model.name = LINK
    model.save(update_fields=["name"])
    page.log_in("esg")
    assert page.charts_drawn() >= 3
    assert page.tab.locator(".chart svg a").count() == 0
    labels = page.tab.locator(".chart svg text").all_text_contents()
    assert LINK in labels
    page.open(f"/models/{model.id}/")
    page.charts_drawn()
    assert page.tab.locator(".chart svg a").count() == 0
