"""Dashboard pages: the organisation overview, a team, a model.

All three are one layout over a rollup cube (reports.dashboard_selectors): KPI cards, charts
whose data downloads as CSV (`?download=<chart id>`, same filters), and drill-down tables.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role, Team
from accounts.principal import Principal
from accounts.selectors import team_list, visible_team_or_404
from accounts.views import principal_or_404
from greenai_portal import periods
from inventory.calculation.llm import ECOLOGITS_VERSION
from inventory.figures import (
    CURRENCY_COLUMN,
    EMBODIED_EMISSIONS,
    FACILITY_ENERGY,
    LOCATION_EMISSIONS,
    MARKET_EMISSIONS,
    WATER_OFFSITE,
    WATER_OFFSITE_RECORDS,
    WATER_ONSITE,
    WATER_RECORDS,
    Figure,
    Sums,
)
from inventory.llm.selectors import LlmApiGroup, llm_api_groups, llm_api_total
from inventory.models import (
    CloudUsageRecord,
    EmissionScope,
    EnergyTier,
    LlmUsageRecord,
    Location,
    Phase,
    WorkloadRecord,
)
from inventory.selectors import visible_model_or_404
from reports.cost_sci_selectors import model_sci, sci_of_phases
from reports.dashboard_charts import (
    Chart,
    intensity_trend,
    location_vs_market,
    months_between,
    ranked_bars,
    scopes_apart,
    split_donut,
    stacked_trend,
)
from reports.dashboard_selectors import (
    Cube,
    Filters,
    Names,
    filter_options,
    hardware_used,
    names_for,
    records_waiting,
    renewable_share,
    rollup_cube,
)
from reports.footprint_selectors import REPORTED_SCOPES, first_day_of
from reports.lifecycle import model_lifecycle
from reports.records_selectors import ALL_STATUSES, LLM_KIND, NO_MODEL
from reports.records_views import record_browser_url
from reports.targets import targets_progress

PHASE_LABELS = dict(Phase.choices)
TIER_LABELS = dict(EnergyTier.choices)
SCOPE_LABELS = {"": "All scopes", **dict(EmissionScope.choices)}
OTHER_LINES = "other"  # the key of the line summing the lines past the top ones
# As OVERVIEW_GROUPINGS: currency beside the location (the cost card), phases with tiers.
TEAM_GROUPINGS = (
    ("month", "ai_model_id", "scope", "location_id", CURRENCY_COLUMN),
    ("ai_model_id", "phase", "scope"),
    ("month", "phase", "scope", "energy_tier"),
)
MODEL_GROUPINGS = (
    ("month", "team_id", "scope", "location_id", CURRENCY_COLUMN),
    ("month", "phase", "scope", "energy_tier"),
)


# --- Filters ------------------------------------------------------------------------------


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_presets(today: date) -> list[tuple[str, str, date, date]]:
    """(key, label, start, end) choices for the period filter, newest first."""
    end = _month_after(today)
    presets = [
        ("12m", "Last 12 months", date(end.year - 1, end.month, 1), end),
        ("ytd", f"{today.year} to date", date(today.year, 1, 1), end),
        ("last-year", f"{today.year - 1}", date(today.year - 1, 1, 1), date(today.year, 1, 1)),
    ]
    year, number = periods.quarter_of(today)
    for _ in range(8):
        quarter = periods.quarter(year, number)
        presets.append((f"{year}-q{number}", quarter.label, quarter.start, quarter.end))
        year, number = periods.previous_quarter(year, number)
    return presets


def _id_filter(request: HttpRequest, name: str, everything: str) -> int | None:
    """An id filter; a value that is not one is named to the reader, who sees `everything`."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    _ignored(request, f"The {name} {value!r} is not one of the choices", everything)
    return None


def _ignored(request: HttpRequest, problem: str, shown: str) -> None:
    # Without the messages middleware (a bare request) the fallback alone applies.
    messages.warning(request, f"{problem}; showing {shown} instead.", fail_silently=True)


