"""inventory reads shared with other apps."""

from datetime import date


def locked_periods(organisation_id: int) -> list[tuple[date, date]]:
    """The organisation's periods that a locked report freezes, as [start, end) date pairs.

    Recalculation and the market-based allocation leave records, allocations and rollups of
    these periods as they are. They are the quarters with a locked report version
    (reports.models.ReportVersion), less the one a restatement is recomputing right now.
    """
    from reports.models import locked_quarters

    return locked_quarters(organisation_id)
