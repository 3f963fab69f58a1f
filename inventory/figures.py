"""The impact figures, declared once.

Each `Figure` says what a figure is (label, units), where it is stored (one column of the
same name on the records and on the rollups), how rollup rows sum, how it is shown and
which scopes it is reported under. The rollup SQL (inventory.pipeline.rollups), the compute
UPDATEs' RETURNING lists, the read model `Sums` and its ORM/SQL sums (below), the API
serializers, CSV/XLSX columns, charts and the PDF are derived from `FIGURES`.

Adding a figure: one `Figure` in `FIGURES`, its computation (the pipeline's UPDATE that sets
the record column), and a migration adding the column to the records and to the rollups
(one field on inventory.models.records.Rollup: DailyRollup and MonthlyRollup; docs/architecture.md,
"Adding a figure").
"""

from collections.abc import Callable
from dataclasses import dataclass, field, make_dataclass
from enum import StrEnum

from django.db.models import Case, F, Sum, Value, When

from inventory.calculation.emissions import Scope, grams_per_1k_inferences, grams_per_1m_tokens

WORKLOAD, CLOUD_USAGE = "workload", "cloud_usage"  # inventory.models.RecordKind values
RECORD_KINDS = (WORKLOAD, CLOUD_USAGE)
BOTH_SCOPES = (Scope.SCOPE2, Scope.SCOPE3_CAT1)


class Summing(StrEnum):
    """How rollup rows of a figure add up."""

    PLAIN = "plain"  # a sum of floats
    # A sum whose rows may not be allocated yet (NULL): the facility kWh of those rows is
    # summed beside it as `unallocated_kwh`, and the figure is complete only when it is 0.
    MARKET = "market"
    COUNT = "count"  # a sum of integers: a record kind that carries none contributes 0


class Family(StrEnum):
    """What a figure measures; charts and tables group figures by it."""

    ACTIVITY = "activity"
    ENERGY = "energy"
    EMISSIONS = "emissions"
    WATER = "water"
    COST = "cost"


@dataclass(frozen=True)
class Figure:
    """One impact figure.

    `key` names the shown figure in documents, APIs and CSV columns; `column` is the stored
    column on the records and on the rollups, in `stored_unit`; shown values are stored values
    divided by `scale`, in `shown_unit`. A `nullable` figure may be "not available" (None),
    which is never read as zero.
    """

    key: str
    label: str
    column: str
    family: Family
    stored_unit: str
    shown_unit: str
    scale: float = 1.0
    summing: Summing = Summing.PLAIN
    decimals: int = 3
    scopes: tuple[str, ...] = BOTH_SCOPES
    nullable: bool = False
    # Record kinds whose records carry `column`; the others contribute 0 (counts) or NULL.
    record_kinds: tuple[str, ...] = RECORD_KINDS
    # Part of a scope's totals in reports and APIs (activity counts are shown per model).
    in_totals: bool = True
    # The rollup's aggregate over records when it is not a sum of `column` ("" = a sum).
    record_sql: str = ""
    # A column of the report's CSV/XLSX lines (with `in_totals`), titled `export_title`.
    in_exports: bool = True
    export_title: str = ""  # "" = the key

    @property
    def column_title(self) -> str:
        """The figure's column title in CSV/XLSX exports."""
        return self.export_title or self.key

    @property
    def is_count(self) -> bool:
        return self.summing is Summing.COUNT

    @property
    def zero(self) -> float | int | None:
        """A sum of no rows: None for a figure that may be not available."""
        if self.nullable:
            return None
        return 0 if self.is_count else 0.0

    def shown(self, stored: float | None) -> float | None:
        """A stored value in the shown unit (kWh → MWh, kg → t); None stays None."""
        if stored is None:
            return None
        return stored if self.scale == 1.0 else stored / self.scale

    def record_aggregate(self, kind: str) -> str:
        """SQL summing this figure over the computed records of one kind (a rollup row)."""
        if self.record_sql:
            return self.record_sql
        if kind not in self.record_kinds:
            return "0" if self.is_count else "NULL"
        if self.is_count:
            return f"COALESCE(SUM({self.column}), 0)"
        return f"SUM({self.column})"

    def rollup_aggregate(self) -> str:
        """SQL (Postgres) summing this figure over rollup rows."""
        cast = "::bigint" if self.is_count else ""
        return f"SUM({self.column}){cast}"


