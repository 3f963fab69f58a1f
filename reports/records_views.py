"""Record browser pages: the records behind a figure, one record's lineage, a batch, and the
filtered records as CSV. Every figure of the dashboards and the Scope 2 report links here
with its period and filter (`record_browser_url`)."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Team
from accounts.principal import Principal
from accounts.views import principal_or_404
from greenai_portal.errors import ApplicationError
from greenai_portal.spreadsheets import csv_cell
from inventory.llm.selectors import LLM_FIGURES
from inventory.models import AiModel, ComputeStatus, EmissionScope, EnergyTier, Location, Phase
from reports.records_apis import STATUSES, record_filters
from reports.records_selectors import (
    ALL_STATUSES,
    LLM_KIND,
    NO_MODEL,
    RECORD_MODELS,
    RecordFilters,
    batch_summary,
    record_detail,
    record_page,
    record_totals,
    records_for_export,
)

KIND_LABELS = {
    "workloads": "Workload records",
    "cloud-usage": "Cloud usage records",
    LLM_KIND: "LLM API usage records",
}
# Query names of the filters a link may carry, as RecordFilterSerializer reads them.
LINK_FILTERS = (
    "team",
    "model",
    "location",
    "scope",
    "tier",
    "phase",
    "status",
    "batch",
    "locked",
    "llm",
)


def record_browser_url(
    *, start: date | None = None, end: date | None = None, kind: str | None = None, **filters
) -> str:
    """The record browser filtered like a figure: its period and the line's filter (e.g.
    team=3, model="none", tier="measured")."""
    params = {"kind": kind, "start": start, "end": end}
    params.update({name: filters.get(name) for name in LINK_FILTERS})
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse("records") + (f"?{query}" if query else "")


def _locked_text(filters: RecordFilters) -> str | None:
    """The `locked` filter as a query value (2026-Q1-v1)."""
    return "{}-Q{}-v{}".format(*filters.locked) if filters.locked else None


def _query(filters: RecordFilters, **changes) -> str:
    """This page's filters as a query string, with changes (None drops a filter)."""
    params = {
        "kind": filters.kind,
        "start": filters.start,
        "end": filters.end,
        "team": filters.team_id,
        "model": filters.model,
        "location": filters.location_id,
        "scope": filters.scope,
        "tier": filters.energy_tier,
        "phase": filters.phase,
        "status": None if filters.status == ComputeStatus.COMPUTED else filters.status,
        "batch": filters.batch_id,
        "locked": _locked_text(filters),
        "llm": filters.llm,
    }
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _kind_for(principal: Principal, request: HttpRequest) -> str:
    """The kind asked for; without one, the first kind (workloads, cloud usage, LLM usage)
    with a record matching the filters."""
    kind = request.GET.get("kind")
    if kind in RECORD_MODELS:
        return kind
    filters, _ = record_filters(request.GET, kind="workloads")
    for other in RECORD_MODELS:
        if record_page(principal=principal, filters=replace(filters, kind=other), size=1).records:
            return other
    return "workloads"


def _chips(principal: Principal, filters: RecordFilters) -> list[tuple[str, str]]:
    """(what, remove link) for each filter set, named as the pages name them."""
    organisation = principal.organisation
    chips = []
    if filters.team_id:
        team = Team.objects.filter(organisation=organisation, pk=filters.team_id).first()
        chips.append((f"team {team.name if team else '(unknown)'}", _query(filters, team=None)))
    if filters.model == NO_MODEL:
        chips.append(("no model given", _query(filters, model=None)))
    elif filters.model:
        model = AiModel.objects.filter(organisation=organisation, pk=filters.model).first()
        chips.append((f"model {model.name if model else '(unknown)'}", _query(filters, model=None)))
    if filters.location_id:
        # Cloud regions are shared by every organisation.
        shared = Q(organisation=organisation) | Q(organisation__isnull=True)
        location = Location.objects.filter(shared, pk=filters.location_id)
        code = location.values_list("code", flat=True).first() or "(unknown)"
        chips.append((f"location {code}", _query(filters, location=None)))
    for label, value, name in (
        ("scope", filters.scope and dict(EmissionScope.choices)[filters.scope], "scope"),
        ("tier", filters.energy_tier and dict(EnergyTier.choices)[filters.energy_tier], "tier"),
        ("phase", filters.phase and dict(Phase.choices)[filters.phase], "phase"),
    ):
        if value:
            chips.append((f"{label}: {value}", _query(filters, **{name: None})))
    if filters.locked:
        year, quarter, version = filters.locked
        label = f"as locked: {year} Q{quarter} version {version}"
        chips.append((label, _query(filters, locked=None)))
    if filters.llm:
        chips.append((f"LLM {filters.llm}", _query(filters, llm=None)))
    return chips