def _period(request: HttpRequest, presets: dict) -> tuple[str, date, date]:
    """The preset named by `period`, else the custom `start`/`end`, else the last 12 months
    (saying why when something was asked for)."""
    key = request.GET.get("period", "")
    if key in presets:
        return key, *presets[key]
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if start or end:
        try:
            first, after = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            first = after = None
        # Only the years a report may cover: date(9999, 12, 31) has no next month to chart.
        last = date(periods.LAST_YEAR + 1, 1, 1)
        if first and after and first < after and first.year >= periods.FIRST_YEAR and after <= last:
            return "custom", first, after
        _ignored(
            request,
            f"From {start or '?'} to {end or '?'} is not a period (two dates, YYYY-MM-DD, "
            f"the first before the second, from {periods.FIRST_YEAR} to {periods.LAST_YEAR})",
            "the last 12 months",
        )
    elif key:
        _ignored(request, f"The period {key!r} is not one of the choices", "the last 12 months")
    return "12m", *presets["12m"]


def parse_filters(request: HttpRequest, **fixed) -> tuple[Filters, str]:
    """Filters from the query string; a value that is not valid falls back to the default,
    and the reader is told (a message on the page) rather than shown other figures silently.

    `period` names a preset; `start`/`end` (ISO dates, end exclusive) give a custom period.
    """
    presets = {key: (start, end) for key, _, start, end in period_presets(date.today())}
    key, start, end = _period(request, presets)
    scope = request.GET.get("scope") or None
    if scope and scope not in EmissionScope.values:
        _ignored(request, f"The scope {scope!r} is not one of the choices", "every scope")
        scope = None
    filters = Filters(
        start=start,
        end=end,
        team_id=_id_filter(request, "team", "every team"),
        model_id=_id_filter(request, "model", "every model"),
        location_id=_id_filter(request, "location", "every location"),
        scope=scope,
    )
    return replace(filters, **fixed), key


def _query(filters: Filters, period_key: str, **changes) -> str:
    """The query string of these filters (for links and downloads), with changes."""
    params = {"period": period_key} if period_key != "custom" else {}
    if period_key == "custom":
        params = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
    for name, value in (
        ("team", filters.team_id),
        ("model", filters.model_id),
        ("location", filters.location_id),
        ("scope", filters.scope),
    ):
        if value:
            params[name] = value
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- Figures shared by the three pages ----------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    unit: str
    note: str = ""
    change_pct: float | None = None


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:,.{digits}f}"


def last_full_quarter(end: date) -> tuple[periods.Period, periods.Period]:
    """The last quarter ending on or before `end` (exclusive), and the quarter before it."""
    year, number = periods.quarter_of(end - timedelta(days=1))
    if periods.quarter(year, number).end != end:
        year, number = periods.previous_quarter(year, number)
    return periods.quarter(year, number), periods.quarter(*periods.previous_quarter(year, number))


def quarter_comparison(
    principal: Principal, filters: Filters, cube: Cube | None = None, today: date | None = None
) -> dict:
    """Scope 2 of the last quarter of the period that has ended against the quarter before
    it, from the period's own cube (by month and scope) when it holds both quarters. No
    change unless the data covers both quarters whole (`note` says why not)."""
    today = today or date.today()
    current, before = last_full_quarter(min(filters.end, today))
    if cube is None or before.start < filters.start:
        cube = rollup_cube(
            principal=principal,
            filters=filters,
            groupings=[("month", "scope")],
            start=before.start,
            end=current.end,
        )
    now, then = Sums(), Sums()
    for month, sums in cube.by("month", where={"scope": EmissionScope.SCOPE2}).items():
        if before.start <= month < current.end:
            (now if month >= current.start else then).add(vars(sums))
    first_day = first_day_of(filters.rollups(principal, date.min, current.end))
    unlike = periods.like_for_like(
        periods.coverage(current, first_day=first_day, today=today),
        current.label,
        periods.coverage(before, first_day=first_day, today=today),
        before.label,
    )

    def change(a: float, b: float) -> float | None:
        return None if b == 0 or unlike else (a - b) / b * 100.0

    return {
        "label": f"Scope 2, {current.label} vs {before.label}",
        "note": unlike,
        "location": change(now.location_kg, then.location_kg),
        "market": change(now.market_kg, then.market_kg)
        if now.unallocated_kwh == 0 and then.unallocated_kwh == 0
        else None,
    }


def _no_records(key: str, label: str, scope_name: str) -> Kpi:
    """A scope with no records is a gap, not 0.000 t beside a change of other data."""
    return Kpi(key, label, "—", "", f"no {scope_name} records for these filters")


