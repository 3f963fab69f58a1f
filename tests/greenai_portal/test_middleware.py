"""A NUL in an address is a 400 on every page and API route, before any view reads it."""

import pytest

from tests.hardening.discovery import routes

pytestmark = pytest.mark.django_db

# Every route that takes no value in its path, read with GET (pages and API alike).
GET_ROUTES = sorted(
    "/" + route.route
    for route in routes()
    if not route.parameters and not route.route.startswith("admin")
)


@pytest.mark.parametrize("path", GET_ROUTES)
def test_it_answers_a_nul_in_the_query_with_a_400(tenant, path):
    response = tenant.client_for("admin").get(path + "?q=%00&search=x%00y&year=2026")
    assert response.status_code == 400, (path, response.status_code)


def test_it_answers_an_api_route_in_the_apis_error_shape(tenant):
    response = tenant.token_client().get("/api/v1/hardware/?q=%00")
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]


def test_it_names_the_nul_on_the_factor_library_page(tenant):
    response = tenant.client_for("admin").get("/factors/?q=%00")
    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_it_lets_a_search_without_nul_through(tenant):
    response = tenant.client_for("admin").get("/factors/?q=FR")
    assert response.status_code == 200
