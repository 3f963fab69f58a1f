from django import template

from inventory.figures import FACILITY_ENERGY, LOCATION_EMISSIONS, Figure

register = template.Library()


def _shown(figure: Figure, stored: float | None) -> str:
    return f"{figure.shown(stored or 0.0):,.{figure.decimals}f}"


@register.filter
def mwh(kwh: float | None) -> str:
    """kWh shown as MWh with three decimals."""
    return _shown(FACILITY_ENERGY, kwh)


@register.filter
def tonnes(kg: float | None) -> str:
    """kg CO2e shown as t CO2e with three decimals."""
    return _shown(LOCATION_EMISSIONS, kg)