def _embodied_kpi(scope2: Sums, cloud: Sums) -> Kpi:
    """Embodied emissions of owned and colocated hardware (Scope 3 category 2), amortised;
    the cloud GPUs' and instances' share is part of the purchased service (Scope 3 category 1)
    and named apart."""
    owned, rented = scope2.shown(EMBODIED_EMISSIONS), cloud.shown(EMBODIED_EMISSIONS)
    return Kpi(
        "embodied_t",
        "Embodied hardware (Scope 3 cat. 2)",
        "—" if owned is None else _fmt(owned),
        "t CO2e" if owned is not None else "",
        ("not available: no device with a published figure" if owned is None else "amortised")
        + (f" · cloud GPUs and instances {_fmt(rented)} t" if rented is not None else "")
        + "; beside Scope 2, never in it",
    )


def _water_kpi(
    everything: Sums, water: Figure, covering: Figure, *, key: str, worked_out: str, missing: str
) -> Kpi:
    """A water card (on-site or off-site, never summed together): partial when some records
    have no figure, never 0 for none."""
    litres = everything.shown(water)
    covered, records = getattr(everything, covering.column), everything.record_count
    if litres is None or covered == 0:
        return Kpi(key, water.label, "—", "", f"not available: {missing}")
    return Kpi(
        key,
        water.label,
        _fmt(litres),
        water.shown_unit,
        worked_out
        + ("" if covered == records else f"; partial: {covered:,} of {records:,} records"),
    )


def _cost_kpi(lines: list) -> Kpi:
    """Energy cost, one amount per currency (never added across currencies)."""
    if not lines:
        return Kpi("cost", "Energy cost", "—", "", "not available: no tariff or billed cost")
    first, *others = lines
    return Kpi(
        "cost",
        "Energy cost",
        f"{first.cost:,.0f}",
        first.currency,
        "and "
        + " · ".join(f"{line.cost:,.0f} {line.currency}" for line in others)
        + " (currencies kept apart)"
        if others
        else "own or billed cost, else facility kWh × tariff",
    )


def kpis(principal: Principal, filters: Filters, cube: Cube) -> list[Kpi]:
    scope2 = cube.total(scope=EmissionScope.SCOPE2)
    cloud = cube.total(scope=EmissionScope.SCOPE3_CAT1)
    everything = cube.total()
    compare = quarter_comparison(principal, filters, cube)
    share = renewable_share(principal=principal, cube=cube, start=filters.start, end=filters.end)
    # The change is of whole quarters, not of the period shown: its note names them, or
    # says why they are not comparable.
    compare_note = compare["label"] + (
        f": not comparable ({compare['note']})" if compare["note"] else ""
    )
    market_note = (
        compare_note
        if scope2.unallocated_kwh == 0
        else f"{_fmt(FACILITY_ENERGY.shown(scope2.unallocated_kwh))} MWh not yet allocated: partial"
    )
    return [
        Kpi(
            "mwh",
            "Energy (facility)",
            _fmt(everything.shown(FACILITY_ENERGY)),
            "MWh",
            f"Scope 2 {_fmt(scope2.shown(FACILITY_ENERGY))}"
            f" · cloud {_fmt(cloud.shown(FACILITY_ENERGY))}",
        ),
        Kpi(
            "t",
            "Scope 2, location-based",
            _fmt(scope2.shown(LOCATION_EMISSIONS)),
            "t CO2e",
            compare_note,
            compare["location"],
        )
        if scope2.record_count
        else _no_records("t", "Scope 2, location-based", "Scope 2"),
        Kpi(
            "market_t",
            "Scope 2, market-based",
            _fmt(scope2.shown(MARKET_EMISSIONS))
            if scope2.unallocated_kwh == 0 or scope2.market_kg
            else "—",
            "t CO2e",
            market_note,
            compare["market"],
        )
        if scope2.record_count
        else _no_records("market_t", "Scope 2, market-based", "Scope 2"),
        Kpi(
            "cloud_t",
            "Public cloud (Scope 3 cat. 1)",
            _fmt(cloud.shown(LOCATION_EMISSIONS)),
            "t CO2e",
            "location-based; reported beside Scope 2, not in it",
        )
        if cloud.record_count
        else _no_records("cloud_t", "Public cloud (Scope 3 cat. 1)", "public cloud"),
        _embodied_kpi(scope2, cloud),
        _water_kpi(
            everything,
            WATER_ONSITE,
            WATER_RECORDS,
            key="water_m3",
            worked_out="cooling water (WUE × IT energy, or measured)",
            missing="no WUE or measured water",
        ),
        _water_kpi(
            everything,
            WATER_OFFSITE,
            WATER_OFFSITE_RECORDS,
            key="water_offsite_m3",
            worked_out="evaporated generating the electricity (facility energy × the"
            " country's factor); beside on-site, never in it",
            missing="no country factor of its own for the grid zone",
        ),
        _cost_kpi(cube.cost_lines()),
        Kpi(
            "renewable",
            "Renewable share",
            "—" if share is None else f"{share * 100:.1f}",
            "" if share is None else "% of Scope 2 MWh",
            "no contractual instruments allocated"
            if share is None
            else "covered by zero-emission certificates, PPAs, green tariffs",
        ),
        Kpi(
            "records",
            "Records computed",
            f"{everything.record_count:,}",
            "records",
        ),
    ]


