"""inventory reads shared with other apps."""

from datetime import date


def locked_periods(organisation_id: int) -> list[tuple[date, date]]:
    """The organisation's periods that a locked report freezes, as [start, end) date pairs.

    Recalculation and the market-based allocation leave records, allocations and rollups of
    these periods as they are. The reports app fills this in from its locks; until it does,
    nothing is locked.
    """
    return []
