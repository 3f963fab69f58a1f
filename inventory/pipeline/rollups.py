"""Daily rollups: per organisation × day × team × model × location × kind × phase × tier ×
scope, rebuilt from the computed records of the days a computation touched.

Dashboards and reports read only these. Cloud usage rows have phase "other" (billing lines
carry none). Scope 3 rows get market_kg = location_kg at once (docs/methodology.md §5: only
Scope 2 is allocated instruments; inventory.figures.MARKET_EMISSIONS); Scope 2 rows get
theirs from the market allocation.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connection

from inventory.figures import (
    CLOUD_USAGE,
    CURRENCY_COLUMN,
    PER_CURRENCY_COLUMNS,
    ROLLUP_COLUMNS,
    ROLLUP_ROW_SPLITS,
    WORKLOAD,
    rollup_select_sums,
)
from inventory.pipeline.sql import PENDING_DAYS_SQL, as_date, in_list, month_start, next_month

_GROUP = "organisation_id, activity_date, team_id, ai_model_id, location_id"

# A rollup row's columns after (organisation_id, day): its dimensions, then its sums.
_DIMENSIONS = (
    f"team_id, ai_model_id, location_id, record_kind, phase, energy_tier, scope, {CURRENCY_COLUMN}"
)
_SUMMED = ROLLUP_COLUMNS + PER_CURRENCY_COLUMNS
INSERT_INTO = f"""INSERT INTO inventory_dailyrollup (
    organisation_id, day, {_DIMENSIONS}, {", ".join(_SUMMED)}
)"""

# The rollup rows of computed records: of the tables (rebuild), or of the rows a compute
# UPDATE returned (inventory.pipeline.sql.run_compute_update's fast path). The figures'
# sums come from their declaration (inventory.figures).
WORKLOAD_SELECT = f"""
SELECT {_GROUP}, 'workload', phase, energy_tier, scope, {CURRENCY_COLUMN},
    {rollup_select_sums(WORKLOAD)}
FROM {{source}}
WHERE {{where}} AND status = 'computed'
GROUP BY {_GROUP}, phase, energy_tier, scope, {CURRENCY_COLUMN}"""

CLOUD_SELECT = f"""
SELECT {_GROUP}, 'cloud_usage', 'other', energy_tier, scope, {CURRENCY_COLUMN},
    {rollup_select_sums(CLOUD_USAGE)}
FROM {{source}}
WHERE {{where}} AND status = 'computed'
GROUP BY {_GROUP}, energy_tier, scope, {CURRENCY_COLUMN}"""

_DAYS = "organisation_id = %(organisation)s AND activity_date IN ({days})"
_INSERT_SQL = (
    INSERT_INTO
    + WORKLOAD_SELECT.format(source="inventory_workloadrecord", where=_DAYS)
    + "\nUNION ALL"
    + CLOUD_SELECT.format(source="inventory_cloudusagerecord", where=_DAYS)
)

# Per (organisation, day): the raw sums of computed records, and the rollups' sums.
_CHECK_SQL = """
SELECT organisation_id, day, SUM(n), SUM(kwh), SUM(kg) FROM (
    SELECT organisation_id, activity_date AS day, COUNT(*) AS n, SUM(facility_kwh) AS kwh,
           SUM(location_kg) AS kg
    FROM inventory_workloadrecord WHERE status = 'computed' {record_filter}
    GROUP BY organisation_id, activity_date
    UNION ALL
    SELECT organisation_id, activity_date, COUNT(*), SUM(facility_kwh), SUM(location_kg)
    FROM inventory_cloudusagerecord WHERE status = 'computed' {record_filter}
    GROUP BY organisation_id, activity_date
) AS raw GROUP BY organisation_id, day
"""

_ROLLUP_SUMS_SQL = """
SELECT organisation_id, day, SUM(record_count), SUM(facility_kwh), SUM(location_kg)
FROM {table} {rollup_filter} GROUP BY organisation_id, day
"""

# A month's daily rows summed per dimension, and per row condition readers sum by
# (ROLLUP_SUMS' unallocated kWh...): a monthly row then stands for its days in every sum.
_MONTHLY_INSERT_SQL = f"""
INSERT INTO inventory_monthlyrollup (organisation_id, day, {_DIMENSIONS}, {", ".join(_SUMMED)})
SELECT organisation_id, %(month)s, {_DIMENSIONS}, {", ".join(f"SUM({c})" for c in _SUMMED)}
FROM inventory_dailyrollup
WHERE organisation_id = %(organisation)s AND day >= %(month)s AND day < %(next)s
GROUP BY organisation_id, {_DIMENSIONS}, {", ".join(ROLLUP_ROW_SPLITS)}
"""


def daily_rollups_rebuild(*, organisation_id: int, days: Iterable[date]) -> int:
    """Replace the rollup rows of these days of one organisation by fresh sums.

    The caller holds the organisation lock (inventory.pipeline.sql.organisation_lock), and the
    window locks of the days, so the records of these days cannot change meanwhile.
    """
    days = sorted(set(days))
    with connection.cursor() as cursor:
        for start in range(0, len(days), 400):
            marks, params = in_list("day", days[start : start + 400])
            params["organisation"] = organisation_id
            cursor.execute(
                f"DELETE FROM inventory_dailyrollup "
                f"WHERE organisation_id = %(organisation)s AND day IN ({marks})",
                params,
            )
            cursor.execute(_INSERT_SQL.format(days=marks), params)
    monthly_rollups_refresh(organisation_id=organisation_id, months=days)
    return len(days)


def monthly_rollups_refresh(*, organisation_id: int, months: Iterable[date] | None = None) -> None:
    """Replace the monthly rollups of these months (any day of them) of one organisation by
    the sums of their daily rollups; run by every writer of daily rollups, under its locks.
    `months` None: every month (after daily rows written in bulk: benches, tests)."""
    with connection.cursor() as cursor:
        if months is None:
            cursor.execute(
                "SELECT DISTINCT day FROM inventory_dailyrollup WHERE organisation_id = %s",
                [organisation_id],
            )
            months = sorted({month_start(as_date(day)) for (day,) in cursor.fetchall()})
            cursor.execute(
                "DELETE FROM inventory_monthlyrollup WHERE organisation_id = %s", [organisation_id]
            )
        else:
            months = sorted({month_start(month) for month in months})
            if not months:
                return
            marks, params = in_list("month", months)
            params["organisation"] = organisation_id
            cursor.execute(
                f"DELETE FROM inventory_monthlyrollup "
                f"WHERE organisation_id = %(organisation)s AND day IN ({marks})",
                params,
            )
        for month in months:
            cursor.execute(
                _MONTHLY_INSERT_SQL,
                {"organisation": organisation_id, "month": month, "next": next_month(month)},
            )


def days_with_rollups(*, organisation_id: int, start: date, end: date) -> set[date]:
    """Days of [start, end) that have rollup rows, i.e. computed records (the rollups hold
    every computed record of a day they were rebuilt for, and only those)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT day FROM inventory_dailyrollup WHERE organisation_id = %s "
            "AND day >= %s AND day < %s",
            [organisation_id, start, end],
        )
        return {as_date(day) for (day,) in cursor.fetchall()}