def _by_month(cube: Cube, key: str, label_of, **where) -> dict[str, dict[date, Sums]]:
    series: dict[str, dict[date, Sums]] = {}
    for (value, month), sums in cube.by(key, "month", where=where).items():
        series.setdefault(label_of(value), {})[month] = sums
    return series


def _team_label(names: Names):
    return lambda team_id: names.teams[team_id].name if team_id in names.teams else "(unknown)"


def _model_label(names: Names):
    return lambda model_id: names.models.get(model_id, "(no model given)")


def _location_label(names: Names):
    def label(location_id):
        location = names.locations.get(location_id)
        return f"{location.code} ({location.zone})" if location else "(unknown)"

    return label


def _team_link(names: Names, query: str):
    """A team's page with the same query, for the teams the names know."""
    return lambda team_id: team_url(names.teams[team_id], query) if team_id in names.teams else None


def _model_link(query: str):
    """A model's page with the same query; none for records without a model."""
    return lambda model_id: model_url(model_id, query) if model_id else None


def _phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase)


def _scope2_location_vs_market(cube: Cube, months: list[date]) -> Chart:
    return location_vs_market(months=months, by_month=cube.by("month", where={"scope": "scope2"}))


def _locations_table(cube: Cube, names: Names, filters: Filters, total_kwh: float) -> list[dict]:
    return with_record_links(
        table(cube.by_scope("location_id"), _location_label(names), None, total_kwh),
        filters,
        "location",
    )


def team_url(team: Team, query: str) -> str:
    return reverse("dashboard-team", args=[team.slug]) + (f"?{query}" if query else "")


def model_url(model_id: int, query: str) -> str:
    return reverse("dashboard-model", args=[model_id]) + (f"?{query}" if query else "")


def _lines(groups: dict, label_of, url_of=None) -> list[tuple[str, dict, str | None]]:
    return [(label_of(k), s, url_of(k) if url_of else None) for k, s in groups.items()]


def _trends(
    cube: Cube,
    key: str,
    label_of,
    *,
    dimension: str,
    months: list[date],
    urls=None,
    chart_prefix: str = "trend",
) -> list[Chart]:
    """One stacked monthly chart per scope (`<chart_prefix>-<scope>`): bars of two scopes are
    never stacked on each other."""
    return [
        stacked_trend(
            chart_id=f"{chart_prefix}-{scope.key}",
            title=f"{scope.label} by month and {dimension}, location-based",
            dimension=dimension,
            scope=scope,
            months=months,
            series=_by_month(cube, key, label_of, scope=scope.key),
            urls=urls,
        )
        for scope in REPORTED_SCOPES
    ]


def table(groups: dict, label_of, url_of=None, total_kwh: float = 0.0) -> list[dict]:
    """Rows for a breakdown table from {key: {scope: Sums}}: each scope's figures apart,
    the lines using the most energy first."""
    rows = []
    for key, by_scope in groups.items():
        # Energy and counts add up across scopes (kWh are kWh); emissions never do.
        kwh = sum(sums.facility_kwh for sums in by_scope.values())
        rows.append(
            {
                "key": key,
                "label": label_of(key),
                "url": url_of(key) if url_of else None,
                "records": sum(sums.record_count for sums in by_scope.values()),
                "mwh": FACILITY_ENERGY.shown(kwh),
                "share": kwh / total_kwh if total_kwh else 0.0,
                "scopes": scopes_apart(by_scope),
            }
        )
    return sorted(rows, key=lambda r: (-r["mwh"], r["label"]))


