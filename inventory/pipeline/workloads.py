"""Workload records: one UPDATE computes every pending record of a window.

The expressions are inventory.calculation.energy's and emissions', in the same order of
operations (docs/methodology.md), so SQL and the pure engine agree to the last bit: the IT
energy by tier, the PUE (record, then location, then provider default, then methodology
default), facility energy unless the energy already includes a PUE, then kg at the grid
factor (the organisation's override, else the library's).

Factor picks are made once per distinct (location, day, hardware) of the window, not per
record: the UPDATE then joins that small table.
"""

from inventory.pipeline.sql import LOCATION_PUE, OVERRIDE_PICK, SCOPE, grid_factor_pick

_IT_KWH = """(CASE
    WHEN w.energy_kwh IS NOT NULL THEN w.energy_kwh
    WHEN w.avg_power_w IS NOT NULL
        THEN w.avg_power_w * w.device_count * w.duration_s / 3600000.0
    WHEN p.idle_w IS NOT NULL
        THEN (p.idle_w + COALESCE(w.utilization, %(utilization)s) * (p.max_w - p.idle_w))
            * w.device_count * w.duration_s / 3600000.0
    END)"""

_PUE = "COALESCE(w.pue, p.location_pue)"

_FACILITY_KWH = f"""(CASE WHEN w.energy_includes_pue THEN {_IT_KWH}
    ELSE {_IT_KWH} * {_PUE} END)"""

_TIER = """CASE WHEN w.energy_kwh IS NOT NULL THEN 'measured'
    WHEN w.avg_power_w IS NOT NULL THEN 'metered' ELSE 'modelled' END"""

_ERROR = f"""CASE
    WHEN {_IT_KWH} IS NULL
        THEN 'No energy rule applies: give energy_kwh, avg_power_w or a hardware code'
    WHEN p.kg_per_kwh IS NULL THEN 'No grid factor for zone ' || p.zone
    ELSE '' END"""

CTES = f"""
keys AS (
    SELECT DISTINCT location_id, activity_date, COALESCE(hardware_id, 0) AS hardware_key
    FROM inventory_workloadrecord
    WHERE organisation_id = %(organisation)s AND status = 'pending'
      AND activity_date >= %(start)s AND activity_date < %(end)s
),
picks AS (
    SELECT d.location_id AS pick_location, d.activity_date AS pick_day, d.hardware_key,
        l.zone, h.idle_w, h.max_w,
        {SCOPE} AS scope,
        {LOCATION_PUE} AS location_pue,
        {OVERRIDE_PICK} AS override_id,
        {grid_factor_pick("d.activity_date", "l.zone")} AS grid_factor_id
    FROM keys d
    JOIN inventory_location l ON l.id = d.location_id
    LEFT JOIN inventory_hardware h ON h.id = d.hardware_key
),
priced AS (
    SELECT picks.*, COALESCE(fo.kg_per_kwh, gf.kg_per_kwh) AS kg_per_kwh
    FROM picks
    LEFT JOIN inventory_factoroverride fo ON fo.id = picks.override_id
    LEFT JOIN inventory_gridfactor gf ON gf.id = picks.grid_factor_id
)"""

UPDATE = f"""
UPDATE inventory_workloadrecord AS w SET
    status = CASE WHEN ({_FACILITY_KWH}) * p.kg_per_kwh IS NULL
        THEN 'failed' ELSE 'computed' END,
    energy_tier = {_TIER},
    scope = p.scope,
    it_kwh = {_IT_KWH},
    pue_used = {_PUE},
    facility_kwh = {_FACILITY_KWH},
    grid_factor_id = p.grid_factor_id,
    factor_override_id = p.override_id,
    location_kg_per_kwh = p.kg_per_kwh,
    location_kg = {_FACILITY_KWH} * p.kg_per_kwh,
    factor_dataset_id = %(dataset)s,
    methodology_version = %(methodology_version)s,
    computed_at = %(now)s,
    compute_error = {_ERROR}
FROM priced AS p
WHERE w.organisation_id = %(organisation)s AND w.status = 'pending'
  AND w.activity_date >= %(start)s AND w.activity_date < %(end)s
  AND p.pick_location = w.location_id AND p.pick_day = w.activity_date
  AND p.hardware_key = COALESCE(w.hardware_id, 0)
RETURNING activity_date, status
"""
