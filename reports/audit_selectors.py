"""Reads of the audit PDF beyond the report itself: what the inventory covers, the methodology
as an auditor reads it, the calculation trace of each report line and the record annex.

Every read takes the records the report's figures hold through the record browser's own
selector (`records_filtered`: the quarter, computed records, and for a locked version only the
records it holds), so what the PDF traces and lists is what the browser shows and exports.
"""

import hashlib
import random
import re
from collections import defaultdict
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Organisation
from accounts.principal import Access, Principal
from greenai_portal import periods
from greenai_portal.db import large_read
from greenai_portal.spreadsheets import FORMULA_LEADS, csv_cell
from inventory.calculation import methodology
from inventory.models import (
    CloudCoefficient,
    FactorDataset,
    InstrumentKind,
    Location,
    MarketAllocation,
    MarketBasis,
    ProviderPue,
)
from reports import human
from reports.lineage_selectors import factor_rows
from reports.models import ReportAnnex
from reports.records_selectors import (
    REPORTED_KINDS,
    RecordFilters,
    pue_source,
    records_filtered,
)
from reports.scope2_selectors import audit_document, scope2_document

NOT_STATED = "not stated"


def annex_limit() -> int:
    """The largest quarter whose records the annex lists whole; above it, a sample of this
    many (GREENAI_AUDIT_ANNEX_RECORD_LIMIT)."""
    return settings.AUDIT_ANNEX_RECORD_LIMIT


def _reader(organisation: Organisation) -> Principal:
    return Principal(organisation=organisation, access=frozenset({Access.READ}), team_ids=None)


def reporting_boundary(organisation: Organisation) -> dict:
    """The cover's boundary, consolidation approach and exclusions; "not stated" when empty."""
    exclusions = [
        line.strip() for line in organisation.reporting_exclusions.splitlines() if line.strip()
    ]
    return {
        "boundary": organisation.reporting_boundary or NOT_STATED,
        "consolidation_approach": organisation.get_consolidation_approach_display() or NOT_STATED,
        "exclusions": exclusions,
    }


def auditor_methodology(*, dataset_labels: list[str]) -> dict:
    """What the methodology pages name, read from the data the figures used: the factor
    datasets (name, version, publication date, checksum), the provider PUEs and cloud
    coefficients of those datasets, and the methodology's defaults."""
    datasets = [
        d
        for d in FactorDataset.objects.order_by("name", "version")
        if f"{d.name} {d.version}" in set(dataset_labels)
    ]
    if not datasets:
        datasets = list(FactorDataset.objects.filter(is_active=True).order_by("-loaded_at")[:1])
    ids = [d.id for d in datasets]
    return {
        "version": methodology.METHODOLOGY_VERSION,
        "datasets": [
            {
                "label": f"{d.name} {d.version}",
                "published": d.published,
                "checksum": d.checksum,
            }
            for d in datasets
        ],
        "provider_pues": [
            {"provider": p.provider, "pue": p.pue, "year": p.year, "source": p.source}
            for p in ProviderPue.objects.filter(dataset_id__in=ids).order_by("provider", "id")
        ],
        "cloud_coefficients": [
            {"key": c.key.replace("_", " "), "value": c.value, "unit": c.unit, "source": c.source}
            for c in CloudCoefficient.objects.filter(dataset_id__in=ids).order_by("key", "id")
        ],
        "defaults": {
            "utilisation": methodology.DEFAULT_UTILIZATION,
            "facility_pue": methodology.DEFAULT_FACILITY_PUE,
            "replication": methodology.DEFAULT_REPLICATION,
        },
    }


def _quarter_filters(kind: str, year: int, quarter: int, version: int | None) -> RecordFilters:
    """The record browser's filter for the records a quarter's figures hold (its CSV export
    with the same filter lists exactly these)."""
    period = periods.quarter(year, quarter)
    return RecordFilters(
        kind=kind,
        start=period.start,
        end=period.end,
        locked=(year, quarter, version) if version else None,
    )


# --- Calculation trace --------------------------------------------------------------------

_TRACE_GROUP = (
    "location_id",
    "scope",
    "month",
    "pue_used",
    "grid_factor_id",
    "factor_override_id",
    "location_kg_per_kwh",
    "factor_dataset_id",
)
_KIND_WORDS = dict(InstrumentKind.choices)
_BASIS_WORDS = {
    MarketBasis.RESIDUAL_MIX: "Residual mix",
    MarketBasis.GRID_AVERAGE: "Grid average (no residual mix published)",
}


