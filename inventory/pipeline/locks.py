"""The periods a locked report freezes: the pipeline leaves their records, market allocations
and rollups as they are.

Reports lock quarters, and the pipeline may not import reports (dependencies run
inventory ← reports), so the pipeline owns this small interface and the reports app plugs its
locked quarters in (reports.apps.ReportsConfig.ready).
"""

from collections.abc import Callable
from datetime import date

Period = tuple[date, date]  # [start, end)
LockedPeriodsSource = Callable[[int], list[Period]]

_source: LockedPeriodsSource | None = None


def locked_periods_source_set(source: LockedPeriodsSource) -> None:
    global _source
    _source = source


def locked_periods(organisation_id: int) -> list[Period]:
    """The organisation's locked periods, as [start, end) date pairs."""
    if _source is None:
        # Without it every locked quarter would be recomputed: refuse rather than guess.
        raise RuntimeError("No source of locked periods: is the reports app installed?")
    return _source(organisation_id)
