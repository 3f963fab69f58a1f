"""Reads for the dashboard pages (overview, team, model, data quality).

Every figure comes from a few grouped scans of the caller's rollups (`rollup_cube`, one per
family of charts, each returning few rows), regrouped in Python for each chart. Raw records
are read only for what rollups do not carry (hardware, waiting and failed records), always
bounded.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from accounts.models import Team
from accounts.principal import Principal
from accounts.selectors import team_list
from greenai_portal.db import table
from inventory.figures import (
    CURRENCY_COLUMN,
    ENERGY_COST,
    ROLLUP_COLUMNS,
    ROLLUP_SUMS,
    ROLLUP_SUMS_SQL,
    Sums,
)
from inventory.models import (
    AiModel,
    CloudUsageRecord,
    ComputeStatus,
    EmissionScope,
    Hardware,
    IngestBatch,
    InstrumentKind,
    Location,
    MarketAllocation,
    RecalculationJob,
    WorkloadRecord,
)
from inventory.pipeline.sql import as_date, in_list
from inventory.pipeline.status import records_waiting as pipeline_records_waiting
from inventory.selectors import rollup_sources_visible, rollups_visible
from reports.cost_sci_selectors import (
    CUBE_COST_SUMS,
    CUBE_COST_SUMS_SQL,
    CostLine,
    cost_lines_summed,
)

# What the overview needs: one grouping per family of charts (each is one indexed scan of
# the period's rollups returning few rows; one grouping by every field would return tens of
# thousands of rows for a large organisation and make Python do the database's work).
# The grouping by location also splits by currency (a location's rows have one currency or
# none: few more rows) and sums the cost (CUBE_COST_SUMS) for the cost card; phases and
# tiers share one grouping (each grouping set costs every row its sums once more).
OVERVIEW_GROUPINGS = (
    ("month", "team_id", "scope", "location_id", CURRENCY_COLUMN),
    ("ai_model_id", "scope"),
    ("month", "phase", "scope", "energy_tier"),
)
RENEWABLE_KINDS = (InstrumentKind.EAC, InstrumentKind.PPA, InstrumentKind.GREEN_TARIFF)
# Hardware and record lists read at most this many of the latest matching records.
RECORD_SAMPLE = 5000
FAILED_WINDOW = 20000


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # exclusive
    team_id: int | None = None
    model_id: int | None = None
    location_id: int | None = None
    scope: str | None = None

    def rollups(self, principal: Principal, start: date | None = None, end: date | None = None):
        rows = rollups_visible(principal=principal, start=start or self.start, end=end or self.end)
        return self._narrowed(rows)

    def rollup_sources(
        self, principal: Principal, start: date | None = None, end: date | None = None
    ) -> list[QuerySet]:
        """`rollups` for reads grouped by month or coarser, whole months read from the
        monthly rollups (inventory.selectors.rollup_sources_visible)."""
        sources = rollup_sources_visible(
            principal=principal, start=start or self.start, end=end or self.end
        )
        return [self._narrowed(rows) for rows in sources]

    def _narrowed(self, rows: QuerySet) -> QuerySet:
        if self.team_id:
            rows = rows.filter(team_id=self.team_id)
        if self.model_id:
            rows = rows.filter(ai_model_id=self.model_id)
        if self.location_id:
            rows = rows.filter(location_id=self.location_id)
        if self.scope:
            rows = rows.filter(scope=self.scope)
        return rows


class Cube:
    """Rollup sums under several groupings; each question is answered from the smallest
    grouping that has the fields it needs."""

    def __init__(self, rowsets: list[tuple[tuple[str, ...], list[dict]]]) -> None:
        self.rowsets = rowsets

    def _rows_with(self, fields: Iterable[str]) -> list[dict]:
        wanted = set(fields)
        fitting = [(len(f), rows) for f, rows in self.rowsets if wanted <= set(f)]
        if not fitting:
            raise ValueError(f"no grouping of this cube has {sorted(wanted)}")
        return min(fitting, key=lambda item: item[0])[1]

    def by(self, *keys: str, where: dict | None = None) -> dict:
        """{key or (keys...): Sums} over the rows matching `where` (field → value)."""
        where = where or {}
        groups: dict = defaultdict(Sums)
        rows = self._rows_with([*keys, *where])
        if where:
            matching = tuple(where.items())
            rows = [row for row in rows if all(row[k] == v for k, v in matching)]
        if len(keys) == 1:
            (key,) = keys
            for row in rows:
                groups[row[key]].add(row)
        else:
            for row in rows:
                groups[tuple(row[k] for k in keys)].add(row)
        return groups

    def by_scope(self, key: str, where: dict | None = None) -> dict:
        """{key: {scope: Sums}}: each scope's figures apart, never added together."""
        groups: dict = defaultdict(dict)
        for (value, scope), sums in self.by(key, "scope", where=where).items():
            groups[value][scope] = sums
        return groups

    def total(self, **where) -> Sums:
        total = Sums()
        for row in self._rows_with(where):
            if all(row[k] == v for k, v in where.items()):
                total.add(row)
        return total

    @property
    def is_empty(self) -> bool:
        return not any(rows for _, rows in self.rowsets)

    def ids(self, field: str) -> set:
        """The values of `field` other than None, from the smallest grouping by it (every
        grouping sums the same rows)."""
        if not any(field in fields for fields, _ in self.rowsets):
            return set()
        return {row[field] for row in self._rows_with([field])} - {None}

    def cost_lines(self) -> list[CostLine]:
        """Energy cost per currency (cost_sci_selectors.cost_lines of the cube's rows), from
        its grouping by currency."""
        return cost_lines_summed(self._rows_with([CURRENCY_COLUMN]))


