"""Reads of LLM API usage: declared models, and the EcoLogits estimates summed in SQL.

The sums are Scope 3 category 1 (purchased services) and are never added to the
organisation's own energy or Scope 2 emissions; they sit beside them. Summing each record's
minimum and maximum gives the range of the total: EcoLogits' ranges come from the model's
parameter range and the provider's PUE/WUE range, which move every record the same way.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from accounts.principal import Principal
from inventory.calculation.llm import (
    ECOLOGITS_LICENCE,
    ECOLOGITS_METHODOLOGY_URL,
    ECOLOGITS_VERSION,
    ModelParameters,
    ProviderDatacentre,
    provider_datacentre,
    repository_parameters,
)
from inventory.models import ComputeStatus, CustomLlm, LlmUsageRecord


@dataclass(frozen=True)
class Range:
    min: float
    max: float


@dataclass(frozen=True)
class LlmApiFootprint:
    """A group's LLM API usage; ranges are None (not available) while no record of the group
    is estimated, never zero."""

    record_count: int
    estimated_count: int
    requests: int
    input_tokens: int
    output_tokens: int
    energy_kwh: Range | None
    gwp_usage_kg: Range | None
    gwp_embodied_kg: Range | None
    gwp_kg: Range | None  # usage + embodied
    water_l: Range | None


# Groupings of the footprint API and pages: (key column, label column) of a record; `llm`
# groups by the provider and model called.
LLM_GROUPINGS = {
    "team": ("team_id", "team__name"),
    "model": ("ai_model_id", "ai_model__name"),
    "month": ("month", "month"),
    "llm": ("provider", "model"),
}
# The figures EcoLogits estimates, each stored as <figure>_min and <figure>_max.
LLM_FIGURES = ("energy_kwh", "gwp_usage_kg", "gwp_embodied_kg", "water_l")
_ESTIMATED = Q(status=ComputeStatus.COMPUTED)
_SUMS = {
    "record_count": Count("id"),
    "estimated_count": Count("id", filter=_ESTIMATED),
    "requests_sum": Coalesce(Sum("requests"), 0),
    "input_tokens_sum": Coalesce(Sum("input_tokens"), 0),
    "output_tokens_sum": Coalesce(Sum("output_tokens"), 0),
    **{
        f"{figure}_{end}_sum": Sum(f"{figure}_{end}", filter=_ESTIMATED)
        for figure in LLM_FIGURES
        for end in ("min", "max")
    },
}


def custom_llm_list(*, principal: Principal) -> QuerySet[CustomLlm]:
    """The organisation's declared models (settings: every member reads them)."""
    return CustomLlm.objects.filter(organisation=principal.organisation)


def llm_usage_visible(*, principal: Principal, start: date, end: date) -> QuerySet[LlmUsageRecord]:
    """LLM usage records of [start, end) this principal may read (its teams')."""
    return principal.visible(
        LlmUsageRecord.objects.filter(activity_date__gte=start, activity_date__lt=end)
    )


def _range(row: dict, figure: str) -> Range | None:
    low, high = row[f"{figure}_min_sum"], row[f"{figure}_max_sum"]
    return None if low is None else Range(low, high)


def record_range(record: LlmUsageRecord, figure: str) -> Range | None:
    """A record's estimate of one figure (energy_kwh, gwp_usage_kg, gwp_embodied_kg,
    water_l); None until it is estimated."""
    low = getattr(record, f"{figure}_min")
    return None if low is None else Range(low, getattr(record, f"{figure}_max"))


def llm_api_footprint(row: dict) -> LlmApiFootprint:
    """A row of `_SUMS` as a group's figures."""
    usage, embodied = _range(row, "gwp_usage_kg"), _range(row, "gwp_embodied_kg")
    return LlmApiFootprint(
        record_count=row["record_count"],
        estimated_count=row["estimated_count"],
        requests=row["requests_sum"],
        input_tokens=row["input_tokens_sum"],
        output_tokens=row["output_tokens_sum"],
        energy_kwh=_range(row, "energy_kwh"),
        gwp_usage_kg=usage,
        gwp_embodied_kg=embodied,
        gwp_kg=Range(usage.min + embodied.min, usage.max + embodied.max) if usage else None,
        water_l=_range(row, "water_l"),
    )


@dataclass(frozen=True)
class LlmApiGroup:
    key: str
    label: str
    figures: LlmApiFootprint


