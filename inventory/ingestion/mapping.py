"""Attribution of records that name no team (billing lines, CodeCarbon runs) and of
CodeCarbon's places to the portal's locations."""

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction

from accounts.principal import Principal
from greenai_portal.db import first_where, rows_where
from greenai_portal.errors import ApplicationError
from inventory.ingestion.countries import ALPHA3_TO_ALPHA2
from inventory.models import Location, MappingSource, TeamMappingRule, Zone

COUNTRY_PREFIX = "country:"


def mapping_rules(*, principal: Principal, source: str) -> list[TeamMappingRule]:
    """The organisation's rules for this source (and for any source), first match first
    (the model's ordering). A rule's team loads when a rule is used."""
    return list(
        rows_where(
            TeamMappingRule,
            "organisation_id = %s AND source IN (%s, %s) ORDER BY priority, id",
            [principal.organisation.id, source, MappingSource.ANY],
        )
    )


def located(*, organisation_id: int | None, code: str) -> Location | None:
    """The location with this code: an organisation's own, or (None) a shared cloud region."""
    if organisation_id is None:
        where, params = "organisation_id IS NULL AND code = %s", [code]
    else:
        where, params = "organisation_id = %s AND code = %s", [organisation_id, code]
    return first_where(Location, where, params)


def match_rule(
    rules: Iterable[TeamMappingRule], keys: Mapping[str, str | None]
) -> TeamMappingRule | None:
    """The first rule whose key has its value in `keys` (`*`: any value, even none)."""
    for rule in rules:
        if rule.value == "*" or (keys.get(rule.key) is not None and keys[rule.key] == rule.value):
            return rule
    return None


def country_location(*, organisation, alpha2: str) -> Location:
    """The organisation's `country:XX` location: machines in that country, on its grid.

    CodeCarbon runs on laptops and on-premises servers report only their country. They
    become an *owned* location (Scope 2: the organisation buys that electricity), with no
    PUE of its own (CodeCarbon's energy already includes the PUE it was given).
    """
    code = f"{COUNTRY_PREFIX}{alpha2}"
    found = located(organisation_id=organisation.id, code=code)
    if found:
        return found
    zone = Zone.objects.filter(code=alpha2).first()
    if zone is None:
        raise ApplicationError(
            f"No grid zone for country {alpha2!r}",
            errors=[{"field": "country_iso_code", "message": f"Unknown country {alpha2!r}"}],
        )
    try:
        with transaction.atomic():
            return Location.objects.create(
                organisation=organisation,
                code=code,
                name=f"{zone.name} (machines reporting their country)",
                kind=Location.Kind.OWNED,
                zone=zone.code,
            )
    except IntegrityError:  # created by a concurrent request a moment ago
        return Location.objects.get(organisation=organisation, code=code)


def location_by_code(*, organisation, code: str) -> Location | None:
    """An organisation's facility, a shared cloud region, or a `country:XX` location."""
    found = located(organisation_id=organisation.id, code=code) or located(
        organisation_id=None, code=code
    )
    if found:
        return found
    if code.startswith(COUNTRY_PREFIX):
        return country_location(organisation=organisation, alpha2=code[len(COUNTRY_PREFIX) :])
    return None


def rule_location_check(*, organisation, code: str) -> None:
    """A mapping rule's location must be one the portal knows: the organisation's facility,
    a shared cloud region, or `country:XX` of a country with a grid zone."""
    if code and location_by_code(organisation=organisation, code=code) is None:
        raise ApplicationError(
            f"Unknown location {code!r}: give a facility's code, a cloud region "
            "(e.g. aws:eu-west-3) or country:XX",
            errors=[{"field": "location_code", "message": "Unknown location"}],
        )


def country_alpha2(value: str | None) -> str | None:
    """'FRA' or 'FR' → 'FR'."""
    if not value:
        return None
    value = value.strip().upper()
    if len(value) == 2:
        return value
    return ALPHA3_TO_ALPHA2.get(value)
