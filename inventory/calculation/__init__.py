"""The calculation engine: the emissions maths, pure and typed (no Django, no ORM).

One module per concern: methodology (version and defaults), energy (IT and facility
energy, PUE), cloud (CCF-compatible usage energy), emissions (location-based kg, scope,
intensity), market (Scope 2 market-based allocation), units (report units). The formulas
and their order of operations are a contract shared with the SQL pipeline; see
docs/methodology.md.
"""

from inventory.calculation.cloud import (
    CloudCoefficients,
    UsageKind,
    cloud_usage_it_kwh,
    cloud_usage_kwh,
)
from inventory.calculation.emissions import (
    FacilityKind,
    Scope,
    grams_per_1k_inferences,
    grams_per_1m_tokens,
    location_based_kg,
    scope_for,
)
from inventory.calculation.energy import (
    EnergyTier,
    ItEnergy,
    PowerProfile,
    duration_hours,
    facility_energy_kwh,
    it_energy,
    resolve_pue,
)
from inventory.calculation.errors import CalculationError
from inventory.calculation.market import (
    Allocation,
    Consumption,
    Instrument,
    InstrumentKind,
    MarketLine,
    allocate_market_based,
    allocated_kwh_by_instrument,
    explain,
)
from inventory.calculation.methodology import METHODOLOGY_VERSION

__all__ = [
    "METHODOLOGY_VERSION",
    "Allocation",
    "CalculationError",
    "CloudCoefficients",
    "Consumption",
    "EnergyTier",
    "FacilityKind",
    "Instrument",
    "InstrumentKind",
    "ItEnergy",
    "MarketLine",
    "PowerProfile",
    "Scope",
    "UsageKind",
    "allocate_market_based",
    "allocated_kwh_by_instrument",
    "cloud_usage_it_kwh",
    "cloud_usage_kwh",
    "duration_hours",
    "explain",
    "facility_energy_kwh",
    "grams_per_1k_inferences",
    "grams_per_1m_tokens",
    "it_energy",
    "location_based_kg",
    "resolve_pue",
    "scope_for",
]
