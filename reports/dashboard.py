"""Dashboard pages: the organisation overview, a team, a model."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import principal_for_request
from reports.charts import trend_by_team_figure
from reports.selectors import footprint_summary, monthly_by_team, pending_record_count


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


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    principal = principal_for_request(request)
    if principal is None:
        raise Http404("You are not a member of any organisation")
    start, end = _period(request)
    total, teams = footprint_summary(principal=principal, start=start, end=end, group_by="team")
    figure = trend_by_team_figure(monthly_by_team(principal=principal, start=start, end=end))
    return render(
        request,
        "dashboard/overview.html",
        {
            "organisation": principal.organisation,
            "role": principal.role,
            "start": start,
            "end": end,
            "total": total,
            "teams": teams,
            "status_counts": pending_record_count(principal=principal),
            "trend_figure": figure.to_plotly_json(),
        },
    )