def _record_groups(principal: Principal, year: int, quarter: int, version: int | None) -> list:
    """The quarter's records summed per location, scope, month, PUE and factor row: one
    GROUP BY per record table, never a record loaded."""
    with large_read():
        return _grouped(principal, year, quarter, version)


def _grouped(principal: Principal, year: int, quarter: int, version: int | None) -> list:
    groups = []
    for kind in REPORTED_KINDS:
        columns = [*_TRACE_GROUP, "pue", "energy_includes_pue"] if kind == "workloads" else []
        rows = (
            records_filtered(
                principal=principal, filters=_quarter_filters(kind, *(year, quarter), version)
            )
            .annotate(month=TruncMonth("activity_date"))
            .values(*(columns or _TRACE_GROUP))
            .annotate(
                records=Count("id"),
                it_kwh=Sum("it_kwh"),
                facility_kwh=Sum("facility_kwh"),
                location_kg=Sum("location_kg"),
            )
            .order_by()
        )
        groups += [{"pue": None, "energy_includes_pue": False, **row} for row in rows]
    return groups


def _factor_text(row: dict | None, kg_per_kwh: float | None) -> dict:
    if row is None:
        return {"label": "no factor row", "source": NOT_STATED, "kg_per_kwh": kg_per_kwh}
    if row["id"].startswith("override"):
        return {
            "label": f"{row['zone']}, the organisation's own figure",
            "source": row["source"],
            "kg_per_kwh": kg_per_kwh,
        }
    period = f"{row['year']}" + (f"-{row['month']:02d}" if row.get("month") else "")
    basis = human.factor_basis(row["basis"]).lower()
    return {
        "label": f"{row['zone']} {period}, grid average, {basis}",
        "source": f"{row['source']}; {row['dataset']}; licence: {row['licence']}",
        "kg_per_kwh": kg_per_kwh,
    }


def _pue_text(group: dict, location: Location) -> dict:
    record = SimpleNamespace(
        pue_used=group["pue_used"],
        energy_includes_pue=group["energy_includes_pue"],
        pue=group["pue"],
        factor_dataset_id=group["factor_dataset_id"],
    )
    source = pue_source(record, location)
    text = source.label + (f" ({source.source})" if source.source else "")
    return {"value": group["pue_used"], "source": text}


def _month(value) -> str:
    return str(value)[:7]


def _market_trace(organisation: Organisation, zone: str, months: dict[str, float], period):
    """A Scope 2 line's market-based tonnes: per month, its share of its zone's allocated
    energy × the zone-month's allocation (instruments, then residual mix)."""
    allocations = (
        MarketAllocation.objects.filter(
            organisation=organisation, zone=zone, month__gte=period.start, month__lt=period.end
        )
        .select_related("instrument")
        .order_by("month", "basis", "instrument_id", "id")
    )
    by_month: dict[str, list] = defaultdict(list)
    for a in allocations:
        by_month[_month(a.month)].append(a)
    steps, total_kg, complete = [], 0.0, True
    for month, line_kwh in sorted(months.items()):
        rows = by_month.get(month, [])
        zone_kwh = sum(a.kwh for a in rows)
        zone_kg = sum(a.kg for a in rows)
        if not rows:
            complete = complete and line_kwh == 0
            steps.append({"month": month, "line_mwh": line_kwh / 1000.0, "allocated": False})
            continue
        share = line_kwh / zone_kwh if zone_kwh else 0.0
        line_kg = line_kwh / zone_kwh * zone_kg if zone_kwh else 0.0
        total_kg += line_kg
        steps.append(
            {
                "month": month,
                "allocated": True,
                "line_mwh": line_kwh / 1000.0,
                "zone_mwh": zone_kwh / 1000.0,
                "share": share,
                "zone_t": zone_kg / 1000.0,
                "t": line_kg / 1000.0,
                "rows": [
                    {
                        "label": (
                            f"{_KIND_WORDS.get(a.instrument.kind, a.instrument.kind)}"
                            f" {a.instrument.reference}"
                        )
                        if a.instrument_id
                        else _BASIS_WORDS.get(a.basis, a.basis),
                        "mwh": a.kwh / 1000.0,
                        "kg_per_kwh": a.kg_per_kwh,
                        "t": a.kg / 1000.0,
                    }
                    for a in rows
                ],
            }
        )
    return steps, (total_kg / 1000.0 if complete else None)


