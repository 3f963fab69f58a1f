"""The Scope 2 report document, typed.

`Scope2Document` declares every field the report API serves (reports.scope2_selectors builds the
document, a locked version stores it as JSON). Its figures' fields come from the figure
declaration (inventory.figures), so a figure added there appears here and in the OpenAPI
schema, which is generated from these structures (`schema_components`) so clients can
generate code from /api/schema/.

Every field defaults to None: a version locked before a field existed reads it as None,
"not computed when locked", never 0 (`typed_document`).
"""

from typing import Any

import msgspec

from inventory.figures import FIGURES, INTENSITIES, Figure, Summing

# How tables and exports show a field a version locked before it existed lacks.
NOT_COMPUTED = "not computed when locked"


class _Fields(msgspec.Struct, kw_only=True):
    """Base of the document's structures: keyword fields, all optional (None)."""


def _figure_type(figure: Figure) -> Any:
    return (int if figure.is_count else float) | None


def _totals_fields() -> list[tuple[str, Any, None]]:
    """A scope's figures in shown units (Sums.totals): every figure `in_totals`, a market
    figure followed by whether it is complete and the energy not yet allocated."""
    fields: list[tuple[str, Any, None]] = []
    for figure in FIGURES:
        if not figure.in_totals:
            continue
        fields.append((figure.key, _figure_type(figure), None))
        if figure.summing is Summing.MARKET:
            fields += [
                ("market_complete", bool | None, None),
                ("unallocated_mwh", float | None, None),
            ]
    return fields


Scope2ScopeTotals = msgspec.defstruct(
    "Scope2ScopeTotals", _totals_fields(), bases=(_Fields,), module=__name__
)


class Scope2Cost(_Fields, kw_only=True):
    """What the energy of a scope or location line cost in one currency (amounts in two
    currencies are never added): own or billed cost, else facility kWh × the facility's
    tariff (inventory.calculation.cost)."""

    currency: str | None = None  # ISO 4217
    amount: float | None = None
    mwh: float | None = None  # facility energy priced in this currency
    record_count: int | None = None
    location_t: float | None = None  # location-based t CO2e of that energy
    location_kg_per_unit: float | None = None  # location-based kg CO2e per unit of currency


# A scope's or location line's energy cost (reports.cost_sci_selectors.report_costs): an entry
# per currency (an empty list: no record has a cost, not available), and the facility energy
# and records that have one; None in versions locked before cost was reported.
_COST_FIELDS = [
    ("costs", list[Scope2Cost] | None, None),
    ("costed_mwh", float | None, None),
    ("costed_records", int | None, None),
]

Scope2Totals = msgspec.defstruct(
    "Scope2Totals", _COST_FIELDS, bases=(Scope2ScopeTotals,), kw_only=True, module=__name__
)


class Scope2Line(Scope2ScopeTotals, kw_only=True):
    """A breakdown line: one team, model, location, phase or data-quality tier."""

    key: str | None = None
    label: str | None = None
    share: float | None = None  # of the scope's facility energy


Scope2CostedLine = msgspec.defstruct(
    "Scope2CostedLine", _COST_FIELDS, bases=(Scope2Line,), kw_only=True, module=__name__
)


class Scope2LocationLine(Scope2CostedLine, kw_only=True):
    """A breakdown line of one facility or cloud region, with its energy cost."""

    code: str | None = None
    name: str | None = None
    zone: str | None = None
    kind: str | None = None


class Scope2CloudTotals(Scope2Totals, kw_only=True):
    """Public cloud (Scope 3 category 1): beside Scope 2, never added to it."""

    by_location: list[Scope2LocationLine] | None = None


class Scope2MarketCategory(_Fields, kw_only=True):
    key: str | None = None
    label: str | None = None
    is_instrument: bool | None = None
    mwh: float | None = None
    market_t: float | None = None
    share: float | None = None


