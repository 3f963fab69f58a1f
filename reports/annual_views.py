"""The annual report page of a fiscal year (reports.annual)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.principal import Access
from accounts.selectors import principal_for_request
from greenai_portal import periods
from greenai_portal.errors import ApplicationError
from greenai_portal.fiscal_years import MONTH_NAMES, UnsupportedStartMonth, fiscal_year_of
from reports.annual import TABLE_SECTIONS, TOTALS, annual_report


def _principal(request: HttpRequest):
    principal = principal_for_request(request)
    if principal is None:
        raise Http404("You are not a member of any organisation")
    return principal


@login_required
def annual_latest(request: HttpRequest) -> HttpResponse:
    """The last fiscal year that has ended (the current one while the start month cannot be
    reported: its page says why)."""
    principal = _principal(request)
    today = timezone.localdate()
    try:
        year = fiscal_year_of(today, principal.organisation.fiscal_year_start_month).shifted(-1)
        start_year = year.start_year
    except UnsupportedStartMonth:
        start_year = today.year
    return redirect("report-annual", fiscal_year=start_year)


@login_required
def annual_page(request: HttpRequest, fiscal_year: int) -> HttpResponse:
    principal = _principal(request)
    context = {
        "organisation": principal.organisation,
        "role": principal.role,
        "fiscal_year": fiscal_year,
        "sections": TABLE_SECTIONS,
        "totals": TOTALS,
        "can_manage": principal.can(Access.MANAGE),
        "start_month_name": MONTH_NAMES[principal.organisation.fiscal_year_start_month - 1],
    }
    try:
        report = annual_report(principal=principal, start_year=fiscal_year)
    except ApplicationError as exc:
        return render(request, "reports/annual.html", {**context, "error": exc.message}, status=400)
    query = f"?fiscal_year={fiscal_year}"
    return render(
        request,
        "reports/annual.html",
        {
            **context,
            "report": report,
            "json_url": reverse("annual-report") + query,
            "xlsx_url": reverse("annual-xlsx") + query,
            "pdf_url": reverse("annual-pdf") + query,
            "previous": fiscal_year - 1,
            "next": fiscal_year + 1,
            "has_previous": fiscal_year > periods.FIRST_YEAR,
            "has_next": fiscal_year < periods.LAST_YEAR,
        },
    )