def calculation_trace(*, principal: Principal, document: dict) -> list[dict]:
    """For each location line of the report `document` (scope2_selectors.scope2_document of this
    principal: Scope 2, then public cloud): IT MWh × PUE (value, source) = facility MWh ×
    factor (row, source) = t, one step per PUE value and factor row with its share of the
    line's energy; and for Scope 2 the market-based tonnes from the zone's monthly allocation
    (a principal limited to teams: its teams' share of it). From the records the document's
    figures hold: a locked version's, or the live ones of a draft or team view. Each trace
    states whether its sums equal the report line."""
    organisation = principal.organisation
    year, quarter, version = document["year"], document["quarter"], document["version"]
    period = periods.quarter(year, quarter)
    groups = _record_groups(principal, year, quarter, version)
    factors = {
        row["id"]: row
        for row in factor_rows(
            organisation_id=organisation.id,
            grid_factor_ids={g["grid_factor_id"] for g in groups} - {None},
            override_ids={g["factor_override_id"] for g in groups} - {None},
        )
    }
    locations = Location.objects.in_bulk({g["location_id"] for g in groups})
    by_line: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for group in groups:
        by_line[(group["scope"], str(group["location_id"]))].append(group)
    traces = []
    for scope, lines in (
        ("scope2", document["breakdowns"]["location"]),
        ("scope3_cat1", document["scope3_cat1"]["by_location"]),
    ):
        for line in lines:
            traces.append(
                _line_trace(
                    organisation,
                    period,
                    scope,
                    line,
                    by_line[(scope, line["key"])],
                    locations,
                    factors,
                )
            )
    return traces


def line_traces(*, principal: Principal, document: dict) -> list[dict]:
    """`calculation_trace` of the `document`'s lines; for a locked version (only a principal
    seeing the whole organisation gets one) the trace kept at its lock
    (reports.models.ReportAnnex) when its worker has kept it, without reading the records."""
    if document["version"] is not None:
        kept = (
            ReportAnnex.objects.filter(
                version__organisation=principal.organisation,
                version__year=document["year"],
                version__quarter=document["quarter"],
                version__version=document["version"],
            )
            .values_list("trace", flat=True)
            .first()
        )
        if kept is not None:
            return kept
    return calculation_trace(principal=principal, document=document)


def _line_trace(organisation, period, scope, line, groups, locations, factors) -> dict:
    steps: dict[tuple, dict] = {}
    months: dict[str, float] = defaultdict(float)
    for g in groups:
        factor_id = (
            f"override:{g['factor_override_id']}"
            if g["factor_override_id"]
            else f"grid:{g['grid_factor_id']}"
            if g["grid_factor_id"]
            else None
        )
        key = (
            g["pue_used"],
            g["energy_includes_pue"],
            g["pue"],
            factor_id,
            g["location_kg_per_kwh"],
        )
        step = steps.get(key)
        if step is None:
            step = steps[key] = {
                "records": 0,
                "it_kwh": 0.0,
                "facility_kwh": 0.0,
                "location_kg": 0.0,
                "pue": _pue_text(g, locations[g["location_id"]]),
                "factor": _factor_text(factors.get(factor_id), g["location_kg_per_kwh"]),
            }
        step["records"] += g["records"]
        step["it_kwh"] += g["it_kwh"] or 0.0
        step["facility_kwh"] += g["facility_kwh"] or 0.0
        step["location_kg"] += g["location_kg"] or 0.0
        months[_month(g["month"])] += g["facility_kwh"] or 0.0
    facility_kwh = sum(s["facility_kwh"] for s in steps.values())
    ordered = sorted(steps.values(), key=lambda s: -s["facility_kwh"])
    trace = {
        "key": line["key"],
        "label": line["label"],
        "scope": scope,
        "line": line,
        "steps": [
            {
                "records": s["records"],
                "it_mwh": s["it_kwh"] / 1000.0,
                "pue": s["pue"],
                "mwh": s["facility_kwh"] / 1000.0,
                "factor": s["factor"],
                "location_t": s["location_kg"] / 1000.0,
                "share": s["facility_kwh"] / facility_kwh if facility_kwh else 0.0,
            }
            for s in ordered
        ],
        "records": sum(s["records"] for s in ordered),
        "it_mwh": sum(s["it_kwh"] for s in ordered) / 1000.0,
        "mwh": facility_kwh / 1000.0,
        "location_t": sum(s["location_kg"] for s in ordered) / 1000.0,
        "market": [],
        "market_t": None,
    }
    if scope == "scope2" and line.get("zone"):
        trace["market"], trace["market_t"] = _market_trace(
            organisation, line["zone"], months, period
        )
    trace["agrees"] = _agrees(trace, line)
    return trace


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _agrees(trace: dict, line: dict) -> bool:
    """Whether the trace's sums are the report line's figures (a locked line whose records
    were recomputed since the lock, for instance, would not be)."""
    market = line.get("market_t") if line.get("market_complete") else None
    same = (
        trace["records"] == line["record_count"]
        and _close(trace["mwh"], line["mwh"])
        and _close(trace["location_t"], line["location_t"])
    )
    if trace["scope"] == "scope2":
        same = same and _close(trace["market_t"], market)
    return same