class Scope2Instrument(_Fields, kw_only=True):
    id: int | None = None
    kind: str | None = None
    kind_label: str | None = None
    reference: str | None = None
    supplier: str | None = None
    zone: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    contracted_mwh: float | None = None
    kg_per_kwh: float | None = None
    renewable: bool | None = None
    allocated_mwh: float | None = None
    used: bool | None = None


class Scope2Market(_Fields, kw_only=True):
    categories: list[Scope2MarketCategory] | None = None
    instruments: list[Scope2Instrument] | None = None
    instrument_share: float | None = None
    renewable_share: float | None = None
    renewable_mwh: float | None = None
    grid_average_fallback_mwh: float | None = None


class Scope2Breakdowns(_Fields, kw_only=True):
    team: list[Scope2Line] | None = None
    model: list[Scope2Line] | None = None
    location: list[Scope2LocationLine] | None = None
    phase: list[Scope2Line] | None = None
    tier: list[Scope2Line] | None = None


Scope2IntensityLine = msgspec.defstruct(
    "Scope2IntensityLine",
    [
        ("key", str | None, None),
        ("label", str | None, None),
        ("scope", str | None, None),
        ("scope_label", str | None, None),
        ("inferences", int | None, None),
        ("tokens", int | None, None),
        ("mwh", float | None, None),
        ("location_t", float | None, None),
        ("market_t", float | None, None),
        *(
            (f"{basis}_{intensity.key}", float | None, None)
            for basis in ("location", "market")
            for intensity in INTENSITIES
        ),
    ],
    bases=(_Fields,),
    module=__name__,
)


class Scope2Period(_Fields, kw_only=True):
    label: str | None = None
    start: str | None = None
    end: str | None = None  # exclusive


class Scope2PeriodTotals(Scope2Period, kw_only=True):
    scope2: Scope2ScopeTotals | None = None
    scope3_cat1: Scope2ScopeTotals | None = None
    coverage: str | None = None  # complete / partial / no_data
    coverage_note: str | None = None


class Scope2ChangePct(_Fields, kw_only=True):
    mwh: float | None = None
    location_t: float | None = None
    market_t: float | None = None


class Scope2Comparison(Scope2PeriodTotals, kw_only=True):
    change_note: str | None = None  # why two periods are not like for like
    change_pct: Scope2ChangePct | None = None


class Scope2Periods(_Fields, kw_only=True):
    quarter: Scope2PeriodTotals | None = None
    year_to_date: Scope2PeriodTotals | None = None


class Scope2Comparisons(_Fields, kw_only=True):
    previous_quarter: Scope2Comparison | None = None
    same_quarter_last_year: Scope2Comparison | None = None


class Scope2TrendMonth(_Fields, kw_only=True):
    """A month of the 24-month trend; a scope without records that month is None."""

    month: str | None = None
    scope2_mwh: float | None = None
    scope2_location_t: float | None = None
    scope2_market_t: float | None = None
    scope3_cat1_location_t: float | None = None


class Scope2Organisation(_Fields, kw_only=True):
    id: int | None = None
    name: str | None = None
    slug: str | None = None


class Scope2VersionMeta(_Fields, kw_only=True):
    version: int | None = None
    locked_by: str | None = None
    locked_by_role: str | None = None
    locked_at: str | None = None
    content_hash: str | None = None
    record_count: int | None = None
    methodology_versions: list[str] | None = None
    factor_datasets: list[str] | None = None
    reason: str | None = None


class Scope2Delta(_Fields, kw_only=True):
    old: float | None = None
    new: float | None = None
    change: float | None = None


class Scope2FigureDeltas(_Fields, kw_only=True):
    """What a restatement changed (reports.services.report_differences)."""

    record_count: Scope2Delta | None = None
    mwh: Scope2Delta | None = None
    location_t: Scope2Delta | None = None
    market_t: Scope2Delta | None = None


class Scope2LineDeltas(Scope2FigureDeltas, kw_only=True):
    key: str | None = None
    label: str | None = None


