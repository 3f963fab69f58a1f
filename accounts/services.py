from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import tokens
from accounts.models import ApiToken, Membership, Organisation, Role, Scope, Team
from greenai_portal.errors import ApplicationError


def organisation_create(*, name: str, slug: str | None = None) -> Organisation:
    return Organisation.objects.create(name=name, slug=slug or slugify(name))


def team_create(*, organisation: Organisation, name: str, slug: str | None = None) -> Team:
    return Team.objects.create(organisation=organisation, name=name, slug=slug or slugify(name))


@transaction.atomic
def member_add(
    *,
    organisation: Organisation,
    username: str,
    password: str,
    role: str,
    teams: Iterable[Team] = (),
    email: str = "",
) -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}")
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    membership.teams.set(list(teams))
    return membership


def _validated_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in chosen if s not in Scope.values]
    if unknown or not chosen:
        raise ApplicationError(
            f"Scopes must be one or more of {', '.join(Scope.values)}; got {', '.join(unknown)}"
            if unknown
            else f"Give at least one scope: {', '.join(Scope.values)}"
        )
    return chosen


def api_token_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: Iterable[str],
    team: Team | None = None,
    created_by=None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key, which is never stored or shown again."""
    if team is not None and team.organisation_id != organisation.id:
        raise ApplicationError("Unknown team", status_code=404)
    prefix, key = tokens.generate_key()
    token = ApiToken.objects.create(
        organisation=organisation,
        team=team,
        name=name,
        prefix=prefix,
        key_hash=tokens.hash_key(key),
        scopes=_validated_scopes(scopes),
        created_by=created_by,
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken, min_interval_s: int) -> None:
    """Record last use, at most once per interval, with one conditional UPDATE."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=min_interval_s)
    if token.last_used_at is None or token.last_used_at < stale:
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gte=stale).update(
            last_used_at=now
        )
        token.last_used_at = now
