"""Reads for the record browser: the records behind a figure, one record's lineage, a batch.

A list is keyset-paginated newest first on (activity_date, id) within the organisation, so a
page is an index range scan of `workload_org_day_id` / `cloud_usage_org_day_id` /
`llm_usage_org_day` (or the model indexes when a model is named) however deep it is. The
figures of a filter come from the daily rollups the pages read (a batch's and a locked
version's from their records; LLM usage's from its records, as its dashboard card), so the
records listed sum to the figure they were reached from.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from accounts.principal import Principal
from inventory.calculation.methodology import DEFAULT_UTILIZATION
from inventory.figures import Sums
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD
from inventory.llm.schemas import LLM_USAGE
from inventory.llm.selectors import (
    LLM_FIGURES,
    LlmApiFootprint,
    LlmEstimateLineage,
    Range,
    llm_records_footprint,
    llm_usage_lineage,
    record_range,
)
from inventory.models import (
    CloudUsageRecord,
    ComputeStatus,
    DailyRollup,
    EmissionScope,
    IngestBatch,
    LlmUsageRecord,
    Location,
    Provenance,
    ProviderPue,
    RecordKind,
    WorkloadRecord,
)
from reports.models import ReportVersion

PAGE_SIZE = 100
LLM_KIND = "llm-usage"
RECORD_MODELS: dict[str, type[WorkloadRecord | CloudUsageRecord | LlmUsageRecord]] = {
    "workloads": WorkloadRecord,
    "cloud-usage": CloudUsageRecord,
    LLM_KIND: LlmUsageRecord,
}
# The references a listed record shows (LLM usage runs at no location of the organisation's).
LISTED_RELATED = {
    "workloads": ("team", "ai_model", "location"),
    "cloud-usage": ("team", "ai_model", "location"),
    LLM_KIND: ("team", "ai_model"),
}
ROLLUP_KINDS = {"workloads": RecordKind.WORKLOAD, "cloud-usage": RecordKind.CLOUD_USAGE}
# The kinds the Scope 2 report, its lock and its audit PDF hold; LLM usage sits beside them.
REPORTED_KINDS = tuple(ROLLUP_KINDS)
# Cloud usage has no phase: its rollups say "other".
CLOUD_PHASE = "other"
ALL_STATUSES = "all"
NO_MODEL = "none"


@dataclass(frozen=True)
class RecordFilters:
    kind: str = "workloads"
    start: date | None = None
    end: date | None = None  # exclusive
    team_id: int | None = None
    # A model id, or NO_MODEL for the records that name none.
    model: int | str | None = None
    location_id: int | None = None
    scope: str | None = None
    energy_tier: str | None = None
    phase: str | None = None
    status: str = ComputeStatus.COMPUTED
    batch_id: int | None = None
    # (year, quarter, version): only the records that locked report version holds.
    locked: tuple[int, int, int] | None = None
    # LLM usage: the LLM called, "provider" or "provider/model".
    llm: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the next page holds the records before it, newest first."""

    activity_date: date
    id: int

    def __str__(self) -> str:
        return f"{self.activity_date.isoformat()}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """`2026-01-05.123`; ValueError for anything else."""
        day, _, record_id = text.partition(".")
        return cls(date.fromisoformat(day), int(record_id))


@dataclass
class RecordPage:
    records: list
    next_cursor: Cursor | None


def records_visible(*, principal: Principal, kind: str) -> QuerySet:
    return principal.visible(RECORD_MODELS[kind].objects.all())


def _model_condition(model: int | str | None, field_name: str) -> Q:
    if model is None:
        return Q()
    if model == NO_MODEL:
        return Q(**{f"{field_name}__isnull": True})
    return Q(**{field_name: model})


def _llm_condition(filters: RecordFilters) -> Q | None:
    """LLM usage has no location, energy tier or phase, and is all Scope 3 category 1: a
    filter on another of those excludes every record of it."""
    if filters.location_id or filters.energy_tier or filters.phase:
        return None
    if filters.scope not in (None, EmissionScope.SCOPE3_CAT1):
        return None
    if not filters.llm:
        return Q()
    provider, _, model = filters.llm.partition("/")
    return Q(provider=provider, **({"model": model} if model else {}))


def _kind_condition(filters: RecordFilters) -> Q | None:
    """The filters only some kinds carry; None when they exclude every record of the kind."""
    if filters.kind == LLM_KIND:
        return _llm_condition(filters)
    if filters.llm:
        return None  # the organisation's own computing calls no LLM API
    if not filters.phase:
        return Q()
    if filters.kind == "cloud-usage":
        return Q() if filters.phase == CLOUD_PHASE else None
    return Q(phase=filters.phase)


def _shared_conditions(filters: RecordFilters, day: str) -> Q:
    """The filters records and their rollups both carry (`day`: the date column); for LLM
    usage, those it has (_llm_condition answers the others)."""
    values = {
        f"{day}__gte": filters.start,
        f"{day}__lt": filters.end,
        "team_id": filters.team_id,
    }
    if filters.kind != LLM_KIND:
        values |= {
            "location_id": filters.location_id,
            "scope": filters.scope,
            "energy_tier": filters.energy_tier,
        }
    given = Q(**{name: value for name, value in values.items() if value})
    return given & _model_condition(filters.model, "ai_model_id")


LOCK_KINDS = {"workloads": "workload", "cloud-usage": "cloud"}  # ReportVersion lineage keys


def _held_by_lock(principal: Principal, filters: RecordFilters) -> Q | None:
    """The records a locked version holds: those stored before it was locked (the record ids
    it kept; versions locked before those were kept compare created_at). None when the
    version does not exist or is not the principal's to see (a locked version covers the
    whole organisation)."""
    if filters.locked is None:
        return Q()
    year, quarter, number = filters.locked
    version = ReportVersion.objects.filter(
        organisation=principal.organisation, year=year, quarter=quarter, version=number
    ).first()
    if version is None or not principal.sees_whole_organisation:
        return None
    last_ids = (version.lineage or {}).get("last_record_ids")
    if last_ids and filters.kind in LOCK_KINDS:
        return Q(id__lte=last_ids[LOCK_KINDS[filters.kind]])
    # LLM usage is not in the Scope 2 report: the records stored before the lock.
    return Q(created_at__lte=version.locked_at)


def records_filtered(*, principal: Principal, filters: RecordFilters) -> QuerySet:
    rows = records_visible(principal=principal, kind=filters.kind)
    kind_only = _kind_condition(filters)
    held = _held_by_lock(principal, filters)
    if kind_only is None or held is None:
        return rows.none()
    rows = rows.filter(kind_only, held, _shared_conditions(filters, "activity_date"))
    if filters.batch_id:
        rows = rows.filter(batch_id=filters.batch_id)
    if filters.status != ALL_STATUSES:
        rows = rows.filter(status=filters.status)
    return rows


def _newest_first(rows: QuerySet) -> QuerySet:
    return rows.order_by("-activity_date", "-id")


# The columns a page of records shows (the record browser's table and RecordListApi): at 100
# records a page, reading and building whole rows (inputs, tags, times) cost more than the
# query itself.
_EVERY_KIND_LISTS = (
    "external_id",
    "batch_id",
    "status",
    "activity_date",
    "team__name",
    "ai_model__name",
)
_LISTED = (
    *_EVERY_KIND_LISTS,
    "scope",
    "energy_tier",
    "it_kwh",
    "pue_used",
    "facility_kwh",
    "location_kg_per_kwh",
    "location_kg",
    "grid_factor_id",
    "factor_override_id",
    "methodology_version",
    "location__code",
    "location__zone",
)
LISTED_FIELDS = {
    "workloads": (*_LISTED, "phase"),
    "cloud-usage": (*_LISTED, "quantity", "usage_kind"),
    LLM_KIND: (
        *_EVERY_KIND_LISTS,
        "application",
        "provider",
        "model",
        "input_tokens",
        "output_tokens",
        "requests",
        "latency_s",
        *(f"{figure}_{end}" for figure in LLM_FIGURES for end in ("min", "max")),
        "ecologits_version",
    ),
}


def record_page(
    *,
    principal: Principal,
    filters: RecordFilters,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> RecordPage:
    """One page of the filtered records, newest first, starting after `before`."""
    rows = records_filtered(principal=principal, filters=filters)
    if before is not None:
        # The plain bound on the day lets the index range start at the cursor; the OR alone
        # would scan from the newest record on.
        rows = rows.filter(
            Q(activity_date__lt=before.activity_date)
            | Q(activity_date=before.activity_date, id__lt=before.id),
            activity_date__lte=before.activity_date,
        )
    listed = _newest_first(rows).select_related(*LISTED_RELATED[filters.kind])
    records = list(listed.only(*LISTED_FIELDS[filters.kind])[: size + 1])
    more = len(records) > size
    records = records[:size]
    last = records[-1] if more else None
    return RecordPage(records, Cursor(last.activity_date, last.id) if last else None)


def records_for_export(*, principal: Principal, filters: RecordFilters) -> Iterator:
    """Every filtered record, newest first, read in chunks (an export can be millions)."""
    rows = records_filtered(principal=principal, filters=filters)
    return (
        _newest_first(rows)
        .select_related(*LISTED_RELATED[filters.kind], "batch")
        .iterator(chunk_size=2000)
    )


# --- The figure of a filter ---------------------------------------------------------------


FIGURES = {
    "it_kwh": Sum("it_kwh"),
    "facility_kwh": Sum("facility_kwh"),
    "location_kg": Sum("location_kg"),
}


def _sums(sums: dict) -> Sums:
    return Sums(**{name: value or 0 for name, value in sums.items()})


def _rollup_totals(principal: Principal, filters: RecordFilters) -> Sums:
    rows = principal.visible(DailyRollup.objects.all()).filter(
        _shared_conditions(filters, "day"), record_kind=ROLLUP_KINDS[filters.kind]
    )
    if filters.phase:
        rows = rows.filter(phase=filters.phase)
    return _sums(rows.aggregate(record_count=Sum("record_count"), **FIGURES))


def _record_totals(principal: Principal, filters: RecordFilters) -> Sums:
    rows = records_filtered(principal=principal, filters=filters)
    rows = rows.filter(status=ComputeStatus.COMPUTED)
    return _sums(rows.aggregate(record_count=Count("id"), **FIGURES))


def record_totals(*, principal: Principal, filters: RecordFilters) -> Sums | LlmApiFootprint | None:
    """The computed records' energy and location-based kg under this filter: the figure the
    dashboards and reports show for it (from the same rollups). A batch's, and a locked
    version's (rollups also hold records that arrived after the lock), come from the records
    themselves; with pending or failed records asked for, None: those have no figures.
    LLM usage has no rollups: its EcoLogits ranges are summed from the records listed (the
    estimated ones), as its card on the dashboards sums them."""
    if filters.kind == LLM_KIND:
        return llm_records_footprint(records_filtered(principal=principal, filters=filters))
    if filters.batch_id or filters.locked:
        return _record_totals(principal, filters)
    if filters.status != ComputeStatus.COMPUTED:
        return None
    return _rollup_totals(principal, filters)


# --- One record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A figure used and where it comes from."""

    value: float | None
    label: str
    source: str = ""
    source_url: str = ""
    licence: str = ""
    row: str = ""  # e.g. "grid factor #12 (FR 2026, dataset 2026.1)"


