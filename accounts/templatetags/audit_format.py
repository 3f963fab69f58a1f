"""How the audit trail reads to a person: labels and sentences, not Python values."""

import re
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


# What happened, in the past tense, by the action's last part ("instrument.create").
_DONE = {
    "create": "added",
    "delete": "deleted",
    "update": "changed",
    "revoke": "revoked",
    "start": "started",
    "lock": "locked",
    "restate": "restated",
    "export": "exported",
    "remove": "removed",
    "pue_update": "PUE changed",
    "time_zone": "time zone set",
    "fiscal_year": "fiscal year set",
    "reporting": "reporting boundary set",
    "prepare": "prepared",
    "approve": "approved",
    "send_back": "sent back",
}
_CAMEL_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def action_label(action: str) -> str:
    """ "instrument.create" as "Instrument added", "facility.pue_update" as "Facility PUE
    changed"; the code stays on the page for those who search by it."""
    subject, _, verb = action.rpartition(".")
    text = f"{label(subject.replace('.', ' '))} {_DONE.get(verb, label(verb))}".strip()
    return text[:1].upper() + text[1:]


def object_label(target_type: str) -> str:
    """ "ContractualInstrument" as "Contractual instrument"."""
    words = _CAMEL_WORD.sub(" ", target_type).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else ""


@register.filter
def audit_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An event's details as (label, text) pairs, in the order they were recorded."""
    return [(label(key), detail_text(key, value)) for key, value in (details or {}).items()]


register.filter("when", when)
register.filter("role_label", role_label)
register.filter("action_label", action_label)
register.filter("object_label", object_label)
