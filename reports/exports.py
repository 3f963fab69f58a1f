"""The Scope 2 report as CSV and XLSX: the same figures as the API, one row per line."""

import io

from greenai_portal.spreadsheets import csv_text, xlsx_append
from reports import periods
from reports.selectors import BREAKDOWNS, NOT_APPLICABLE

HEADER = ("section", "key", "label", "records", "MWh", "location_t_CO2e", "market_t_CO2e", "share")


def _row(section: str, key: str, label: str, figures: dict, market_based: bool = True) -> list:
    """A line of figures; public cloud lines (not `market_based`) say the market-based
    figure is not applicable, also in versions locked when they repeated the location one."""
    market_t = figures.get("market_t") if market_based else NOT_APPLICABLE
    return [
        section,
        key,
        label,
        figures.get("record_count"),
        figures.get("mwh"),
        figures.get("location_t"),
        market_t,
        figures.get("share"),
    ]


def _period_rows(section: str, period: dict) -> list[list]:
    """A period's Scope 2 and cloud lines, marked as the page marks them: a partial period
    names its gap, and a period with no records has empty figures, not zeros."""
    coverage = period.get("coverage", periods.COMPLETE)  # versions locked before coverage
    mark = "" if coverage == periods.COMPLETE else f" ({period['coverage_note']})"
    scope2, cloud = (
        ({}, {}) if coverage == periods.NO_DATA else (period["scope2"], period["scope3_cat1"])
    )
    return [
        _row(section, period["label"], f"Scope 2{mark}", scope2),
        _row(section, period["label"], f"Scope 3 cat. 1{mark}", cloud, market_based=False),
    ]


def report_rows(document: dict) -> list[list]:
    """Every figure of a report document as flat rows (section, key, label, figures...)."""
    rows = [
        _row("scope2", "total", "Scope 2 total", document["scope2"]),
        _row(
            "scope3_cat1",
            "total",
            "Public cloud, Scope 3 category 1 (not in Scope 2)",
            document["scope3_cat1"],
            market_based=False,
        ),
    ]
    for name, period in (
        *document["periods"].items(),
        *document["comparison"].items(),
    ):
        rows += _period_rows(f"period:{name}", period)
    for category in document["market"]["categories"]:
        rows.append(_row("market_coverage", category["key"], category["label"], category))
    rows.append(
        [
            "renewable_share",
            "",
            "Renewable share",
            None,
            document["market"]["renewable_mwh"],
            None,
            None,
            document["market"]["renewable_share"],
        ]
    )
    for name in BREAKDOWNS:
        rows += [
            _row(name, line["key"], line["label"], line) for line in document["breakdowns"][name]
        ]
    rows += [
        _row("scope3_cat1_location", line["key"], line["label"], line, market_based=False)
        for line in document["scope3_cat1"]["by_location"]
    ]
    return rows


def _intensity_rows(document: dict) -> list[list]:
    return [
        [
            m["label"],
            m.get("scope", ""),
            m["inferences"],
            m["tokens"],
            m["location_g_per_1k_inferences"],
            m["market_g_per_1k_inferences"],
            m["location_g_per_1m_tokens"],
            m["market_g_per_1m_tokens"],
        ]
        for m in document["intensity"]
    ]


_INTENSITY_HEADER = (
    "model",
    "scope",
    "inferences",
    "tokens",
    "location_g_per_1k_inferences",
    "market_g_per_1k_inferences",
    "location_g_per_1m_tokens",
    "market_g_per_1m_tokens",
)


def _meta(document: dict) -> list[list]:
    lock = document.get("lock") or {}
    return [
        ["organisation", document["organisation"]["name"]],
        ["period", document["period"]["label"]],
        ["status", document["status"]],
        ["version", document["version"] or "draft"],
        ["content_hash", lock.get("content_hash", "")],
        ["methodology_version", document["methodology_version"]],
        ["records_after_lock", document["records_after_lock"]],
    ]


def report_csv(document: dict) -> str:
    meta = [[f"# {key}", value] for key, value in _meta(document)]
    return csv_text([*meta, HEADER, *report_rows(document)])


def report_xlsx(document: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    about.title = "About"
    for row in _meta(document):
        xlsx_append(about, row)
    for title, header, rows in (
        ("Figures", HEADER, report_rows(document)),
        ("Intensity", _INTENSITY_HEADER, _intensity_rows(document)),
    ):
        sheet = book.create_sheet(title)
        xlsx_append(sheet, header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            xlsx_append(sheet, row)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