@dataclass(frozen=True)
class Step:
    """One intermediate figure: what it is, how it was worked out, the stored value."""

    label: str
    formula: str
    value: float | None
    unit: str


@dataclass
class RecordDetail:
    kind: str
    record: WorkloadRecord | CloudUsageRecord
    # What was sent, field by field, as stored.
    inputs: dict
    energy_rule: str
    pue: Source
    factor: Source | None
    power_model: Source | None
    coefficient: Source | None
    steps: list[Step] = field(default_factory=list)


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.6g}"


def pue_source(record, location: Location) -> Source:
    """Where the PUE the record was computed with came from, most specific first (the order
    of inventory.calculation.energy.resolve_pue and the pipeline's SQL)."""
    used = record.pue_used
    if getattr(record, "energy_includes_pue", False):
        return Source(used, "not applied: the measured energy already includes the PUE")
    if getattr(record, "pue", None) is not None:
        return Source(used, "the record's own PUE, as sent")
    if location.pue is not None:
        note = "" if location.pue == used else f" (now {location.pue}: recalculation pending)"
        return Source(used, f"facility {location.code}{note}", source=location.pue_source)
    provider = location.provider if location.kind == Location.Kind.CLOUD else "default"
    row = ProviderPue.objects.filter(dataset_id=record.factor_dataset_id, provider=provider).first()
    if row is not None:
        label = f"published PUE of provider {provider} ({row.year})"
        return _cited(used, label, f"provider PUE #{row.pk}", row)
    return Source(used, "methodology default (Uptime Institute survey 2024)")