# --- Record annex -------------------------------------------------------------------------

# The CSV columns of the record browser's export a record's annex line is made of.
ANNEX_HASH_COLUMNS = (
    "kind",
    "id",
    "external_id",
    "it_kwh",
    "pue_used",
    "facility_kwh",
    "location_kg_per_kwh",
    "location_kg",
)


def _csv_text(value) -> str:
    """A value as the record browser's CSV writes it (csv.writer's str(); None empty)."""
    return "" if value is None else str(csv_cell(value))


def _annex_querysets(
    organisation: Organisation, year: int, quarter: int, version: int | None
) -> dict[str, QuerySet]:
    principal = _reader(organisation)
    return {
        kind: records_filtered(
            principal=principal, filters=_quarter_filters(kind, year, quarter, version)
        )
        for kind in REPORTED_KINDS
    }


def annex_digest(
    *, organisation: Organisation, year: int, quarter: int, version: int | None, seed: int
) -> dict:
    """The annex's count, content hash and listed ids (all the records up to `annex_limit()`,
    else a sample of that many drawn with `seed`): what `record_annex` prints beside the
    listed rows, and what a locked version keeps (reports.models.ReportAnnex).

    content_hash = SHA-256 over one line per record, workload records then cloud usage
    records, each in ascending id: the ANNEX_HASH_COLUMNS of the record browser's CSV export,
    as written there, joined by "|", each line ending in "\\n". The sample: positions
    random.Random(seed).sample(range(count), limit) in that same order. Neither loads the
    records: on Postgres the lines are written in SQL and streamed by COPY into the hash, the
    sample's ids read from the lines at its positions as they pass (`annex_sql`); elsewhere
    ids and figures are streamed (`annex_stream`, the portable twin).
    """
    querysets = _annex_querysets(organisation, year, quarter, version)
    counts = {kind: rows.count() for kind, rows in querysets.items()}
    count = sum(counts.values())
    limit = annex_limit()
    positions = set(random.Random(seed).sample(range(count), limit)) if count > limit else None
    read = annex_sql if connection.vendor == "postgresql" else annex_stream
    content_hash, picked = read(querysets, counts, positions)
    return {
        "count": count,
        "content_hash": content_hash,
        "limit": limit,
        "seed": seed,
        "picked": {kind: list(ids) for kind, ids in picked.items()},
    }


def record_annex(
    *,
    organisation: Organisation,
    year: int,
    quarter: int,
    version: int | None,
    seed: int,
    kept: dict | None = None,
) -> dict:
    """The quarter's records for the annex: all of them up to `annex_limit()`, else a sample
    of that many drawn with `seed`; with their count and content hash either way
    (`annex_digest`). A locked version's `kept` annex (`version_record_reads`) is printed
    as it is; otherwise the digest and the listed rows are read now."""
    if kept is None:
        digest = annex_digest(
            organisation=organisation, year=year, quarter=quarter, version=version, seed=seed
        )
        rows = annex_rows(organisation, year, quarter, version, digest["picked"])
        kept = {**digest, "rows": rows}
    sampled = kept["count"] > kept["limit"]
    period = periods.quarter(year, quarter)
    return {
        "count": kept["count"],
        "content_hash": kept["content_hash"],
        "sampled": sampled,
        "sample_size": sum(len(ids) for ids in kept["picked"].values()),
        "limit": kept["limit"],
        "seed": kept["seed"] if sampled else None,
        "filter": {
            "start": period.start,
            "end": period.end,
            "locked": f"{year}-Q{quarter}-v{version}" if version else None,
        },
        "rows": kept["rows"],
    }


Picked = dict[str, list[int]]


