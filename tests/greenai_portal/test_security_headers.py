"""Every answer carries a Content-Security-Policy; anything fetched with credentials is
`Cache-Control: private, no-store`; a lost database is a 503 with Retry-After, pages included."""

import re

import pytest
from django.db import OperationalError, connection

from reports.models import ReportExport

pytestmark = pytest.mark.django_db


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_pages_allow_scripts_only_from_the_app_or_with_the_pages_nonce(tenant):
    response = tenant.client_for("engineer").get("/data/imports/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([\w-]+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy.split(";")[1]
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    inline = re.findall(r"<script( [^>]*)?>", response.content.decode())
    assert inline and all(f'nonce="{nonce}"' in a or "src=" in a or "json" in a for a in inline)
    again = tenant.client_for("engineer").get("/data/imports/")["Content-Security-Policy"]
    assert again != policy  # a new nonce for every answer


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/scope2/csv/?year=2026&quarter=1",
        "/api/v1/reports/scope2/xlsx/?year=2026&quarter=1",
        "/api/v1/footprint/?start=2026-01-01&end=2026-04-01",
        "/?start=2026-01-01&end=2026-04-01&download=trend-scope2",
        "/reports/2026/Q1/",
    ],
)
def test_what_a_signed_in_member_downloads_is_never_stored(tenant, url):
    response = tenant.client_for("esg_officer").get(url)
    assert response.status_code == 200
    assert {"private", "no-store"} <= cache_control(response)


def test_the_audit_pdf_and_token_answers_are_never_stored(tenant):
    export = ReportExport.objects.create(
        organisation=tenant.organisation,
        year=2026,
        quarter=1,
        status=ReportExport.Status.DONE,
        pdf=b"%PDF-1.4 x",
        pdf_bytes=10,
    )
    client = tenant.client_for("admin")
    for url in (
        f"/reports/exports/{export.pk}/pdf/",
        f"/api/v1/reports/scope2/exports/{export.pk}/pdf/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= cache_control(response)
    token = tenant.token_client(scopes=["read"]).get("/api/v1/hardware/")
    assert {"private", "no-store"} <= cache_control(token)


def test_an_anonymous_page_carries_the_policy_too(client):
    response = client.get("/login/")
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_page_answers_a_styled_503_while_the_database_is_down(tenant):
    client = tenant.client_for("admin")
    client.raise_request_exception = False
    with connection.execute_wrapper(_database_down):
        response = client.get("/reports/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "Temporarily unavailable" in html and "/static/css/app.css" in html


def test_an_api_answers_503_in_its_json_shape_while_the_database_is_down(tenant):
    client = tenant.token_client(scopes=["read"])
    client.raise_request_exception = False
    with connection.execute_wrapper(_database_down):
        response = client.get("/api/v1/hardware/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["message"].startswith("The database is unavailable")


def test_any_other_error_stays_a_500(tenant):
    client = tenant.client_for("admin")
    client.raise_request_exception = False
    with connection.execute_wrapper(lambda *a: 1 / 0):
        assert client.get("/reports/").status_code == 500
