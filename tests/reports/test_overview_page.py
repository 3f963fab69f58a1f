import json
import re

import pytest
from django.contrib.staticfiles import finders

from tests.conftest import PASSWORD
from tests.reports.test_footprint_api import seed


def chart_data(html: str) -> dict:
    match = re.search(
        r'<script id="trend-scope2-data" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(match.group(1))


@pytest.mark.django_db
class TestOverviewPage:
    def test_it_sends_anonymous_visitors_to_log_in(self, client):
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    def test_a_member_logs_in_and_sees_totals_and_a_chart(self, client, tenant):
        seed(tenant)
        assert (
            client.post(
                "/login/", {"username": "acme-esg_officer", "password": PASSWORD}
            ).status_code
            == 302
        )
        html = client.get("/?start=2026-01-01&end=2026-04-01").content.decode()
        assert 'data-kpi="mwh">0.288<' in html
        assert 'data-kpi="t">0.014<' in html
        figure = chart_data(html)
        assert {trace["name"] for trace in figure["data"]} == {"Research", "Serving"}
        research = next(t for t in figure["data"] if t["name"] == "Research")
        # Research ran jobs 0 and 3 in January, 1 in February, 2 in March: 2.4 kg each.
        assert research["y"] == pytest.approx([0.0048, 0.0024, 0.0024])
        assert "vendor/plotly/plotly.min.js" in html

    def test_a_new_organisation_is_told_how_to_send_its_first_record(self, client, tenant):
        client.force_login(tenant.members["admin"].user)
        html = client.get("/").content.decode()
        assert "No computed records" in html
        assert "/api/v1/workloads/" in html
        assert "reads it in your organisation's time zone, now UTC" in html

    def test_a_user_of_no_organisation_gets_404(self, client, django_user_model):
        client.force_login(django_user_model.objects.create_user("loner", password=PASSWORD))
        assert client.get("/").status_code == 404

    def test_plotly_js_is_served_by_the_app(self):
        path = finders.find("vendor/plotly/plotly.min.js")
        assert path is not None
        with open(path, encoding="utf-8") as handle:
            assert "plotly" in handle.read(2000).lower()
