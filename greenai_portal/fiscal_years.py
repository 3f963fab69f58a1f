"""Fiscal years: twelve months from the organisation's start month, named by the calendar
year they start in, and the calendar quarters they are made of.

A fiscal year is reported from the quarters the portal locks, which are calendar quarters:
only a year starting in January, April, July or October is four whole lockable quarters, so
only those start months are accepted (another one would split a locked quarter between two
fiscal years).
"""

from dataclasses import dataclass
from datetime import date

from greenai_portal import periods

QUARTER_START_MONTHS = (1, 4, 7, 10)
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class UnsupportedStartMonth(ValueError):
    """A start month that is not the first month of a calendar quarter."""


def start_month_problem(start_month: int) -> str:
    """Why `start_month` cannot start a fiscal year; "" when it can."""
    if not 1 <= start_month <= 12:
        return f"A fiscal year starts in a month from 1 to 12, not {start_month}"
    if start_month not in QUARTER_START_MONTHS:
        return (
            f"A fiscal year starting in {MONTH_NAMES[start_month - 1]} would split calendar "
            "quarters, which are what is locked: choose January, April, July or October"
        )
    return ""


@dataclass(frozen=True)
class FiscalQuarter:
    number: int  # 1-4 within the fiscal year
    year: int  # the calendar quarter it is
    quarter: int
    period: periods.Period

    @property
    def label(self) -> str:
        return f"Q{self.number} ({self.period.start:%b}–{_last_month(self.period):%b %Y})"


def _last_month(period: periods.Period) -> date:
    month = period.end.month - 1 or 12
    return date(period.end.year - (period.end.month == 1), month, 1)


@dataclass(frozen=True)
class FiscalYear:
    start_year: int
    start_month: int

    @property
    def start(self) -> date:
        return date(self.start_year, self.start_month, 1)

    @property
    def end(self) -> date:
        """Exclusive."""
        return date(self.start_year + 1, self.start_month, 1)

    @property
    def label(self) -> str:
        if self.start_month == 1:
            return f"FY{self.start_year}"
        return f"FY{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def period(self) -> periods.Period:
        return periods.Period(self.label, self.start, self.end)

    @property
    def quarters(self) -> list[FiscalQuarter]:
        year, quarter = periods.quarter_of(self.start)
        result = []
        for number in range(1, 5):
            result.append(FiscalQuarter(number, year, quarter, periods.quarter(year, quarter)))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
        return result

    def shifted(self, years: int) -> "FiscalYear":
        return FiscalYear(self.start_year + years, self.start_month)


def fiscal_year(start_year: int, start_month: int) -> FiscalYear:
    """The fiscal year starting in `start_month` of `start_year`; UnsupportedStartMonth for a
    start month that is not the first of a calendar quarter."""
    problem = start_month_problem(start_month)
    if problem:
        raise UnsupportedStartMonth(problem)
    return FiscalYear(start_year, start_month)


def fiscal_year_of(day: date, start_month: int) -> FiscalYear:
    """The fiscal year `day` falls in."""
    start_year = day.year if day.month >= start_month else day.year - 1
    return fiscal_year(start_year, start_month)
