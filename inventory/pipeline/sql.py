"""SQL shared by the compute modules: factor picks, window locks, portable helpers.

Every statement here runs on Postgres and on SQLite (the bare-machine default). Parameters
are named (``%(name)s``); both Django backends accept them.
"""

from datetime import date

from django.db import connection

# The PUE of a location when the record states none: the location's own, else its
# provider's published default from the active dataset (owned and colocation facilities use
# the dataset's "default" row), else the methodology default. inventory.calculation's
# resolve_pue with the record's PUE put first by the caller.
LOCATION_PUE = """COALESCE(
    l.pue,
    (SELECT pp.pue FROM inventory_providerpue pp
     WHERE pp.dataset_id = %(dataset)s
       AND pp.provider = CASE WHEN l.kind = 'cloud' THEN l.provider ELSE 'default' END),
    %(default_pue)s)"""

SCOPE = "CASE WHEN l.kind = 'cloud' THEN 'scope3_cat1' ELSE 'scope2' END"

# A record figure (kWh, W, seconds, billed quantity, copies) above this, or below zero, is a
# data error: the record fails with OUT_OF_RANGE instead of overflowing its window's
# arithmetic or sums (which would stop the whole organisation-month from computing).
MAX_FIGURE = 1e12
OUT_OF_RANGE = "A figure of the record is negative or above 1e12: correct and resend it"

# An organisation's grid-average override for the zone and day: the latest that starts on or
# before the day and has not ended; overrides never reach another organisation.
OVERRIDE_PICK = """(SELECT o.id FROM inventory_factoroverride o
     WHERE o.organisation_id = %(organisation)s AND o.zone = l.zone
       AND o.kind = 'grid_average'
       AND o.valid_from <= d.activity_date AND o.valid_to >= d.activity_date
     ORDER BY o.valid_from DESC, o.id DESC LIMIT 1)"""

# The organisation's electricity tariff of the facility on the day (cloud regions have none):
# the latest that starts on or before the day and has not ended.
TARIFF_PICK = """(SELECT t.id FROM inventory_electricitytariff t
     WHERE t.organisation_id = %(organisation)s AND t.location_id = d.location_id
       AND t.valid_from <= d.activity_date AND t.valid_to >= d.activity_date
     ORDER BY t.valid_from DESC, t.id DESC LIMIT 1)"""


# The WUE of a location and day: the organisation's facility setting valid that day (latest
# start first), or, for a cloud region, its provider's published WUE in the active dataset.
# Neither: no WUE, and the record's water is not available (docs/methodology.md, Water).
FACILITY_WUE_PICK = """(SELECT fw.id FROM inventory_facilitywue fw
     WHERE fw.organisation_id = %(organisation)s AND fw.location_id = l.id
       AND fw.valid_from <= d.activity_date AND fw.valid_to >= d.activity_date
     ORDER BY fw.valid_from DESC, fw.id DESC LIMIT 1)"""
CLOUD_WUE_PICK = """(SELECT cw.id FROM inventory_cloudwue cw
     WHERE l.kind = 'cloud' AND cw.dataset_id = %(dataset)s AND cw.provider = l.provider
       AND l.code = cw.provider || ':' || cw.region)"""

# The off-site water factor of a location's zone: its country's (a sub-national zone's
# country through inventory_zone) in the active dataset; none where the dataset has none.
OFFSITE_WATER_PICK = """(SELECT ow.id FROM inventory_offsitewaterfactor ow
     JOIN inventory_zone z ON z.country_iso = ow.country_iso
     WHERE ow.dataset_id = %(dataset)s AND z.code = l.zone)"""


def water_set(it_kwh: str, facility_kwh: str, measured: str = "NULL") -> str:
    """The SET lines of a compute UPDATE's water: on-site (inventory.calculation.water's
    onsite_water), the record's measured litres, else IT kWh × the day's WUE; off-site,
    facility kWh × the factor of the zone's country, with its row (``priced`` p)."""
    return f"""water_onsite_l = CASE WHEN {measured} IS NOT NULL THEN {measured}
        ELSE {it_kwh} * p.wue END,
    water_offsite_l = {facility_kwh} * p.offsite_water_l_per_kwh,
    offsite_water_factor_id = CASE WHEN {facility_kwh} IS NOT NULL
        THEN p.offsite_water_factor_id END,
    water_tier = CASE WHEN {measured} IS NOT NULL THEN 'measured'
        WHEN {it_kwh} IS NULL THEN ''
        WHEN p.facility_wue_id IS NOT NULL THEN 'facility'
        WHEN p.cloud_wue_id IS NOT NULL THEN 'provider' ELSE '' END,
    wue_used = CASE WHEN {measured} IS NULL THEN p.wue END,
    facility_wue_id = CASE WHEN {measured} IS NULL THEN p.facility_wue_id END,
    cloud_wue_id = CASE WHEN {measured} IS NULL THEN p.cloud_wue_id END,"""


