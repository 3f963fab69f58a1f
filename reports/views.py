from datetime import date

from django.http import HttpRequest


def _period(request: HttpRequest) -> tuple[date, date]:
    """The requested period, else the last twelve months up to the end of this month."""
    try:
        start = date.fromisoformat(request.GET["start"])
        end = date.fromisoformat(request.GET["end"])
        if end > start:
            return start, end
    except (KeyError, ValueError):
        pass
    today = date.today()
    end = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return date(end.year - 1, end.month, 1), end