def with_record_links(rows: list[dict], filters: Filters, dimension: str) -> list[dict]:
    """Each line links to the records behind it: the page's period and filters, and the
    line's team, model (none: the records naming no model) or location."""
    page = {
        "team": filters.team_id,
        "model": filters.model_id,
        "location": filters.location_id,
        "scope": filters.scope,
    }
    for row in rows:
        if row["key"] == OTHER_LINES:
            continue
        line = {dimension: NO_MODEL if row["key"] is None else row["key"]}
        row["records_url"] = record_browser_url(
            start=filters.start, end=filters.end, **{**page, **line}
        )
    return rows


def _top_lines(
    groups: dict, rows: list[dict], *, noun: str, total_kwh: float, top: int = 10
) -> list[dict]:
    """The first `top` rows and one row for the rest, so the table still sums to the
    period's totals scope by scope."""
    if len(rows) <= top:
        return rows
    rest: dict[str, Sums] = {}
    for row in rows[top:]:
        for scope, sums in groups[row["key"]].items():
            rest.setdefault(scope, Sums()).add(vars(sums))
    label = f"{len(rows) - top} other {noun}"
    return [*rows[:top], *table({OTHER_LINES: rest}, lambda _: label, None, total_kwh)]


def _with_intensity(rows: list[dict]) -> list[dict]:
    """The rows with inferences or tokens in some scope."""
    return [r for r in rows if any(f["inferences"] or f["tokens"] for f in r["scopes"])]


@dataclass(frozen=True)
class ChartFamily:
    """Charts drawn from one grouping of the rollups (`build` gets a cube that has it and the
    names it mentions): a chart's CSV download reads that grouping alone, not the page's
    cube, cards and tables."""

    grouping: tuple[str, ...]
    ids: tuple[str, ...]
    build: Callable[[Cube, Names], list[Chart]]


def _charts(families: list[ChartFamily], cube: Cube, names: Names) -> list[Chart]:
    return [chart for family in families for chart in family.build(cube, names)]


def _download(
    principal: Principal, filters: Filters, page: str, families: list[ChartFamily], wanted: str
) -> HttpResponse:
    """The CSV of the chart `wanted`, from the grouping its family is drawn from."""
    family = next((family for family in families if wanted in family.ids), None)
    if family is None:
        raise Http404("No such chart")
    cube = rollup_cube(principal=principal, filters=filters, groupings=[family.grouping])
    chart = next(chart for chart in family.build(cube, names_for(cube)) if chart.id == wanted)
    return _csv_response(chart, page, filters)


def _trend_family(
    key: str,
    label_of: Callable[[Names], Callable],
    *,
    dimension: str,
    months: list[date],
    urls: Callable[[Names], dict] | None = None,
    chart_prefix: str = "trend",
) -> ChartFamily:
    """_trends by `key`, its labels and links made from the cube's names."""
    return ChartFamily(
        grouping=("month", key, "scope"),
        ids=tuple(f"{chart_prefix}-{scope.key}" for scope in REPORTED_SCOPES),
        build=lambda cube, names: _trends(
            cube,
            key,
            label_of(names),
            dimension=dimension,
            months=months,
            urls=urls(names) if urls else None,
            chart_prefix=chart_prefix,
        ),
    )


def _phase_trend_family(months: list[date], *, chart_prefix: str) -> ChartFamily:
    return _trend_family(
        "phase", lambda _: _phase_label, dimension="phase", months=months, chart_prefix=chart_prefix
    )


def _ranked_family(
    key: str,
    label_of: Callable[[Names], Callable],
    url_of: Callable[[Names], Callable],
    *,
    chart_id: str,
    title: str,
    dimension: str,
) -> ChartFamily:
    """ranked_bars of the lines by `key`, scope by scope."""
    return ChartFamily(
        grouping=(key, "scope"),
        ids=(chart_id,),
        build=lambda cube, names: [
            ranked_bars(
                chart_id=chart_id,
                title=title,
                dimension=dimension,
                lines=_lines(cube.by_scope(key), label_of(names), url_of(names)),
            )
        ],
    )


