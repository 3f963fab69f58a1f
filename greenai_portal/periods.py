"""Reporting periods: calendar quarters and year to date (end exclusive), and how much of a
period the data covers."""

from dataclasses import dataclass
from datetime import date

# The years a report may cover; anything else is bad input (and beyond 9999, no date at all).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def is_quarter(year: int, number: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR and 1 <= number <= 4


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # exclusive

    def as_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise ValueError(f"quarter must be 1 to 4, got {number}")
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(f"{year} Q{number}", start, end)


def has_ended(period: Period, today: date) -> bool:
    """True once the period's last day is over (its end is exclusive)."""
    return today >= period.end


def previous_quarter(year: int, number: int) -> tuple[int, int]:
    return (year - 1, 4) if number == 1 else (year, number - 1)


def year_to_date(year: int, number: int) -> Period:
    return Period(f"{year} YTD (to Q{number})", date(year, 1, 1), quarter(year, number).end)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


COMPLETE, PARTIAL, NO_DATA = "complete", "partial", "no data"


@dataclass(frozen=True)
class Coverage:
    status: str  # COMPLETE, PARTIAL or NO_DATA
    note: str  # why it is not complete, in words; "" when it is

    @property
    def is_complete(self) -> bool:
        return self.status == COMPLETE


def coverage(period: Period, *, first_day: date | None, today: date) -> Coverage:
    """How much of `period` the figures can describe: none before the organisation's first
    record, part of it while it is still running or when the records begin inside it."""
    if first_day is None or first_day >= period.end or period.start > today:
        return Coverage(NO_DATA, "no data")
    if period.end > today:
        return Coverage(PARTIAL, f"in progress: to {today:%-d %b %Y}")
    # Month by month, as rollups are charted: records from the 3rd of the first month
    # cover it, records only from its second month do not.
    if first_day.replace(day=1) > period.start:
        return Coverage(PARTIAL, f"data only from {first_day:%-d %b %Y}")
    return Coverage(COMPLETE, "")


def like_for_like(current: Coverage, current_label: str, other: Coverage, other_label: str) -> str:
    """Why a change from `other` to `current` would not compare like with like; "" when
    both periods are covered whole."""
    unlike = [
        f"{label}: {covered.note}"
        for covered, label in ((current, current_label), (other, other_label))
        if not covered.is_complete
    ]
    return "; ".join(unlike)
