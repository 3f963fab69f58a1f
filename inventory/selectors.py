"""inventory reads shared with other apps."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from django.db.models import Case, Count, DateField, F, Max, Min, Q, QuerySet, Sum, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth
from django.http import Http404

from accounts.principal import Access, Principal
from inventory.calculation.water import FacilityIndicators, facility_indicators
from inventory.models import (
    AiModel,
    CodeCarbonRun,
    DailyRollup,
    FacilityWue,
    GridFactor,
    ImportJob,
    InstrumentKind,
    Location,
    MarketAllocation,
    MarketBasis,
    MonthlyRollup,
    TeamMappingRule,
    WorkloadRecord,
)
from inventory.pipeline.sql import month_start, next_month


def rollups_visible(*, principal: Principal, start: date, end: date) -> QuerySet[DailyRollup]:
    """Rollup rows of [start, end) that this principal may read."""
    return principal.visible(DailyRollup.objects.filter(day__gte=start, day__lt=end))


def rollup_sources(*, start: date, end: date) -> list[QuerySet]:
    """The rollup rows of [start, end) for reads grouped by month or coarser: the whole months
    from MonthlyRollup (fewer rows), the days before the first whole month and from the last
    month's first day from DailyRollup. Both have the same columns, and a month's rows sum as
    its days' (inventory.figures.ROLLUP_ROW_SPLITS). Readers that need days read DailyRollup."""
    first_whole = start if start.day == 1 else next_month(start)
    end_of_whole = month_start(end)
    if first_whole >= end_of_whole:
        return [DailyRollup.objects.filter(day__gte=start, day__lt=end)]
    sources = [MonthlyRollup.objects.filter(day__gte=first_whole, day__lt=end_of_whole)]
    if start < first_whole:
        sources.append(DailyRollup.objects.filter(day__gte=start, day__lt=first_whole))
    if end_of_whole < end:
        sources.append(DailyRollup.objects.filter(day__gte=end_of_whole, day__lt=end))
    return sources


def rollup_sources_visible(*, principal: Principal, start: date, end: date) -> list[QuerySet]:
    """rollup_sources of [start, end) that this principal may read."""
    return [principal.visible(rows) for rows in rollup_sources(start=start, end=end)]


def visible_model_or_404(*, principal: Principal, model_id: int) -> AiModel:
    """The organisation's model, if the principal may see it, else 404 "No such model" (one
    answer for another organisation's model and one the principal may not see, so an id
    tells nothing): a model only other teams use is not a team-limited engineer's to see."""
    model = AiModel.objects.filter(organisation=principal.organisation, id=model_id).first()
    if model is not None and (
        principal.sees_whole_organisation
        or principal.visible(DailyRollup.objects.filter(ai_model=model)).exists()
    ):
        return model
    raise Http404("No such model")


def visible_models(*, principal: Principal) -> QuerySet[AiModel]:
    """The organisation's models the principal may see (see visible_model_or_404)."""
    models = AiModel.objects.filter(organisation=principal.organisation)
    if principal.sees_whole_organisation:
        return models
    used = principal.visible(DailyRollup.objects.filter(ai_model__isnull=False))
    return models.filter(id__in=used.values("ai_model_id"))


def computed_records_by_location(*, principal: Principal) -> dict[int, int]:
    """Computed records of the principal's teams per location id, from the rollups (counting
    raw records would scan every record of the organisation)."""
    rows = (
        principal.visible(DailyRollup.objects.all())
        .values("location_id")
        .annotate(records=Sum("record_count"))
        .order_by()
    )
    return {row["location_id"]: row["records"] for row in rows}


# Instruments counted as renewable energy in the renewable energy factor: certificates, PPAs
# and green tariffs entered at 0 kg CO2e/kWh (the portal holds no fuel per instrument).
RENEWABLE_INSTRUMENT_KINDS = (InstrumentKind.EAC, InstrumentKind.PPA, InstrumentKind.GREEN_TARIFF)


@dataclass(frozen=True)
class FacilityYear:
    """A facility's indicators for a year (inventory.calculation.water.facility_indicators),
    with the settings they sit beside and how many records carried water."""

    facility: Location
    year: int
    records: int
    water_records: int
    indicators: FacilityIndicators
    wue_settings: list[FacilityWue]


def _renewable_shares(principal: Principal, year: int) -> dict[tuple[str, date], float] | None:
    """Per (zone, month) of the year: the share of Scope 2 consumption that renewable
    instruments covered, from the market allocation (organisation-wide rows: None for a
    principal limited to teams)."""
    if not principal.sees_whole_organisation:
        return None
    renewable = Q(
        basis=MarketBasis.INSTRUMENT,
        instrument__kind__in=RENEWABLE_INSTRUMENT_KINDS,
        instrument__kg_per_kwh=0,
    )
    rows = (
        principal.visible(MarketAllocation.objects.filter(month__year=year), team=None)
        .values("zone", "month")
        .annotate(total=Sum("kwh"), renewable=Sum("kwh", filter=renewable, default=0.0))
        .order_by()
    )
    return {(r["zone"], r["month"]): r["renewable"] / r["total"] for r in rows if r["total"]}