def _location_vs_market_family(months: list[date]) -> ChartFamily:
    return ChartFamily(
        grouping=("month", "scope"),
        ids=("location-market",),
        build=lambda cube, _: [_scope2_location_vs_market(cube, months)],
    )


PHASES_AND_TIERS = ChartFamily(
    grouping=("phase", "energy_tier"),
    ids=("phases", "tiers"),
    build=lambda cube, _: _phase_and_tiers(cube),
)


def _phase_and_tiers(cube: Cube) -> list[Chart]:
    phases = cube.by("phase")
    tiers = cube.by("energy_tier")
    return [
        split_donut(
            chart_id="phases",
            title="Energy by phase",
            dimension="phase",
            parts=[(PHASE_LABELS[p], phases[p]) for p in Phase.values if p in phases],
        ),
        split_donut(
            chart_id="tiers",
            title="Data quality: how energy was obtained",
            dimension="tier",
            parts=[(TIER_LABELS[t], tiers[t]) for t in EnergyTier.values if t in tiers],
        ),
    ]


def _csv_response(chart: Chart, page: str, filters: Filters) -> HttpResponse:
    response = HttpResponse(chart.csv(), content_type="text/csv; charset=utf-8")
    name = f"{page}-{chart.id}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _has_any_records(principal: Principal) -> bool:
    return any(
        model.objects.filter(organisation=principal.organisation).exists()
        for model in (WorkloadRecord, CloudUsageRecord, LlmUsageRecord)
    )


# The LLM API card's tables per page: (id, title, dimension, grouping of llm_api_groups).
LLM_TABLES = {
    "overview": (("teams", "By team", "Team", "team"), ("llms", "By LLM", "Provider/model", "llm")),
    "team": (("llms", "By LLM", "Provider/model", "llm"),),
    "model": (("llms", "By LLM", "Provider/model", "llm"), ("teams", "By team", "Team", "team")),
}


# A group of llm_api_groups → the record browser filter its key is a value of.
LLM_GROUP_FILTERS = {"team": "team", "llm": "llm", "model": "model"}


def _llm_records_url(filters: Filters, **line) -> str:
    """The LLM usage records behind a figure of the card: the page's period and filters and
    the line's team, LLM called (provider/model) or AI model."""
    page = {"team": filters.team_id, "model": filters.model_id, "scope": filters.scope}
    # Every status: the card counts records still waiting too (their figures are not in it).
    return record_browser_url(
        kind=LLM_KIND,
        start=filters.start,
        end=filters.end,
        status=ALL_STATUSES,
        **{**page, **line},
    )


def _llm_group_line(group_by: str, group: LlmApiGroup, filters: Filters) -> dict:
    key = NO_MODEL if group_by == "model" and not group.key else group.key
    line = {LLM_GROUP_FILTERS[group_by]: key}
    return {
        "label": group.label,
        "figures": group.figures,
        "records_url": _llm_records_url(filters, **line),
    }


def llm_api_card(principal: Principal, filters: Filters, page: str) -> dict | None:
    """The "LLM API usage (EcoLogits estimate)" card: None when nothing matches, or when the
    filters name a location or Scope 2 (LLM API usage has neither). Its total and each line
    link to the records behind them."""
    if filters.location_id or filters.scope not in (None, "", EmissionScope.SCOPE3_CAT1):
        return None
    scope = {
        "principal": principal,
        "start": filters.start,
        "end": filters.end,
        "team_id": filters.team_id,
        "ai_model_id": filters.model_id,
    }
    total = llm_api_total(**scope)
    if total is None:
        return None
    tables = [
        {
            "id": table_id,
            "title": title,
            "dimension": dimension,
            "groups": [
                _llm_group_line(group_by, group, filters)
                for group in llm_api_groups(group_by=group_by, **scope)
            ],
        }
        for table_id, title, dimension, group_by in LLM_TABLES[page]
    ]
    return {
        "total": total,
        "records_url": _llm_records_url(filters),
        "tables": tables,
        "ecologits_version": ECOLOGITS_VERSION,
    }