def _as_month(value) -> date:
    if hasattr(value, "date"):
        value = value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def rollup_cube(
    *,
    principal: Principal,
    filters: Filters,
    groupings: Iterable[Iterable[str]] = OVERVIEW_GROUPINGS,
    start: date | None = None,
    end: date | None = None,
) -> Cube:
    """The visible rollups of [start, end) summed under each grouping (month at the finest):
    on Postgres in one scan (GROUP BY GROUPING SETS), elsewhere one grouped scan per grouping
    and source (whole months and ragged edges: Filters.rollup_sources)."""
    groupings = [tuple(grouping) for grouping in groupings]
    sources = filters.rollup_sources(principal, start, end)
    if connection.vendor == "postgresql":
        return Cube(_grouped_in_one_scan(sources, groupings))
    return Cube(_grouped_each(sources, groupings))


def _grouped_each(sources: list[QuerySet], groupings: list[tuple[str, ...]]) -> list[tuple]:
    rowsets = []
    for fields in groupings:
        # The cost sums first: ROLLUP_SUMS' sums shadow the columns they are named after.
        costs = CUBE_COST_SUMS if CURRENCY_COLUMN in fields else {}
        grouped = []
        for rows in sources:
            rows = rows.annotate(month=TruncMonth("day")) if "month" in fields else rows
            grouped += rows.values(*fields).annotate(**costs, **ROLLUP_SUMS).order_by()
        if "month" in fields:
            for row in grouped:
                row["month"] = _as_month(row["month"])
        rowsets.append((fields, _merged(grouped, fields) if len(sources) > 1 else grouped))
    return rowsets


