"""The annual report as XLSX and PDF: the same figures as its API (reports.annual)."""

import io
from datetime import UTC, datetime

from django.conf import settings
from django.template.loader import render_to_string

from greenai_portal.spreadsheets import xlsx_append
from reports.annual import (
    FIGURE_KEYS,
    FIGURES,
    FINAL,
    TABLE_SECTIONS,
    TEAM_VIEW,
    TOTALS,
    annual_cost_rows,
)

HEADER = ("row", "period", "status", "coverage", "records", *(label for _, label in FIGURES))


def _status_text(report: dict) -> str:
    if report["status"] == FINAL:
        return "final: all four quarters locked"
    if report["status"] == TEAM_VIEW:
        return "your teams' live figures (not the organisation's report)"
    return "draft: open quarters " + ", ".join(report["open_quarters"])


def _coverage_text(period: dict) -> str:
    return period["coverage"] + (f" ({period['coverage_note']})" if period["coverage_note"] else "")


def annual_rows(report: dict) -> list[list]:
    """Every figure of the report as flat rows: quarters, the year, the years compared and
    the changes in percent (empty cells: not available)."""
    label = report["fiscal_year"]["label"]

    def figures(values: dict) -> list:
        return [values[key] for key in FIGURE_KEYS]

    rows = [
        [
            f"{label} {quarter['label']}",
            quarter["calendar_quarter"],
            quarter["status"] + (f" v{quarter['version']}" if quarter["version"] else ""),
            _coverage_text(quarter),
            quarter["figures"]["record_count"],
            *figures(quarter["figures"]),
        ]
        for quarter in report["quarters"]
    ]
    year = report["year"]
    rows.append(
        [
            f"{label} total",
            label,
            report["status"],
            _coverage_text(year),
            year["figures"]["record_count"],
            *figures(year["figures"]),
        ]
    )
    compared = [("previous year", report["previous_year"])]
    if report["base_year"] is not None:
        compared.append(("base year", report["base_year"]))
    for name, other in compared:
        rows.append(
            [
                f"{name} {other['label']}",
                other["label"],
                "",
                _coverage_text(other),
                other["figures"]["record_count"],
                *figures(other["figures"]),
            ]
        )
        rows.append(
            [
                f"change from {name} (%)",
                other["label"],
                "",
                other["change_note"] or "compared",
                None,
                *figures(other["change_pct"]),
            ]
        )
    return rows


def _cost_sheet(report: dict) -> list[list]:
    """Energy cost per scope and currency (rows) and period (columns); a text cell says why a
    period has no figure."""
    base = report["base_year"]
    header = [
        "energy cost",
        *(f"{report['fiscal_year']['label']} {quarter['label']}" for quarter in report["quarters"]),
        f"{report['fiscal_year']['label']} total",
        f"previous year {report['previous_year']['label']}",
        *([f"base year {base['label']}"] if base else []),
    ]
    return [
        header,
        *(
            [row["label"], *(cell.get("amount", cell.get("note")) for cell in row["cells"])]
            for row in annual_cost_rows(report)
        ),
    ]


def _about(report: dict) -> list[list]:
    year = report["fiscal_year"]
    base = report["base_year"]
    return [
        ["organisation", report["organisation"]["name"]],
        ["fiscal year", f"{year['label']} ({year['start']} to {year['end']}, end exclusive)"],
        ["status", _status_text(report)],
        ["base year", base["label"] if base else "none chosen"],
        ["units", "t CO2e and MWh; empty cells are not available, never zero"],
    ]


def annual_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    about.title = "About"
    for row in _about(report):
        xlsx_append(about, row)
    sheet = book.create_sheet("Annual")
    xlsx_append(sheet, HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in annual_rows(report):
        xlsx_append(sheet, row)
    sheet.freeze_panes = "B2"
    costs = book.create_sheet("Energy cost")
    for row in _cost_sheet(report):
        xlsx_append(costs, row)
    for cell in costs[1]:
        cell.font = Font(bold=True)
    costs.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def annual_filename(report: dict, extension: str) -> str:
    slug = report["organisation"]["slug"]
    label = report["fiscal_year"]["label"].replace("/", "-")
    return f"{slug}-annual-{label}-{report['status']}.{extension}"


def annual_pdf(report: dict) -> bytes:
    """The annual report's pages, laid out by WeasyPrint."""
    from weasyprint import HTML

    html = render_to_string(
        "reports/pdf/annual.html",
        {
            "report": report,
            "status_text": _status_text(report),
            "sections": TABLE_SECTIONS,
            "totals": TOTALS,
            "generated_at": datetime.now(UTC),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
