"""Writes of the organisation's own grid factors (factor overrides): each cites its source, is
audited and recomputes the open periods it covers."""

from datetime import date

from django.db import transaction

from accounts.audit import actor_user, audit_record
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.managed_rows import delete_unless_used, period_checked, zone_checked
from inventory.models import FactorKind, FactorOverride, RecalculationJob
from inventory.pipeline.recalculation import recalculation_for_override


@transaction.atomic
def factor_override_create(
    *,
    organisation: Organisation,
    zone: str,
    kind: str,
    valid_from: date,
    valid_to: date,
    kg_per_kwh: float,
    source: str,
    created_by=None,
) -> tuple[FactorOverride, RecalculationJob]:
    """The organisation's own factor for a zone and period, with its cited source; the open
    periods it covers are recomputed (the job returned)."""
    if kind not in FactorKind.values:
        raise ApplicationError(f"Unknown factor kind {kind!r}")
    period_checked(valid_from, valid_to)
    if not 0 <= kg_per_kwh <= 2.0:
        raise ApplicationError("A grid factor is between 0 and 2 kg CO2e/kWh")
    if not source.strip():
        raise ApplicationError("Cite the source of the factor (publisher, document, year)")
    override = FactorOverride.objects.create(
        organisation=organisation,
        zone=zone_checked(zone),
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
        kg_per_kwh=kg_per_kwh,
        source=source.strip(),
        created_by=actor_user(created_by),  # a token has no user: its audit event names it
    )
    return override, _override_changed(override, "override.create", created_by)


@transaction.atomic
def factor_override_delete(*, override: FactorOverride, actor=None) -> RecalculationJob:
    job = _override_changed(override, "override.delete", actor)
    return delete_unless_used(override, job, "Computed records use this override")


def _override_changed(override: FactorOverride, action: str, actor) -> RecalculationJob:
    audit_record(
        organisation=override.organisation,
        action=action,
        target=override,
        actor=actor,
        details={
            "zone": override.zone,
            "kind": override.kind,
            "valid_from": override.valid_from.isoformat(),
            "valid_to": override.valid_to.isoformat(),
            "kg_per_kwh": override.kg_per_kwh,
            "source": override.source,
        },
    )
    return recalculation_for_override(
        organisation=override.organisation,
        zone=override.zone,
        kind=override.kind,
        valid_from=override.valid_from,
        valid_to=override.valid_to,
        user=actor,
    )