def _list_page(
    request: HttpRequest, principal: Principal, *, batch_id: int | None = None
) -> HttpResponse:
    fixed = {"batch_id": batch_id} if batch_id else {}
    if batch_id and "status" not in request.GET:
        # A batch opens to everything it held, waiting and failed records included.
        fixed["status"] = ALL_STATUSES
    try:
        kind = _kind_for(principal, request)
        filters, before = record_filters(request.GET, kind=kind, **fixed)
    except ApplicationError as error:
        context = {"error": error, "principal": principal}
        return render(request, "records/list.html", context, status=400)
    batch = None
    if batch_id:
        batch = batch_summary(principal=principal, batch_id=batch_id)
        if batch is None:
            raise Http404("No such batch")
    page = record_page(principal=principal, filters=filters, before=before)
    tabs = [
        (
            other,
            KIND_LABELS[other],
            _query(filters, kind=other, before=None),
            record_totals(principal=principal, filters=replace(filters, kind=other)),
        )
        for other in RECORD_MODELS
    ]
    return render(
        request,
        "records/list.html",
        {
            "principal": principal,
            "filters": filters,
            "kind": kind,
            "kind_label": KIND_LABELS[kind],
            "tabs": tabs,
            "totals": next(t for k, _, _, t in tabs if k == kind),
            "records": page.records,
            "next_query": _query(filters, before=str(page.next_cursor))
            if page.next_cursor
            else None,
            "first_query": _query(filters) if before else None,
            "csv_url": reverse("records-csv") + f"?{_query(filters)}",
            # Each row links to /records/<kind>/<id>/ and /records/batches/<id>/ (page_urls),
            # written from this prefix: reversing two URLs per row is a tenth of the page's time.
            "records_url": reverse("records"),
            "chips": _chips(principal, filters),
            # The filters the form does not show ride along with it.
            "filters_hidden": [
                (name, value)
                for name, value in (
                    ("team", filters.team_id),
                    ("model", filters.model),
                    ("location", filters.location_id),
                    ("scope", filters.scope),
                    ("phase", filters.phase),
                    ("batch", None if batch_id else filters.batch_id),
                    ("locked", _locked_text(filters)),
                    ("llm", filters.llm),
                )
                if value
            ],
            "statuses": STATUSES,
            "tiers": EnergyTier.choices,
            "batch": batch,
        },
    )


@login_required
def record_list_page(request: HttpRequest) -> HttpResponse:
    return _list_page(request, principal_or_404(request))


@login_required
def record_batch_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _list_page(request, principal_or_404(request), batch_id=pk)


@login_required
def record_detail_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    principal = principal_or_404(request)
    detail = record_detail(principal=principal, kind=kind, record_id=pk)
    if detail is None:
        raise Http404("No such record")
    if kind == LLM_KIND:
        context = {"principal": principal, "detail": detail, "record": detail.record}
        return render(request, "records/llm_detail.html", context)
    return render(
        request,
        "records/detail.html",
        {
            "principal": principal,
            "detail": detail,
            "record": detail.record,
            "kind_label": KIND_LABELS[kind],
            "lineage": [
                ("PUE", detail.pue),
                ("Grid factor", detail.factor),
                ("Power model", detail.power_model),
                ("Cloud coefficient", detail.coefficient),
            ],
        },
    )


# --- CSV ----------------------------------------------------------------------------------

_EVERY_KIND_COLUMNS = (
    ("kind", lambda kind, r: kind),
    ("id", lambda kind, r: r.id),
    ("external_id", lambda kind, r: r.external_id),
    ("batch", lambda kind, r: r.batch_id),
    ("received_at", lambda kind, r: r.batch.created_at.isoformat()),
    ("status", lambda kind, r: r.status),
    ("activity_date", lambda kind, r: r.activity_date.isoformat()),
    ("team", lambda kind, r: r.team.name),
    ("model", lambda kind, r: r.ai_model.name if r.ai_model else ""),
)
CSV_COLUMNS = (
    *_EVERY_KIND_COLUMNS,
    ("location", lambda kind, r: r.location.code),
    ("zone", lambda kind, r: r.location.zone),
    ("scope", lambda kind, r: r.scope),
    ("phase_or_usage", lambda kind, r: getattr(r, "phase", "") or r.usage_kind),
    ("energy_tier", lambda kind, r: r.energy_tier),
    ("it_kwh", lambda kind, r: r.it_kwh),
    ("pue_used", lambda kind, r: r.pue_used),
    ("facility_kwh", lambda kind, r: r.facility_kwh),
    ("grid_factor_id", lambda kind, r: r.grid_factor_id),
    ("factor_override_id", lambda kind, r: r.factor_override_id),
    ("location_kg_per_kwh", lambda kind, r: r.location_kg_per_kwh),
    ("location_kg", lambda kind, r: r.location_kg),
    ("methodology_version", lambda kind, r: r.methodology_version),
)


def _stored(name: str) -> tuple:
    return (name, lambda kind, r: getattr(r, name))


# Each EcoLogits figure as its stored minimum and maximum (empty until estimated).
LLM_CSV_COLUMNS = (
    *_EVERY_KIND_COLUMNS,
    *map(_stored, ("application", "provider")),
    ("llm", lambda kind, r: r.model),
    *map(_stored, ("requests", "input_tokens", "output_tokens", "latency_s")),
    *(_stored(f"{figure}_{end}") for figure in LLM_FIGURES for end in ("min", "max")),
    *map(_stored, ("electricity_mix_zone", "ecologits_version")),
)
COLUMNS_OF = {"workloads": CSV_COLUMNS, "cloud-usage": CSV_COLUMNS, LLM_KIND: LLM_CSV_COLUMNS}


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(kind: str, records: Iterable) -> Iterator[str]:
    writer = csv.writer(_Echo())
    columns = COLUMNS_OF[kind]
    yield writer.writerow([name for name, _ in columns])
    for record in records:
        yield writer.writerow([csv_cell(get(kind, record)) for _, get in columns])


@login_required
def record_csv(request: HttpRequest) -> HttpResponse:
    """Every record of the filter (not only a page), streamed as it is read."""
    principal = principal_or_404(request)
    try:
        kind = _kind_for(principal, request)
        filters, _ = record_filters(request.GET, kind=kind)
    except ApplicationError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain")
    records = records_for_export(principal=principal, filters=filters)
    response = StreamingHttpResponse(
        csv_lines(kind, records), content_type="text/csv; charset=utf-8"
    )
    period = f"{filters.start or 'start'}-{filters.end or 'end'}"
    response["Content-Disposition"] = f'attachment; filename="records-{kind}-{period}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
