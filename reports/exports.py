"""The Scope 2 report as CSV and XLSX: the same figures as the API, one row per line.

Energy cost has a column per currency the report names (amounts in two currencies are never
added): its cost and its location-based kg CO2e per unit, on the scopes' totals and location
lines, after the energy that has a cost in any currency.
"""

import io

from greenai_portal import periods
from greenai_portal.spreadsheets import csv_text, xlsx_append
from inventory.calculation.emissions import Scope
from inventory.figures import FACILITY_ENERGY, FIGURES, INTENSITIES
from reports.footprint_selectors import NOT_APPLICABLE
from reports.scope2_document import NOT_COMPUTED
from reports.scope2_selectors import BREAKDOWNS

# The figures of a report line in CSV/XLSX, in display order (inventory.figures).
EXPORTED = tuple(figure for figure in FIGURES if figure.in_totals and figure.in_exports)
HEADER = ("section", "key", "label", *(figure.column_title for figure in EXPORTED), "share")
COSTED_HEADER = ("costed_MWh", "costed_records")


def _currencies(document: dict) -> list[str]:
    """Every currency the report's energy was priced in, in code order."""
    cloud = document["scope3_cat1"]
    lines = (document["scope2"], cloud, *document["breakdowns"]["location"], *cloud["by_location"])
    return sorted({cost["currency"] for line in lines for cost in line.get("costs") or ()})


def _cost_header(currencies: list[str]) -> tuple[str, ...]:
    return (
        *COSTED_HEADER,
        *(f"energy_cost_{currency}" for currency in currencies),
        *(f"location_kg_CO2e_per_{currency}" for currency in currencies),
    )


def _cost_cells(line: dict, currencies: list[str]) -> list:
    """A priced line's cost columns: blank for a currency it has no cost in; a version locked
    before cost was reported says so instead of leaving it blank (never 0)."""
    if line.get("costs") is None:
        return [NOT_COMPUTED, *[None] * (len(_cost_header(currencies)) - 1)]
    by_currency = {cost["currency"]: cost for cost in line["costs"]}
    return [
        line["costed_mwh"],
        line["costed_records"],
        *(by_currency.get(currency, {}).get("amount") for currency in currencies),
        *(by_currency.get(currency, {}).get("location_kg_per_unit") for currency in currencies),
    ]


def _row(section: str, key: str, label: str, figures: dict, scope: str = Scope.SCOPE2) -> list:
    """A line of figures; a figure the scope does not report (market-based for public cloud)
    is not applicable, also in versions locked when they repeated the location one."""
    cells = [
        figures.get(figure.key) if scope in figure.scopes else NOT_APPLICABLE for figure in EXPORTED
    ]
    return [section, key, label, *cells, figures.get("share")]


def _priced_row(
    currencies: list[str], section: str, key: str, label: str, line: dict, scope: str
) -> list:
    """A scope's total or location line, with its energy cost."""
    return _row(section, key, label, line, scope) + _cost_cells(line, currencies)


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
        _row(section, period["label"], f"Scope 3 cat. 1{mark}", cloud, Scope.SCOPE3_CAT1),
    ]


def report_table(document: dict) -> tuple[tuple[str, ...], list[list]]:
    """Every figure of a report document as a header and flat rows (section, key, label,
    figures..., share, energy cost...)."""
    currencies = _currencies(document)
    rows = [
        _priced_row(
            currencies, "scope2", "total", "Scope 2 total", document["scope2"], Scope.SCOPE2
        ),
        _priced_row(
            currencies,
            "scope3_cat1",
            "total",
            "Public cloud, Scope 3 category 1 (not in Scope 2)",
            document["scope3_cat1"],
            Scope.SCOPE3_CAT1,
        ),
    ]
    for name, period in (
        *document["periods"].items(),
        *document["comparison"].items(),
    ):
        rows += _period_rows(f"period:{name}", period)
    for category in document["market"]["categories"]:
        rows.append(_row("market_coverage", category["key"], category["label"], category))
    market = document["market"]
    renewable = {FACILITY_ENERGY.key: market["renewable_mwh"], "share": market["renewable_share"]}
    rows.append(
        ["renewable_share", "", "Renewable share"]
        + [renewable.get(figure.key) for figure in EXPORTED]
        + [renewable["share"]]
    )
    for name in BREAKDOWNS:
        rows += [
            _priced_row(currencies, name, line["key"], line["label"], line, Scope.SCOPE2)
            if name == "location"
            else _row(name, line["key"], line["label"], line)
            for line in document["breakdowns"][name]
        ]
    rows += [
        _priced_row(
            currencies,
            "scope3_cat1_location",
            line["key"],
            line["label"],
            line,
            Scope.SCOPE3_CAT1,
        )
        for line in document["scope3_cat1"]["by_location"]
    ]
    header = (*HEADER, *_cost_header(currencies))
    # Rows without energy cost (periods, market coverage, other breakdowns) leave it blank.
    return header, [row + [None] * (len(header) - len(row)) for row in rows]


# Per model and scope: the counts, then each intensity location- and market-based.
_INTENSITY_FIGURES = (
    *(intensity.count.key for intensity in INTENSITIES),
    *(f"{basis}_{i.key}" for i in INTENSITIES for basis in ("location", "market")),
)
_INTENSITY_HEADER = ("model", "scope", *_INTENSITY_FIGURES)


def _intensity_rows(document: dict) -> list[list]:
    return [
        [m["label"], m.get("scope", ""), *(m.get(name) for name in _INTENSITY_FIGURES)]
        for m in document["intensity"]
    ]


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
    header, rows = report_table(document)
    return csv_text([*meta, header, *rows])


def report_xlsx(document: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    about.title = "About"
    for row in _meta(document):
        xlsx_append(about, row)
    for title, header, rows in (
        ("Figures", *report_table(document)),
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