def facility_indicators_for_year(*, principal: Principal, year: int) -> list[FacilityYear]:
    """Each facility of the organisation for a year: PUE (energy-weighted from the records),
    WUE (site water over the IT energy of the records whose water is known), renewable
    energy factor and energy by source, as Delegated Regulation (EU) 2024/1364 and ESRS E1-5
    read them (docs/methodology.md, Facility indicators), from the principal's rollups."""
    facilities = _facilities_by_id(principal)
    monthly = []
    for rows in rollup_sources_visible(
        principal=principal, start=date(year, 1, 1), end=date(year + 1, 1, 1)
    ):
        rows = rows.filter(location_id__in=facilities).annotate(month=TruncMonth("day"))
        monthly += _monthly_sums(rows)
    return _facility_years(principal, year, facilities, monthly)


def facility_records_and_indicators(
    *, principal: Principal, year: int
) -> tuple[dict[int, int], list[FacilityYear]]:
    """computed_records_by_location and facility_indicators_for_year from one scan of the
    principal's rollups (the settings page shows both): every row counts its location's
    records, and only the year's rows are grouped by month."""
    facilities = _facilities_by_id(principal)
    in_year = When(day__year=year, then=TruncMonth("day"))
    monthly = []
    for rows in rollup_sources_visible(principal=principal, start=date.min, end=date.max):
        rows = rows.annotate(month=Case(in_year, default=None, output_field=DateField()))
        monthly += _monthly_sums(rows)
    computed: dict[int, int] = {}
    for row in monthly:
        computed[row["location_id"]] = computed.get(row["location_id"], 0) + row["records"]
        if isinstance(row["month"], datetime):  # Postgres: the month's midnight, UTC
            row["month"] = row["month"].date()
    of_year = [row for row in monthly if row["month"] and row["location_id"] in facilities]
    return computed, _facility_years(principal, year, facilities, of_year)


def _facilities_by_id(principal: Principal) -> dict[int, Location]:
    return {
        f.id: f
        for f in Location.objects.filter(organisation=principal.organisation)
        .exclude(kind=Location.Kind.CLOUD)
        .order_by("code")
    }


def _monthly_sums(rows: QuerySet[DailyRollup]) -> QuerySet:
    """Rollup rows annotated with `month`, summed per location and month."""
    with_water = Q(water_record_count=F("record_count"))
    return (
        rows.values("location_id", "month")
        # Named apart from the columns: a sum named like its column would shadow it.
        .annotate(
            records=Sum("record_count"),
            water_records=Sum("water_record_count"),
            it=Sum("it_kwh"),
            facility=Sum("facility_kwh"),
            water=Sum("water_onsite_l"),
            water_it=Sum(Case(When(with_water, then="it_kwh"), default=0.0)),
        )
        .order_by()
    )


def _facility_years(
    principal: Principal, year: int, facilities: dict[int, Location], monthly: Iterable[dict]
) -> list[FacilityYear]:
    """The year's lines of the facilities from their sums by location and month."""
    shares = _renewable_shares(principal, year)
    sums: dict[int, dict] = {}
    for row in monthly:
        facility = facilities[row["location_id"]]
        total = sums.setdefault(
            facility.id,
            {
                "records": 0,
                "water_records": 0,
                "it": 0.0,
                "facility": 0.0,
                "water": None,
                "water_it": 0.0,
                "renewable": 0.0,
            },
        )
        for key in ("records", "water_records", "it", "facility", "water_it"):
            total[key] += row[key] or 0
        if row["water"] is not None:
            total["water"] = (total["water"] or 0.0) + row["water"]
        share = None if shares is None else shares.get((facility.zone, row["month"]))
        # A month not allocated yet leaves the year's renewable energy not available.
        if share is None or total["renewable"] is None:
            total["renewable"] = None
        else:
            total["renewable"] += share * (row["facility"] or 0.0)
    wue_rows: dict[int, list[FacilityWue]] = {}
    for wue in FacilityWue.objects.filter(
        organisation=principal.organisation, valid_from__year__lte=year, valid_to__year__gte=year
    ).order_by("valid_from", "id"):
        wue_rows.setdefault(wue.location_id, []).append(wue)
    lines = []
    for facility in facilities.values():
        total = sums.get(facility.id)
        if total is None:
            continue
        lines.append(
            FacilityYear(
                facility=facility,
                year=year,
                records=total["records"],
                water_records=total["water_records"],
                indicators=facility_indicators(
                    it_kwh=total["it"],
                    facility_kwh=total["facility"],
                    water_l=total["water"],
                    water_it_kwh=total["water_it"],
                    renewable_kwh=total["renewable"],
                ),
                wue_settings=wue_rows.get(facility.id, []),
            )
        )
    return lines


