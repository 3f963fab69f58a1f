"""What an optimisation did: a base model beside its variants, per unit of inference served.

Like with like only: the inference records of each model over the same period, per 1k
inferences and per 1M tokens (facility energy and location-based CO2e, own facilities and
public cloud together, as the SCI counts them). A side with too little data says so instead of
showing a figure; the yearly saving is the difference per inference times the variant's
inference volume over the period, scaled to a year.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Sum

from accounts.principal import Principal
from inventory.calculation.emissions import grams_per_1k_inferences, grams_per_1m_tokens
from inventory.models import AiModel, DailyRollup, EnergyTier, Phase
from inventory.selectors import visible_models

# Below these, per-unit figures say more about noise than about the model.
MIN_RECORDS = 5
MIN_INFERENCES = 10_000
MIN_TOKENS = 1_000_000
DAYS_PER_YEAR = 365.0
# Per count: the g CO2e intensity (inventory.calculation.emissions) and the count per unit.
UNIT_INTENSITY = {
    "inferences": (grams_per_1k_inferences, 1_000),
    "tokens": (grams_per_1m_tokens, 1_000_000),
}


@dataclass(frozen=True)
class PerUnit:
    """Figures per 1k inferences or per 1M tokens; None with the reason when too little data."""

    kwh: float | None
    g_co2e: float | None
    too_little_data: str = ""
    # On-site water and energy cost: None, with why, unless every record has them (one
    # currency: amounts in several are never added).
    water_l: float | None = None
    cost: float | None = None
    currency: str = ""
    not_available: str = ""


@dataclass(frozen=True)
class ModelSide:
    model_id: int
    name: str
    technique: str
    precision: str
    note: str
    records: int
    inferences: int
    tokens: int
    facility_kwh: float
    location_kg: float
    # Share of facility kWh per data-quality tier.
    tiers: dict[str, float]
    per_1k_inferences: PerUnit
    per_1m_tokens: PerUnit
    # Against the base, in %, per 1k inferences; None when either side has too little data.
    change_per_inference_pct: float | None = None
    change_per_token_pct: float | None = None
    # What the variant saves a year at its current inference volume (base minus variant).
    yearly_saving_kwh: float | None = None
    yearly_saving_kg: float | None = None


@dataclass(frozen=True)
class VariantComparison:
    start: date
    end: date
    base: ModelSide
    variants: list[ModelSide] = field(default_factory=list)


def _per_unit(sums: dict, count_key: str, minimum: int, records: int) -> PerUnit:
    count = sums[count_key]
    if records < MIN_RECORDS:
        plural = "" if records == 1 else "s"
        return PerUnit(None, None, f"too little data: {records} inference record{plural}")
    if count < minimum:
        return PerUnit(None, None, f"too little data: {count:,} {count_key} counted")
    grams, unit = UNIT_INTENSITY[count_key]
    missing = []
    water = None
    if sums["water_records"] == records:
        water = sums["water_l"] / count * unit
    else:
        missing.append(f"water for {records - sums['water_records']} of {records} records")
    cost, currency = None, ""
    costs = sums["cost"]
    if len(costs) == 1 and "" not in costs:
        [(currency, amount)] = costs.items()
        cost = amount / count * unit
    else:
        missing.append("cost in one currency for every record")
    return PerUnit(
        kwh=sums["kwh"] / count * unit,
        g_co2e=grams(sums["kg"], count),
        water_l=water,
        cost=cost,
        currency=currency,
        not_available="not available: " + ", ".join(missing) if missing else "",
    )


def _change(variant: float | None, base: float | None) -> float | None:
    if variant is None or not base:
        return None
    return (variant - base) / base * 100.0


def _side(model: AiModel, sums: dict, tiers: dict[str, float]) -> ModelSide:
    total = sums["kwh"]
    return ModelSide(
        model_id=model.id,
        name=model.name,
        technique=model.get_technique_display() if model.technique else "",
        precision=model.precision,
        note=model.variant_note,
        records=sums["records"],
        inferences=sums["inferences"],
        tokens=sums["tokens"],
        facility_kwh=total,
        location_kg=sums["kg"],
        tiers={
            tier.value: (tiers.get(tier.value, 0.0) / total if total else 0.0)
            for tier in EnergyTier
        },
        per_1k_inferences=_per_unit(sums, "inferences", MIN_INFERENCES, sums["records"]),
        per_1m_tokens=_per_unit(sums, "tokens", MIN_TOKENS, sums["records"]),
    )


def _against_base(side: ModelSide, base: ModelSide, days: int) -> ModelSide:
    variant_unit, base_unit = side.per_1k_inferences, base.per_1k_inferences
    saving_kwh = saving_kg = None
    if variant_unit.kwh is not None and base_unit.kwh is not None:
        # Per 1k inferences × thousands of inferences a year; g → kg.
        thousands_a_year = side.inferences / 1_000 * DAYS_PER_YEAR / days
        saving_kwh = (base_unit.kwh - variant_unit.kwh) * thousands_a_year
        saving_kg = (base_unit.g_co2e - variant_unit.g_co2e) * thousands_a_year / 1_000
    return ModelSide(
        **{
            **side.__dict__,
            "change_per_inference_pct": _change(variant_unit.g_co2e, base_unit.g_co2e),
            "change_per_token_pct": _change(side.per_1m_tokens.g_co2e, base.per_1m_tokens.g_co2e),
            "yearly_saving_kwh": saving_kwh,
            "yearly_saving_kg": saving_kg,
        }
    )


def variant_comparison(
    *, principal: Principal, base: AiModel, start: date, end: date
) -> VariantComparison:
    """The base model and its direct variants over [start, end), from the inference rollups
    the principal sees."""
    variants = list(visible_models(principal=principal).filter(base_model=base).order_by("name"))
    models = [base, *variants]
    rows = (
        principal.visible(DailyRollup.objects.filter(organisation_id=base.organisation_id))
        .filter(
            ai_model_id__in=[m.id for m in models],
            phase=Phase.INFERENCE,
            day__gte=start,
            day__lt=end,
        )
        .values("ai_model_id", "energy_tier", "energy_cost_currency")
        .annotate(
            records=Sum("record_count"),
            kwh=Sum("facility_kwh"),
            kg=Sum("location_kg"),
            inferences=Sum("inferences"),
            tokens=Sum("tokens"),
            water_l=Sum("water_onsite_l"),
            water_records=Sum("water_record_count"),
            cost_amount=Sum("energy_cost"),
        )
        .order_by()
    )
    summed = ("records", "kwh", "kg", "inferences", "tokens", "water_l", "water_records")
    sums = defaultdict(lambda: {**dict.fromkeys(summed, 0), "cost": defaultdict(float)})
    tiers: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        total = sums[row["ai_model_id"]]
        for key in summed:
            total[key] += row[key] or 0
        currency = row["energy_cost_currency"] if row["cost_amount"] is not None else ""
        total["cost"][currency] += row["cost_amount"] or 0.0
        tiers[row["ai_model_id"]][row["energy_tier"]] += row["kwh"] or 0.0
    base_side = _side(base, sums[base.id], tiers[base.id])
    days = (end - start).days
    return VariantComparison(
        start=start,
        end=end,
        base=base_side,
        variants=[
            _against_base(_side(v, sums[v.id], tiers[v.id]), base_side, days) for v in variants
        ],
    )