def rollup_mismatches(
    *, organisation_id: int | None = None, tolerance_kg: float = 0.0005
) -> list[dict]:
    """Days whose daily rollups differ from the raw sums of their computed records (`grain`
    "day"), and months whose monthly rollups differ from the sums of their daily rollups
    (`grain` "month", `day` the month's first day).

    Counts must be equal; kWh and kg within tolerance_kg (half a gram), which only floating
    point summation order can explain. Days with records still pending (a computation or a
    recalculation under way) are left out: their rollups are rebuilt when they are computed.
    """
    record_filter, rollup_filter, params = "", "", {}
    if organisation_id is not None:
        record_filter = "AND organisation_id = %(organisation)s"
        rollup_filter = "WHERE organisation_id = %(organisation)s"
        params["organisation"] = organisation_id
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL.format(record_filter=record_filter), params)
        raw = {(o, as_date(d)): (n, kwh, kg) for o, d, n, kwh, kg in cursor.fetchall()}
        sums = {}
        for table in ("inventory_dailyrollup", "inventory_monthlyrollup"):
            sql = _ROLLUP_SUMS_SQL.format(table=table, rollup_filter=rollup_filter)
            cursor.execute(sql, params)
            sums[table] = {(o, as_date(d)): row for o, d, *row in cursor.fetchall()}
        cursor.execute(PENDING_DAYS_SQL.format(filter=record_filter), params)
        pending = {(o, as_date(d)) for o, d in cursor.fetchall()}
    daily, monthly = sums["inventory_dailyrollup"], sums["inventory_monthlyrollup"]
    daily_by_month: dict[tuple[int, date], tuple] = {}
    for (organisation, day), row in daily.items():
        key = (organisation, month_start(day))
        summed = daily_by_month.get(key, (0, 0.0, 0.0))
        daily_by_month[key] = tuple((a or 0) + (b or 0) for a, b in zip(summed, row, strict=True))
    return [
        *_differing("day", raw, daily, skip=pending, tolerance_kg=tolerance_kg),
        *_differing("month", daily_by_month, monthly, skip=set(), tolerance_kg=tolerance_kg),
    ]


def _differing(
    grain: str, expected: dict, found: dict, *, skip: set, tolerance_kg: float
) -> list[dict]:
    """The keys whose (records, kWh, kg) differ between two sums, as rollup_mismatches."""
    mismatches = []
    for key in sorted((expected.keys() | found.keys()) - skip):
        n_expected, kwh_expected, kg_expected = expected.get(key, (0, 0.0, 0.0))
        n_found, kwh_found, kg_found = found.get(key, (0, 0.0, 0.0))
        if (
            n_expected != n_found
            or abs((kwh_expected or 0.0) - (kwh_found or 0.0)) > tolerance_kg
            or abs((kg_expected or 0.0) - (kg_found or 0.0)) > tolerance_kg
        ):
            mismatches.append(
                {
                    "organisation_id": key[0],
                    "grain": grain,
                    "day": key[1],
                    "records": (n_expected, n_found),
                    "facility_kwh": (kwh_expected, kwh_found),
                    "location_kg": (kg_expected, kg_found),
                }
            )
    return mismatches