def _merged(rows: list[dict], fields: tuple[str, ...]) -> list[dict]:
    """Grouped rows of several sources with equal `fields` summed into one (None: no value,
    as SUM reads it)."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[field] for field in fields)
        into = merged.setdefault(key, dict.fromkeys(row))
        for name, value in row.items():
            if name in fields or into[name] is None:
                into[name] = value
            elif value is not None:
                into[name] += value
    return list(merged.values())


def _grouped_in_one_scan(sources: list[QuerySet], groupings: list[tuple[str, ...]]) -> list[tuple]:
    """Every grouping of the rollup rows from a single scan of them: the dashboards' rollup
    reads were one index scan per grouping (4 × ~35 ms over a year of a 5M-record org)."""
    fields = sorted({field for grouping in groupings for field in grouping})

    def absent(grouping: tuple[str, ...]) -> int:
        """What GROUPING() answers for it: a bit per field not grouped by, first highest."""
        return sum(1 << (len(fields) - 1 - i) for i, f in enumerate(fields) if f not in grouping)

    # Groupings with the same fields in another order are one grouping set.
    sets = {absent(grouping): grouping for grouping in groupings}
    columns = [field for field in fields if field != "month"]
    # The cost sums of the groupings by currency (each grouping's rows keep their own sums).
    costs = CUBE_COST_SUMS_SQL if CURRENCY_COLUMN in fields else {}
    cost_columns = [ENERGY_COST.column] if costs else []
    selects, params = [], []
    for rows in sources:
        select, select_params = (
            rows.values(*columns, "day", *ROLLUP_COLUMNS, *cost_columns)
            .order_by()
            .query.sql_with_params()
        )
        selects.append(select)
        params += select_params
    listed = ", ".join(fields)
    sums = ", ".join(f"{sql} AS {name}" for name, sql in {**ROLLUP_SUMS_SQL, **costs}.items())
    grouping_sets = ", ".join(f"({', '.join(grouping)})" for grouping in sets.values())
    sql = (
        f"SELECT {listed}, GROUPING({listed}) AS absent, {sums} "  # noqa: S608 - names are ours
        # day::timestamp: truncating a timestamp with time zone costs every row a time zone
        # conversion (the same month either way: a date is a local day).
        f"FROM (SELECT s.*, date_trunc('month', s.day::timestamp)::date AS month "
        f"FROM ({' UNION ALL '.join(selects)}) s) r "
        f"GROUP BY GROUPING SETS ({grouping_sets})"
    )
    found: dict[int, list] = {mask: [] for mask in sets}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        # Per grouping set, the columns its rows keep: its fields and sums (by position).
        kept = {
            mask: [
                (i, name)
                for i, name in enumerate(names)
                if name in grouping
                or name in ROLLUP_SUMS_SQL
                or (name in costs and CURRENCY_COLUMN in grouping)
            ]
            for mask, grouping in sets.items()
        }
        absent_at = names.index("absent")
        for values in cursor.fetchall():
            mask = values[absent_at]
            found[mask].append({name: values[i] for i, name in kept[mask]})
    return [(grouping, found[absent(grouping)]) for grouping in groupings]


@dataclass(frozen=True)
class Names:
    teams: dict[int, Team]
    models: dict[int, str]
    locations: dict[int, Location]


def names_for(cube: Cube) -> Names:
    """Labels of the teams, models and locations a cube mentions."""
    team_ids = cube.ids("team_id")
    model_ids = cube.ids("ai_model_id")
    location_ids = cube.ids("location_id")
    return Names(
        teams=Team.objects.in_bulk(team_ids),
        models=dict(AiModel.objects.filter(id__in=model_ids).values_list("id", "name")),
        locations=Location.objects.in_bulk(location_ids),
    )


def renewable_share(*, principal: Principal, cube: Cube, start: date, end: date) -> float | None:
    """Share of the cube's Scope 2 kWh covered by zero-emission renewable instruments.

    Allocations are per organisation × zone × month; each zone-month's renewable fraction is
    weighted by this cube's kWh there (a principal limited to some teams gets its pro-rata
    part). None when nothing has been allocated yet.
    """
    allocations = (
        MarketAllocation.objects.filter(
            organisation=principal.organisation, month__gte=start, month__lt=end
        )
        .values("zone", "month")
        .annotate(
            allocated_kwh=Sum("kwh"),
            renewable_kwh=Sum(
                Case(
                    When(
                        Q(instrument__kind__in=RENEWABLE_KINDS, instrument__kg_per_kwh=0),
                        then=F("kwh"),
                    ),
                    default=Value(0.0),
                )
            ),
        )
        .order_by()
    )
    fraction = {}
    for row in allocations:
        month = row["month"]
        month = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
        if row["allocated_kwh"]:
            fraction[(row["zone"], month.replace(day=1))] = (
                row["renewable_kwh"] / row["allocated_kwh"]
            )
    if not fraction:
        return None
    zones = dict(Location.objects.filter(id__in=cube.ids("location_id")).values_list("id", "zone"))
    covered = total = 0.0
    for (location_id, month), sums in cube.by(
        "location_id", "month", where={"scope": EmissionScope.SCOPE2}
    ).items():
        total += sums.facility_kwh
        covered += sums.facility_kwh * fraction.get((zones.get(location_id), month), 0.0)
    return covered / total if total else None


def _latest_records(model, principal: Principal, filters: Filters, *fields: str):
    rows = model.objects.filter(
        activity_date__gte=filters.start,
        activity_date__lt=filters.end,
        status=ComputeStatus.COMPUTED,
    )
    if filters.team_id:
        rows = principal.visible_of_team(rows, filters.team_id)
    else:
        rows = principal.visible(rows)
    if filters.model_id:
        rows = rows.filter(ai_model_id=filters.model_id)
    if filters.location_id:
        rows = rows.filter(location_id=filters.location_id)
    return rows.order_by("-activity_date").values(*fields)[:RECORD_SAMPLE]


# The hardware of a sample of records, grouped as it is read: joining the sample's ids back
# to the records cost one index lookup per record (40 of the 78 ms on bench/pages.py's model
# page).
_HARDWARE_SQL = """
SELECT hardware.code, hardware.name, COUNT(*), SUM(latest.it_kwh)
FROM ({latest}) AS latest LEFT JOIN {hardware} AS hardware ON hardware.id = latest.{field}
GROUP BY hardware.code, hardware.name
"""


def hardware_used(*, principal: Principal, filters: Filters) -> list[dict]:
    """Hardware in the latest RECORD_SAMPLE computed records of each kind, by IT energy."""
    lines: dict[tuple, dict] = {}
    for model, field in ((WorkloadRecord, "hardware_id"), (CloudUsageRecord, "power_model_id")):
        latest = _latest_records(model, principal, filters, field, "it_kwh")
        try:
            latest_sql, params = latest.query.sql_with_params()
        except EmptyResultSet:  # no visible team (a team not the principal's, or none left)
            continue
        sql = _HARDWARE_SQL.format(latest=latest_sql, hardware=table(Hardware), field=field)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for code, name, records, it_kwh in rows:
            line = lines.setdefault(
                (code, name),
                {
                    "code": code or "",
                    "name": name or "(measured or metered: no hardware given)",
                    "records": 0,
                    "it_kwh": 0.0,
                },
            )
            line["records"] += records
            line["it_kwh"] += it_kwh or 0.0
    total = sum(line["it_kwh"] for line in lines.values())
    for line in lines.values():
        line["share"] = line["it_kwh"] / total if total else 0.0
    return sorted(lines.values(), key=lambda line: (-line["it_kwh"], line["name"]))


def records_waiting(*, principal: Principal) -> dict:
    """The principal's records waiting to be computed (inventory.pipeline.status)."""
    waiting = pipeline_records_waiting(principal=principal)
    return {"count": waiting.count, "oldest": waiting.oldest}


