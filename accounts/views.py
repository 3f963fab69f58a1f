"""Settings pages for people and access: teams and members, API tokens.

Admins manage (Access.MANAGE); ESG officers and auditors read; engineers see their own teams.
Writes go through accounts.services; a refused write comes back as a message on the page.
"""

import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from math import ceil

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.audit import audit_actions, audit_event_list
from accounts.models import ApiToken, Membership, Organisation, Role, Scope, Team
from accounts.principal import Access, Principal
from accounts.selectors import api_token_list, principal_for_request, team_list
from accounts.services import (
    MEMBER_NAME,
    api_token_create,
    api_token_revoke,
    member_create,
    member_login,
    member_remove,
    member_update,
    organisation_fiscal_year_set,
    organisation_reporting_set,
    organisation_time_zone_set,
    team_add,
)
from greenai_portal.errors import ApplicationError
from greenai_portal.fiscal_years import MONTH_NAMES, QUARTER_START_MONTHS, fiscal_year
from greenai_portal.periods import FIRST_YEAR, LAST_YEAR

NEW_KEY_SESSION = "greenai_new_token_key"
AUDIT_PAGE_SIZE = 50
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def principal_or_404(request: HttpRequest) -> Principal:
    """The signed-in member's principal; someone of no organisation sees nothing (404)."""
    principal = principal_for_request(request)
    if principal is None:
        raise Http404("You are not a member of any organisation")
    return principal


def settings_page(access: str | None = None) -> Callable:
    """A signed-in member's page; with `access`, only principals that have it (else 403)."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            principal = principal_or_404(request)
            if access and not principal.can(access):
                raise PermissionDenied("Your role does not allow this")
            return view(request, principal, *args, **kwargs)

        return wrapped

    return decorate


def settings_context(
    principal: Principal, section: str, manage: str = Access.MANAGE, **extra
) -> dict:
    """A settings page's context; `manage` is the access that may change what it shows."""
    return {
        "principal": principal,
        "role": principal.role,
        "section": section,
        "can_manage": principal.can(manage),
        **extra,
    }


def run_service(request: HttpRequest, success: str, call: Callable) -> bool:
    """Run a write; show its refusal (or `success`) as a message. True when it succeeded."""
    try:
        call()
    except ApplicationError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, success)
    return True


def submit_form(
    request: HttpRequest,
    form: forms.Form,
    success: Callable[[dict], str],
    call: Callable[[dict], object],
) -> None:
    """Validate a posted form, then run its service on the cleaned data; either way the user
    is told what happened (the refusal, the form errors or `success`)."""
    if form.is_valid():
        data = form.cleaned_data
        run_service(request, success(data), lambda: call(data))
    else:
        form_errors(request, form)


def form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label or 'Form'}: {error}")


# --- Login lockout ------------------------------------------------------------------------


