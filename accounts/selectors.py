from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet

from accounts.models import ApiToken, Membership, Organisation, Team
from accounts.principal import Principal, principal_for_membership, principal_for_token
from greenai_portal.db import prepared_cursor


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
    loaded = []
    values = iter(row)
    for model, columns in parts:
        converted = [_converted(next(values), converters) for _, converters in columns]
        loaded.append(
            None
            if converted[0] is None  # the primary key: no team
            else model.from_db(connection.alias, [attname for attname, _ in columns], converted)
        )
    token, organisation, team = loaded
    ApiToken.organisation.field.set_cached_value(token, organisation)
    ApiToken.team.field.set_cached_value(token, team)
    return token


Converter = Callable[[Any, Any, Any], Any]


def _converted(value: Any, converters: list[tuple[Converter, Any]]) -> Any:
    for converter, expression in converters:
        value = converter(value, expression, connection)
    return value


@cache
def _token_statement() -> tuple[str, list[tuple[type[models.Model], list[tuple[str, list]]]]]:
    """The statement, and for each model its columns' attribute names and the converters the
    ORM would apply to them (e.g. SQLite's text datetimes, JSON text)."""
    models_in_order = (ApiToken, Organisation, Team)
    parts, selected = [], []
    for alias, model in zip("tom", models_in_order, strict=True):
        columns = []
        for field in model._meta.concrete_fields:
            column = field.get_col(alias)
            converters = [
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ]
            columns.append((field.attname, [(c, column) for c in converters]))
            selected.append(f"{alias}.{connection.ops.quote_name(field.column)}")
        parts.append((model, columns))
    table = {model: model._meta.db_table for model in models_in_order}
    return (
        f"SELECT {', '.join(selected)} FROM {table[ApiToken]} t "  # noqa: S608 - identifiers are ours
        f"JOIN {table[Organisation]} o ON o.id = t.organisation_id "
        f"LEFT JOIN {table[Team]} m ON m.id = t.team_id WHERE t.prefix = %s",
        parts,
    )
