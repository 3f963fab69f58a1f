"""A quarter or year out of range is bad input: 404 for pages, 400 with a message for APIs,
never a 500 (date(0, 1, 1) and date(99999, 1, 1) do not exist) and never a lock or export."""

import pytest

from reports.models import ReportExport, ReportVersion

pytestmark = pytest.mark.django_db

BAD_PAGES = [
    ("get", "/reports/0/Q1/"),
    ("get", "/reports/99999/Q1/"),
    ("get", "/reports/99999999999999999999999/Q1/"),
    ("get", "/reports/2026/Q9/"),
    ("post", "/reports/2026/Q0/lock/"),
    ("post", "/reports/2026/Q9/lock/"),
    ("post", "/reports/0/Q1/restate/"),
    ("post", "/reports/2026/Q9/export/"),
    ("post", "/reports/99999/Q1/export/"),
]


@pytest.mark.parametrize(("method", "url"), BAD_PAGES)
def test_a_page_answers_404_for_a_quarter_that_does_not_exist(tenant, method, url):
    client = tenant.client_for("admin")
    assert getattr(client, method)(url, {"reason": "late records"}).status_code == 404
    assert not ReportVersion.objects.exists() and not ReportExport.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("exports/", {"year": 2026, "quarter": 0}, "quarter"),
        ("exports/", {"year": 2026, "quarter": 9}, "quarter"),
        ("exports/", {"year": 10**20, "quarter": 1}, "year"),
        ("restatements/", {"year": 0, "quarter": 1, "reason": "x"}, "year"),
    ],
)
def test_an_api_answers_400_naming_the_bad_field(tenant, path, body, field):
    response = tenant.client_for("admin").post(
        f"/api/v1/reports/scope2/{path}", body, format="json"
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not ReportVersion.objects.exists() and not ReportExport.objects.exists()


def test_the_last_year_covered_still_opens(tenant):
    assert tenant.client_for("admin").get("/reports/2100/Q4/").status_code == 200


@pytest.mark.parametrize(
    "dates",
    [
        "start=9999-12-01&end=9999-12-31",
        "start=0001-01-01&end=9999-12-31",
        "start=1999-12-01&end=2000-02-01",
        "start=2100-12-01&end=2101-01-02",
    ],
)
@pytest.mark.parametrize("page", ["/", "/teams/research/"])
def test_dashboard_dates_outside_the_years_covered_fall_back_to_the_default_period(
    tenant, page, dates
):
    response = tenant.client_for("admin").get(f"{page}?period=custom&{dates}")
    assert response.status_code == 200
    assert 'value="12m" selected' in response.content.decode()


def test_the_last_month_covered_is_a_custom_period(tenant):
    html = tenant.client_for("admin").get("/?start=2100-12-01&end=2101-01-01").content.decode()
    assert 'value="custom" selected' in html and 'value="2100-12-01"' in html
