"""Cloud usage records: one UPDATE computes every pending record of a window, CCF-style.

inventory.calculation.cloud's expressions, in the same order of operations
(docs/methodology.md §3): compute and GPU hours from the power row's idle and max watts
of the dataset version in use (the row of the record's hardware code; a compute record
without hardware uses the provider's ``unknown-cpu-<provider>`` row),
memory, storage and network from the dataset's cloud coefficients; times replication (the
record's, else DEFAULT_REPLICATION; never on network), then PUE once (region, provider,
methodology default), then kg at the grid factor; on-site water is IT kWh × the region's
published WUE (inventory.calculation.water).
"""

from inventory.figures import CLOUD_USAGE, record_columns
from inventory.pipeline.rollups import CLOUD_SELECT
from inventory.pipeline.sql import (
    LINEAGE_SET,
    OUT_OF_RANGE,
    WINDOW_WHERE,
    water_set,
    window_picks,
)

# The cloud_coefficients.csv key each usage kind reads (compute and gpu read a power row).
COEFFICIENT_KEYS = {
    "memory": "memory_kwh_per_gb_hour",
    "storage_ssd": "storage_ssd_wh_per_tb_hour",
    "storage_hdd": "storage_hdd_wh_per_tb_hour",
    "network": "network_kwh_per_gb",
}

_COEFFICIENT_KEY = (
    "CASE k.usage_kind "
    + " ".join(f"WHEN '{kind}' THEN '{key}'" for kind, key in COEFFICIENT_KEYS.items())
    + " END"
)

_REPLICATION = "COALESCE(w.replication, %(replication)s)"

_OUT_OF_RANGE = f"""(w.quantity < 0 OR w.quantity > %(max_figure)s
    OR {_REPLICATION} < 1 OR {_REPLICATION} > %(max_figure)s)"""

_IT_KWH = f"""(CASE
    WHEN {_OUT_OF_RANGE} THEN NULL
    WHEN w.usage_kind IN ('compute', 'gpu') AND p.idle_w IS NOT NULL
        THEN (p.idle_w + COALESCE(w.utilization, %(utilization)s) * (p.max_w - p.idle_w))
            * w.quantity * {_REPLICATION} / 1000.0
    WHEN w.usage_kind = 'memory' THEN w.quantity * p.coefficient * {_REPLICATION}
    WHEN w.usage_kind IN ('storage_ssd', 'storage_hdd')
        THEN w.quantity * p.coefficient * {_REPLICATION} / 1000.0
    WHEN w.usage_kind = 'network' AND {_REPLICATION} = %(replication)s
        THEN w.quantity * p.coefficient
    END)"""

_FACILITY_KWH = f"({_IT_KWH} * p.location_pue)"

# inventory.calculation.embodied: GPU-hours amortise the GPU's embodied row like a
# workload's device-hours; vCPU-hours of a known instance type amortise the platform's
# (CCF): their share of the family's largest size is vcpu_hours / family_vcpus host-hours.
# NULL when no row applies (unknown instance type, or none billed).
_EMBODIED_KG = f"""(CASE WHEN {_OUT_OF_RANGE} THEN NULL
    WHEN w.usage_kind = 'compute' THEN p.instance_kg_co2e / p.instance_lifetime_hours
        * (w.quantity / p.family_vcpus)
    ELSE p.embodied_kg_co2e / p.lifetime_hours * w.quantity END)"""

_ERROR = f"""CASE
    WHEN {_OUT_OF_RANGE} THEN '{OUT_OF_RANGE}'
    WHEN w.usage_kind IN ('compute', 'gpu') AND p.idle_w IS NULL
        THEN w.usage_kind || ' usage needs the hardware''s power profile'
    WHEN w.usage_kind = 'network' AND {_REPLICATION} <> %(replication)s
        THEN 'Replication does not apply to network transfer'
    WHEN {_IT_KWH} IS NULL
        THEN 'No cloud coefficient for ' || w.usage_kind || ' in the factor dataset'
    WHEN p.kg_per_kwh IS NULL THEN 'No grid factor for zone ' || p.zone
    ELSE '' END"""