def records_with(figure: Figure, *, key: str, column: str) -> Figure:
    """The count of records that have a figure which may be not available: a sum of that
    figure over fewer records than `record_count` is partial ("n of m records")."""
    return Figure(
        key=key,
        label=f"Records with {figure.label[0].lower()}{figure.label[1:]}",
        column=column,
        family=Family.ACTIVITY,
        stored_unit="records",
        shown_unit="records",
        summing=Summing.COUNT,
        decimals=0,
        record_kinds=(),
        record_sql=f"COUNT({figure.column})",
    )


def water_volume(*, key: str, label: str, column: str) -> Figure:
    """Litres stored, m³ shown; not available (never 0) for a record that has no figure."""
    return Figure(
        key=key,
        label=label,
        column=column,
        family=Family.WATER,
        stored_unit="L",
        shown_unit="m³",
        scale=1000.0,
        nullable=True,
    )


def workload_count(name: str, *, label: str) -> Figure:
    """A count workload records send (key, column and unit are its name): activity, outside
    the emission totals."""
    return Figure(
        key=name,
        label=label,
        column=name,
        family=Family.ACTIVITY,
        stored_unit=name,
        shown_unit=name,
        summing=Summing.COUNT,
        decimals=0,
        record_kinds=(WORKLOAD,),
        in_totals=False,
    )


RECORD_COUNT = Figure(
    key="record_count",
    label="Records",
    column="record_count",
    family=Family.ACTIVITY,
    stored_unit="records",
    shown_unit="records",
    summing=Summing.COUNT,
    decimals=0,
    record_kinds=(),
    record_sql="COUNT(*)",
    export_title="records",
)
IT_ENERGY = Figure(
    key="it_mwh",
    label="IT energy",
    column="it_kwh",
    family=Family.ENERGY,
    stored_unit="kWh",
    shown_unit="MWh",
    scale=1000.0,
    in_exports=False,
)
FACILITY_ENERGY = Figure(
    key="mwh",
    label="Facility energy",
    column="facility_kwh",
    family=Family.ENERGY,
    stored_unit="kWh",
    shown_unit="MWh",
    scale=1000.0,
    export_title="MWh",
)
LOCATION_EMISSIONS = Figure(
    key="location_t",
    label="Location-based emissions",
    column="location_kg",
    family=Family.EMISSIONS,
    stored_unit="kg CO2e",
    shown_unit="t CO2e",
    scale=1000.0,
    export_title="location_t_CO2e",
)
MARKET_EMISSIONS = Figure(
    key="market_t",
    label="Market-based emissions",
    column="market_kg",
    family=Family.EMISSIONS,
    stored_unit="kg CO2e",
    shown_unit="t CO2e",
    scale=1000.0,
    summing=Summing.MARKET,
    # Only purchased electricity is allocated instruments (GHG Protocol Scope 2 Guidance);
    # public cloud rows carry their location-based kg here, which is not a market figure.
    scopes=(Scope.SCOPE2,),
    nullable=True,
    record_kinds=(),
    export_title="market_t_CO2e",
    record_sql="CASE WHEN scope = 'scope3_cat1' THEN SUM(location_kg) END",
)
# On-site (cooling) water: measured, or IT kWh × WUE (inventory.calculation.water). Not
# available for records with neither, so a sum covers only `water_records` of the records.
WATER_ONSITE = water_volume(key="water_onsite_m3", label="On-site water", column="water_onsite_l")
WATER_RECORDS = records_with(WATER_ONSITE, key="water_records", column="water_record_count")
# Off-site water: evaporated to generate the electricity, facility kWh × the zone's country
# factor (docs/methodology.md, Water). Not available where the dataset has no factor of the
# country's own; shown beside on-site water, never summed into it.
WATER_OFFSITE = water_volume(
    key="water_offsite_m3", label="Off-site water", column="water_offsite_l"
)
WATER_OFFSITE_RECORDS = records_with(
    WATER_OFFSITE, key="water_offsite_records", column="water_offsite_record_count"
)
INFERENCES = workload_count("inferences", label="Inferences")
TOKENS = workload_count("tokens", label="Tokens")
EMBODIED_EMISSIONS = Figure(
    key="embodied_t",
    label="Embodied emissions",
    column="embodied_kg",
    family=Family.EMISSIONS,
    stored_unit="kg CO2e",
    shown_unit="t CO2e",
    scale=1000.0,
    # No published cradle-to-gate figure for the device: not available, never 0. Shown
    # beside the scope's electricity emissions, never added to them.
    nullable=True,
    export_title="embodied_t_CO2e",
)