def login_wait(request: HttpRequest, credentials: dict | None) -> timedelta:
    """How long until this username may try again from this address: the cool-off counts
    from the latest failed attempt (django-axes moves it on with every attempt)."""
    cool_off = get_cool_off(request) or timedelta(0)
    username = get_client_username(request, credentials)
    latest = (
        AccessAttempt.objects.filter(
            username=username, ip_address=getattr(request, "axes_ip_address", None)
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if latest is None:
        return cool_off
    return max(latest + cool_off - timezone.now(), timedelta(seconds=1))


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the portal's page with the wait,
    and the same wait in Retry-After for scripts."""
    seconds = ceil(login_wait(request, credentials).total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": ceil(seconds / 60), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


# --- Teams and members --------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120, label="Team name")


class MemberForm(forms.Form):
    username = forms.RegexField(
        regex=rf"^{MEMBER_NAME}$",
        max_length=120,
        label="Username (they log in as username@organisation)",
        error_messages={"invalid": "Letters, digits and . + - _ only."},
    )
    email = forms.EmailField(required=False, label="Email")
    password = forms.CharField(
        widget=forms.PasswordInput, label="Initial password", min_length=8, strip=False
    )
    role = forms.ChoiceField(choices=Role.choices, label="Role")
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(), required=False, label="Teams (engineers only)"
    )

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.filter(organisation=organisation)
        self.fields["username"].label = f"Username (they log in as username@{organisation.slug})"


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(), required=False, label="Teams (engineers only)"
    )

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.filter(organisation=organisation)


@settings_page()
def teams_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    organisation = principal.organisation
    can_manage = principal.can(Access.MANAGE)
    # Engineers see their teams, not the organisation's member list.
    sees_members = principal.sees_whole_organisation
    members = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .prefetch_related("teams")
        .order_by("user__username")
        if sees_members
        else []
    )
    teams = team_list(principal=principal).order_by("name")
    return render(
        request,
        "dashboard/settings/teams.html",
        {
            "principal": principal,
            "role": principal.role,
            "section": "teams",
            "can_manage": can_manage,
            "teams": teams,
            "members": members,
            "sees_members": sees_members,
            "roles": Role.choices,
            "team_form": TeamForm(),
            "member_form": MemberForm(organisation=organisation),
            "all_teams": Team.objects.filter(organisation=organisation).order_by("name"),
            "time_zones": sorted(zoneinfo.available_timezones()),
            "fiscal_year_months": FISCAL_YEAR_MONTHS,
            "fiscal_year_label": _fiscal_year_label(organisation),
            "consolidation_approaches": Organisation.Consolidation.choices,
        },
    )


@require_POST
@settings_page(Access.MANAGE)
def team_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        TeamForm(request.POST),
        lambda data: f"Team {data['name']} created",
        lambda data: team_add(
            organisation=principal.organisation, name=data["name"], actor=request.user
        ),
    )
    return redirect("settings-teams")


@require_POST
@settings_page(Access.MANAGE)
def time_zone_set_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    time_zone = request.POST.get("time_zone", "")
    run_service(
        request,
        f"Times without an offset are now read in {time_zone.strip()}",
        lambda: organisation_time_zone_set(
            organisation=principal.organisation, time_zone=time_zone, actor=request.user
        ),
    )
    return redirect("settings-teams")


def _fiscal_year_label(organisation) -> str:
    """How the organisation's fiscal years and base year read, e.g. "April to March; base
    year FY2024/25"."""
    start = organisation.fiscal_year_start_month
    months = f"{MONTH_NAMES[start - 1]} to {MONTH_NAMES[(start + 10) % 12]}"
    base = organisation.base_fiscal_year
    if base is None:
        return f"{months}; no base year chosen"
    label = fiscal_year(base, start).label if start in QUARTER_START_MONTHS else base
    return f"{months}; base year {label}"


FISCAL_YEAR_MONTHS = [(m, MONTH_NAMES[m - 1]) for m in QUARTER_START_MONTHS]


class FiscalYearForm(forms.Form):
    fiscal_year_start_month = forms.TypedChoiceField(coerce=int, choices=FISCAL_YEAR_MONTHS)
    base_fiscal_year = forms.IntegerField(required=False, min_value=FIRST_YEAR, max_value=LAST_YEAR)


@require_POST
@settings_page(Access.MANAGE)
def fiscal_year_set_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    submit_form(
        request,
        FiscalYearForm(request.POST),
        lambda data: (
            "Fiscal years now start in "
            f"{MONTH_NAMES[data['fiscal_year_start_month'] - 1]}"
            + (f"; base year {data['base_fiscal_year']}" if data["base_fiscal_year"] else "")
        ),
        lambda data: organisation_fiscal_year_set(
            organisation=principal.organisation,
            start_month=data["fiscal_year_start_month"],
            base_year=data["base_fiscal_year"],
            actor=request.user,
        ),
    )
    return redirect("settings-teams")


@require_POST
@settings_page(Access.MANAGE)
def reporting_set_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The boundary, consolidation approach and exclusions the audit PDF's cover states."""
    run_service(
        request,
        "Reporting boundary saved: the next audit PDF states it on its cover",
        lambda: organisation_reporting_set(
            organisation=principal.organisation,
            reporting_boundary=request.POST.get("reporting_boundary", ""),
            consolidation_approach=request.POST.get("consolidation_approach", ""),
            reporting_exclusions=request.POST.get("reporting_exclusions", ""),
            actor=request.user,
        ),
    )
    return redirect("settings-teams")


@require_POST
@settings_page(Access.MANAGE)
def member_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = MemberForm(request.POST, organisation=principal.organisation)
    if form.is_valid():
        data = form.cleaned_data
        login = member_login(organisation=principal.organisation, name=data["username"])
        run_service(
            request,
            f"{data['username']} added as {Role(data['role']).label}; they log in as {login}",
            lambda: member_create(
                organisation=principal.organisation,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                teams=data["teams"],
                email=data["email"],
                actor=request.user,
            ),
        )
    else:
        form_errors(request, form)
    return redirect("settings-teams")


def _membership(principal: Principal, pk: int) -> Membership:
    return get_object_or_404(Membership, pk=pk, organisation=principal.organisation)


@require_POST
@settings_page(Access.MANAGE)
def member_update_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    membership = _membership(principal, pk)
    submit_form(
        request,
        MemberUpdateForm(request.POST, organisation=principal.organisation),
        lambda data: f"{membership.user.username} updated",
        lambda data: member_update(
            membership=membership, role=data["role"], teams=data["teams"], actor=request.user
        ),
    )
    return redirect("settings-teams")


@require_POST
@settings_page(Access.MANAGE)
def member_remove_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    membership = _membership(principal, pk)
    run_service(
        request,
        f"{membership.user.username} removed from {principal.organisation.name}",
        lambda: member_remove(membership=membership, actor=request.user),
    )
    return redirect("settings-teams")


# --- API tokens ---------------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name (where it is used)")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, label="Scopes"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        label="Limited to team",
        empty_label="All teams",
    )

    def __init__(self, *args, principal: Principal, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = principal.visible(Team.objects.all(), team="pk")
        if not principal.sees_whole_organisation:
            # A member limited to teams makes tokens limited to one of them.
            self.fields["team"].required = True
            self.fields["team"].empty_label = None
        self.fields["team"].queryset = teams


def _tokens_of(principal: Principal, user) -> QuerySet[ApiToken]:
    """Admins see every token of the organisation; others the tokens they created."""
    tokens = api_token_list(organisation=principal.organisation)
    return tokens if principal.can(Access.MANAGE) else tokens.filter(created_by=user)


@settings_page(Access.TOKENS)
def tokens_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    # The key of a token just created is shown once: it leaves the session as it is read.
    new_key = request.session.pop(NEW_KEY_SESSION, None)
    return render(
        request,
        "dashboard/settings/tokens.html",
        {
            "principal": principal,
            "role": principal.role,
            "section": "tokens",
            "can_manage": True,
            "all_tokens": principal.can(Access.MANAGE),
            "tokens": _tokens_of(principal, request.user).order_by("revoked_at", "-created_at"),
            "form": TokenForm(principal=principal, initial={"scopes": ["ingest"]}),
            "new_key": new_key,
            "base_url": f"{request.scheme}://{request.get_host()}",
        },
    )


@require_POST
@settings_page(Access.TOKENS)
def token_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = TokenForm(request.POST, principal=principal)
    if not form.is_valid():
        form_errors(request, form)
        return redirect("settings-tokens")
    data = form.cleaned_data
    created: dict = {}

    def create() -> None:
        token, key = api_token_create(
            organisation=principal.organisation,
            name=data["name"],
            scopes=data["scopes"],
            team=data["team"],
            created_by=request.user,
            team_ids=principal.team_ids,
        )
        created.update(name=token.name, prefix=token.prefix, key=key)

    if run_service(request, f"Token {data['name']} created", create):
        request.session[NEW_KEY_SESSION] = created
    return redirect("settings-tokens")


@require_POST
@settings_page(Access.TOKENS)
def token_revoke_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    token = get_object_or_404(_tokens_of(principal, request.user), pk=pk)
    run_service(
        request,
        f"Token {token.name} ({token.prefix}…) revoked: it no longer authenticates",
        lambda: api_token_revoke(token=token, actor=request.user),
    )
    return redirect("settings-tokens")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, label="Action")
    actor = forms.CharField(required=False, max_length=160, label="Who (user or token)")
    date_from = forms.DateField(required=False, widget=DATE_INPUT, label="From")
    date_to = forms.DateField(required=False, widget=DATE_INPUT, label="To (inclusive)")

    def __init__(self, *args, actions: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "All actions"), *((a, a) for a in actions)]


@settings_page(Access.AUDIT)
def audit_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    organisation = principal.organisation
    form = AuditFilterForm(request.GET, actions=audit_actions(organisation=organisation))
    filters = form.cleaned_data if form.is_valid() else {}
    if form.errors:
        form_errors(request, form)  # said, not ignored: the page then shows every event
    events = audit_event_list(organisation=organisation, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/settings/audit.html",
        {
            "principal": principal,
            "role": principal.role,
            "section": "audit",
            "can_manage": principal.can(Access.MANAGE),
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )
