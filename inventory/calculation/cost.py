"""Energy cost: what the electricity of a record cost, in its own currency.

Currencies are never added together: totals are kept per currency (ISO 4217 code). A record's
own or billed cost wins; otherwise facility kWh × the facility's tariff. No cost and no
tariff: no figure (None), never zero.
"""

from collections.abc import Iterable

from inventory.calculation import validation


@validation.finite_result
def tariff_cost(*, facility_kwh: float, price_per_kwh: float) -> float:
    """Cost of the facility energy at a tariff: ``facility_kwh * price_per_kwh``."""
    energy = validation.non_negative("facility_kwh", facility_kwh)
    price = validation.non_negative("price_per_kwh", price_per_kwh)
    return energy * price


def record_cost(
    *,
    own_cost: float | None,
    own_currency: str,
    facility_kwh: float | None,
    price_per_kwh: float | None,
    tariff_currency: str,
) -> tuple[float, str] | None:
    """(amount, currency) of a record: its own cost, else its energy at the tariff; None
    when neither is known."""
    if own_cost is not None:
        return validation.non_negative("cost", own_cost), own_currency
    if facility_kwh is None or price_per_kwh is None:
        return None
    return tariff_cost(facility_kwh=facility_kwh, price_per_kwh=price_per_kwh), tariff_currency


def totals_by_currency(costs: Iterable[tuple[float | None, str]]) -> dict[str, float]:
    """Sum amounts per currency, skipping unknown costs; an empty dict means no figure."""
    totals: dict[str, float] = {}
    for amount, currency in costs:
        if amount is not None:
            totals[currency] = totals.get(currency, 0.0) + amount
    return dict(sorted(totals.items()))


def _per(amount: float, count: int | None, unit: float, name: str) -> float | None:
    checked = validation.non_negative("cost", amount)
    if count is None:
        return None
    counted = validation.count(name, count, minimum=0)
    return None if counted == 0 else checked / counted * unit


def cost_per_1k_inferences(cost: float, inferences: int | None) -> float | None:
    """Cost of 1,000 inferences: ``cost / inferences * 1000.0``; None without inferences."""
    return _per(cost, inferences, 1000.0, "inferences")


def cost_per_1m_tokens(cost: float, tokens: int | None) -> float | None:
    """Cost of 1,000,000 tokens: ``cost / tokens * 1000000.0``; None without tokens."""
    return _per(cost, tokens, 1000000.0, "tokens")


def kg_per_currency_unit(kg: float, cost: float) -> float | None:
    """kg CO2e per unit of currency spent: ``kg / cost``; None when nothing was spent."""
    emitted = validation.non_negative("kg", kg)
    spent = validation.non_negative("cost", cost)
    return None if spent == 0 else emitted / spent