# Display order: also the order of the rollup columns, API fields and CSV columns.
FIGURES: tuple[Figure, ...] = (
    RECORD_COUNT,
    IT_ENERGY,
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    WATER_ONSITE,
    WATER_RECORDS,
    WATER_OFFSITE,
    WATER_OFFSITE_RECORDS,
    INFERENCES,
    TOKENS,
    EMBODIED_EMISSIONS,
)

# Money is never added across currencies, so it is not in FIGURES (whose sums add every row):
# rollup rows carry the currency as a dimension and these figures' sums per currency.
CURRENCY_COLUMN = "energy_cost_currency"
ENERGY_COST = Figure(
    key="cost",
    label="Energy cost",
    column="energy_cost",
    family=Family.COST,
    stored_unit="currency",
    shown_unit="currency",
    decimals=2,
    nullable=True,
    in_totals=False,
)
PER_CURRENCY_FIGURES: tuple[Figure, ...] = (ENERGY_COST,)
ROLLUP_COLUMNS = tuple(figure.column for figure in FIGURES)
PER_CURRENCY_COLUMNS = tuple(figure.column for figure in PER_CURRENCY_FIGURES)
# The facility kWh of rollup rows whose market-based kg is not allocated yet (Summing.MARKET).
UNALLOCATED_KWH = "unallocated_kwh"
# Conditions readers test row by row (the unallocated kWh below, reports.cost_sci_selectors'
# costed sums, the WUE's IT kWh in inventory.selectors): a monthly rollup row sums only days
# whose rows agree on each, so every such sum reads the same from days or months.
ROLLUP_ROW_SPLITS = (
    f"{MARKET_EMISSIONS.column} IS NULL",
    f"{ENERGY_COST.column} IS NULL",
    f"{WATER_RECORDS.column} = {RECORD_COUNT.column}",
)


def record_columns(kind: str) -> tuple[str, ...]:
    """The figure columns a computation of this record kind must hand to its rollups."""
    columns = [figure.column for figure in FIGURES if kind in figure.record_kinds]
    # The market figure of cloud rows is their location-based kg (MARKET_EMISSIONS.record_sql).
    if LOCATION_EMISSIONS.column not in columns:
        columns.append(LOCATION_EMISSIONS.column)
    columns += [CURRENCY_COLUMN, *(figure.column for figure in PER_CURRENCY_FIGURES)]
    return tuple(columns)


def rollup_select_sums(kind: str) -> str:
    """The figure sums of a rollup row over records of this kind, in ROLLUP_COLUMNS order,
    then the per-currency sums (PER_CURRENCY_COLUMNS)."""
    return ", ".join(figure.record_aggregate(kind) for figure in (*FIGURES, *PER_CURRENCY_FIGURES))


@dataclass(frozen=True)
class Intensity:
    """Grams CO2e per functional unit of inference, from an emissions figure's kg over an
    activity count (inventory.calculation.emissions does the arithmetic)."""

    key: str  # suffix of the shown figure: "g_per_1k_inferences"
    label: str
    count: Figure
    grams: Callable[[float, int | None], float | None]

    def of(self, kg: float | None, count: int | None) -> float | None:
        """None when there is no kg (not available) or nothing to divide by."""
        return None if kg is None else self.grams(kg, count)


INTENSITIES: tuple[Intensity, ...] = (
    Intensity(
        "g_per_1k_inferences", "g CO2e per 1k inferences", INFERENCES, grams_per_1k_inferences
    ),
    Intensity("g_per_1m_tokens", "g CO2e per 1M tokens", TOKENS, grams_per_1m_tokens),
)


