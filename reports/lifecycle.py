"""A model's lifecycle: what training and fine-tuning cost, spread over the inferences served.

Most of a served model's energy goes to inference in the end; until then its training is the
larger part. Per model, from the rollups the reader sees (all of the model's history up to the
last computed day): the footprint of each phase, the training and fine-tuning footprint
amortised over the inferences served to date, and the day cumulative inference overtook them.

The figures are location-based and take the model's own facilities (Scope 2) and public cloud
(Scope 3 category 1) together: a product footprint of the model, like the SCI, never a Scope 2
figure; the per-scope split comes with it.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from accounts.principal import Principal
from inventory.calculation.emissions import grams_per_1k_inferences
from inventory.models import AiModel, DailyRollup, Phase

BUILDING_PHASES = (Phase.TRAINING, Phase.FINE_TUNING)


@dataclass(frozen=True)
class PhaseFootprint:
    phase: str
    label: str
    facility_kwh: float
    location_kg: float
    scope2_kg: float
    scope3_cat1_kg: float


@dataclass(frozen=True)
class MonthSplit:
    month: str  # YYYY-MM
    training_kg: float
    fine_tuning_kg: float
    inference_kg: float


@dataclass(frozen=True)
class ModelLifecycle:
    model_id: int
    model_name: str
    whole_organisation: bool
    first_day: date | None
    last_day: date | None
    phases: list[PhaseFootprint]
    inferences: int
    # Training + fine-tuning g ÷ thousands of inferences to date; None before any inference,
    # or with no training or fine-tuning recorded (an open model served as downloaded).
    building_g_per_1k_inferences: float | None
    inference_g_per_1k_inferences: float | None
    # The first day cumulative inference kg reached training + fine-tuning kg; None if not yet.
    inference_overtook_on: date | None
    # Cumulative inference kg as a share of training + fine-tuning kg (None without them).
    inference_share_of_building: float | None
    months: list[MonthSplit]


def model_lifecycle(*, principal: Principal, model: AiModel) -> ModelLifecycle:
    # Tuples, days in order, and plain lists of sums: every day of the model's history is a
    # few rows (dicts and nested defaultdicts per row cost the model page 15 ms at 2 years).
    rows = (
        principal.visible(DailyRollup.objects.filter(organisation_id=model.organisation_id))
        .filter(ai_model_id=model.id)
        .values_list("day", "phase", "scope")
        .annotate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"), inferences=Sum("inferences"))
        .order_by("day")
    )
    by_phase: dict[str, dict[str, float]] = {}
    by_day: dict[date, dict[str, float]] = {}
    inferences = 0
    for day, phase, scope, kwh, kg, counted in rows:
        kg = kg or 0.0
        totals = by_phase.get(phase)
        if totals is None:
            totals = by_phase[phase] = {"kwh": 0.0, "kg": 0.0, "scope2": 0.0, "scope3_cat1": 0.0}
        totals["kwh"] += kwh or 0.0
        totals["kg"] += kg
        totals[scope] = totals.get(scope, 0.0) + kg
        of_day = by_day.get(day)
        if of_day is None:
            of_day = by_day[day] = {}
        of_day[phase] = of_day.get(phase, 0.0) + kg
        if phase == Phase.INFERENCE:
            inferences += counted or 0

    building_kg = sum(by_phase[p]["kg"] for p in BUILDING_PHASES if p in by_phase)
    inference_kg = by_phase[Phase.INFERENCE]["kg"] if Phase.INFERENCE in by_phase else 0.0
    overtook, cumulative_building, cumulative_inference = None, 0.0, 0.0
    months: dict[str, dict[str, float]] = {}
    for day, kg in by_day.items():  # in day order, as read
        cumulative_building += kg.get(Phase.TRAINING, 0.0) + kg.get(Phase.FINE_TUNING, 0.0)
        cumulative_inference += kg.get(Phase.INFERENCE, 0.0)
        if overtook is None and cumulative_building and cumulative_inference >= cumulative_building:
            overtook = day
        month = months.setdefault(f"{day.year:04d}-{day.month:02d}", {})
        for phase, value in kg.items():
            month[phase] = month.get(phase, 0.0) + value
    days = list(by_day)
    return ModelLifecycle(
        model_id=model.id,
        model_name=model.name,
        whole_organisation=principal.sees_whole_organisation,
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        phases=[
            PhaseFootprint(
                phase=phase.value,
                label=phase.label,
                facility_kwh=by_phase[phase]["kwh"],
                location_kg=by_phase[phase]["kg"],
                scope2_kg=by_phase[phase]["scope2"],
                scope3_cat1_kg=by_phase[phase]["scope3_cat1"],
            )
            for phase in Phase
            if phase in by_phase
        ],
        inferences=inferences,
        building_g_per_1k_inferences=grams_per_1k_inferences(building_kg, inferences)
        if building_kg
        else None,
        inference_g_per_1k_inferences=grams_per_1k_inferences(inference_kg, inferences),
        inference_overtook_on=overtook,
        inference_share_of_building=inference_kg / building_kg if building_kg else None,
        months=[
            MonthSplit(
                month=month,
                training_kg=split.get(Phase.TRAINING, 0.0),
                fine_tuning_kg=split.get(Phase.FINE_TUNING, 0.0),
                inference_kg=split.get(Phase.INFERENCE, 0.0),
            )
            for month, split in sorted(months.items())
        ],
    )
