"""Reporting periods: calendar quarters, year to date and the full year (end exclusive)."""

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


def previous_quarter(year: int, number: int) -> tuple[int, int]:
    return (year - 1, 4) if number == 1 else (year, number - 1)


def year_to_date(year: int, number: int) -> Period:
    return Period(f"{year} YTD (to Q{number})", date(year, 1, 1), quarter(year, number).end)


def full_year(year: int) -> Period:
    return Period(f"{year}", date(year, 1, 1), date(year + 1, 1, 1))


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1