CTES = (
    window_picks(
        """SELECT DISTINCT location_id, activity_date, usage_kind,
        COALESCE(hardware_id, 0) AS hardware_key, instance_type
    FROM inventory_cloudusagerecord
    WHERE organisation_id = %(organisation)s
      AND activity_date >= %(start)s AND activity_date < %(end)s /*only*/"""
    )
    + f""",
models AS MATERIALIZED (
    SELECT k.location_id, k.activity_date, k.usage_kind, k.hardware_key, k.instance_type,
        p.provider,
        CASE
            WHEN k.usage_kind NOT IN ('compute', 'gpu') THEN NULL
            WHEN k.hardware_key <> 0
                THEN (SELECT u.id FROM inventory_hardware u
                      JOIN inventory_hardware named ON named.code = u.code
                      WHERE named.id = k.hardware_key AND u.dataset_id = %(dataset)s)
            WHEN k.usage_kind = 'compute'
                THEN (SELECT u.id FROM inventory_hardware u
                      WHERE u.dataset_id = %(dataset)s AND u.code = 'unknown-cpu-' || p.provider)
        END AS power_model_id,
        (SELECT c.id FROM inventory_cloudcoefficient c
         WHERE c.dataset_id = %(dataset)s AND c.key = {_COEFFICIENT_KEY}) AS coefficient_id
    FROM keys k
    JOIN day_picks p ON p.location_id = k.location_id AND p.activity_date = k.activity_date
),
priced AS MATERIALIZED (
    SELECT m.location_id AS pick_location, m.activity_date AS pick_day, m.usage_kind,
        m.hardware_key, m.instance_type, m.power_model_id, m.coefficient_id, h.idle_w, h.max_w,
        c.value AS coefficient, p.zone, p.scope AS pick_scope, p.location_pue, p.override_id,
        p.grid_factor_id, p.kg_per_kwh, p.facility_wue_id, p.cloud_wue_id, p.wue,
        p.offsite_water_factor_id, p.offsite_water_l_per_kwh,
        e.id AS embodied_id, e.kg_co2e AS embodied_kg_co2e, e.lifetime_hours,
        ie.id AS instance_embodied_id, ie.kg_co2e AS instance_kg_co2e,
        ie.lifetime_hours AS instance_lifetime_hours, ie.family_vcpus
    FROM models m
    JOIN day_picks p ON p.location_id = m.location_id AND p.activity_date = m.activity_date
    LEFT JOIN inventory_hardware h ON h.id = m.power_model_id
    LEFT JOIN inventory_cloudcoefficient c ON c.id = m.coefficient_id
    LEFT JOIN inventory_embodiedfactor e ON m.usage_kind = 'gpu'
        AND e.dataset_id = %(dataset)s AND e.hardware_code = h.code
    -- Case-insensitive, as Azure sizes are (CCF writes B2S for B2s); EC2 types are lower case.
    LEFT JOIN inventory_cloudinstanceembodied ie ON m.usage_kind = 'compute'
        AND ie.dataset_id = %(dataset)s AND ie.provider = m.provider
        AND lower(ie.instance_type) = lower(m.instance_type)
)"""
)

UPDATE = f"""
UPDATE inventory_cloudusagerecord AS w SET
    status = CASE WHEN {_FACILITY_KWH} * p.kg_per_kwh IS NULL
        THEN 'failed' ELSE 'computed' END,
    energy_tier = 'modelled',
    scope = p.pick_scope,
    it_kwh = {_IT_KWH},
    pue_used = p.location_pue,
    facility_kwh = {_FACILITY_KWH},
    grid_factor_id = p.grid_factor_id,
    factor_override_id = p.override_id,
    location_kg_per_kwh = p.kg_per_kwh,
    location_kg = {_FACILITY_KWH} * p.kg_per_kwh,
    power_model_id = p.power_model_id,
    coefficient_id = p.coefficient_id,
    replication_used = {_REPLICATION},
    {water_set(_IT_KWH, _FACILITY_KWH)}
    embodied_kg = {_EMBODIED_KG},
    embodied_factor_id = p.embodied_id,
    instance_embodied_id = p.instance_embodied_id,
    energy_cost = w.cost,
    energy_cost_currency = CASE WHEN w.cost IS NOT NULL THEN w.currency ELSE '' END,
    {LINEAGE_SET}
    compute_error = {_ERROR}
FROM priced AS p
WHERE {WINDOW_WHERE}
  AND p.pick_location = w.location_id AND p.pick_day = w.activity_date
  AND p.usage_kind = w.usage_kind AND p.hardware_key = COALESCE(w.hardware_id, 0)
  AND p.instance_type = w.instance_type
RETURNING activity_date, status, organisation_id, team_id, ai_model_id, location_id,
    energy_tier, scope, {", ".join(record_columns(CLOUD_USAGE))}
"""

# The rollup rows of the records the UPDATE computed (its RETURNING columns).
ROLLUP_SELECT = CLOUD_SELECT
