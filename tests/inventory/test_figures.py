"""The figure declaration: units, the rollup SQL derived from it, and the read model's sums."""

from inventory.figures import (
    CLOUD_USAGE,
    FACILITY_ENERGY,
    FIGURES,
    RECORD_COUNT,
    ROLLUP_COLUMNS,
    ROLLUP_SUMS_SQL,
    WORKLOAD,
    Family,
    Figure,
    Sums,
    intensities,
    record_columns,
    rollup_select_sums,
)

# A figure as the whole-footprint issue adds them (the tests add it; it is not declared).
WATER = Figure(
    key="water_l",
    label="On-site water",
    column="water_l",
    family=Family.ENERGY,
    stored_unit="L",
    shown_unit="L",
    decimals=1,
    nullable=True,
    record_kinds=(WORKLOAD,),
)


def test_it_shows_stored_values_in_their_shown_units():
    assert FACILITY_ENERGY.shown(2500.0) == 2.5  # 2,500 kWh = 2.5 MWh
    assert RECORD_COUNT.shown(3) == 3
    assert FACILITY_ENERGY.shown(None) is None  # not available stays so


def test_the_rollup_sql_sums_every_declared_figure_per_record_kind():
    assert ROLLUP_COLUMNS == (
        "record_count",
        "it_kwh",
        "facility_kwh",
        "location_kg",
        "market_kg",
        "water_onsite_l",
        "water_record_count",
        "water_offsite_l",
        "water_offsite_record_count",
        "inferences",
        "tokens",
        "embodied_kg",
    )
    market = "CASE WHEN scope = 'scope3_cat1' THEN SUM(location_kg) END"
    water = (
        "SUM(water_onsite_l), COUNT(water_onsite_l), SUM(water_offsite_l), COUNT(water_offsite_l)"
    )
    # Then the per-currency figures (energy cost), summed within a rollup row's currency.
    assert rollup_select_sums(WORKLOAD) == (
        f"COUNT(*), SUM(it_kwh), SUM(facility_kwh), SUM(location_kg), {market}, {water}, "
        "COALESCE(SUM(inferences), 0), COALESCE(SUM(tokens), 0), SUM(embodied_kg), "
        "SUM(energy_cost)"
    )
    # Billing lines carry no inference counts: 0, not NULL.
    assert rollup_select_sums(CLOUD_USAGE).endswith(
        f"{market}, {water}, 0, 0, SUM(embodied_kg), SUM(energy_cost)"
    )
    assert record_columns(CLOUD_USAGE) == (
        "it_kwh",
        "facility_kwh",
        "location_kg",
        "water_onsite_l",
        "water_offsite_l",
        "embodied_kg",
        "energy_cost_currency",
        "energy_cost",
    )
    assert ROLLUP_SUMS_SQL["tokens"] == "SUM(tokens)::bigint"


def test_a_new_figure_is_summed_where_its_records_carry_it_and_is_null_elsewhere():
    assert WATER.record_aggregate(WORKLOAD) == "SUM(water_l)"
    assert WATER.record_aggregate(CLOUD_USAGE) == "NULL"  # not available, never 0
    assert WATER.rollup_aggregate() == "SUM(water_l)"
    assert WATER.zero is None


def _row(**values) -> dict:
    return {**{f.column: 0 for f in FIGURES}, "unallocated_kwh": 0.0, **values}


def test_sums_add_rows_and_say_when_the_market_figure_is_incomplete():
    sums = Sums()
    sums.add(_row(record_count=2, facility_kwh=12.0, location_kg=0.6, market_kg=None,
                  unallocated_kwh=12.0))  # fmt: skip
    sums.add(_row(record_count=1, facility_kwh=12.0, location_kg=0.6, market_kg=1.2))
    totals = sums.totals()
    assert totals["record_count"] == 3
    assert totals["mwh"] == 0.024  # (12 + 12) kWh / 1000
    assert totals["location_t"] == 0.0012  # (0.6 + 0.6) kg / 1000
    assert totals["market_complete"] is False
    assert totals["unallocated_mwh"] == 0.012  # 12 kWh not yet allocated
    cloud = sums.totals(market_based=False)
    assert cloud["market_t"] is None and cloud["market_complete"] is None


def test_intensity_is_the_calculation_modules():
    # 2 kg over 50,000 inferences: 2 × 1000 g / 50,000 × 1000 = 40 g per 1k inferences
    figures = intensities(2.0, Sums(inferences=50_000, tokens=0))
    assert figures == {"g_per_1k_inferences": 40.0, "g_per_1m_tokens": None}
    assert intensities(None, Sums(inferences=10, tokens=10), prefix="market_") == {
        "market_g_per_1k_inferences": None,
        "market_g_per_1m_tokens": None,
    }