def annex_stream(
    querysets: dict[str, QuerySet], counts: dict[str, int], positions: set[int] | None
) -> tuple[str, Picked]:
    """The annex hash and the picked ids from one stream of ids and figures, in Python."""
    digest = hashlib.sha256()
    picked: Picked = defaultdict(list)
    position = 0
    for kind, rows in querysets.items():
        stream = rows.order_by("id").values_list(*ANNEX_HASH_COLUMNS[1:])
        for row in stream.iterator(chunk_size=20000):
            digest.update(("|".join(_csv_text(v) for v in (kind, *row)) + "\n").encode())
            if positions is None or position in positions:
                picked[kind].append(row[0])
            position += 1
    return digest.hexdigest(), picked


def _float_sql(column: str) -> str:
    """A float column as Python's repr() writes it, and so the CSV export: Postgres prints
    the same shortest round-trip digits (extra_float_digits > 0), but an integral value
    without Python's ".0" (48 for 48.0)."""
    return (
        f"CASE WHEN {column} IS NULL THEN '' WHEN {column} = trunc({column})"
        f" AND abs({column}) < 1e15 THEN trunc({column})::bigint::text || '.0'"
        f" ELSE {column}::text END"
    )


def _line_sql() -> str:
    """One record's annex line as `annex_stream` writes it, without its "\\n" (COPY ends
    each row with one), the external id with the apostrophe the CSV puts before a
    formula-like value."""
    leads = ", ".join(["%s"] * len(FORMULA_LEADS))
    external = (
        f"CASE WHEN left(external_id, 1) IN ({leads}) THEN chr(39) || external_id"
        " ELSE external_id END"
    )
    figures = " || '|' || ".join(_float_sql(c) for c in ANNEX_HASH_COLUMNS[3:])
    return f"%s || '|' || id::text || '|' || {external} || '|' || {figures}"


# COPY's text format writes these bytes of a value escaped; `_CopyLines` writes them back.
_COPY_ESCAPES = {
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"v": b"\v",
    b"\\": b"\\",
}
_COPY_ESCAPED = re.compile(rb"\\(.)", re.S)


class _CopyLines:
    """The lines of a `COPY … TO STDOUT` of one text column, fed to a hash block by block
    as the record browser's CSV would write them (COPY's escapes undone), and the ids at
    the wanted line positions (the second field of a line) picked on the way."""

    def __init__(self, digest, wanted: list[int]) -> None:
        self.digest, self.wanted, self.picked = digest, wanted, []
        self.line = 0  # the position of the line the next byte belongs to
        self.carry = b""  # a trailing backslash whose escaped byte is in the next block
        self.partial = b""  # the last, unfinished line, while a wanted position is near

    def feed(self, block: bytes) -> None:
        data = self.carry + block
        run = len(data) - len(data.rstrip(b"\\"))
        self.carry = b"\\" if run % 2 else b""
        data = data[: len(data) - len(self.carry)]
        if b"\\" in data:
            data = _COPY_ESCAPED.sub(lambda m: _COPY_ESCAPES[m.group(1)], data)
        self.digest.update(data)
        # Lines are counted in COPY's bytes, where a newline only ends a row.
        ends = block.count(b"\n")
        if self.picked_all() or self.wanted[len(self.picked)] >= self.line + ends:
            self.partial = block[block.rfind(b"\n") + 1 :] if ends else self.partial + block
            self.line += ends
            return
        lines = (self.partial + block).split(b"\n")
        self.partial = lines.pop()
        first = self.line
        self.line += len(lines)
        while not self.picked_all() and self.wanted[len(self.picked)] < self.line:
            self.picked.append(int(lines[self.wanted[len(self.picked)] - first].split(b"|")[1]))

    def picked_all(self) -> bool:
        return len(self.picked) == len(self.wanted)


