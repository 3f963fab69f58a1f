from django.db.models import QuerySet

from accounts.models import ApiToken, Membership, Organisation, Team
from accounts.principal import Principal, principal_for_membership, principal_for_token


def membership_for_user(*, user) -> Membership | None:
    if not user or not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organisation")
        .filter(user=user)
        .order_by("created_at")
        .first()
    )


def principal_for_request(request) -> Principal | None:
    """The caller's principal, cached on the request; None if it belongs to no organisation."""
    if hasattr(request, "_greenai_principal"):
        return request._greenai_principal
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        principal = principal_for_token(auth)
    else:
        membership = membership_for_user(user=getattr(request, "user", None))
        principal = principal_for_membership(membership) if membership else None
    request._greenai_principal = principal
    return principal


def team_list(*, principal: Principal) -> QuerySet[Team]:
    teams = Team.objects.filter(organisation=principal.organisation)
    if principal.team_ids is not None:
        teams = teams.filter(id__in=principal.team_ids)
    return teams


def api_token_list(*, organisation: Organisation) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(organisation=organisation).select_related("team")
