from functools import cache

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import ApiToken, Membership, Organisation, Team
from accounts.principal import Principal, principal_for_membership, principal_for_token
from greenai_portal.db import ModelColumns, model_columns, prepared_cursor, table
from greenai_portal.errors import ApplicationError


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
    return principal.visible(Team.objects.all(), team="id")


def visible_team_or_404(*, principal: Principal, slug: str) -> Team:
    """The team with this slug among those the principal may see, else 404 "No such team"
    (another organisation's team and a team the principal is not in look the same)."""
    team = team_list(principal=principal).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team")
    return team


def api_token_list(*, organisation: Organisation) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(organisation=organisation).select_related("team")


def api_token_by_prefix(*, prefix: str) -> ApiToken | None:
    """The token with this prefix, with its organisation and team, as
    `ApiToken.objects.select_related("organisation", "team")` would load them.

    Every API call comes through here. The statement is written once per process from the
    models' fields: compiling the ORM's query for each call cost more than running it.
    """
    sql, parts = _token_statement()
    with prepared_cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = [], 0
    for columns in parts:
        values = row[start : start + len(columns.attnames)]
        start += len(columns.attnames)
        loaded.append(None if values[0] is None else columns.instance(values))  # no team
    token, organisation, team = loaded
    ApiToken.organisation.field.set_cached_value(token, organisation)
    ApiToken.team.field.set_cached_value(token, team)
    return token


@cache
def _token_statement() -> tuple[str, tuple[ModelColumns, ...]]:
    token, organisation, team = parts = (
        model_columns(ApiToken, "t"),
        model_columns(Organisation, "o"),
        model_columns(Team, "m"),
    )
    return (
        f"SELECT {token.select}, {organisation.select}, {team.select} "  # noqa: S608 - identifiers are ours
        f"FROM {table(ApiToken)} t JOIN {table(Organisation)} o ON o.id = t.organisation_id "
        f"LEFT JOIN {table(Team)} m ON m.id = t.team_id WHERE t.prefix = %s",
        parts,
    )


def teams_by_slug(*, organisation: Organisation, slugs: list[str]) -> list[Team]:
    """The organisation's teams with these slugs, in the order given; an unknown slug (another
    organisation's teams are unknown here) is a 400 naming it."""
    found = {t.slug: t for t in Team.objects.filter(organisation=organisation, slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ApplicationError(f"Unknown team {', '.join(map(repr, unknown))}")
    return [found[slug] for slug in dict.fromkeys(slugs)]
