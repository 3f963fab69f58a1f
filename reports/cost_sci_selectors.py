"""Reads of energy cost (per currency, never added across currencies) and of the SCI per
model, from the rollups of the caller's organisation and teams."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum

from accounts.principal import Principal
from inventory.calculation.cost import (
    cost_per_1k_inferences,
    cost_per_1m_tokens,
    kg_per_currency_unit,
)
from inventory.calculation.sci import FunctionalUnit, Sci, sci
from inventory.figures import CURRENCY_COLUMN, ENERGY_COST
from inventory.models import AiModel, DailyRollup, Phase

COST_GROUPINGS = {"team": ("team_id", "team__name"), "model": ("ai_model_id", "ai_model__name")}


@dataclass(frozen=True)
class CostLine:
    """Cost of a group in one currency, with its intensities."""

    key: int | None
    label: str
    currency: str
    cost: float
    location_kg: float
    inferences: int
    tokens: int
    cost_per_1k_inferences: float | None
    cost_per_1m_tokens: float | None
    kg_per_currency_unit: float | None


def period_rollups(*, principal: Principal, start: date, end: date):
    """The rollup rows of [start, end) the principal may see."""
    rows = DailyRollup.objects.filter(
        organisation=principal.organisation, day__gte=start, day__lt=end
    )
    return principal.visible(rows)


def cost_lines(*, rows, group_by: str | None = None) -> list[CostLine]:
    """Cost per currency (and per team or model when grouped) of these visible rollup rows
    (period_rows, or a dashboard's filtered rows): only rows with a cost; an empty list means
    no cost is known, never zero."""
    key, label = COST_GROUPINGS[group_by] if group_by else (None, None)
    fields = [CURRENCY_COLUMN, *([key, label] if key else [])]
    grouped = (
        rows.filter(**{f"{ENERGY_COST.column}__isnull": False})
        .values(*fields)
        .annotate(
            cost=Sum(ENERGY_COST.column),
            kg=Sum("location_kg"),
            inferences=Sum("inferences"),
            tokens=Sum("tokens"),
        )
        .order_by(*([label] if label else []), CURRENCY_COLUMN)
    )
    return [
        CostLine(
            key=row[key] if key else None,
            label=(row[label] or "(no model)") if label else "All",
            currency=row[CURRENCY_COLUMN],
            cost=row["cost"],
            location_kg=row["kg"],
            inferences=row["inferences"],
            tokens=row["tokens"],
            cost_per_1k_inferences=cost_per_1k_inferences(row["cost"], row["inferences"]),
            cost_per_1m_tokens=cost_per_1m_tokens(row["cost"], row["tokens"]),
            kg_per_currency_unit=kg_per_currency_unit(row["kg"], row["cost"]),
        )
        for row in grouped
    ]


# Which rollup rows each functional unit counts, and what it counts: the inferences and
# tokens of inference records; training and fine-tuning records as one run each.
_UNIT_ROWS = {
    FunctionalUnit.INFERENCES_1K: (Q(phase=Phase.INFERENCE), "inferences"),
    FunctionalUnit.TOKENS_1M: (Q(phase=Phase.INFERENCE), "tokens"),
    FunctionalUnit.TRAINING_RUN: (
        Q(phase__in=[Phase.TRAINING, Phase.FINE_TUNING]),
        "record_count",
    ),
}


def model_sci(*, principal: Principal, model: AiModel, start: date, end: date) -> list[Sci]:
    """The model's SCI per functional unit over [start, end): E (facility kWh), I (the
    location-based intensity, O / E), M (amortised embodied kg), R, and (E × I + M) / R."""
    rows = period_rollups(principal=principal, start=start, end=end).filter(ai_model=model)
    scores = []
    for unit, (where, counted) in _UNIT_ROWS.items():
        sums = rows.filter(where).aggregate(
            kwh=Sum("facility_kwh"), kg=Sum("location_kg"), m=Sum("embodied_kg"), n=Sum(counted)
        )
        scores.append(
            sci(
                unit=unit,
                energy_kwh=sums["kwh"] or 0.0,
                operational_kg=sums["kg"] or 0.0,
                embodied_kg=sums["m"],
                counted=sums["n"] or 0,
            )
        )
    return scores