def grid_factor_pick(activity_date: str, zone: str) -> str:
    """SQL choosing the library grid factor for a day, best first: the organisation's
    basis (direct by default), latest period not after the day; else the earliest after it
    (a zone whose data starts later); then the same with any basis.

    SQLite allows outer columns in a subquery's WHERE but not its ORDER BY, hence one
    subquery per preference inside COALESCE.
    """
    picks = []
    for basis in ("AND g.basis = %(basis)s", ""):
        for when, order in (("<=", "DESC"), (">", "ASC")):
            picks.append(
                "(SELECT g.id FROM inventory_gridfactor g"
                f" WHERE g.dataset_id = %(dataset)s AND g.zone = {zone}"
                " AND g.kind = 'grid_average'"
                f" AND g.month IS NULL AND g.period_start {when} {activity_date} {basis}"
                f" ORDER BY g.period_start {order}, g.basis LIMIT 1)"
            )
    return "COALESCE(" + ", ".join(picks) + ")"


def window_picks(keys_sql: str) -> str:
    """CTEs for a window's UPDATE: ``keys`` (the distinct join keys of its pending records,
    from keys_sql, with location_id and activity_date among them) and ``day_picks``: per
    (location, day), the zone, scope, location PUE, grid factor (override or library), WUE,
    off-site water factor and electricity tariff.

    MATERIALIZED: the factor picks run once per location and day, not once per record.
    """
    return f"""
keys AS MATERIALIZED ({keys_sql}),
day_factors AS MATERIALIZED (
    SELECT d.location_id, d.activity_date, l.zone, l.provider,
        {SCOPE} AS scope,
        {LOCATION_PUE} AS location_pue,
        {OVERRIDE_PICK} AS override_id,
        {TARIFF_PICK} AS tariff_id,
        {grid_factor_pick("d.activity_date", "l.zone")} AS grid_factor_id,
        {FACILITY_WUE_PICK} AS facility_wue_id,
        {CLOUD_WUE_PICK} AS cloud_wue_id,
        {OFFSITE_WATER_PICK} AS offsite_water_factor_id
    FROM (SELECT DISTINCT location_id, activity_date FROM keys) AS d
    JOIN inventory_location l ON l.id = d.location_id
),
day_picks AS MATERIALIZED (
    SELECT f.*, COALESCE(fo.kg_per_kwh, gf.kg_per_kwh) AS kg_per_kwh,
        COALESCE(fw.wue_l_per_kwh, cw.wue_l_per_kwh) AS wue,
        ow.l_per_kwh AS offsite_water_l_per_kwh,
        et.price_per_kwh AS tariff_price, et.currency AS tariff_currency
    FROM day_factors f
    LEFT JOIN inventory_factoroverride fo ON fo.id = f.override_id
    LEFT JOIN inventory_gridfactor gf ON gf.id = f.grid_factor_id
    LEFT JOIN inventory_facilitywue fw ON fw.id = f.facility_wue_id
    LEFT JOIN inventory_cloudwue cw ON cw.id = f.cloud_wue_id
    LEFT JOIN inventory_offsitewaterfactor ow ON ow.id = f.offsite_water_factor_id
    LEFT JOIN inventory_electricitytariff et ON et.id = f.tariff_id
)"""


def as_date(value) -> date:
    """A date from the database: SQLite returns ISO strings where Postgres returns dates."""
    return value if isinstance(value, date) else date.fromisoformat(value)


# (organisation, day) pairs holding pending records; {filter} adds conditions.
PENDING_DAYS_SQL = """
SELECT DISTINCT organisation_id, activity_date FROM inventory_workloadrecord
WHERE status = 'pending' {filter}
UNION
SELECT DISTINCT organisation_id, activity_date FROM inventory_cloudusagerecord
WHERE status = 'pending' {filter}
"""

# The result columns both compute UPDATEs end their SET with, and their window condition.
LINEAGE_SET = """factor_dataset_id = %(dataset)s,
    methodology_version = %(methodology_version)s,
    computed_at = %(now)s,"""