def _render(
    request: HttpRequest,
    template: str,
    *,
    principal: Principal,
    page: str,
    filters: Filters,
    period_key: str,
    cube: Cube,
    charts: list[Chart],
    **context,
) -> HttpResponse:
    query = _query(filters, period_key)
    for chart in charts:
        chart.download_url = f"?{_query(filters, period_key, download=chart.id)}"
    has_any_records = (not cube.is_empty) or _has_any_records(principal)
    options = filter_options(principal=principal, cube=cube, selected_location=filters.location_id)
    return render(
        request,
        template,
        {
            "organisation": principal.organisation,
            "principal": principal,
            "role": principal.role,
            "page": page,
            "filters": filters,
            "start": filters.start,
            "end": filters.end,
            "period_key": period_key,
            "presets": period_presets(date.today()),
            "scopes": SCOPE_LABELS,
            "reported_scopes": REPORTED_SCOPES,
            "options": options,
            "query": query,
            "kpis": kpis(principal, filters, cube),
            "charts": charts,
            "has_data": not cube.is_empty,
            "has_any_records": has_any_records,
            "onboarding": None if has_any_records else _onboarding(request, principal),
            "waiting": records_waiting(principal=principal) if page == "overview" else None,
            # The period's last month is partial while the period runs.
            "in_progress_to": date.today() if filters.end > date.today() else None,
            **context,
        },
    )


# --- Pages --------------------------------------------------------------------------------


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    principal = principal_or_404(request)
    filters, period_key = parse_filters(request)
    months = months_between(filters.start, filters.end)
    drill = _query(replace(filters, team_id=None, model_id=None), period_key)
    families = [
        _trend_family(
            "team_id",
            _team_label,
            dimension="team",
            months=months,
            urls=lambda names: {t.name: team_url(t, drill) for t in names.teams.values()},
        ),
        _location_vs_market_family(months),
        _ranked_family(
            "ai_model_id",
            _model_label,
            lambda _: _model_link(drill),
            chart_id="top-models",
            title="Top models",
            dimension="model",
        ),
        PHASES_AND_TIERS,
        _phase_trend_family(months, chart_prefix="phases-trend"),
    ]
    if wanted := request.GET.get("download"):
        return _download(principal, filters, "overview", families, wanted)
    cube = rollup_cube(principal=principal, filters=filters)
    names = names_for(cube)
    teams = cube.by_scope("team_id")
    models = cube.by_scope("ai_model_id")
    team_of = _team_label(names)
    model_of = _model_label(names)
    total_kwh = cube.total().facility_kwh
    return _render(
        request,
        "dashboard/overview.html",
        principal=principal,
        page="overview",
        target_progress=targets_progress(principal=principal),
        filters=filters,
        period_key=period_key,
        cube=cube,
        charts=_charts(families, cube, names),
        llm_api=llm_api_card(principal, filters, "overview"),
        teams=with_record_links(
            table(
                teams,
                team_of,
                _team_link(names, drill),
                total_kwh,
            ),
            filters,
            "team",
        ),
        models=with_record_links(
            _top_lines(
                models,
                table(models, model_of, _model_link(drill), total_kwh),
                noun="models",
                total_kwh=total_kwh,
            ),
            filters,
            "model",
        ),
    )


@login_required
def team_page(request: HttpRequest, slug: str) -> HttpResponse:
    principal = principal_or_404(request)
    team = visible_team_or_404(principal=principal, slug=slug)
    filters, period_key = parse_filters(request, team_id=team.id)
    months = months_between(filters.start, filters.end)
    drill = _query(replace(filters, team_id=None, model_id=None), period_key)
    url_of = _model_link(drill)
    families = [
        _trend_family(
            "ai_model_id",
            _model_label,
            dimension="model",
            months=months,
            urls=lambda names: {name: model_url(m, drill) for m, name in names.models.items()},
        ),
        _location_vs_market_family(months),
        _ranked_family(
            "ai_model_id",
            _model_label,
            lambda _: url_of,
            chart_id="models",
            title="Models",
            dimension="model",
        ),
        PHASES_AND_TIERS,
        _phase_trend_family(months, chart_prefix="phases-trend"),
    ]
    page = f"team-{team.slug}"
    if wanted := request.GET.get("download"):
        return _download(principal, filters, page, families, wanted)
    cube = rollup_cube(principal=principal, filters=filters, groupings=TEAM_GROUPINGS)
    models = cube.by_scope("ai_model_id")
    names = names_for(cube)
    model_of = _model_label(names)
    total_kwh = cube.total().facility_kwh
    inference = cube.by_scope("ai_model_id", where={"phase": Phase.INFERENCE})
    return _render(
        request,
        "dashboard/team.html",
        principal=principal,
        page=page,
        target_progress=targets_progress(principal=principal, team_id=team.id),
        filters=filters,
        period_key=period_key,
        cube=cube,
        charts=_charts(families, cube, names),
        team=team,
        llm_api=llm_api_card(principal, filters, "team"),
        models=with_record_links(table(models, model_of, url_of, total_kwh), filters, "model"),
        intensity=_with_intensity(table(inference, model_of, url_of)),
        locations=_locations_table(cube, names, filters, total_kwh),
        hardware=hardware_used(principal=principal, filters=filters),
        back_query=drill,
    )


