"""In real Chromium: chart labels are text, never links; pages work under the CSP."""

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


def test_the_api_docs_render_under_the_content_security_policy(page):
    # Swagger UI is self-hosted (sidecar) and starts from a script file, not an inline one;
    # the page fixture fails the test on any console error, CSP refusals included.
    page.open("/api/docs/")
    page.tab.wait_for_selector(".opblock-summary", timeout=30_000)
    assert page.tab.locator(".opblock-summary").count() > 10


def test_a_chart_downloads_as_png_under_the_content_security_policy(page):
    page.log_in("esg")
    page.charts_drawn()
    with page.tab.expect_download() as download:
        page.tab.locator(".chart").first.hover()
        page.tab.locator(".chart .modebar-btn[data-title*='png' i]").first.click()
    assert download.value.suggested_filename.endswith(".png")