class Scope2TotalDeltas(_Fields, kw_only=True):
    scope2: Scope2FigureDeltas | None = None
    scope3_cat1: Scope2FigureDeltas | None = None


class Scope2LinesDeltas(_Fields, kw_only=True):
    team: list[Scope2LineDeltas] | None = None
    model: list[Scope2LineDeltas] | None = None
    location: list[Scope2LineDeltas] | None = None
    phase: list[Scope2LineDeltas] | None = None
    tier: list[Scope2LineDeltas] | None = None


class Scope2Differences(_Fields, kw_only=True):
    totals: Scope2TotalDeltas | None = None
    lines: Scope2LinesDeltas | None = None


class Scope2Restatement(Scope2VersionMeta, kw_only=True):
    differences: Scope2Differences | None = None


class Scope2Report(_Fields, kw_only=True):
    """The figures of a quarter (reports.scope2_selectors.scope2_report), in MWh and t CO2e."""

    organisation: Scope2Organisation | None = None
    year: int | None = None
    quarter: int | None = None
    period: Scope2Period | None = None
    teams_limited: bool | None = None
    methodology_version: str | None = None
    factor_dataset: str | None = None
    factor_basis: str | None = None
    scope2: Scope2Totals | None = None
    scope3_cat1: Scope2CloudTotals | None = None
    market: Scope2Market | None = None
    breakdowns: Scope2Breakdowns | None = None
    intensity: list[Scope2IntensityLine] | None = None
    periods: Scope2Periods | None = None
    comparison: Scope2Comparisons | None = None
    trend: list[Scope2TrendMonth] | None = None


class Scope2Document(Scope2Report, kw_only=True):
    """The report as shown (reports.scope2_selectors.scope2_document): a locked version, or the
    live draft, with its status and versions."""

    status: str | None = None  # draft / team_view / locked / superseded
    version: int | None = None
    lock: Scope2VersionMeta | None = None
    records_after_lock: int | None = None
    versions: list[Scope2VersionMeta] | None = None
    restatements: list[Scope2Restatement] | None = None


def typed_document(document: dict) -> Scope2Document:
    """The document read through its declaration: every declared field, None where a version
    locked before the field existed has none. Raises msgspec.ValidationError on a wrong type."""
    return msgspec.convert(document, Scope2Document)


def document_json(document: dict) -> bytes:
    """The typed document as the API's JSON (msgspec encodes it several times faster than
    the json module would the dict)."""
    return msgspec.json.encode(typed_document(document))


# --- OpenAPI ---------------------------------------------------------------------------

_REF = "#/components/schemas/{name}"


def _openapi(schema: Any) -> Any:
    """JSON Schema (msgspec) → OpenAPI 3.0: `anyOf [X, null]` becomes X with nullable."""
    if isinstance(schema, list):
        return [_openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _openapi(value) for key, value in schema.items()}
    if schema.get("required") == []:
        del schema["required"]  # OpenAPI 3.0 wants at least one name, or none at all
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        del schema["anyOf"]
        if len(rest) == 1 and "$ref" in rest[0]:
            schema["allOf"] = rest  # a $ref takes no siblings in OpenAPI 3.0
        elif len(rest) == 1:
            schema.update(rest[0])
        else:
            schema["anyOf"] = rest
        schema["nullable"] = True
    return schema


def schema_components() -> tuple[dict, dict]:
    """(the document's schema reference, its components) for the OpenAPI schema."""
    (document,), components = msgspec.json.schema_components([Scope2Document], ref_template=_REF)
    return document, {name: _openapi(schema) for name, schema in components.items()}


def add_schema_components(result: dict, **kwargs: Any) -> dict:
    """drf-spectacular postprocessing hook: declare the document's structures as components."""
    _, components = schema_components()
    result.setdefault("components", {}).setdefault("schemas", {}).update(components)
    return result
