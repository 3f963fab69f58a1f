"""Honest periods: changes compare whole quarters only and say why not otherwise, periods
without data say so instead of showing 0.000, months without data are gaps, and a quarter's
report holds nothing after the quarter's end."""

import csv
import re
from datetime import date

import pytest

from accounts.principal import principal_for_membership
from greenai_portal import periods
from reports.charts import report_figures, report_svgs
from reports.dashboard import quarter_comparison
from reports.dashboard_selectors import Filters
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import job, rollup, scope2, seed_quarter, send

TODAY = date(2026, 12, 4)


class TestCoverage:
    def test_a_quarter_still_running_is_partial(self):
        q4 = periods.quarter(2026, 4)
        covered = periods.coverage(q4, first_day=date(2025, 1, 1), today=TODAY)
        assert (covered.status, covered.note) == ("partial", "in progress: to 4 Dec 2026")

    def test_a_quarter_the_records_begin_inside_is_partial(self):
        q3 = periods.quarter(2026, 3)
        covered = periods.coverage(q3, first_day=date(2026, 9, 2), today=TODAY)
        assert (covered.status, covered.note) == ("partial", "data only from 2 Sep 2026")
        # Records from the first month of the quarter cover it, as monthly rollups go.
        assert periods.coverage(q3, first_day=date(2026, 7, 3), today=TODAY).is_complete

    def test_a_quarter_before_the_first_record_has_no_data(self):
        q2 = periods.quarter(2026, 2)
        assert periods.coverage(q2, first_day=date(2026, 9, 2), today=TODAY).status == "no data"
        assert periods.coverage(q2, first_day=None, today=TODAY).status == "no data"

    def test_like_for_like_names_each_partial_quarter(self):
        whole = periods.Coverage(periods.COMPLETE, "")
        late = periods.Coverage(periods.PARTIAL, "data only from 2 Sep 2026")
        assert periods.like_for_like(whole, "2026 Q2", whole, "2026 Q1") == ""
        assert periods.like_for_like(late, "2026 Q3", whole, "2026 Q2") == (
            "2026 Q3: data only from 2 Sep 2026"
        )
        assert periods.like_for_like(late, "2026 Q3", late, "2026 Q2") == (
            "2026 Q3: data only from 2 Sep 2026; 2026 Q2: data only from 2 Sep 2026"
        )


@pytest.mark.django_db
class TestDashboardComparison:
    def test_it_does_not_compare_a_quarter_holding_one_month_with_a_whole_one(self, tenant):
        # The demo's case on 4 Dec: records from 2 Sep, so Q3 holds September only, and Q4
        # is still running. Q4 is never the current quarter; Q3 against Q2 is refused.
        rollup(tenant, date(2026, 9, 2), 100.0)
        rollup(tenant, date(2026, 10, 5), 235.0)
        who = principal_for_membership(tenant.members["admin"])
        filters = Filters(start=date(2026, 1, 1), end=date(2027, 1, 1))
        compared = quarter_comparison(who, filters, today=TODAY)
        assert compared["label"] == "Scope 2, 2026 Q3 vs 2026 Q2"
        assert compared["location"] is None
        assert compared["market"] is None
        assert compared["note"] == "2026 Q3: data only from 2 Sep 2026; 2026 Q2: no data"

    def test_the_page_says_why_there_is_no_change_and_the_energy_card_has_none(self, tenant):
        client = seed_quarter(tenant)
        rollup(tenant, date(2026, 5, 5), 100.0)
        html = client.get("/?start=2026-01-01&end=2026-07-01").content.decode()
        # Q2 2026 vs Q1 2026, both whole: Scope 2 location 10 kg vs 10.8 kg = -7.4 %.
        card = re.search(r'data-kpi="t">.*?</div>', html, re.S).group(0)
        assert "-7.4 %" in card
        assert "Scope 2, 2026 Q2 vs 2026 Q1" in card
        energy = re.search(r'data-kpi="mwh">.*?</div>', html, re.S).group(0)
        assert 'class="change' not in energy
        assert "Scope 2 0.316 · cloud 0.045" in energy  # 216 + 100 kWh; cloud 45.4 kWh

    def test_the_page_says_when_its_period_is_still_running(self, tenant):
        client = seed_quarter(tenant)
        today = date.today()
        # "Last 12 months" ends with the current month, which is not over yet.
        html = client.get("/?period=12m").content.decode()
        assert f"still running: figures to {today.day} {today:%b %Y}" in html
        html = client.get("/?start=2026-01-01&end=2026-04-01").content.decode()
        assert "still running" not in html


