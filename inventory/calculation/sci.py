"""Software Carbon Intensity (Green Software Foundation SCI, ISO/IEC 21031:2024).

SCI = (E × I + M) per R: E the energy (kWh), I the location-based grid intensity (kg CO2e/kWh;
the standard excludes market-based instruments), M the embodied emissions amortised to the
software's use (kg CO2e), R the functional unit. For a model over a period, E × I is the sum
of its records' location-based kg, so I is the energy-weighted intensity ``O / E``.
"""

from dataclasses import dataclass
from enum import StrEnum

from inventory.calculation import validation


class FunctionalUnit(StrEnum):
    """What R counts, and how many of the counted things make one unit."""

    INFERENCES_1K = "1k_inferences"
    TOKENS_1M = "1m_tokens"
    TRAINING_RUN = "training_run"


UNIT_SIZE = {
    FunctionalUnit.INFERENCES_1K: 1000.0,
    FunctionalUnit.TOKENS_1M: 1000000.0,
    FunctionalUnit.TRAINING_RUN: 1.0,
}


@dataclass(frozen=True)
class Sci:
    unit: FunctionalUnit
    energy_kwh: float  # E
    intensity_kg_per_kwh: float | None  # I (None without energy)
    operational_kg: float  # E × I
    embodied_kg: float | None  # M (None: no published embodied figure applies)
    functional_units: float  # R
    kg_per_unit: float | None  # SCI (None without R or without M)


def sci(
    *,
    unit: FunctionalUnit,
    energy_kwh: float,
    operational_kg: float,
    embodied_kg: float | None,
    counted: int,
) -> Sci:
    """SCI of `counted` things (inferences, tokens, runs) expressed per `unit`:
    ``(operational_kg + embodied_kg) / (counted / UNIT_SIZE[unit])``.

    Without M the score is not available: the standard's M is not optional, and a score
    without it would look better than it is.
    """
    energy = validation.non_negative("energy_kwh", energy_kwh)
    operational = validation.non_negative("operational_kg", operational_kg)
    embodied = None if embodied_kg is None else validation.non_negative("embodied_kg", embodied_kg)
    units = validation.count("counted", counted, minimum=0) / UNIT_SIZE[FunctionalUnit(unit)]
    score = None
    if embodied is not None and units > 0:
        score = (operational + embodied) / units
    return Sci(
        unit=FunctionalUnit(unit),
        energy_kwh=energy,
        intensity_kg_per_kwh=operational / energy if energy > 0 else None,
        operational_kg=operational,
        embodied_kg=embodied,
        functional_units=units,
        kg_per_unit=score,
    )
