"""The computation pipeline: pending records → results → daily rollups, set-based in SQL.

The SQL implements inventory.calculation's formulas with the same order of operations, so
both give the same floats (tests/inventory/test_pipeline.py runs both on the same records).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organisation
from inventory.calculation.methodology import (
    DEFAULT_FACILITY_PUE,
    DEFAULT_UTILIZATION,
    METHODOLOGY_VERSION,
)
from inventory.factor_library import active_dataset

logger = logging.getLogger(__name__)

# One pass over the pending records: pick the PUE and the factor rows, then the energy and kg.
_COMPUTE_SQL = """
UPDATE inventory_workloadrecord AS w SET
    status = CASE WHEN src.kg_per_kwh IS NULL THEN 'failed' ELSE 'computed' END,
    energy_tier = src.energy_tier,
    scope = src.scope,
    it_kwh = src.it_kwh,
    pue_used = src.pue_used,
    facility_kwh = src.facility_kwh,
    grid_factor_id = src.grid_factor_id,
    factor_override_id = src.override_id,
    location_kg_per_kwh = src.kg_per_kwh,
    location_kg = src.facility_kwh * src.kg_per_kwh,
    methodology_version = %s,
    computed_at = %s,
    compute_error = CASE WHEN src.kg_per_kwh IS NULL
        THEN 'No grid factor for zone ' || src.zone ELSE '' END
FROM (
    SELECT picked.*,
        CASE WHEN picked.energy_includes_pue THEN picked.it_kwh
             ELSE picked.it_kwh * picked.pue_used END AS facility_kwh,
        COALESCE(fo.kg_per_kwh, gf.kg_per_kwh) AS kg_per_kwh
    FROM (
        SELECT r.id, r.energy_includes_pue, l.zone,
            CASE WHEN r.energy_kwh IS NOT NULL THEN 'measured'
                 WHEN r.avg_power_w IS NOT NULL THEN 'metered'
                 ELSE 'modelled' END AS energy_tier,
            CASE WHEN l.kind = 'cloud' THEN 'scope3_cat1' ELSE 'scope2' END AS scope,
            CASE WHEN r.energy_kwh IS NOT NULL THEN r.energy_kwh
                 WHEN r.avg_power_w IS NOT NULL
                     THEN r.avg_power_w * r.device_count * r.duration_s / 3600000.0
                 ELSE (h.idle_w + COALESCE(r.utilization, %s) * (h.max_w - h.idle_w))
                     * r.device_count * r.duration_s / 3600000.0 END AS it_kwh,
            COALESCE(
                r.pue,
                l.pue,
                (SELECT pp.pue FROM inventory_providerpue pp
                 WHERE pp.dataset_id = %s
                   AND pp.provider = CASE WHEN l.kind = 'cloud' THEN l.provider
                                          ELSE 'default' END),
                %s
            ) AS pue_used,
            (SELECT o.id FROM inventory_factoroverride o
             WHERE o.organisation_id = r.organisation_id AND o.zone = l.zone
               AND o.kind = 'grid_average'
               AND o.valid_from <= r.activity_date AND o.valid_to >= r.activity_date
             ORDER BY o.valid_from DESC, o.id DESC LIMIT 1) AS override_id,
            {grid_factor_pick} AS grid_factor_id
        FROM inventory_workloadrecord r
        JOIN accounts_organisation org ON org.id = r.organisation_id
        JOIN inventory_location l ON l.id = r.location_id
        LEFT JOIN inventory_hardware h ON h.id = r.hardware_id
        WHERE r.status = 'pending' {scope_filter}
    ) AS picked
    LEFT JOIN inventory_factoroverride fo ON fo.id = picked.override_id
    LEFT JOIN inventory_gridfactor gf ON gf.id = picked.grid_factor_id
) AS src
WHERE w.id = src.id AND w.status = 'pending'
RETURNING organisation_id, activity_date
"""


def _grid_factor_pick() -> str:
    """SQL choosing the library grid factor for a record, best first: the organisation's
    basis (direct by default), latest period not after the activity; else the earliest after
    it (a zone whose data starts later); then the same with any basis.

    SQLite allows outer columns in a subquery's WHERE but not its ORDER BY, hence one
    subquery per preference inside COALESCE.
    """
    picks = []
    for basis in ("AND g.basis = org.factor_basis", ""):
        for when, order in (("<=", "DESC"), (">", "ASC")):
            picks.append(
                "(SELECT g.id FROM inventory_gridfactor g"
                " WHERE g.dataset_id = %s AND g.zone = l.zone AND g.kind = 'grid_average'"
                f" AND g.month IS NULL AND g.period_start {when} r.activity_date {basis}"
                f" ORDER BY g.period_start {order}, g.basis LIMIT 1)"
            )
    return "COALESCE(" + ", ".join(picks) + ")"


_ROLLUP_DELETE_SQL = """
DELETE FROM inventory_dailyrollup WHERE organisation_id = %s AND day IN ({days})
"""

_ROLLUP_INSERT_SQL = """
INSERT INTO inventory_dailyrollup (
    organisation_id, day, team_id, ai_model_id, location_id, record_kind, phase, energy_tier,
    scope, record_count, it_kwh, facility_kwh, location_kg, inferences, tokens
)
SELECT organisation_id, activity_date, team_id, ai_model_id, location_id, 'workload', phase,
       energy_tier, scope, COUNT(*), SUM(it_kwh), SUM(facility_kwh), SUM(location_kg),
       COALESCE(SUM(inferences), 0), COALESCE(SUM(tokens), 0)
