"""Report units. The engine computes and stores kWh and kg CO2e at full double precision;
reports show MWh and t CO2e, converted here and rounded only for display."""

from typing import Final

from inventory.calculation import validation

KWH_PER_MWH: Final[float] = 1000.0
KG_PER_TONNE: Final[float] = 1000.0


def kwh_to_mwh(kwh: float) -> float:
    """``kwh / 1000.0``"""
    return validation.number("kwh", kwh) / KWH_PER_MWH


def kg_to_tonnes(kg: float) -> float:
    """``kg / 1000.0``"""
    return validation.number("kg", kg) / KG_PER_TONNE