def intensities(kg: float | None, sums: "Sums", prefix: str = "") -> dict[str, float | None]:
    """{prefix + intensity key: g CO2e per unit} of these kg over the counts of `sums`."""
    return {
        f"{prefix}{intensity.key}": intensity.of(kg, getattr(sums, intensity.count.column))
        for intensity in INTENSITIES
    }


# --- The read model: sums of rollup rows ------------------------------------------------


def _unallocated_sql() -> str:
    return f"SUM(CASE WHEN {MARKET_EMISSIONS.column} IS NULL THEN facility_kwh ELSE 0 END)"


# Django aggregates of rollup rows, one per figure (plus the unallocated kWh); the first key
# comes first because later keys shadow the column names with their sums.
ROLLUP_SUMS = {
    UNALLOCATED_KWH: Sum(
        Case(
            When(**{f"{MARKET_EMISSIONS.column}__isnull": True}, then=F("facility_kwh")),
            default=Value(0.0),
        )
    ),
    **{figure.column: Sum(figure.column) for figure in FIGURES},
}
# The same sums in SQL, for hand-written grouped scans (reports.dashboard_selectors).
ROLLUP_SUMS_SQL = {
    UNALLOCATED_KWH: _unallocated_sql(),
    **{figure.column: figure.rollup_aggregate() for figure in FIGURES},
}


def _adder() -> Callable[[object, dict], None]:
    """Sums.add, written out from the declaration as dataclasses writes __init__: it runs for
    every rollup row a report reads, and a loop over FIGURES costs 2-3x the written-out adds.
    A figure that may be not available stays None until a row has it (never read as 0)."""
    lines = ["def add(self, row):"]
    for figure in FIGURES:
        column = figure.column
        if figure.zero is None:
            lines += [
                f"    if row[{column!r}] is not None:",
                f"        self.{column} = row[{column!r}] + (self.{column} or 0)",
            ]
        else:
            lines.append(f"    self.{column} += row[{column!r}] or 0")
    lines.append(f"    self.{UNALLOCATED_KWH} += row[{UNALLOCATED_KWH!r}] or 0.0")
    namespace: dict = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own column names, declared above
    add = namespace["add"]
    add.__doc__ = "Add a row of ROLLUP_SUMS (or another Sums' `vars`: asdict copies) to these sums."
    return add


def _totals(self, market_based: bool = True) -> dict:
    """The figures of a scope in their shown units, in FIGURES order.

    Without `market_based` the market figure and its companions are None (not applicable):
    rollups of public cloud carry a market_kg, which is not one. A market figure is followed
    by `market_complete` and `unallocated_mwh` (facility energy not yet allocated).
    """
    shown: dict = {}
    for figure in FIGURES:
        if not figure.in_totals:
            continue
        if figure.summing is Summing.MARKET:
            if not market_based:
                shown.update({figure.key: None, "market_complete": None, "unallocated_mwh": None})
                continue
            shown[figure.key] = figure.shown(getattr(self, figure.column) or 0.0)
            shown["market_complete"] = self.unallocated_kwh == 0
            shown["unallocated_mwh"] = FACILITY_ENERGY.shown(self.unallocated_kwh)
            continue
        shown[figure.key] = figure.shown(getattr(self, figure.column))
    return shown


def _shown(self, figure: Figure) -> float | int | None:
    """This figure's sum in its shown unit (kWh → MWh, kg → t)."""
    return figure.shown(getattr(self, figure.column))


def _market_zero(figure: Figure) -> float | int | None:
    # Sums start the market figure at 0.0: its "not available" is said by unallocated_kwh.
    return 0.0 if figure.summing is Summing.MARKET else figure.zero


# Running sums of rollup rows in stored units (kWh, kg, counts): one attribute per figure's
# column, and `unallocated_kwh`. `totals()` gives them in shown units.
Sums = make_dataclass(
    "Sums",
    [
        *(
            (figure.column, float | int | None, field(default=_market_zero(figure)))
            for figure in FIGURES
        ),
        (UNALLOCATED_KWH, float, field(default=0.0)),
    ],
    namespace={"add": _adder(), "totals": _totals, "shown": _shown, "__module__": __name__},
)