def annex_sql(
    querysets: dict[str, QuerySet], counts: dict[str, int], positions: set[int] | None
) -> tuple[str, Picked]:
    """`annex_stream` on Postgres, set-based: the same hash and picks (a test compares).

    Each kind's lines are written in SQL and streamed in ascending id by COPY, block by
    block into the hash (one block in memory at a time); the sample's ids are read from the
    lines at its positions as they pass."""
    digest = hashlib.sha256()
    picked: Picked = {}
    offset = 0
    with large_read(shortest_floats=True), connection.cursor() as cursor:
        for kind, rows in querysets.items():
            inner, params = rows.order_by().values(*ANNEX_HASH_COLUMNS[1:]).query.sql_with_params()
            mine = (
                sorted(p - offset for p in positions if offset <= p < offset + counts[kind])
                if positions is not None
                else []
            )
            lines = _CopyLines(digest, mine)
            # COPY binds no parameters: psycopg writes them into the statement, quoted.
            statement = connection.ops.compose_sql(
                f"COPY (SELECT {_line_sql()} FROM ({inner}) AS r ORDER BY id) TO STDOUT",  # noqa: S608 - the ORM's SQL and our columns; values are quoted by psycopg
                [kind, *FORMULA_LEADS, *params],
            )
            with cursor.cursor.copy(statement) as copy:
                for block in copy:
                    lines.feed(bytes(block))
            if positions is None:
                picked[kind] = list(rows.order_by("id").values_list("id", flat=True))
            else:
                picked[kind] = lines.picked
            offset += counts[kind]
    return digest.hexdigest(), picked


def annex_rows(
    organisation: Organisation,
    year: int,
    quarter: int,
    version: int | None,
    picked: dict[str, list[int]],
) -> list[dict]:
    """The listed records' annex lines (`picked`: their ids per record kind), JSON-ready:
    the start as ISO text, so a locked version keeps them as they are."""
    querysets = _annex_querysets(organisation, year, quarter, version)
    rows = []
    for kind, ids in picked.items():
        records = (
            querysets[kind]
            .filter(id__in=ids)
            .select_related("team", "ai_model", "location")
            .order_by("id")
        )
        for r in records:
            rows.append(
                {
                    "kind": "workload" if kind == "workloads" else "cloud usage",
                    "id": r.id,
                    "external_id": r.external_id,
                    "team": r.team.name,
                    "model": r.ai_model.name if r.ai_model_id else None,
                    "location": r.location.code,
                    "start": (getattr(r, "started_at", None) or r.usage_start).isoformat(),
                    "it_kwh": r.it_kwh,
                    "pue": r.pue_used,
                    "facility_kwh": r.facility_kwh,
                    "kg_per_kwh": r.location_kg_per_kwh,
                    "location_kg": r.location_kg,
                    "tier": r.get_energy_tier_display(),
                }
            )
    return rows


def annex_seed(content_hash: str) -> int:
    """The sample's seed: the first 8 hex digits of the quarter's input hash, so one version
    always gives the same sample and nobody picks it before the inputs are fixed."""
    return int(content_hash[:8], 16) if content_hash else 0


# --- The whole PDF's document -------------------------------------------------------------


def version_record_reads(*, version) -> dict:
    """What a locked version's audit PDF derives from its records, fixed at the lock: the
    annex digest (`annex_digest`, drawn with the version's seed), the listed records' rows and
    the calculation trace of each line. Worked out once and kept (reports.models.ReportAnnex),
    so an export of the version reads no record."""
    organisation = version.organisation
    year, quarter = version.year, version.quarter
    reader = _reader(organisation)
    digest = annex_digest(
        organisation=organisation,
        year=year,
        quarter=quarter,
        version=version.version,
        seed=annex_seed(version.content_hash),
    )
    document = scope2_document(
        principal=reader, year=year, quarter=quarter, version=version.version
    )
    return {
        **digest,
        "rows": annex_rows(organisation, year, quarter, version.version, digest["picked"]),
        "trace": calculation_trace(principal=reader, document=document),
    }


def audit_pdf_document(*, export, kept: dict | None = None) -> dict:
    """The report and its audit trail (scope2_selectors.audit_document) plus what the auditor's PDF
    adds: boundary, methodology data, calculation trace and record annex (a locked version's
    `kept` ones, `version_record_reads`, when given; a draft's read now)."""
    document = audit_document(export=export)
    organisation = export.organisation
    version = document.get("version")
    content_hash = (document.get("lock") or document.get("draft_inputs") or {}).get(
        "content_hash", ""
    )
    datasets = (document.get("lock") or {}).get("factor_datasets") or [document["factor_dataset"]]
    trace = (
        kept["trace"]
        if kept is not None
        else calculation_trace(principal=_reader(organisation), document=document)
    )
    return {
        **document,
        "time_zone": organisation.time_zone,
        "reporting": reporting_boundary(organisation),
        "auditor_methodology": auditor_methodology(dataset_labels=[d for d in datasets if d]),
        "trace": trace,
        "annex": record_annex(
            organisation=organisation,
            year=export.year,
            quarter=export.quarter,
            version=version,
            seed=annex_seed(content_hash),
            kept=kept,
        ),
    }
