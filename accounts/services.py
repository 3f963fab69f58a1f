import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from accounts import tokens
from accounts.audit import actor_user, audit_record, audited_update
from accounts.models import (
    ApiToken,
    Membership,
    Organisation,
    Role,
    Scope,
    Team,
    validate_time_zone,
)
from greenai_portal.errors import ApplicationError
from greenai_portal.fiscal_years import start_month_problem
from greenai_portal.periods import FIRST_YEAR, LAST_YEAR


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
    teams = list(teams)
    membership = Membership.objects.create(
        user=user, organisation=organisation, role=role, team_limited=bool(teams)
    )
    membership.teams.set(teams)
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


@transaction.atomic
def api_token_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: Iterable[str],
    team: Team | None = None,
    created_by=None,
    team_ids: frozenset[int] | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key, which is never stored or shown again.

    `team_ids`: the creator's teams when they are limited to some; the token is then limited
    to one of them, so it never reads or writes more than its creator may.
    """
    if team is not None and team.organisation_id != organisation.id:
        raise ApplicationError("Unknown team", status_code=404)
    if team_ids is not None and (team is None or team.id not in team_ids):
        raise ApplicationError(
            "Limit the token to one of your teams",
            errors=[{"field": "team", "message": "Choose one of your teams."}],
        )
    scopes = _validated_scopes(scopes)
    if Scope.MANAGE in scopes:
        _may_grant_manage(organisation, team, created_by)
    prefix, key = tokens.generate_key()
    token = ApiToken.objects.create(
        organisation=organisation,
        team=team,
        name=name,
        prefix=prefix,
        key_hash=tokens.hash_key(key),
        scopes=scopes,
        created_by=actor_user(created_by),
    )
    _token_audited(token, "token.create", created_by)
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor=None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _token_audited(token, "token.revoke", actor)
    return token


def _may_grant_manage(organisation: Organisation, team: Team | None, created_by) -> None:
    """The manage scope writes what only admins write: only an admin grants it (not a token,
    even one with manage; no creator: an operator's script, e.g. create_api_token), and a
    team-limited token never has it, since the settings it writes are the whole
    organisation's."""
    if team is not None:
        raise ApplicationError("A token limited to a team cannot have the manage scope")
    if created_by is None:
        return
    is_admin = Membership.objects.filter(
        organisation=organisation, user_id=getattr(created_by, "pk", None), role=Role.ADMIN
    ).exists()
    if not is_admin:
        raise ApplicationError(
            "Only an organisation admin can create a token with the manage scope", status_code=403
        )


def _token_audited(token: ApiToken, action: str, actor) -> None:
    # Never the key: only what identifies the token (its public prefix) and what it may do.
    audit_record(
        organisation=token.organisation,
        action=action,
        target=token,
        actor=actor,
        details={
            "name": token.name,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "team": token.team.slug if token.team_id else None,
        },
    )


def api_token_touch(*, token: ApiToken, min_interval_s: int) -> None:
    """Record last use, at most once per interval, with one conditional UPDATE."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=min_interval_s)
    if token.last_used_at is None or token.last_used_at < stale:
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gte=stale).update(
            last_used_at=now
        )
        token.last_used_at = now


# --- Settings pages: teams and members ---------------------------------------------------


def _free_team_slug(organisation: Organisation, slug: str, team: Team | None = None) -> str:
    """`slug` as a slug, refused when empty or when another team of the organisation has it."""
    slug = slugify(slug)
    if not slug:
        raise ApplicationError("Give the team a name with at least one letter or digit")
    taken = Team.objects.filter(organisation=organisation, slug=slug)
    if team is not None:
        taken = taken.exclude(pk=team.pk)
    if taken.exists():
        raise ApplicationError(f"A team with the slug {slug!r} already exists")
    return slug


@transaction.atomic
def team_add(*, organisation: Organisation, name: str, slug: str = "", actor=None) -> Team:
    """A new team named by an admin; its slug (used by the API and URLs; the name's, unless
    given) must be free."""
    name = name.strip()
    slug = _free_team_slug(organisation, slug or name)
    team = team_create(organisation=organisation, name=name, slug=slug)
    audit_record(
        organisation=organisation,
        action="team.create",
        target=team,
        actor=actor,
        details={"name": name, "slug": slug},
    )
    return team


def organisation_time_zone_set(
    *, organisation: Organisation, time_zone: str, actor=None
) -> Organisation:
    """The zone in which times without an offset (CodeCarbon's) are read, by its IANA name."""
    time_zone = time_zone.strip()
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        raise ApplicationError(
            error.messages[0], errors=[{"field": "time_zone", "message": "Unknown time zone"}]
        ) from None
    before = organisation.time_zone
    organisation.time_zone = time_zone
    organisation.save(update_fields=["time_zone"])
    audit_record(
        organisation=organisation,
        action="organisation.time_zone",
        target=organisation,
        actor=actor,
        details={"before": before, "after": time_zone},
    )
    return organisation


@transaction.atomic
def organisation_fiscal_year_set(
    *, organisation: Organisation, start_month: int, base_year: int | None, actor=None
) -> Organisation:
    """The month the organisation's fiscal years start in (one that begins a calendar quarter:
    greenai_portal.fiscal_years) and its base year, named by the calendar year it starts in (None:
    no base year)."""
    errors = []
    problem = start_month_problem(start_month)
    if problem:
        errors.append({"field": "fiscal_year_start_month", "message": problem})
    if base_year is not None and not FIRST_YEAR <= base_year <= LAST_YEAR:
        errors.append(
            {
                "field": "base_fiscal_year",
                "message": f"A base year from {FIRST_YEAR} to {LAST_YEAR}, not {base_year}",
            }
        )
    if errors:
        raise ApplicationError(" ".join(e["message"] for e in errors), errors=errors)
    before = {
        "fiscal_year_start_month": organisation.fiscal_year_start_month,
        "base_fiscal_year": organisation.base_fiscal_year,
    }
    organisation.fiscal_year_start_month = start_month
    organisation.base_fiscal_year = base_year
    organisation.save(update_fields=["fiscal_year_start_month", "base_fiscal_year"])
    audit_record(
        organisation=organisation,
        action="organisation.fiscal_year",
        target=organisation,
        actor=actor,
        details={
            "before": before,
            "after": {"fiscal_year_start_month": start_month, "base_fiscal_year": base_year},
        },
    )
    return organisation


def organisation_reporting_set(
    *,
    organisation: Organisation,
    reporting_boundary: str,
    consolidation_approach: str,
    reporting_exclusions: str,
    actor=None,
) -> Organisation:
    """What the inventory covers, as the audit PDF's cover states it: the organisational
    boundary, the consolidation approach (GHG Protocol) and the exclusions with their reasons."""
    if consolidation_approach and consolidation_approach not in Organisation.Consolidation.values:
        raise ApplicationError(
            f"Unknown consolidation approach {consolidation_approach[:40]!r}",
            errors=[{"field": "consolidation_approach", "message": "Not a known approach"}],
        )
    for field, text in (
        ("reporting_boundary", reporting_boundary),
        ("reporting_exclusions", reporting_exclusions),
    ):
        limit = Organisation._meta.get_field(field).max_length
        if len(text) > limit:
            raise ApplicationError(
                f"The {field.replace('_', ' ')} is longer than {limit} characters",
                errors=[{"field": field, "message": f"At most {limit} characters"}],
            )
    audited_update(
        organisation,
        action="organisation.reporting",
        actor=actor,
        reporting_boundary=reporting_boundary.strip(),
        consolidation_approach=consolidation_approach,
        reporting_exclusions=reporting_exclusions.strip(),
    )
    return organisation


@transaction.atomic
def team_update(*, team: Team, name: str, slug: str, actor=None) -> Team:
    """Rename a team. A new slug changes the team named by records sent from then on; records
    already stored keep their team (they refer to it, not to its slug)."""
    name = name.strip()
    if not name:
        raise ApplicationError("Give the team a name")
    slug = _free_team_slug(team.organisation, slug, team)
    audited_update(team, action="team.update", actor=actor, name=name, slug=slug)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor=None) -> None:
    """Delete a team that nothing depends on. Refused while records or CodeCarbon runs name it
    (they keep it), while an active token is limited to it, or while a member is limited to it
    (removing an engineer's last team would widen them to every team)."""
    if team.memberships.exists():
        raise ApplicationError(
            f"Members are limited to team {team.slug!r}; change their teams first",
            status_code=409,
        )
    if team.api_tokens.filter(revoked_at__isnull=True).exists():
        raise ApplicationError(
            f"Active tokens are limited to team {team.slug!r}; revoke them first", status_code=409
        )
    details = {"name": team.name, "slug": team.slug}
    audit_record(
        organisation=team.organisation,
        action="team.delete",
        target=team,
        actor=actor,
        details=details,
    )
    try:
        team.delete()  # its mapping rules and revoked tokens go with it
    except ProtectedError as error:
        raise ApplicationError(
            f"Team {details['slug']!r} has records; a team with records cannot be deleted",
            status_code=409,
        ) from error


def _member_audited(membership: Membership, action: str, actor, **details) -> None:
    audit_record(
        organisation=membership.organisation,
        action=action,
        target=membership,
        actor=actor,
        details={"username": membership.user.get_username(), **details},
    )


def _teams_of(organisation: Organisation, teams: Iterable[Team]) -> list[Team]:
    teams = list(teams)
    if any(team.organisation_id != organisation.id for team in teams):
        raise ApplicationError("Unknown team", status_code=404)
    return teams


MEMBER_NAME = r"[\w.+-]+"


def member_login(*, organisation: Organisation, name: str) -> str:
    """The login of a member named `name`: "dana" in organisation "acme" logs in as
    "dana@acme"."""
    name = name.strip()
    if not re.fullmatch(MEMBER_NAME, name):
        raise ApplicationError("A username is letters, digits and . + - _ only")
    return f"{name}@{organisation.slug}"


def member_create(
    *,
    organisation: Organisation,
    username: str,
    password: str,
    role: str,
    teams: Iterable[Team] = (),
    email: str = "",
    actor=None,
) -> Membership:
    """A new login for a new person, `username@<organisation slug>`.

    Logins are one namespace for the whole portal: qualified by the organisation, a name can
    only clash inside it, so no answer here tells whether another organisation has it.
    """
    username = member_login(organisation=organisation, name=username)
    if get_user_model().objects.filter(username=username).exists():
        raise ApplicationError(f"{username} is already a login of {organisation.name}")
    try:
        validate_password(password, get_user_model()(username=username, email=email))
    except ValidationError as error:
        raise ApplicationError("Password: " + " ".join(error.messages)) from error
    teams = _teams_of(organisation, teams) if role == Role.ENGINEER else []
    membership = member_add(
        organisation=organisation,
        username=username,
        password=password,
        role=role,
        teams=teams,
        email=email,
    )
    _member_audited(
        membership, "member.create", actor, role=role, teams=sorted(t.slug for t in teams)
    )
    return membership


def _keeps_an_admin(membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    others = Membership.objects.filter(organisation=membership.organisation_id, role=Role.ADMIN)
    if not others.exclude(pk=membership.pk).exists():
        raise ApplicationError("An organisation needs at least one admin")


@transaction.atomic
def member_update(
    *, membership: Membership, role: str, teams: Iterable[Team] = (), actor=None
) -> Membership:
    """Change a member's role and, for engineers, the teams they are limited to."""
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}")
    _keeps_an_admin(membership, role)
    teams = _teams_of(membership.organisation, teams) if role == Role.ENGINEER else []
    before = {"role": membership.role, "teams": sorted(t.slug for t in membership.teams.all())}
    membership.role = role
    membership.team_limited = bool(teams)
    membership.save(update_fields=["role", "team_limited"])
    membership.teams.set(teams)
    after = {"role": role, "teams": sorted(t.slug for t in teams)}
    _member_audited(membership, "member.update", actor, before=before, after=after)
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor=None) -> None:
    """Remove a member from the organisation (their login stays for other organisations)."""
    _keeps_an_admin(membership, None)
    _member_audited(membership, "member.remove", actor, role=membership.role)
    membership.delete()