@dataclass(frozen=True)
class CodeCarbonRunLine:
    """A CodeCarbon run with CodeCarbon's own figure beside the portal's, and the factor
    behind each: CodeCarbon never says which intensity it used, so its factor is its kg over
    its energy; the portal's is the grid factor rows its computed records name."""

    run: CodeCarbonRun
    records: int
    computed: int
    started_at: datetime | None
    ended_at: datetime | None
    energy_kwh: float
    # The PUE CodeCarbon applied (in its energy_consumed); None when it did not say (API).
    codecarbon_pue: str | None
    facility_kwh: float
    portal_kg: float
    factors: tuple[GridFactor, ...]

    @property
    def codecarbon_kg(self) -> float:
        return self.run.emissions_kg

    @property
    def codecarbon_g_per_kwh(self) -> float | None:
        return 1000 * self.codecarbon_kg / self.energy_kwh if self.energy_kwh else None

    @property
    def portal_g_per_kwh(self) -> float | None:
        return 1000 * self.portal_kg / self.facility_kwh if self.facility_kwh else None

    @property
    def difference_kg(self) -> float:
        return self.portal_kg - self.codecarbon_kg


def codecarbon_run_lines(*, principal: Principal, limit: int = 50) -> list[CodeCarbonRunLine]:
    """The latest CodeCarbon runs the principal sees, newest first. A run's records share its
    batch; three grouped queries whatever the number of runs."""
    runs = list(
        principal.visible(CodeCarbonRun.objects.all())
        .select_related("team", "ai_model", "location")
        .order_by("-created_at", "-id")[:limit]
    )
    records = WorkloadRecord.objects.filter(
        organisation=principal.organisation, batch_id__in=[r.batch_id for r in runs]
    )
    computed = Q(status="computed")
    totals = {
        row["batch_id"]: row
        for row in records.values("batch_id")
        .annotate(
            records=Count("id"),
            computed=Count("id", filter=computed),
            started_at=Min("started_at"),
            ended_at=Max("ended_at"),
            energy_kwh=Sum("energy_kwh"),
            facility_kwh=Sum("facility_kwh", filter=computed),
            portal_kg=Sum("location_kg", filter=computed),
            codecarbon_pue=Max(KeyTextTransform("codecarbon_pue", "tags")),
        )
        .order_by()
    }
    used = set(records.filter(computed).values_list("batch_id", "grid_factor_id").distinct())
    factors = GridFactor.objects.in_bulk({factor_id for _, factor_id in used if factor_id})
    by_batch: dict[int, list[GridFactor]] = {}
    for batch_id, factor_id in sorted(used, key=lambda pair: pair[1] or 0):
        if factor_id in factors:
            by_batch.setdefault(batch_id, []).append(factors[factor_id])
    return [
        _run_line(run, totals.get(run.batch_id, {}), by_batch.get(run.batch_id, [])) for run in runs
    ]


def _run_line(run: CodeCarbonRun, row: dict, factors: list[GridFactor]) -> CodeCarbonRunLine:
    return CodeCarbonRunLine(
        run=run,
        records=row.get("records", 0),
        computed=row.get("computed", 0),
        started_at=row.get("started_at"),
        ended_at=row.get("ended_at"),
        energy_kwh=row.get("energy_kwh") or 0.0,
        codecarbon_pue=row.get("codecarbon_pue"),
        facility_kwh=row.get("facility_kwh") or 0.0,
        portal_kg=row.get("portal_kg") or 0.0,
        factors=tuple(factors),
    )


def import_jobs_recent(*, principal: Principal, limit: int) -> list[ImportJob]:
    """The latest file imports this principal may read, newest first.

    A job's file name and row errors are its uploader's: a principal limited to teams reads
    the jobs of uploaders limited to teams it sees, never an organisation-wide upload.
    """
    jobs = ImportJob.objects.filter(organisation=principal.organisation).select_related(
        "created_by"
    )
    jobs = jobs.order_by("-created_at", "-id")
    if principal.sees_whole_organisation:
        return list(jobs[:limit])
    # The teams are a JSON list: SQLite has no portable "contained in", so Python checks it.
    limited = jobs.filter(team_ids__isnull=False).iterator(chunk_size=100)
    return list(islice((job for job in limited if principal.sees_teams(job.team_ids)), limit))


def import_job_get(*, principal: Principal, job_id: int) -> ImportJob | None:
    """An import the principal may read: with read access, one its teams cover; with ingest
    alone (an upload-only token), only the ones that token uploaded, so a pipeline can poll
    its own import without reading anyone else's."""
    jobs = ImportJob.objects.filter(organisation=principal.organisation)
    if not principal.can(Access.READ):
        jobs = jobs.filter(token=principal.token) if principal.token else jobs.none()
    job = jobs.filter(pk=job_id).first()
    return job if job is not None and principal.sees_teams(job.team_ids) else None


def mapping_rule_list(*, principal: Principal) -> QuerySet[TeamMappingRule]:
    """The billing tag → team rules of the teams this principal sees."""
    return principal.visible(TeamMappingRule.objects.all()).select_related("team")