def _cited(value: float | None, label: str, row: str, cited: Provenance) -> Source:
    """A figure from a row of the factor library, with the row's citation."""
    return Source(
        value,
        label,
        source=cited.source,
        source_url=cited.source_url,
        licence=cited.licence,
        row=row,
    )


def _factor_source(record) -> Source | None:
    if record.factor_override_id:
        override = record.factor_override
        return Source(
            record.location_kg_per_kwh,
            f"organisation override, {override.zone} {override.get_kind_display()}"
            f" {override.valid_from} to {override.valid_to}",
            source=override.source,
            row=f"factor override #{override.pk}",
        )
    if record.grid_factor_id:
        factor = record.grid_factor
        period = f"{factor.year}" + (f"-{factor.month:02d}" if factor.month else "")
        return _cited(
            record.location_kg_per_kwh,
            f"grid factor {factor.zone} {period}, {factor.get_kind_display()}"
            f" ({factor.get_basis_display()})",
            f"grid factor #{factor.pk} ({factor.dataset.name} {factor.dataset.version})",
            factor,
        )
    return None


def _power_model_source(record) -> Source | None:
    hardware = record.power_model
    if hardware is None:
        return None
    return _cited(
        None,
        f"{hardware.name}: idle {hardware.idle_w:g} W, max {hardware.max_w:g} W per"
        f" {hardware.unit}",
        f"hardware #{hardware.pk} ({hardware.code})",
        hardware,
    )


