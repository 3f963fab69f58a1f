"""Location-based emissions, scope classification and intensity metrics."""

from enum import StrEnum

from inventory.calculation import validation
from inventory.calculation.errors import CalculationError


class Scope(StrEnum):
    """GHG Protocol scope a record's emissions are reported under."""

    SCOPE2 = "scope2"  # purchased electricity of owned or controlled facilities
    SCOPE3_CAT1 = "scope3_cat1"  # purchased goods and services: public cloud


class FacilityKind(StrEnum):
    OWNED = "owned"
    COLOCATION = "colocation"
    CLOUD = "cloud"


_SCOPES = {
    FacilityKind.OWNED: Scope.SCOPE2,
    FacilityKind.COLOCATION: Scope.SCOPE2,
    FacilityKind.CLOUD: Scope.SCOPE3_CAT1,
}


@validation.finite_result
def location_based_kg(*, facility_kwh: float, kg_per_kwh: float) -> float:
    """Location-based kg CO2e: ``facility_kwh * kg_per_kwh`` (grid-average factor)."""
    energy = validation.non_negative("facility_kwh", facility_kwh)
    factor = validation.non_negative("kg_per_kwh", kg_per_kwh)
    return energy * factor


def scope_for(kind: FacilityKind) -> Scope:
    """Owned and colocation facilities are Scope 2; public cloud is Scope 3 category 1.

    Cloud emissions are shown beside Scope 2, never added to it: the customer buys a
    service, not the electricity.
    """
    try:
        return _SCOPES[FacilityKind(kind)]
    except ValueError:
        raise CalculationError(f"unknown facility kind {kind!r}") from None


def _intensity_inputs(kg: float, count: int | None, *, name: str) -> tuple[float, int] | None:
    """Checked (kg, count), or None when there is nothing to divide by."""
    emitted = validation.non_negative("kg", kg)
    if count is None:
        return None
    counted = validation.count(name, count, minimum=0)
    return None if counted == 0 else (emitted, counted)


def grams_per_1k_inferences(kg: float, inferences: int | None) -> float | None:
    """g CO2e per 1,000 inferences: ``kg * 1000.0 / inferences * 1000.0``.

    None when the count is None or 0 (no intensity to show); a negative count raises.
    """
    checked = _intensity_inputs(kg, inferences, name="inferences")
    if checked is None:
        return None
    emitted, counted = checked
    return emitted * 1000.0 / counted * 1000.0


def grams_per_1m_tokens(kg: float, tokens: int | None) -> float | None:
    """g CO2e per 1,000,000 tokens: ``kg * 1000.0 / tokens * 1000000.0``.

    None when the count is None or 0; a negative count raises.
    """
    checked = _intensity_inputs(kg, tokens, name="tokens")
    if checked is None:
        return None
    emitted, counted = checked
    return emitted * 1000.0 / counted * 1000000.0