@login_required
def model_page(request: HttpRequest, model_id: int) -> HttpResponse:
    principal = principal_or_404(request)
    model = visible_model_or_404(principal=principal, model_id=model_id)
    filters, period_key = parse_filters(request, model_id=model.id)
    months = months_between(filters.start, filters.end)
    drill = _query(replace(filters, team_id=None, model_id=None), period_key)
    families = [
        _phase_trend_family(months, chart_prefix="trend"),
        _location_vs_market_family(months),
        ChartFamily(
            grouping=("month", "phase", "scope"),
            ids=("intensity",),
            build=lambda cube, _: [
                intensity_trend(
                    months=months,
                    by_month=cube.by_scope("month", where={"phase": Phase.INFERENCE}),
                )
            ],
        ),
        _ranked_family(
            "team_id",
            _team_label,
            lambda names: _team_link(names, drill),
            chart_id="teams",
            title="Teams",
            dimension="team",
        ),
        PHASES_AND_TIERS,
    ]
    page = f"model-{model.id}"
    if wanted := request.GET.get("download"):
        return _download(principal, filters, page, families, wanted)
    cube = rollup_cube(principal=principal, filters=filters, groupings=MODEL_GROUPINGS)
    names = names_for(cube)
    teams = cube.by_scope("team_id")
    team_of = _team_label(names)
    team_link = _team_link(names, drill)
    total_kwh = cube.total().facility_kwh
    inference = cube.by_scope("phase", where={"phase": Phase.INFERENCE})
    return _render(
        request,
        "dashboard/model.html",
        principal=principal,
        page=page,
        filters=filters,
        period_key=period_key,
        cube=cube,
        charts=_charts(families, cube, names),
        model=model,
        llm_api=llm_api_card(principal, filters, "model"),
        inference=_with_intensity(table(inference, lambda _: "Inference")),
        teams=with_record_links(table(teams, team_of, team_link, total_kwh), filters, "team"),
        locations=_locations_table(cube, names, filters, total_kwh),
        hardware=hardware_used(principal=principal, filters=filters),
        lifecycle=model_lifecycle(principal=principal, model=model),
        sci=_model_sci(principal, model, filters, cube),
        costs=cube.cost_lines(),
        back_query=drill,
    )


def _model_sci(principal: Principal, model, filters: Filters, cube: Cube) -> list:
    """The model's SCI over the period: from the page's cube when its filters name nothing but
    the model (its rows are then the model's rollups of the period), else its own scan (the
    SCI is of the whole model, whatever team, location or scope the page shows)."""
    if filters.team_id or filters.location_id or filters.scope:
        return model_sci(principal=principal, model=model, start=filters.start, end=filters.end)
    return sci_of_phases(cube.by("phase"))


def _onboarding(request: HttpRequest, principal: Principal) -> dict:
    """What the empty state's copy-paste snippets should name: a real team and location."""
    team = team_list(principal=principal).order_by("name").first()
    location = Location.objects.filter(organisation=principal.organisation).order_by("code").first()
    yesterday = date.today() - timedelta(days=1)
    return {
        "base_url": f"{request.scheme}://{request.get_host()}",
        "example_start": f"{yesterday.isoformat()}T08:00:00Z",
        "example_end": f"{yesterday.isoformat()}T20:00:00Z",
        "team": team.slug if team else "TEAM",
        "location": location.code if location else "aws:us-east-1",
        "can_manage": principal.role == Role.ADMIN,
    }