def _records(
    principal: Principal, start: date, end: date, team_id: int | None, ai_model_id: int | None
) -> QuerySet[LlmUsageRecord]:
    records = llm_usage_visible(principal=principal, start=start, end=end)
    if team_id is not None:
        records = records.filter(team_id=team_id)
    if ai_model_id is not None:
        records = records.filter(ai_model_id=ai_model_id)
    return records


def llm_api_total(
    *,
    principal: Principal,
    start: date,
    end: date,
    team_id: int | None = None,
    ai_model_id: int | None = None,
) -> LlmApiFootprint | None:
    """The period's LLM API usage (of one team or AI model if given); None without records."""
    total = llm_records_footprint(_records(principal, start, end, team_id, ai_model_id))
    return total if total.record_count else None


def llm_records_footprint(records: QuerySet[LlmUsageRecord]) -> LlmApiFootprint:
    """The figures of these records, summed in one aggregate query."""
    return llm_api_footprint(records.aggregate(**_SUMS))


def llm_api_groups(
    *,
    principal: Principal,
    start: date,
    end: date,
    group_by: str,
    team_id: int | None = None,
    ai_model_id: int | None = None,
) -> list[LlmApiGroup]:
    """One line per group: team, the organisation's AI model, month, or `llm` (the provider
    and model called); by label (months in order), in one aggregate query."""
    records = _records(principal, start, end, team_id, ai_model_id)
    key_field, label_field = LLM_GROUPINGS[group_by]
    if group_by == "month":
        records = records.annotate(month=TruncMonth("activity_date"))
    rows = records.values(key_field, label_field).annotate(**_SUMS).order_by()
    if group_by == "llm":
        groups = [
            LlmApiGroup(name, name, llm_api_footprint(r))
            for r in rows
            for name in [f"{r['provider']}/{r['model']}"]
        ]
    else:
        groups = [
            LlmApiGroup(_key(r[key_field]), _label(r[label_field]), llm_api_footprint(r))
            for r in rows
        ]
    groups.sort(key=lambda g: g.key if group_by == "month" else g.label)
    return groups


def _key(value) -> str:
    if isinstance(value, date):
        return value.isoformat()[:7]
    return "" if value is None else str(value)


def _label(value) -> str:
    return _key(value) or "(unspecified)"


# --- How one record was estimated -----------------------------------------------------------


@dataclass(frozen=True)
class LlmEstimateLineage:
    """What EcoLogits estimated a record with: the model's parameter counts and where they come
    from, the provider's data centres and electricity mix, and each request's share."""

    ecologits_version: str  # the record's; the installed one may be newer
    installed_version: str
    methodology_url: str
    licence: str
    parameters: ModelParameters | None
    parameters_source: str
    datacentre: ProviderDatacentre | None
    output_tokens_per_request: float
    per_request: dict[str, Range | None]


def _declared_parameters(declaration: CustomLlm) -> ModelParameters:
    active, total = declaration.active_parameters_b, declaration.total_parameters_b
    return ModelParameters(
        architecture="dense" if active == total else "moe",
        active_b=(active, active),
        total_b=(total, total),
        warnings=(),
    )


def _declaration(record: LlmUsageRecord) -> CustomLlm | None:
    """The declaration a record was estimated with; before its estimate, the one it will be."""
    if record.custom_llm is not None or record.status == ComputeStatus.COMPUTED:
        return record.custom_llm
    return CustomLlm.objects.filter(
        organisation_id=record.organisation_id, provider=record.provider, name=record.model
    ).first()


def llm_usage_lineage(record: LlmUsageRecord) -> LlmEstimateLineage:
    """A record's estimate, input by input. A declared model's counts are the declaration's
    (a record estimated with a declaration since deleted names none)."""
    declaration = _declaration(record)
    if declaration is not None:
        parameters = _declared_parameters(declaration)
        source = f"declared by the organisation: {declaration.source_note}"
    else:
        parameters = repository_parameters(record.provider, record.model)
        source = f"EcoLogits {ECOLOGITS_VERSION} model repository" if parameters else ""
    requests = record.requests
    per_request = {}
    for figure in LLM_FIGURES:
        whole = record_range(record, figure)
        per_request[figure] = whole and Range(whole.min / requests, whole.max / requests)
    return LlmEstimateLineage(
        ecologits_version=record.ecologits_version,
        installed_version=ECOLOGITS_VERSION,
        methodology_url=ECOLOGITS_METHODOLOGY_URL,
        licence=ECOLOGITS_LICENCE,
        parameters=parameters,
        parameters_source=source or "not available: neither EcoLogits nor a declaration names it",
        datacentre=provider_datacentre(record.provider),
        output_tokens_per_request=record.output_tokens / requests,
        per_request=per_request,
    )
