from django import template

register = template.Library()


@register.filter
def mwh(kwh: float | None) -> str:
    """kWh shown as MWh with three decimals."""
    return f"{(kwh or 0.0) / 1000.0:,.3f}"


@register.filter
def tonnes(kg: float | None) -> str:
    """kg CO2e shown as t CO2e with three decimals."""
    return f"{(kg or 0.0) / 1000.0:,.3f}"
