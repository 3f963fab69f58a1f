"""A figure added to the declaration gets a column in the report's tables (page and PDF),
headed and formatted from its declaration; never a 0 where it has no value."""

import pytest
from django.template.loader import render_to_string

from inventory.figures import (
    EMBODIED_EMISSIONS,
    FIGURES,
    WATER_OFFSITE,
    WATER_OFFSITE_RECORDS,
    WATER_ONSITE,
    WATER_RECORDS,
    Figure,
)
from reports.templatetags import report_figures
from reports.templatetags.report_figures import figure_cell, more_figures
from tests.inventory.test_figures import WATER
from tests.reports.scope2_data import scope2, seed_quarter


def test_the_figures_not_laid_out_by_hand_get_their_own_columns():
    # Laid out by hand: records, energy, emissions; water and embodied emissions (issue 18)
    # come from their declarations.
    assert more_figures() == [
        WATER_ONSITE,
        WATER_RECORDS,
        WATER_OFFSITE,
        WATER_OFFSITE_RECORDS,
        EMBODIED_EMISSIONS,
    ]


class TestCell:
    def test_it_formats_a_value_with_the_declared_decimals(self):
        assert figure_cell({"water_l": 1234.56}, WATER) == "1,234.6"

    def test_it_says_why_there_is_no_value_and_never_shows_zero(self):
        assert figure_cell({"water_l": None}, WATER) == "not available"
        assert figure_cell({"mwh": 1.0}, WATER) == "not computed when locked"

    def test_a_scope_the_figure_is_not_reported_under_is_not_applicable(self):
        scope2_only = Figure(**{**WATER.__dict__, "scopes": ("scope2",)})
        assert figure_cell({"water_l": 3.0}, scope2_only, "scope3_cat1") == "not applicable"


@pytest.fixture
def with_water(monkeypatch):
    monkeypatch.setattr(report_figures, "FIGURES", (*FIGURES, WATER))


def test_an_added_figure_gets_a_column_in_the_breakdown_table(with_water):
    figures = {"record_count": 2, "mwh": 0.168, "location_t": 0.0084, "market_t": 0.0116}
    line = {"key": "1", "label": "Research", **figures, "share": 1.0, "market_complete": True}
    # 0.168 MWh at a WUE of 1.8 L/kWh (IT energy 0.14 MWh): 0.14 × 1000 × 1.8 = 252.0 L
    html = render_to_string(
        "reports/includes/breakdown_table.html",
        {"name": "team", "heading": "Team", "lines": [{**line, "water_l": 252.0}]},
    )
    assert "On-site water (L)" in html
    assert ">252.0<" in html
    old = render_to_string(
        "reports/includes/breakdown_table.html",
        {"name": "team", "heading": "Team", "lines": [line]},
    )
    assert "not computed when locked" in old


@pytest.mark.django_db
def test_an_added_figure_gets_a_column_in_the_dual_table(with_water, tenant):
    doc = scope2(seed_quarter(tenant)).json()
    # As a version locked after the figure landed for Scope 2 but before it did for cloud.
    doc["scope2"]["water_l"] = 252.0
    dual = render_to_string("reports/includes/dual_table.html", {"doc": doc})
    assert "On-site water (L)" in dual
    assert ">252.0<" in dual and "not computed when locked" in dual