def _coefficient_source(record) -> Source | None:
    coefficient = getattr(record, "coefficient", None)
    if coefficient is None:
        return None
    return _cited(
        coefficient.value,
        f"{coefficient.key} = {coefficient.value:g} {coefficient.unit}",
        f"cloud coefficient #{coefficient.pk}",
        coefficient,
    )


def _modelled_watts(record) -> str:
    """The power model's watts at the record's (or the default) utilisation, spelled out."""
    hardware = record.power_model
    if hardware is None:
        return "no power model"
    if record.utilization is not None:
        utilisation = f"utilisation {record.utilization:g}"
    else:
        utilisation = f"default utilisation {DEFAULT_UTILIZATION:g}"
    idle, peak = hardware.idle_w, hardware.max_w
    return f"({idle:g} + {utilisation} × ({peak:g} − {idle:g})) W"


def _workload_energy(record: WorkloadRecord) -> tuple[str, Step]:
    hours = f"{record.duration_s:g} s ÷ 3 600 000"
    if record.energy_kwh is not None:
        return "1. measured energy as sent", Step(
            "IT energy", f"energy_kwh {_n(record.energy_kwh)}", record.it_kwh, "kWh"
        )
    if record.avg_power_w is not None:
        formula = f"{record.avg_power_w:g} W × {record.device_count} devices × {hours}"
        return "2. metered average power × devices × time", Step(
            "IT energy", formula, record.it_kwh, "kWh"
        )
    watts = _modelled_watts(record)
    return "3. hardware power model × devices × time", Step(
        "IT energy", f"{watts} × {record.device_count} devices × {hours}", record.it_kwh, "kWh"
    )


def _cloud_energy(record: CloudUsageRecord) -> tuple[str, Step]:
    copies = f" × replication {_n(record.replication_used)}"
    quantity = f"{record.quantity:g} {record.get_usage_kind_display()}"
    if record.usage_kind in ("compute", "gpu"):
        formula = f"{_modelled_watts(record)} × {quantity}{copies} ÷ 1000"
        rule = "CCF: hours × (min W + utilisation × (max W − min W))"
    else:
        coefficient = record.coefficient
        per = f"{coefficient.value:g} {coefficient.unit}" if coefficient else "no coefficient"
        scale = " ÷ 1000" if record.usage_kind.startswith("storage") else ""
        formula = f"{quantity} × {per}{copies}{scale}"
        rule = "CCF: quantity × coefficient"
    return rule, Step("IT energy", formula, record.it_kwh, "kWh")


