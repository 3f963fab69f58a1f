"""Workload records: one UPDATE computes every pending record of a window.

The expressions are inventory.calculation.energy's and emissions', in the same order of
operations (docs/methodology.md), so SQL and the pure engine agree to the last bit: the IT
energy by tier, the PUE (record, then location, then provider default, then methodology
default; none, i.e. 1.0, when the energy already includes one), facility energy, then kg at the grid
factor (the organisation's override, else the library's); on-site water: the record's
measured litres, else IT kWh × the facility's (or the cloud region's) WUE.

Factor picks are made once per distinct (location, day) of the window and hardware rows
joined once per distinct (location, day, hardware), not per record: the UPDATE then joins
that small table. Hardware rows are versioned: the record names its device by a row of the
version it arrived under; the watts are those of the same code in the version in use.
"""

from inventory.figures import WORKLOAD, record_columns
from inventory.pipeline.rollups import WORKLOAD_SELECT
from inventory.pipeline.sql import (
    LINEAGE_SET,
    OUT_OF_RANGE,
    WINDOW_WHERE,
    water_set,
    window_picks,
)

_OUT_OF_RANGE = """(w.energy_kwh < 0 OR w.energy_kwh > %(max_figure)s
    OR w.avg_power_w < 0 OR w.avg_power_w > %(max_figure)s
    OR w.duration_s < 0 OR w.duration_s > %(max_figure)s)"""

_IT_KWH = f"""(CASE
    WHEN {_OUT_OF_RANGE} THEN NULL
    WHEN w.energy_kwh IS NOT NULL THEN w.energy_kwh
    WHEN w.avg_power_w IS NOT NULL
        THEN w.avg_power_w * w.device_count * w.duration_s / 3600000.0
    WHEN p.idle_w IS NOT NULL
        THEN (p.idle_w + COALESCE(w.utilization, %(utilization)s) * (p.max_w - p.idle_w))
            * w.device_count * w.duration_s / 3600000.0
    END)"""

_PUE = "COALESCE(w.pue, p.location_pue)"

# The PUE the portal applies, and the one its lineage (pue_used) states: 1.0 when the energy
# already includes one (CodeCarbon's), so facility kWh = IT kWh × pue_used always holds.
# IT kWh × 1.0 is exactly the engine's figure (× 1.0 is exact in IEEE 754), with the IT
# expression evaluated once here instead of in both branches.
_PUE_APPLIED = f"CASE WHEN w.energy_includes_pue THEN 1.0 ELSE {_PUE} END"
_FACILITY_KWH = f"""({_IT_KWH} * {_PUE_APPLIED})"""

# inventory.calculation.embodied: kg_co2e / lifetime_hours * device-hours (NULL when the
# device has no published figure or names no hardware).
_EMBODIED_KG = f"""(CASE WHEN {_OUT_OF_RANGE} THEN NULL
    ELSE p.embodied_kg_co2e / p.lifetime_hours * (w.device_count * w.duration_s / 3600.0) END)"""

# inventory.calculation.cost.record_cost: the record's own cost, else facility kWh × tariff.
_TARIFF_COST = f"({_FACILITY_KWH} * p.tariff_price)"

_TIER = """CASE WHEN w.energy_kwh IS NOT NULL THEN 'measured'
    WHEN w.avg_power_w IS NOT NULL THEN 'metered' ELSE 'modelled' END"""

_ERROR = f"""CASE
    WHEN {_OUT_OF_RANGE} THEN '{OUT_OF_RANGE}'
    WHEN {_IT_KWH} IS NULL
        THEN 'No energy rule applies: give energy_kwh, avg_power_w or a hardware code'
    WHEN p.kg_per_kwh IS NULL THEN 'No grid factor for zone ' || p.zone
    ELSE '' END"""

CTES = (
    window_picks(
        """SELECT DISTINCT location_id, activity_date, COALESCE(hardware_id, 0) AS hardware_key
    FROM inventory_workloadrecord
    WHERE organisation_id = %(organisation)s
      AND activity_date >= %(start)s AND activity_date < %(end)s /*only*/"""
    )
    + """,
priced AS MATERIALIZED (
    SELECT k.location_id AS pick_location, k.activity_date AS pick_day, k.hardware_key,
        h.id AS power_model_id, h.idle_w, h.max_w, p.zone, p.scope AS pick_scope,
        p.location_pue, p.override_id, p.grid_factor_id, p.kg_per_kwh,
        p.facility_wue_id, p.cloud_wue_id, p.wue,
        p.offsite_water_factor_id, p.offsite_water_l_per_kwh,
        p.tariff_id, p.tariff_price, p.tariff_currency,
        e.id AS embodied_id, e.kg_co2e AS embodied_kg_co2e, e.lifetime_hours
    FROM keys k
    JOIN day_picks p ON p.location_id = k.location_id AND p.activity_date = k.activity_date
    LEFT JOIN inventory_hardware named ON named.id = k.hardware_key
    LEFT JOIN inventory_hardware h ON h.dataset_id = %(dataset)s AND h.code = named.code
    LEFT JOIN inventory_embodiedfactor e
        ON e.dataset_id = %(dataset)s AND e.hardware_code = named.code
)"""
)

UPDATE = f"""
UPDATE inventory_workloadrecord AS w SET
    status = CASE WHEN ({_FACILITY_KWH}) * p.kg_per_kwh IS NULL
        THEN 'failed' ELSE 'computed' END,
    energy_tier = {_TIER},
    scope = p.pick_scope,
    it_kwh = {_IT_KWH},
    pue_used = {_PUE_APPLIED},
    facility_kwh = {_FACILITY_KWH},
    grid_factor_id = p.grid_factor_id,
    factor_override_id = p.override_id,
    location_kg_per_kwh = p.kg_per_kwh,
    location_kg = {_FACILITY_KWH} * p.kg_per_kwh,
    power_model_id = CASE WHEN w.energy_kwh IS NULL AND w.avg_power_w IS NULL
        THEN p.power_model_id END,
    {water_set(_IT_KWH, _FACILITY_KWH, "w.water_l")}
    embodied_kg = {_EMBODIED_KG},
    embodied_factor_id = p.embodied_id,
    energy_cost = COALESCE(w.cost, {_TARIFF_COST}),
    energy_cost_currency = CASE WHEN w.cost IS NOT NULL THEN w.currency
        WHEN {_TARIFF_COST} IS NOT NULL THEN p.tariff_currency ELSE '' END,
    tariff_id = CASE WHEN w.cost IS NULL AND {_TARIFF_COST} IS NOT NULL THEN p.tariff_id END,
    {LINEAGE_SET}
    compute_error = {_ERROR}
FROM priced AS p
WHERE {WINDOW_WHERE}
  AND p.pick_location = w.location_id AND p.pick_day = w.activity_date
  AND p.hardware_key = COALESCE(w.hardware_id, 0)
RETURNING activity_date, status, organisation_id, team_id, ai_model_id, location_id,
    phase, energy_tier, scope, {", ".join(record_columns(WORKLOAD))}
"""

# The rollup rows of the records the UPDATE computed (its RETURNING columns).
ROLLUP_SELECT = WORKLOAD_SELECT
