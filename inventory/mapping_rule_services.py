"""Writes of team mapping rules, which give records naming no team (billing lines, CodeCarbon
runs) a team; each is audited."""

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.ingestion.mapping import rule_location_check
from inventory.models import MappingSource, TeamMappingRule


def _mapping_rule_fields(
    organisation: Organisation,
    *,
    source: str,
    key: str,
    value: str,
    team,
    model_name: str = "",
    location_code: str = "",
    phase: str = "",
    priority: int = 100,
) -> dict:
    """A rule's fields, checked: the organisation's team, a known source, something to match."""
    if team.organisation_id != organisation.id:
        raise ApplicationError("Unknown team", status_code=404)
    if source not in MappingSource.values:
        raise ApplicationError(f"Unknown source {source!r}")
    key, value = key.strip(), value.strip()
    if not key or not value:
        raise ApplicationError("Give what to match (e.g. tag:team) and its value (or *)")
    rule_location_check(organisation=organisation, code=location_code.strip())
    return {
        "source": source,
        "key": key,
        "value": value,
        "team": team,
        "model_name": model_name.strip(),
        "location_code": location_code.strip(),
        "phase": phase,
        "priority": priority,
    }


def mapping_rule_create(*, organisation: Organisation, actor=None, **fields) -> TeamMappingRule:
    """A rule that gives records naming no team (billing lines, CodeCarbon runs) a team.
    `fields`: source, key, value, team, and optionally model_name, location_code, phase,
    priority (lower wins)."""
    rule = TeamMappingRule.objects.create(
        organisation=organisation, **_mapping_rule_fields(organisation, **fields)
    )
    _mapping_rule_changed(rule, "mapping_rule.create", actor)
    return rule


@transaction.atomic
def mapping_rule_update(*, rule: TeamMappingRule, actor=None, **fields) -> TeamMappingRule:
    """Change a rule (all its fields, as for create). Records already stored keep the team
    they were given; the rule applies to what arrives from now on."""
    before = _mapping_rule_summary(rule)
    for name, value in _mapping_rule_fields(rule.organisation, **fields).items():
        setattr(rule, name, value)
    rule.save()
    _mapping_rule_changed(rule, "mapping_rule.update", actor, before=before)
    return rule


def mapping_rule_delete(*, rule: TeamMappingRule, actor=None) -> None:
    _mapping_rule_changed(rule, "mapping_rule.delete", actor)
    rule.delete()


def _mapping_rule_summary(rule: TeamMappingRule) -> dict:
    return {
        "source": rule.source,
        "match": f"{rule.key}={rule.value}",
        "team": rule.team.slug,
        "priority": rule.priority,
    }


def _mapping_rule_changed(rule: TeamMappingRule, action: str, actor, **details) -> None:
    audit_record(
        organisation=rule.organisation,
        action=action,
        target=rule,
        actor=actor,
        details={**_mapping_rule_summary(rule), **details},
    )