# What was sent is what makes a record what it is (its content hash's fields).
SENT_FIELDS = {
    "workloads": WORKLOAD.content_fields.names,
    "cloud-usage": CLOUD_USAGE.content_fields.names,
    LLM_KIND: LLM_USAGE.content_fields.names,
}


def _team_slug(record) -> str:
    return record.team.slug


def _ai_model_name(record) -> str | None:
    return record.ai_model.name if record.ai_model else None


# Fields sent as a reference, shown by the name or code the client sent. An LLM usage
# record's "model" is the LLM called, stored as sent; "ai_model" the organisation's model.
_COMPUTING_SENT_AS = {
    "team": _team_slug,
    "model": _ai_model_name,
    "location": lambda r: r.location.code,
    "hardware": lambda r: r.hardware.code if r.hardware else None,
}
SENT_AS = {
    "workloads": _COMPUTING_SENT_AS,
    "cloud-usage": _COMPUTING_SENT_AS,
    LLM_KIND: {"team": _team_slug, "ai_model": _ai_model_name},
}


def _inputs(record, kind: str) -> dict:
    sent = {"external_id": record.external_id}
    shown_as = SENT_AS[kind]
    for name in SENT_FIELDS[kind]:
        sent[name] = shown_as[name](record) if name in shown_as else getattr(record, name)
    return sent


