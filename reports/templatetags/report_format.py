"""Number formats of the Scope 2 report: the page, the PDF and the downloads agree on them."""

from datetime import date, timedelta

from django import template

from reports import human

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


register.filter("local_time", human.local_time)
register.filter("local_minute", human.local_minute)
register.filter("day", human.day)
register.filter("month_name", human.month)
register.filter("factor_kind", human.factor_kind)
register.filter("factor_basis", human.factor_basis)
register.filter("instrument_kind", human.instrument_kind)
register.filter("batch_source", human.batch_source)


@register.filter
def or_dash(value) -> str:
    """A value that may be missing: "—" rather than "None" or nothing."""
    return human.MISSING if value in (None, "") else str(value)
