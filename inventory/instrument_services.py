"""Writes of contractual instruments (market-based method): each is audited and rebuilds the
market allocation of its market over its validity."""

from datetime import date

from django.db import transaction

from accounts.audit import actor_user, audit_record
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.managed_rows import delete_unless_used, period_checked, zone_checked
from inventory.models import ContractualInstrument, InstrumentKind, RecalculationJob
from inventory.pipeline.recalculation import recalculation_for_instruments


@transaction.atomic
def instrument_create(
    *,
    organisation: Organisation,
    kind: str,
    zone: str,
    valid_from: date,
    valid_to: date,
    mwh: float,
    kg_per_kwh: float,
    reference: str,
    supplier: str = "",
    created_by=None,
) -> tuple[ContractualInstrument, RecalculationJob]:
    """A contractual instrument; the market allocation of its market and validity is rebuilt
    (the job returned)."""
    if kind not in InstrumentKind.values:
        raise ApplicationError(f"Unknown instrument kind {kind!r}")
    period_checked(valid_from, valid_to)
    if mwh <= 0:
        raise ApplicationError("The instrument must cover more than 0 MWh")
    if kg_per_kwh < 0:
        raise ApplicationError("An emission rate cannot be negative")
    if not reference.strip():
        raise ApplicationError("Give the certificate or contract reference (auditors check it)")
    instrument = ContractualInstrument.objects.create(
        organisation=organisation,
        kind=kind,
        zone=zone_checked(zone),
        valid_from=valid_from,
        valid_to=valid_to,
        mwh=mwh,
        kg_per_kwh=kg_per_kwh,
        reference=reference.strip(),
        supplier=supplier.strip(),
        created_by=actor_user(created_by),  # a token has no user: its audit event names it
    )
    return instrument, _instrument_changed(instrument, "instrument.create", created_by)


@transaction.atomic
def instrument_delete(*, instrument: ContractualInstrument, actor=None) -> RecalculationJob:
    job = _instrument_changed(instrument, "instrument.delete", actor)
    return delete_unless_used(instrument, job, "Market-based figures already use this instrument")


def _instrument_changed(instrument: ContractualInstrument, action: str, actor) -> RecalculationJob:
    audit_record(
        organisation=instrument.organisation,
        action=action,
        target=instrument,
        actor=actor,
        details={
            "reference": instrument.reference,
            "kind": instrument.kind,
            "zone": instrument.zone,
            "valid_from": instrument.valid_from.isoformat(),
            "valid_to": instrument.valid_to.isoformat(),
            "mwh": instrument.mwh,
            "kg_per_kwh": instrument.kg_per_kwh,
        },
    )
    return recalculation_for_instruments(
        organisation=instrument.organisation,
        zone=instrument.zone,
        valid_from=instrument.valid_from,
        valid_to=instrument.valid_to,
        user=actor,
    )