def record_detail(
    *, principal: Principal, kind: str, record_id: int
) -> "RecordDetail | LlmRecordDetail | None":
    """A record the principal may read, with its inputs' lineage; None otherwise."""
    if kind not in RECORD_MODELS:
        return None
    if kind == LLM_KIND:
        return _llm_record_detail(principal, record_id)
    related = ["team", "ai_model", "location", "hardware", "power_model"]
    related += ["grid_factor__dataset", "factor_override", "factor_dataset"]
    related += ["facility_wue", "cloud_wue", "offsite_water_factor"]
    if kind == "cloud-usage":
        related.append("coefficient")
    record = (
        records_visible(principal=principal, kind=kind)
        .select_related(*related)
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        return None
    rule, energy = (_workload_energy if kind == "workloads" else _cloud_energy)(record)
    pue = pue_source(record, record.location)
    includes_pue = getattr(record, "energy_includes_pue", False)
    facility = Step(
        "Facility energy",
        f"{_n(record.it_kwh)} kWh" + ("" if includes_pue else f" × PUE {_n(pue.value)}"),
        record.facility_kwh,
        "kWh",
    )
    emissions = Step(
        "Location-based emissions",
        f"{_n(record.facility_kwh)} kWh × {_n(record.location_kg_per_kwh)} kg CO2e/kWh",
        record.location_kg,
        "kg CO2e",
    )
    return RecordDetail(
        kind=kind,
        record=record,
        inputs=_inputs(record, kind),
        energy_rule=rule,
        pue=pue,
        factor=_factor_source(record),
        power_model=_power_model_source(record),
        coefficient=_coefficient_source(record),
        steps=[energy, facility, emissions, _water_step(record), _offsite_water_step(record)],
    )


def _water_step(record) -> Step:
    """On-site water and where it came from (inventory.calculation.water): measured, or IT
    energy × the WUE row the record names; not available without either."""
    litres = record.water_onsite_l
    if record.water_tier == "measured":
        formula = "measured water as sent (water_l)"
    elif record.facility_wue is not None:
        row = record.facility_wue
        formula = f"{_n(record.it_kwh)} kWh IT × WUE {_n(record.wue_used)} L/kWh ({row.source})"
    elif record.cloud_wue is not None:
        row = record.cloud_wue
        formula = (
            f"{_n(record.it_kwh)} kWh IT × WUE {_n(record.wue_used)} L/kWh "
            f"({row.provider}:{row.region} {row.year}, {row.source})"
        )
    else:
        formula = "not available: no measured water and no WUE for this facility and day"
    return Step("On-site water", formula, litres, "L")


def _offsite_water_step(record) -> Step:
    """Off-site water: facility energy × the factor row of the zone's country the record
    names; not available where the dataset has none (the world average only)."""
    row = record.offsite_water_factor
    if record.water_offsite_l is None or row is None:
        formula = f"not available: no water factor of its own for {record.location.zone}'s country"
    else:
        formula = (
            f"{_n(record.facility_kwh)} kWh facility × {_n(row.l_per_kwh)} L/kWh"
            f" ({row.country_iso}, {row.source})"
        )
    return Step("Off-site water", formula, record.water_offsite_l, "L")


# --- One LLM usage record ------------------------------------------------------------------


@dataclass(frozen=True)
class RangeStep:
    """One estimated figure: a request's, and the record's (a request's × its requests)."""

    label: str
    per_request: Range | None
    value: Range | None
    unit: str


@dataclass
class LlmRecordDetail:
    kind: str
    record: LlmUsageRecord
    inputs: dict
    # The OpenTelemetry span the record came from (its external_id), for an OTLP batch.
    trace_id: str | None
    span_id: str | None
    estimate_rule: str
    lineage: LlmEstimateLineage
    steps: list[RangeStep]
    scope: str = EmissionScope.SCOPE3_CAT1


_LLM_STEPS = (
    ("Energy", "energy_kwh", "kWh"),
    ("GWP, usage", "gwp_usage_kg", "kg CO2e"),
    ("GWP, embodied", "gwp_embodied_kg", "kg CO2e"),
    ("Water (on- and off-site)", "water_l", "L"),
)


def _bounds_text(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


def _estimate_rule(record: LlmUsageRecord, lineage: LlmEstimateLineage) -> str:
    """The EcoLogits call, its inputs spelled out."""
    parameters = lineage.parameters
    model = (
        f"{_bounds_text(parameters.active_b)} B active / {_bounds_text(parameters.total_b)} B "
        "total parameters"
        if parameters
        else "no parameter counts"
    )
    latency = (
        f"{record.latency_s:g} s latency" if record.latency_s is not None else "latency modelled"
    )
    centre = lineage.datacentre
    where = (
        f"{record.provider}'s data centres (PUE {_bounds_text(centre.pue)}, WUE "
        f"{_bounds_text(centre.wue_l_per_kwh)} L/kWh) on the {centre.zone} electricity mix "
        f"({_n(centre.mix_gwp_kg_per_kwh)} kg CO2e/kWh)"
        if centre
        else f"no data-centre defaults for provider {record.provider}"
    )
    return (
        f"EcoLogits {lineage.ecologits_version or lineage.installed_version} "
        f"compute_llm_impacts: {model}, {lineage.output_tokens_per_request:g} output tokens "
        f"and {latency} a request, {where}; × {record.requests} "
        + ("request" if record.requests == 1 else "requests")
    )


def _llm_record_detail(principal: Principal, record_id: int) -> LlmRecordDetail | None:
    record = (
        records_visible(principal=principal, kind=LLM_KIND)
        .select_related("team", "ai_model", "batch", "custom_llm")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        return None
    from_otlp = record.batch.source == IngestBatch.Source.OTLP
    trace_id, _, span_id = record.external_id.partition(":") if from_otlp else (None, "", None)
    lineage = llm_usage_lineage(record)
    return LlmRecordDetail(
        kind=LLM_KIND,
        record=record,
        inputs=_inputs(record, LLM_KIND),
        trace_id=trace_id,
        span_id=span_id,
        estimate_rule=_estimate_rule(record, lineage),
        lineage=lineage,
        steps=[
            RangeStep(label, lineage.per_request[figure], record_range(record, figure), unit)
            for label, figure, unit in _LLM_STEPS
        ],
    )


# --- A batch ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSummary:
    batch: IngestBatch
    token_name: str
    sent_by: str
    visible_records: dict[str, int]


def batch_summary(*, principal: Principal, batch_id: int) -> BatchSummary | None:
    """A batch of the principal's organisation holding records it may read; None otherwise
    (an engineer does not see batches of other teams' records)."""
    batch = (
        IngestBatch.objects.select_related("token", "user")
        .filter(organisation=principal.organisation, pk=batch_id)
        .first()
    )
    if batch is None:
        return None
    counts = {
        kind: records_visible(principal=principal, kind=kind).filter(batch=batch).count()
        for kind in RECORD_MODELS
    }
    if not principal.sees_whole_organisation and not any(counts.values()):
        return None
    return BatchSummary(
        batch=batch,
        token_name=batch.token.name if batch.token else "",
        sent_by=batch.user.get_username() if batch.user else "",
        visible_records=counts,
    )