# The organisation's latest records of a kind, then the failed among them: the LIMIT must
# run first (the planner, expecting few failed rows, would otherwise scan the whole table).
_FAILED_SQL = """
SELECT latest.external_id, latest.activity_date, latest.compute_error, team.name,
       COUNT(*) OVER ()
FROM (
    SELECT id, external_id, activity_date, compute_error, team_id, status
    FROM {table} WHERE organisation_id = %(organisation)s
    ORDER BY activity_date DESC LIMIT %(window)s
) AS latest JOIN accounts_team AS team ON team.id = latest.team_id
WHERE latest.status = 'failed' {teams}
ORDER BY latest.activity_date DESC, latest.id DESC LIMIT %(limit)s
"""


def records_failed(*, principal: Principal, limit: int = 20) -> dict:
    """Records that could not be computed among the organisation's latest FAILED_WINDOW of
    each kind (no index serves a scan of every failed record of a large organisation): how
    many, and the latest `limit` with their errors."""
    params = {"organisation": principal.organisation.id, "window": FAILED_WINDOW, "limit": limit}
    teams = ""
    if not principal.sees_whole_organisation:
        marks, team_params = in_list("team", sorted(principal.team_ids) or [None])
        teams = f"AND latest.team_id IN ({marks})"
        params.update(team_params)
    count, lines = 0, []
    with connection.cursor() as cursor:
        for kind, model in (("workload", WorkloadRecord), ("cloud usage", CloudUsageRecord)):
            cursor.execute(_FAILED_SQL.format(table=model._meta.db_table, teams=teams), params)
            rows = cursor.fetchall()
            count += rows[0][4] if rows else 0
            lines += [
                {
                    "kind": kind,
                    "external_id": external_id,
                    "activity_date": as_date(day),
                    "compute_error": error,
                    "team__name": team,
                }
                for external_id, day, error, team, _ in rows
            ]
    lines.sort(key=lambda line: line["activity_date"], reverse=True)
    return {"count": count, "lines": lines[:limit]}


def batches_recent(*, principal: Principal, limit: int = 25) -> list[IngestBatch]:
    """The latest ingestion batches; a principal limited to teams sees those with its records."""
    batches = IngestBatch.objects.filter(organisation=principal.organisation)
    if not principal.sees_whole_organisation:
        workloads, usage = (
            Exists(principal.visible(m.objects.filter(batch_id=OuterRef("pk"))))
            for m in (WorkloadRecord, CloudUsageRecord)
        )
        batches = batches.filter(workloads | usage)
    return list(batches.select_related("token", "user").order_by("-id")[:limit])


def recalculations_recent(*, principal: Principal, limit: int = 10) -> list[RecalculationJob]:
    return list(
        RecalculationJob.objects.filter(organisation=principal.organisation).order_by("-id")[:limit]
    )


def filter_options(*, principal: Principal, cube: Cube, selected_location: int | None) -> dict:
    """Teams, models and locations to filter by: the organisation's own, and the shared
    cloud regions that have data in the page's period (there are many of those)."""
    teams = team_list(principal=principal)
    used = cube.ids("location_id") | ({selected_location} - {None})
    locations = Location.objects.filter(
        Q(organisation=principal.organisation) | Q(organisation__isnull=True, id__in=used)
    )
    models = AiModel.objects.filter(organisation=principal.organisation)
    if not principal.sees_whole_organisation:
        models = models.filter(id__in=cube.ids("ai_model_id"))
    return {
        "teams": list(teams.order_by("name").values("id", "name", "slug")),
        "models": list(models.order_by("name").values("id", "name")),
        "locations": list(locations.order_by("code").values("id", "code", "name")),
    }
