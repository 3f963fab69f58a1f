"""Writes behind the settings pages: facilities, their PUE, WUE and electricity tariffs,
contractual instruments, factor overrides.

Each validates what the methodology needs (a known grid zone, a PUE of at least 1, a period that
ends after it starts, a cited source) and refuses to delete a row a computed figure names. Each
is recorded in the audit trail, and a change that moves figures queues the recalculation of
exactly the open periods it affects (locked quarters never change).
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.audit import actor_user, audit_record, audited_update
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.ingestion.mapping import rule_location_check
from inventory.models import (
    ContractualInstrument,
    ElectricityTariff,
    FacilityWue,
    FactorKind,
    FactorOverride,
    InstrumentKind,
    Location,
    MappingSource,
    RecalculationJob,
    TeamMappingRule,
    Zone,
)
from inventory.pipeline.recalculation import (
    recalculation_for_facility_pue,
    recalculation_for_facility_wue,
    recalculation_for_instruments,
    recalculation_for_override,
    recalculation_for_tariff,
)

FACILITY_KINDS = (Location.Kind.OWNED, Location.Kind.COLOCATION)


def _zone(code: str) -> str:
    code = code.strip()
    if not Zone.objects.filter(code=code).exists():
        raise ApplicationError(
            f"Unknown grid zone {code!r}: use a code from the factor library (e.g. FR, US-CAL-CISO)"
        )
    return code


def _pue(pue: float | None) -> float | None:
    if pue is not None and not 1.0 <= pue <= 5.0:
        raise ApplicationError("PUE must be between 1.0 and 5.0")
    return pue


def _period(valid_from: date, valid_to: date) -> None:
    if valid_to < valid_from:
        raise ApplicationError("The period must end on or after its first day")


@transaction.atomic
def facility_create(
    *,
    organisation: Organisation,
    code: str,
    name: str,
    kind: str,
    zone: str,
    pue: float | None,
    pue_source: str = "",
    actor=None,
) -> Location:
    """An owned or colocated facility: its records count in Scope 2."""
    code = code.strip()
    if kind not in FACILITY_KINDS:
        raise ApplicationError("A facility is an owned data centre or a colocation")
    if not code:
        raise ApplicationError("Give the facility a code (records name it as their location)")
    if pue is not None and not pue_source.strip():
        raise ApplicationError("Say where the PUE comes from (metered, design, provider report)")
    try:
        with transaction.atomic():
            facility = Location.objects.create(
                organisation=organisation,
                code=code,
                name=name.strip() or code,
                kind=kind,
                zone=_zone(zone),
                pue=_pue(pue),
                pue_source=pue_source.strip(),
            )
    except IntegrityError as error:
        raise ApplicationError(f"A facility with the code {code!r} already exists") from error
    audit_record(
        organisation=organisation,
        action="facility.create",
        target=facility,
        actor=actor,
        details={"code": code, "kind": kind, "zone": facility.zone, "pue": facility.pue},
    )
    return facility


@transaction.atomic
def facility_pue_update(
    *, location: Location, pue: float | None, pue_source: str, actor=None
) -> RecalculationJob | None:
    """Set a facility's PUE; its records in open periods are recomputed with it (the job
    returned; None when the PUE did not change)."""
    if location.organisation_id is None:
        raise ApplicationError("Cloud regions use the provider's published PUE", status_code=404)
    if pue is not None and not pue_source.strip():
        raise ApplicationError("Say where the PUE comes from (metered, design, provider report)")
    before = audited_update(
        location,
        action="facility.pue_update",
        actor=actor,
        pue=_pue(pue),
        pue_source=pue_source.strip(),
    )
    if before["pue"] == location.pue:
        return None
    return recalculation_for_facility_pue(location=location, user=actor)


# The Green Grid's WUE is litres per IT kWh: 0 for a facility cooled without water; published
# regional figures run to about 3 (GSF region metadata, 2022-2024), so above 10 is a typo.
MAX_WUE = 10.0


@transaction.atomic
def facility_wue_create(
    *,
    location: Location,
    valid_from: date,
    valid_to: date,
    wue_l_per_kwh: float,
    source: str,
    actor=None,
) -> tuple[FacilityWue, RecalculationJob]:
    """A facility's WUE for a period, with its source; its records of that period in open
    periods are recomputed (the job returned). The latest row starting on or before a day
    applies to that day."""
    if location.organisation_id is None:
        raise ApplicationError("Cloud regions use the provider's published WUE", status_code=404)
    _period(valid_from, valid_to)
    if not 0.0 <= wue_l_per_kwh <= MAX_WUE:
        raise ApplicationError(f"WUE must be between 0 and {MAX_WUE:g} L per IT kWh")
    if not source.strip():
        raise ApplicationError("Say where the WUE comes from (metered site water, design, report)")
    row = FacilityWue.objects.create(
        organisation_id=location.organisation_id,
        location=location,
        valid_from=valid_from,
        valid_to=valid_to,
        wue_l_per_kwh=wue_l_per_kwh,
        source=source.strip(),
        created_by=actor_user(actor),  # a token has no user: its audit event names it
    )
    return row, _wue_changed(row, "facility_wue.create", actor)


@transaction.atomic
def facility_wue_delete(*, row: FacilityWue, actor=None) -> RecalculationJob:
    job = _wue_changed(row, "facility_wue.delete", actor)
    return _delete_unless_used(row, job, "Computed records use this WUE")


def _wue_changed(row: FacilityWue, action: str, actor) -> RecalculationJob:
    audit_record(
        organisation=row.organisation,
        action=action,
        target=row,
        actor=actor,
        details={
            "facility": row.location.code,
            "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat(),
            "wue_l_per_kwh": row.wue_l_per_kwh,
            "source": row.source,
        },
    )
    return recalculation_for_facility_wue(
        location=row.location, valid_from=row.valid_from, valid_to=row.valid_to, user=actor
    )


@transaction.atomic
def tariff_create(
    *,
    location: Location,
    valid_from: date,
    valid_to: date,
    price_per_kwh: float,
    currency: str,
    source: str,
    created_by=None,
) -> tuple[ElectricityTariff, RecalculationJob]:
    """A facility's electricity price over a period; its records of that period in open
    quarters get their energy cost recomputed (the job returned)."""
    if location.organisation_id is None:
        raise ApplicationError("Cloud usage keeps the cost its bill carries", status_code=404)
    _period(valid_from, valid_to)
    if not 0 <= price_per_kwh <= 100:
        raise ApplicationError("A price per kWh is between 0 and 100 (in its currency)")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ApplicationError("Give the currency as an ISO 4217 code such as EUR")
    if not source.strip():
        raise ApplicationError("Say where the price comes from (contract, invoice, supplier)")
    tariff = ElectricityTariff.objects.create(
        organisation=location.organisation,
        location=location,
        valid_from=valid_from,
        valid_to=valid_to,
        price_per_kwh=price_per_kwh,
        currency=currency,
        source=source.strip(),
        created_by=actor_user(created_by),
    )
    return tariff, _tariff_changed(tariff, "tariff.create", created_by)


@transaction.atomic
def tariff_delete(*, tariff: ElectricityTariff, actor=None) -> RecalculationJob:
    # Recorded first: the pk is gone after delete(); a refused delete rolls it all back.
    job = _tariff_changed(tariff, "tariff.delete", actor)
    try:
        tariff.delete()
    except ProtectedError as error:
        raise ApplicationError(
            "Computed costs use this tariff; it stays for the audit trail"
        ) from error
    return job


def _tariff_changed(tariff: ElectricityTariff, action: str, actor) -> RecalculationJob:
    audit_record(
        organisation=tariff.organisation,
        action=action,
        target=tariff,
        actor=actor,
        details={
            "facility": tariff.location.code,
            "valid_from": tariff.valid_from.isoformat(),
            "valid_to": tariff.valid_to.isoformat(),
            "price_per_kwh": tariff.price_per_kwh,
            "currency": tariff.currency,
            "source": tariff.source,
        },
    )
    return recalculation_for_tariff(
        location=tariff.location,
        valid_from=tariff.valid_from,
        valid_to=tariff.valid_to,
        user=actor,
    )


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
    _period(valid_from, valid_to)
    if mwh <= 0:
        raise ApplicationError("The instrument must cover more than 0 MWh")
    if kg_per_kwh < 0:
        raise ApplicationError("An emission rate cannot be negative")
    if not reference.strip():
        raise ApplicationError("Give the certificate or contract reference (auditors check it)")
    instrument = ContractualInstrument.objects.create(
        organisation=organisation,
        kind=kind,
        zone=_zone(zone),
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
    return _delete_unless_used(instrument, job, "Market-based figures already use this instrument")


def _delete_unless_used(row, job: RecalculationJob, used: str) -> RecalculationJob:
    """Delete a settings row whose change `job` recorded first (the pk is gone after delete();
    a refused delete rolls it all back): refused while a computed figure names the row."""
    try:
        row.delete()
    except ProtectedError as error:
        raise ApplicationError(f"{used}; it stays for the audit trail") from error
    return job


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
    _period(valid_from, valid_to)
    if not 0 <= kg_per_kwh <= 2.0:
        raise ApplicationError("A grid factor is between 0 and 2 kg CO2e/kWh")
    if not source.strip():
        raise ApplicationError("Cite the source of the factor (publisher, document, year)")
    override = FactorOverride.objects.create(
        organisation=organisation,
        zone=_zone(zone),
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
    return _delete_unless_used(override, job, "Computed records use this override")


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
