"""PDF exports are bounded per organisation: so many being built at once, so many an hour."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports.models import ReportExport

EXPORTS = "/api/v1/reports/scope2/exports/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bounds(settings):
    settings.GREENAI_EXPORTS_IN_FLIGHT = 2
    settings.GREENAI_EXPORTS_PER_HOUR = 4


def request_export(client):
    return client.post(EXPORTS, {"year": 2026, "quarter": 1}, format="json")


def finish_all(status="done"):
    ReportExport.objects.update(status=status)


def test_it_refuses_more_exports_in_flight_than_the_bound(tenant, outsider):
    reader = tenant.token_client(scopes=("read",))
    # No worker builds them here (the task's message is never sent): both stay queued.
    assert [request_export(reader).status_code for _ in range(2)] == [202, 202]
    refused = request_export(reader)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert "2 exports of this organisation are still being built" in refused.json()["message"]
    assert ReportExport.objects.filter(organisation=tenant.organisation).count() == 2
    # Another organisation has its own bound.
    assert request_export(outsider.token_client(scopes=("read",))).status_code == 202
    # A finished (or failed) export frees its place.
    ReportExport.objects.filter(organisation=tenant.organisation).update(status="failed")
    assert request_export(reader).status_code == 202


def test_it_refuses_more_exports_an_hour_than_the_bound(tenant):
    reader = tenant.token_client(scopes=("read",))
    for _ in range(4):
        assert request_export(reader).status_code == 202
        finish_all()
    # The oldest of the 4 was made 50 minutes ago: a place frees in 10 minutes (600 s + 1).
    oldest = ReportExport.objects.order_by("created_at").first()
    ReportExport.objects.filter(pk=oldest.pk).update(
        created_at=timezone.now() - timedelta(minutes=50)
    )
    refused = request_export(reader)
    assert refused.status_code == 429
    assert 595 <= int(refused["Retry-After"]) <= 601
    assert "4 exports in the last hour" in refused.json()["message"]
    # An hour after it, the oldest no longer counts.
    ReportExport.objects.filter(pk=oldest.pk).update(
        created_at=timezone.now() - timedelta(minutes=61)
    )
    assert request_export(reader).status_code == 202


def test_the_page_shows_the_refusal(tenant):
    page = tenant.client_for("auditor")
    for _ in range(2):
        page.post("/reports/2026/Q1/export/")
    response = page.post("/reports/2026/Q1/export/", follow=True)
    assert ReportExport.objects.count() == 2
    assert "still being built" in response.content.decode()