WINDOW_WHERE = """w.organisation_id = %(organisation)s AND w.status = 'pending'
  AND w.activity_date >= %(start)s AND w.activity_date < %(end)s /*only_w*/"""


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def in_list(prefix: str, values: list) -> tuple[str, dict]:
    """`%(p0)s, %(p1)s, ...` and the matching parameters, for an IN (...) list."""
    names = {f"{prefix}{n}": value for n, value in enumerate(values)}
    return ", ".join(f"%({name})s" for name in names), names


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


# Advisory locks (Postgres; SQLite has one writer at a time anyway). Two int4 keys: the
# organisation and a sub-key. Sub-key 1 is the organisation's rollup-and-market lock; a
# compute window (organisation × month) is 1_000_000 + year × 12 + month − 1.
_ORGANISATION_LOCK = 1
_WINDOW_LOCK_BASE = 1_000_000


def _window_key(month: date) -> int:
    return _WINDOW_LOCK_BASE + month.year * 12 + month.month - 1


def window_lock(organisation_id: int, month: date, *, wait: bool) -> bool:
    """Take the (organisation, month) compute window for this transaction.

    Whoever holds it is the only one computing, marking pending or rebuilding the rollups of
    that window, so two workers never compute the same record and a day's rollup is rebuilt
    from a complete set. Returns False when wait is False and another transaction holds it.
    """
    if not is_postgres():
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        # A worker killed mid-window: its backend notices within seconds, even inside a long
        # UPDATE or a lock wait, and rolls the window back instead of finishing it for nobody.
        cursor.execute("SET LOCAL client_connection_check_interval = 2000")
        # Recomputable work need not wait for its WAL flush. Commits stay atomic and in order:
        # a crash can only lose the last windows' results (their records are pending again,
        # and their batch, marked computed later, is lost with them, so the sweep redoes it).
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(f"SELECT {function}(%s, %s)", [organisation_id, _window_key(month)])
        acquired = cursor.fetchone()[0]
    return True if wait else bool(acquired)


def durable_commit() -> None:
    """Undo window_lock's synchronous_commit = off for the rest of this transaction: it also
    writes what must not be lost on a crash (a locked report)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = on")


def organisation_lock(organisation_id: int) -> None:
    """Serialise rollup rebuilds and the market allocation of one organisation.

    Always taken after a window lock, never before one, so waits cannot form a cycle.
    """
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [organisation_id, _ORGANISATION_LOCK]
            )


def run_compute_update(
    ctes: str,
    update: str,
    params: dict,
    *,
    rollup_select: str | None = None,
    fresh_days: list[date] | None = None,
) -> dict[tuple[date, str], int]:
    """Run `WITH <ctes> <update ... RETURNING activity_date, status, ...>`; count the rows.

    On Postgres the UPDATE sits in a data-modifying CTE so a million updated rows come back
    as a few (day, status, count) rows; SQLite has no such CTE and returns them row by row.

    Postgres fast path: for `fresh_days` (days with no rollup rows, so no computed records
    before this statement) the rollup rows are inserted in the same statement from the rows
    the UPDATE returned (rollup_select over them), instead of scanning the days again. The
    caller rebuilds the other days (inventory.pipeline.rollups.daily_rollups_rebuild, the
    portable twin; tests compare the two).
    """
    counts: dict[tuple[date, str], int] = {}
    with connection.cursor() as cursor:
        if is_postgres():
            rolled = ""
            if rollup_select and fresh_days:
                from inventory.pipeline.rollups import INSERT_INTO

                marks, day_params = in_list("fresh", fresh_days)
                params = {**params, **day_params}
                select = rollup_select.format(source="updated", where=f"activity_date IN ({marks})")
                rolled = f", rolled AS ({INSERT_INTO} {select} RETURNING 1)"
            # The planner cannot see how many rows a materialised CTE holds (it guesses one)
            # and would probe the records once per pick: hash joins, for this statement only.
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            # The updated rows are read twice (counts, rollups): keep them in memory.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(
                f"WITH {ctes}, updated AS ({update}){rolled} "
                "SELECT activity_date, status, COUNT(*) FROM updated "
                "GROUP BY activity_date, status",
                params,
            )
            for day, status, count in cursor.fetchall():
                counts[(day, status)] = count
            cursor.execute("SET LOCAL enable_nestloop = on")
            cursor.execute("SET LOCAL enable_mergejoin = on")
            cursor.execute("SET LOCAL work_mem = DEFAULT")
        else:
            cursor.execute(f"WITH {ctes} {update}", params)
            for row in cursor.fetchall():
                key = (as_date(row[0]), row[1])
                counts[key] = counts.get(key, 0) + 1
    return counts
