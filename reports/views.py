"""Scope 2 report pages: the quarter's report, lock / restate / export forms, export status."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.principal import Access
from accounts.selectors import principal_for_request
from greenai_portal import periods
from greenai_portal.errors import ApplicationError
from reports.apis import pdf_response
from reports.charts import report_figures
from reports.close_selectors import close_review, pending_close, quarter_closes
from reports.models import ReportExport, ReportVersion
from reports.scope2_selectors import quarters_with_data, scope2_document
from reports.services import (
    report_close_approve,
    report_close_prepare,
    report_close_send_back,
    report_export_request,
    report_restate,
)

# --- Scope 2 report pages -------------------------------------------------------------------


def _principal(request: HttpRequest):
    principal = principal_for_request(request)
    if principal is None:
        raise Http404("You are not a member of any organisation")
    return principal


def _quarter_or_404(year: int, quarter: int) -> None:
    if not periods.is_quarter(year, quarter):
        raise Http404("No such quarter")


def _quarter_url(year: int, quarter: int) -> str:
    return reverse("report-quarter", kwargs={"year": year, "quarter": quarter})


@login_required
def reports_index(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    return render(
        request,
        "reports/index.html",
        {
            "organisation": principal.organisation,
            "role": principal.role,
            "quarters": quarters_with_data(principal=principal),
        },
    )


def _version_asked(request: HttpRequest, whole: bool) -> int | None:
    """The locked version named by ?version=, if it can be shown; the reader is told when not."""
    asked = request.GET.get("version", "").strip()
    if not asked:
        return None
    if not asked.isdigit() or int(asked) < 1:
        messages.error(request, f"Version {asked!r} is not a version number; the latest is shown.")
        return None
    if not whole:
        # A locked version covers the whole organisation; a reader limited to teams sees
        # the live figures of those teams (the page says so), whatever version is named.
        messages.info(
            request,
            f"Version {asked} covers the whole organisation; you see your teams' live figures.",
        )
        return None
    return int(asked)


@login_required
def report_quarter(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    principal = _principal(request)
    _quarter_or_404(year, quarter)
    whole = principal.sees_whole_organisation
    version = _version_asked(request, whole)
    try:
        document = scope2_document(principal=principal, year=year, quarter=quarter, version=version)
    except ReportVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from exc
    figures = report_figures(document)
    query = f"?year={year}&quarter={quarter}" + (
        f"&version={document['version']}" if document["version"] else ""
    )
    closes = list(quarter_closes(principal=principal, year=year, quarter=quarter))
    return render(
        request,
        "reports/scope2.html",
        {
            "organisation": principal.organisation,
            "time_zone": principal.organisation.time_zone,
            "role": principal.role,
            "doc": document,
            "can_lock": whole and principal.can(Access.LOCK),
            "can_export": whole,
            "closes": closes,
            "pending_close": pending_close(closes),
            "charts": {name: figure.to_plotly_json() for name, figure in figures.items()},
            "csv_url": reverse("scope2-csv") + query,
            "xlsx_url": reverse("scope2-xlsx") + query,
            "json_url": reverse("scope2-report") + query,
            "trace_url": reverse("scope2-trace") + query,
            "exports": principal.visible(
                ReportExport.objects.filter(year=year, quarter=quarter), team=None
            )
            .select_related("report_version")
            .defer("pdf")[:5],
            "previous": periods.previous_quarter(year, quarter),
            "next": (year + 1, 1) if quarter == 4 else (year, quarter + 1),
        },
    )


def _act(
    request: HttpRequest,
    year: int,
    quarter: int,
    action,
    done: Callable[[object], str] | None = None,
    refused_url: str = "",
) -> HttpResponse:
    """Run a report service for a form POST; its refusal is shown on the report page (or on
    `refused_url`), its outcome in the `done` message (by default: the version locked)."""
    principal = _principal(request)
    _quarter_or_404(year, quarter)
    try:
        outcome = action(principal)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(refused_url or _quarter_url(year, quarter))
    if isinstance(outcome, ReportExport):
        return redirect("report-export-page", pk=outcome.pk)
    message = done(outcome) if done else f"{year} Q{quarter} version {outcome.version} is locked."
    messages.success(request, message)
    return redirect(_quarter_url(year, quarter))


def _close_url(year: int, quarter: int) -> str:
    return reverse("report-lock-page", kwargs={"year": year, "quarter": quarter})


@login_required
@require_http_methods(["GET", "POST"])
def report_lock_page(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    """Closing a quarter with two people. GET: what the lock freezes and, for a quarter still
    running, why; then the preparation form, or the close waiting for a second person with
    its approve and send-back forms. POST: prepare the close with a note."""
    if request.method == "POST":
        return _act(
            request,
            year,
            quarter,
            lambda p: report_close_prepare(
                principal=p,
                year=year,
                quarter=quarter,
                note=request.POST.get("note", ""),
                reason=request.POST.get("reason", ""),
                user=request.user,
            ),
            done=lambda close: (
                f"{year} Q{quarter} is prepared for closing; a second person (an admin or "
                "another ESG officer) reviews and approves it."
            ),
            refused_url=_close_url(year, quarter),
        )
    principal = _principal(request)
    _quarter_or_404(year, quarter)
    if not principal.sees_whole_organisation or not principal.can(Access.LOCK):
        raise PermissionDenied("Your role does not allow closing a quarter")
    document = scope2_document(principal=principal, year=year, quarter=quarter)
    if document["versions"]:
        messages.info(request, f"{year} Q{quarter} is already locked; restate it to change it.")
        return redirect(_quarter_url(year, quarter))
    period = periods.quarter(year, quarter)
    waiting = pending_close(quarter_closes(principal=principal, year=year, quarter=quarter))
    return render(
        request,
        "reports/lock_confirm.html",
        {
            "organisation": principal.organisation,
            "role": principal.role,
            "doc": document,
            "ended": periods.has_ended(period, timezone.localdate()),
            "first_day": period.start,
            "last_day": period.end - timedelta(days=1),
            "close": waiting,
            "review": close_review(waiting) if waiting else None,
            "is_preparer": waiting is not None and waiting.prepared_by_id == request.user.pk,
        },
    )


@login_required
@require_POST
def report_close_approve_page(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    return _act(
        request,
        year,
        quarter,
        lambda p: report_close_approve(
            principal=p,
            year=year,
            quarter=quarter,
            comment=request.POST.get("comment", ""),
            accept_changed_figures=request.POST.get("accept_changed_figures") == "on",
            user=request.user,
        ),
        done=lambda close: (
            f"{year} Q{quarter} is approved and locked as version {close.version.version}."
        ),
        refused_url=_close_url(year, quarter),
    )


@login_required
@require_POST
def report_close_send_back_page(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    return _act(
        request,
        year,
        quarter,
        lambda p: report_close_send_back(
            principal=p,
            year=year,
            quarter=quarter,
            comment=request.POST.get("comment", ""),
            user=request.user,
        ),
        done=lambda close: (
            f"{year} Q{quarter} was sent back to {close.prepared_by.get_username()} with your "
            "comments; nothing was locked."
        ),
        refused_url=_close_url(year, quarter),
    )


@login_required
@require_POST
def report_restate_page(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _act(
        request,
        year,
        quarter,
        lambda p: report_restate(
            principal=p, year=year, quarter=quarter, reason=reason, user=request.user
        ),
    )


@login_required
@require_POST
def report_export_page_create(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    version = request.POST.get("version")
    return _act(
        request,
        year,
        quarter,
        lambda p: report_export_request(
            principal=p,
            year=year,
            quarter=quarter,
            version=int(version) if version and version.isdigit() else None,
            user=request.user,
        ),
    )


def _export(request: HttpRequest, pk: int) -> ReportExport:
    principal = _principal(request)
    return get_object_or_404(
        principal.visible(ReportExport.objects.all(), team=None).select_related(
            "report_version", "organisation"
        ),
        pk=pk,
    )


@login_required
def report_export_page(request: HttpRequest, pk: int) -> HttpResponse:
    export = _export(request, pk)
    return render(
        request,
        "reports/export.html",
        {"organisation": export.organisation, "export": export, "role": None},
    )


@login_required
def report_export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = _export(request, pk)
    if export.status != ReportExport.Status.DONE:
        return redirect("report-export-page", pk=pk)
    return pdf_response(export)
