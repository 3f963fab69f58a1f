"""The audit PDF: the report's HTML laid out by WeasyPrint, charts inline as vector SVG."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from reports.charts import report_svgs

METHODOLOGY_DOC = "docs/methodology.md"

Progress = Callable[[int, str], None]


def _inline(text: str) -> str:
    text = escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def _table(lines: list[str]) -> str:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if not re.fullmatch(r"\|?[\s:|-]+\|?", line.strip())
    ]
    if not rows:
        return ""
    head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return f"<table class='doc'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_to_html(text: str) -> SafeString:
    """Just enough Markdown for docs/methodology.md: headings, lists, tables, paragraphs."""
    html: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        first = lines[0].lstrip()
        if first.startswith("```"):
            code = "\n".join(line for line in lines if not line.lstrip().startswith("```"))
            html.append(f"<pre>{escape(code)}</pre>")
        elif first.startswith("#"):
            level = min(len(first) - len(first.lstrip("#")) + 2, 6)
            html.append(f"<h{level}>{_inline(first.lstrip('#').strip())}</h{level}>")
            if lines[1:]:
                html.append(f"<p>{_inline(' '.join(lines[1:]))}</p>")
        elif first.startswith("|"):
            html.append(_table(lines))
        elif re.match(r"([-*]|\d+\.)\s", first):
            items: list[str] = []
            for line in lines:
                if re.match(r"\s*([-*]|\d+\.)\s", line):
                    items.append(re.sub(r"^\s*([-*]|\d+\.)\s+", "", line))
                elif items:
                    items[-1] += " " + line.strip()
            html.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        else:
            html.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text above is escaped


def methodology_html() -> SafeString | None:
    path = settings.BASE_DIR / METHODOLOGY_DOC
    if not path.exists():
        return None
    return markdown_to_html(path.read_text(encoding="utf-8"))


# A breakdown longer than this prints its largest lines and one line for the rest: the full
# list of every line is in the CSV / XLSX of the same version (and in the locked JSON).
PRINTED_LINES = 40


def _rest(lines: list[dict], kind: str) -> dict:
    total_share = sum(line["share"] for line in lines)
    return {
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
    }


def render_report_pdf(document: dict, progress: Progress | None = None) -> bytes:
    """The audit PDF of a report document (selectors.audit_document)."""
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
            "charts": charts,
            "methodology": methodology_html(),
            "methodology_doc": METHODOLOGY_DOC,
            "generated_at": datetime.now(UTC),
        },
    )
    step(60, "Laying out pages")
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    step(95, "Storing the PDF")
    return pdf
