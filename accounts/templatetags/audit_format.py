"""How the audit trail reads to a person: labels and sentences, not Python values."""

from datetime import datetime
from typing import Any

from django import template

from accounts.models import Role

register = template.Library()

ROLE_KEYS = {"role"}


def when(value: Any) -> str:
    """A stored moment (a datetime or its ISO text) as "2026-12-04 23:01 UTC"; other text as is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value)


def role_label(role: str | None) -> str:
    """ "esg_officer" as "ESG officer"; anything that is not a role as is."""
    return str(Role(role).label) if role in Role.values else (role or "")


def detail_text(key: str, value: Any) -> str:
    """One value of an event's details, as a reader expects to see it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(detail_text(key, item) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)} {detail_text(k, v)}" for k, v in value.items()) or "—"
    if key in ROLE_KEYS:
        return role_label(value)
    if isinstance(value, str) and "T" in value:
        return when(value)
    return str(value)


def label(key: str) -> str:
    return key.replace("_", " ")


@register.filter
def audit_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's details as (label, text) pairs, in the order they were recorded."""
    return [(label(key), detail_text(key, value)) for key, value in (details or {}).items()]


register.filter("when", when)
register.filter("role_label", role_label)