@pytest.mark.django_db
class TestReportPeriods:
    def test_it_refuses_a_change_against_a_partial_quarter_and_says_why(self, tenant):
        client = seed_quarter(tenant)
        body = scope2(client).json()
        previous = body["comparison"]["previous_quarter"]
        # 2025 Q4 is whole (records since Feb 2025): 48 kWh at FR's 2025 grid factor (the
        # 0.05 override starts in 2026), 0.036 kg/kWh = 1.728 kg; 10.8 / 1.728 - 1 = +525 %.
        assert previous["coverage"] == "complete"
        assert previous["scope2"]["location_t"] == pytest.approx(0.001728)
        assert previous["change_pct"]["location_t"] == pytest.approx(525.0)
        last_year = body["comparison"]["same_quarter_last_year"]
        # 2025 Q1's records begin on 5 Feb 2025: a month of it has no data.
        assert last_year["coverage"] == "partial"
        assert last_year["change_note"] == "2025 Q1: data only from 5 Feb 2025"
        assert last_year["change_pct"] == {"mwh": None, "location_t": None, "market_t": None}
        html = client.get("/reports/2026/Q1/").content.decode()
        # The quarter as people write it: its first and last day, no ISO and no exclusive end.
        assert "1 Jan 2026 – 31 Mar 2026" in html and "end exclusive" not in html
        row = re.search(r'<tr data-period="last-year".*?</tr>', html, re.S).group(0)
        assert "data only from 5 Feb 2025" in row
        assert "not comparable" in row

    def test_a_period_without_records_says_no_data_instead_of_zero(self, tenant):
        client = seed_quarter(tenant)
        body = scope2(client, year=2026, quarter=2).json()
        # 2025 Q2: no records at all, though the first record is older (Feb 2025).
        last_year = body["comparison"]["same_quarter_last_year"]
        assert last_year["coverage"] == "no data"
        assert last_year["change_note"].startswith("2026 Q2: no data")
        html = client.get("/reports/2026/Q2/").content.decode()
        row = re.search(r'<tr data-period="last-year".*?</tr>', html, re.S).group(0)
        assert "no data" in row
        assert "0.000" not in row

    def test_the_quarter_running_now_is_marked_in_progress(self, tenant):
        client = seed_quarter(tenant)
        today = date.today()
        year, number = periods.quarter_of(today)
        send(tenant, [job("today", today)])
        body = scope2(client, year=year, quarter=number).json()
        assert body["periods"]["quarter"]["coverage"] == "partial"
        assert body["periods"]["quarter"]["coverage_note"] == f"in progress: to {today:%-d %b %Y}"
        assert body["comparison"]["previous_quarter"]["change_pct"]["location_t"] is None
        html = client.get(f"/reports/{year}/Q{number}/").content.decode()
        assert "partial quarter: in progress" in html

    def test_a_locked_quarter_shows_nothing_after_its_end(self, tenant):
        client = seed_quarter(tenant)
        send(tenant, [job("may-train", date(2026, 5, 5))])
        admin = tenant.client_for("admin")
        lock = close_quarter(admin)
        assert lock.status_code == 201, lock.content
        body = scope2(client).json()
        assert body["status"] == "locked"
        assert [row["month"] for row in body["trend"]][-1] == "2026-03"
        assert "year" not in body["periods"]
        # A version locked before the trend stopped at the quarter's end still carries later
        # months: the page's and the PDF's charts leave them out.
        stored = {**body, "trend": [*body["trend"], {**body["trend"][-1], "month": "2026-05"}]}
        figure = report_figures(stored)["trend"].to_plotly_json()
        assert figure["data"][0]["x"][-1] == "2026-03"
        assert "May 2026" not in report_svgs(stored)["trend"]
        assert (
            "Mar 2026" in report_svgs(stored)["trend"] or "Jan 2026" in report_svgs(stored)["trend"]
        )


def report_csv_period_rows(client, year: int, quarter: int) -> dict[tuple[str, str], list[str]]:
    response = client.get(f"/api/v1/reports/scope2/csv/?year={year}&quarter={quarter}")
    assert response.status_code == 200
    lines = [line for line in response.content.decode().splitlines() if line.startswith("period:")]
    return {(row[0], row[2]): row for row in csv.reader(lines)}


@pytest.mark.django_db
def test_it_marks_partial_and_empty_periods_in_the_report_csv(tenant):
    client = seed_quarter(tenant)
    # 2026 Q1: the records begin on 5 Feb 2025, so 2025 Q1 (same quarter last year) is partial.
    rows = report_csv_period_rows(client, 2026, 1)
    assert ("period:quarter", "Scope 2") in rows
    last_year = rows[("period:same_quarter_last_year", "Scope 2 (data only from 5 Feb 2025)")]
    assert last_year[3] == "1"
    # 2025 Q1: 2024 Q4 holds no records, a gap: no zeros in its figures.
    rows = report_csv_period_rows(client, 2025, 1)
    gap = rows[("period:previous_quarter", "Scope 2 (no data)")]
    assert gap[3:7] == ["", "", "", ""]
    cloud_gap = rows[("period:previous_quarter", "Scope 3 cat. 1 (no data)")]
    assert cloud_gap[3:7] == ["", "", "", "not applicable"]