FROM inventory_workloadrecord
WHERE organisation_id = %s AND activity_date IN ({days}) AND status = 'computed'
GROUP BY organisation_id, activity_date, team_id, ai_model_id, location_id, phase,
         energy_tier, scope
"""


@dataclass(frozen=True)
class ComputeResult:
    computed: int
    days_rolled_up: int


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def daily_rollups_rebuild(*, organisation_id: int, days: list[date]) -> None:
    """Recompute the rollup rows of these days from the computed records (one org)."""
    days = sorted(set(days))
    with connection.cursor() as cursor:
        for start in range(0, len(days), 500):
            chunk = days[start : start + 500]
            marks = _placeholders(len(chunk))
            cursor.execute(_ROLLUP_DELETE_SQL.format(days=marks), [organisation_id, *chunk])
            cursor.execute(_ROLLUP_INSERT_SQL.format(days=marks), [organisation_id, *chunk])


@transaction.atomic
def workload_records_compute(*, batch_id: int | None = None) -> ComputeResult:
    """Compute every pending record (of one batch, if given) and refresh the affected rollups.

    One transaction: a worker killed midway leaves nothing half-done, and a second run finds
    only what is still pending, so nothing is computed twice.
    """
    dataset = active_dataset()
    scope_filter, scope_params = ("AND r.batch_id = %s", [batch_id]) if batch_id else ("", [])
    params = [
        METHODOLOGY_VERSION,
        timezone.now(),
        DEFAULT_UTILIZATION,
        dataset.id,
        DEFAULT_FACILITY_PUE,
        *[dataset.id] * 4,
        *scope_params,
    ]
    with connection.cursor() as cursor:
        sql = _COMPUTE_SQL.format(
            scope_filter=scope_filter,
            grid_factor_pick=_grid_factor_pick(),
        )
        cursor.execute(sql, params)
        touched = cursor.fetchall()
    days_by_org: dict[int, set[date]] = defaultdict(set)
    for organisation_id, day in touched:
        days_by_org[organisation_id].add(_as_date(day))
    # Rollup rebuilds of one organisation take turns, or two could insert the same day twice.
    for organisation_id in sorted(days_by_org):
        Organisation.objects.select_for_update().filter(pk=organisation_id).first()
        daily_rollups_rebuild(
            organisation_id=organisation_id, days=list(days_by_org[organisation_id])
        )
    days = sum(len(d) for d in days_by_org.values())
    logger.info("computed records", extra={"batch_id": batch_id, "computed": len(touched)})
    return ComputeResult(computed=len(touched), days_rolled_up=days)
