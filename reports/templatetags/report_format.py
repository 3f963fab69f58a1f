"""Number formats of the Scope 2 report: the page, the PDF and the downloads agree on them."""

from datetime import date, timedelta

from django import template

register = template.Library()


@register.filter
def num(value: float | None, places: int = 3) -> str:
    """A figure already in report units (MWh, t CO2e), with thousands separators."""
    if value is None:
        return "n/a"
    return f"{value:,.{int(places)}f}"


@register.filter
def count(value: int | None) -> str:
    """A count of records, inferences or tokens, with thousands separators."""
    return "n/a" if value is None else f"{value:,}"


@register.filter
def pct(share: float | None) -> str:
    """A 0–1 share as a percentage."""
    return "n/a" if share is None else f"{share * 100:.1f} %"


@register.filter
def change(percent: float | None) -> str:
    """A relative change in percent, signed; n/a without a base to compare with. A change
    that rounds to nothing reads 0.0 %, not -0.0 %."""
    if percent is None:
        return "n/a"
    return "0.0 %" if round(percent, 1) == 0 else f"{percent:+.1f} %"


@register.filter
def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+,.3f}"


@register.filter
def get(mapping: dict, key: str):
    return mapping.get(key) if mapping else None


@register.filter
def days(period: dict) -> str:
    """A period (ISO start, exclusive ISO end) as people write it: "1 Jul 2026 – 30 Sep 2026"."""
    first = date.fromisoformat(period["start"])
    last = date.fromisoformat(period["end"]) - timedelta(days=1)
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
