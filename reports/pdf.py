"""The audit PDF: the report's HTML laid out by WeasyPrint, charts inline as vector SVG."""

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from reports import human
from reports.charts import report_svgs
from reports.cost_sci_selectors import merged_cost_fields
from reports.lineage_selectors import TARIFF_FACTOR_KIND
from reports.templatetags.report_figures import more_figures
from reports.templatetags.report_format import num

Progress = Callable[[int, str], None]


# A breakdown longer than this prints its largest lines and one line for the rest: the full
# list of every line is in the CSV / XLSX of the same version (and in the locked JSON).
PRINTED_LINES = 40


def _more_figures_summed(lines: list[dict]) -> dict:
    """The lines' figures beyond those laid out by hand (water, embodied), summed as rollup
    rows are (SQL SUM): over the lines that have one, "not available" (None) when none has;
    left out ("not computed when locked") when a line of an older version lacks it."""
    summed = {}
    for figure in more_figures():
        if any(figure.key not in line for line in lines):
            continue
        values = [line[figure.key] for line in lines if line[figure.key] is not None]
        summed[figure.key] = sum(values) if values else None
    return summed


def _rest(lines: list[dict], kind: str) -> dict:
    total_share = sum(line["share"] for line in lines)
    return {
        **(merged_cost_fields(lines) if kind == "locations" else {}),
        **_more_figures_summed(lines),
        "key": "other",
        "label": f"{len(lines)} other {kind} (see the XLSX export)",
        "record_count": sum(line["record_count"] for line in lines),
        "mwh": sum(line["mwh"] for line in lines),
        "share": total_share,
        "location_t": sum(line["location_t"] for line in lines),
        "market_t": sum(line["market_t"] for line in lines),
        "market_complete": all(line["market_complete"] for line in lines),
    }


def _restatement_for_print(restatement: dict) -> dict:
    """A restatement with each list of changed lines cut to the lines that moved most."""
    lines, cut = {}, {}
    for name, changed in restatement["differences"]["lines"].items():
        by_size = sorted(changed, key=lambda line: -abs(line["location_t"]["change"]))
        lines[name] = by_size[:PRINTED_LINES]
        cut[name] = len(changed) - len(lines[name])
    return {
        **restatement,
        "differences": {**restatement["differences"], "lines": lines},
        "lines_cut": cut,
    }


def _reconciliation(document: dict) -> dict:
    """Records in the figures + records left out = input records, or the difference."""
    lineage = document.get("lineage") or {}
    counted = (
        document["scope2"]["record_count"]
        + document["scope3_cat1"]["record_count"]
        + (lineage.get("failed_count") or 0)
        + (lineage.get("pending_count") or 0)
    )
    inputs = lineage.get("record_count") or 0
    return {"counted": counted, "inputs": inputs, "difference": inputs - counted}


ANNEX_COLUMNS = (
    human.Column("Record", 8),
    human.Column("External id", 32),
    human.Column("Team", 18),
    human.Column("Model", 18),
    human.Column("Location", 16),
    human.Column("Start", 17),
    human.Column("IT kWh", 12, right=True),
    human.Column("PUE", 6, right=True),
    human.Column("Facility kWh", 12, right=True),
    human.Column("kg/kWh", 8, right=True),
    human.Column("Location kg", 11, right=True),
    human.Column("Tier", 22),
)
# Listing lines per block: a block is kept on one landscape page, its heading repeated; the
# first block of a kind is shorter, to fit under the annex's introduction.
ANNEX_BLOCK_LINES, ANNEX_FIRST_BLOCK_LINES = 52, 36


def annex_listing(annex: dict, time_zone: str) -> list[dict]:
    """The annex's records as monospace listing blocks, workload records then cloud usage."""
    kinds: dict[str, list] = {}
    for r in annex["rows"]:
        kinds.setdefault(r["kind"], []).append(
            (
                str(r["id"]),
                r["external_id"],
                r["team"],
                r["model"] or human.MISSING,
                r["location"],
                human.local_minute(r["start"], time_zone),
                num(r["it_kwh"]),
                num(r["pue"]),
                num(r["facility_kwh"]),
                num(r["kg_per_kwh"], 4),
                num(r["location_kg"]),
                r["tier"],
            )
        )
    listed = []
    for kind, rows in kinds.items():
        heading, rule, *lines = human.listing(ANNEX_COLUMNS, rows)
        cuts = [0, *range(ANNEX_FIRST_BLOCK_LINES, len(lines), ANNEX_BLOCK_LINES), len(lines)]
        blocks = [
            "\n".join([heading, rule, *lines[start:end]])
            for start, end in pairwise(cuts)
            if end > start
        ]
        listed.append({"kind": kind, "blocks": blocks})
    return listed


def for_print(document: dict) -> dict:
    """The document with long breakdowns cut to their largest lines plus a remainder line,
    and long lists of restated lines to the largest changes; totals are untouched."""
    breakdowns = dict(document["breakdowns"])
    for name, kind in (("team", "teams"), ("model", "models"), ("location", "locations")):
        lines = breakdowns[name]
        if len(lines) > PRINTED_LINES:
            shown = PRINTED_LINES - 1
            breakdowns[name] = [*lines[:shown], _rest(lines[shown:], kind)]
    intensity = document["intensity"]
    if len(intensity) > PRINTED_LINES:
        intensity = sorted(intensity, key=lambda m: -(m["inferences"] or 0))[:PRINTED_LINES]
    return {
        **document,
        "breakdowns": breakdowns,
        "intensity": intensity,
        "intensity_cut": len(document["intensity"]) - len(intensity),
        "restatements": [_restatement_for_print(r) for r in document["restatements"]],
        "reconciliation": _reconciliation(document),
        "tariffs": [
            row for row in document.get("factors", []) if row["kind"] == TARIFF_FACTOR_KIND
        ],
        "annex_listing": annex_listing(document["annex"], document["time_zone"])
        if "annex" in document
        else [],
    }


def render_report_pdf(document: dict, progress: Progress | None = None) -> bytes:
    """The audit PDF of a report document (audit_selectors.audit_pdf_document)."""
    from weasyprint import HTML

    def step(percent: int, text: str) -> None:
        if progress is not None:
            progress(percent, text)

    step(10, "Drawing charts")
    charts = {
        name: mark_safe(svg)  # noqa: S308 - svg_charts escapes every label it writes
        for name, svg in report_svgs(document).items()
    }
    step(40, "Writing the report")
    html = render_to_string(
        "reports/pdf/scope2.html",
        {
            "doc": for_print(document),
            "time_zone": document.get("time_zone", "UTC"),
            "charts": charts,
            "generated_at": datetime.now(UTC),
        },
    )
    step(60, "Laying out pages")
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    step(95, "Storing the PDF")
    return pdf
