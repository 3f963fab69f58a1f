"""Settings pages for people and access: teams and members, API tokens.

Admins manage (Access.MANAGE); ESG officers and auditors read; engineers see their own teams.
Writes go through accounts.services; a refused write comes back as a message on the page.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.audit import audit_actions, audit_event_list
from accounts.models import ApiToken, Membership, Role, Scope, Team
from accounts.principal import Access, Principal
from accounts.selectors import api_token_list, principal_for_request, team_list
from accounts.services import (
    api_token_create,
    api_token_revoke,
    member_create,
    member_remove,
    member_update,
    team_add,
)
from greenai_portal.errors import ApplicationError

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


# --- Teams and members --------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120, label="Team name")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
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
def member_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = MemberForm(request.POST, organisation=principal.organisation)
    if form.is_valid():
        data = form.cleaned_data
        run_service(
            request,
            f"{data['username']} added as {Role(data['role']).label}",
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

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(organisation=organisation)


@settings_page(Access.MANAGE)
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
            "tokens": api_token_list(organisation=principal.organisation).order_by(
                "revoked_at", "-created_at"
            ),
            "form": TokenForm(organisation=principal.organisation, initial={"scopes": ["ingest"]}),
            "new_key": new_key,
            "base_url": f"{request.scheme}://{request.get_host()}",
        },
    )


@require_POST
@settings_page(Access.MANAGE)
def token_create_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = TokenForm(request.POST, organisation=principal.organisation)
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
        )
        created.update(name=token.name, prefix=token.prefix, key=key)

    if run_service(request, f"Token {data['name']} created", create):
        request.session[NEW_KEY_SESSION] = created
    return redirect("settings-tokens")


@require_POST
@settings_page(Access.MANAGE)
def token_revoke_view(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, organisation=principal.organisation)
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
