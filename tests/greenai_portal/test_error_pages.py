"""The portal's error pages for people, under the default DEBUG too; the API keeps JSON."""

import pytest
from django.template.loader import render_to_string


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.django_db
class TestNotFound:
    def test_a_page_the_member_may_not_see_is_the_portals_404(self, tenant, debug):
        # The engineer is limited to the team "serving".
        response = tenant.client_for("engineer").get("/teams/research/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "There is nothing here, or it belongs to another organisation or team." in html
        assert "URLconf" not in html and "Raised by" not in html

    def test_an_address_that_matches_nothing_lists_no_url_patterns(self, tenant, debug):
        response = tenant.client_for("admin").get("/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "There is nothing here" in html and "URLconf" not in html
        assert "members/&lt;int:pk&gt;" not in html and "members/<int:pk>" not in html

    def test_a_missing_slash_still_redirects(self, tenant, debug):
        response = tenant.client_for("admin").get("/settings/teams")
        assert (response.status_code, response["Location"]) == (301, "/settings/teams/")

    def test_the_api_keeps_its_json(self, tenant, debug):
        response = tenant.client_for("admin").get("/api/v1/no-such-thing/")
        assert (response.status_code, response.json()) == (404, {"message": "Not found"})


@pytest.mark.django_db
class TestMethodNotAllowed:
    def test_opening_a_form_target_explains_itself(self, tenant, debug):
        response = tenant.client_for("admin").get("/settings/teams/create/")
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        html = response.content.decode()
        assert "Not this way" in html and "the target of a form (POST)" in html

    def test_the_api_405_stays_json(self, tenant, debug):
        response = tenant.client_for("admin").get("/api/v1/reports/scope2/restatements/")
        assert response.status_code == 405
        assert response.json()["message"] == 'Method "GET" not allowed.'


def test_the_500_page_needs_no_database_or_request():
    html = render_to_string("500.html")
    assert "Something went wrong" in html and "/static/css/app.css" in html
