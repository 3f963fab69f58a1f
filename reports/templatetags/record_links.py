"""Links from a report's lines to the records behind them."""

import json
from datetime import date

from django import template

from inventory.models import EmissionScope
from reports.records_selectors import NO_MODEL
from reports.records_views import record_browser_url

register = template.Library()


@register.filter
def as_sent(value: object) -> str:
    """A record's input as the JSON the API received it: `false`, `{"seed": "demo"}`, not
    Python's `False` and `{'seed': 'demo'}`; "—" for a field not sent."""
    if value is None:
        return "—"
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# A Scope 2 report breakdown → the record browser filter its line keys are values of.
BREAKDOWN_FILTERS = {
    "team": "team",
    "model": "model",
    "location": "location",
    "phase": "phase",
    "tier": "tier",
    "cloud": "location",
}


@register.simple_tag
def report_line_records_url(doc: dict, breakdown: str, key: str) -> str:
    """The records of a Scope 2 report line: the report's quarter, the line's scope (public
    cloud lines are Scope 3 category 1), and its team, model (none: naming no model),
    location, phase or tier. A locked version's lines open the records it holds, without
    those that arrived after the lock."""
    scope = EmissionScope.SCOPE3_CAT1 if breakdown == "cloud" else EmissionScope.SCOPE2
    value = NO_MODEL if breakdown == "model" and not key else key
    locked = doc["status"] == "locked"
    return record_browser_url(
        start=date.fromisoformat(doc["period"]["start"]),
        end=date.fromisoformat(doc["period"]["end"]),
        scope=scope,
        locked=f"{doc['year']}-Q{doc['quarter']}-v{doc['version']}" if locked else None,
        **{BREAKDOWN_FILTERS[breakdown]: value},
    )
