"""Template helpers for the dashboard: who is signed in (for the navigation) and number formats."""

import math

from django import template

from accounts.principal import Access
from accounts.selectors import principal_for_request
from accounts.templatetags.audit_format import role_label
from inventory.llm.selectors import record_range

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_principal(context):
    """The signed-in member's principal (None for visitors and people of no organisation)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return principal_for_request(request)


@register.simple_tag(takes_context=True)
def nav_section(context) -> str:
    """The main menu item a page belongs to: the first segment of its path ("" for the
    overview; "teams" and "models" are the overview's own pages)."""
    request = context.get("request")
    section = request.path.strip("/").split("/", 1)[0] if request is not None else ""
    return "" if section in ("teams", "models") else section


@register.filter
def can(principal, access: str) -> bool:
    """Whether the principal has this access (accounts.principal.Access), e.g. "tokens"."""
    return bool(principal) and principal.can(access)


@register.filter
def can_manage(principal) -> bool:
    return bool(principal) and principal.can(Access.MANAGE)


@register.filter
def num(value, digits: int = 3) -> str:
    """A figure with thousands separators and fixed decimals; an em dash when unknown."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.{int(digits)}f}"


@register.filter
def span(bounds) -> str:
    """A min–max range (anything with .min and .max) to three significant figures, e.g.
    "0.121–0.152"; "not available" when there is none (never zero)."""
    if bounds is None:
        return "not available"
    low, high = _significant(bounds.min), _significant(bounds.max)
    return low if low == high else f"{low}–{high}"


@register.filter
def estimate(record, figure: str):
    """An LLM usage record's EcoLogits range of a figure (e.g. "energy_kwh"), for `span`."""
    return record_range(record, figure)


def _significant(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    decimals = 2 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}"


@register.filter
def pct(share) -> str:
    """A 0–1 share as a percentage."""
    return "—" if share is None else f"{float(share) * 100:.1f} %"


@register.filter
def signed_pct(change) -> str:
    return "" if change is None else f"{change:+.1f} %"


register.filter("role_label", role_label)


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key, "")
