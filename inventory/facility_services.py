"""Writes of the organisation's facilities: the facility, its PUE, its WUE and its electricity
tariffs by period.

Each validates what the methodology needs (a known grid zone, a PUE of at least 1, a period that
ends after it starts, a cited source) and refuses to delete a row a computed figure names. Each
is recorded in the audit trail, and a change that moves figures queues the recalculation of
exactly the open periods it affects (locked quarters never change).
"""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

from accounts.audit import actor_user, audit_record, audited_update
from accounts.models import Organisation
from greenai_portal.errors import ApplicationError
from inventory.managed_rows import delete_unless_used, period_checked, zone_checked
from inventory.models import ElectricityTariff, FacilityWue, Location, RecalculationJob
from inventory.pipeline.recalculation import (
    recalculation_for_facility_period,
    recalculation_for_facility_pue,
)

FACILITY_KINDS = (Location.Kind.OWNED, Location.Kind.COLOCATION)


def _pue(pue: float | None) -> float | None:
    if pue is not None and not 1.0 <= pue <= 5.0:
        raise ApplicationError("PUE must be between 1.0 and 5.0")
    return pue


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
                zone=zone_checked(zone),
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


@dataclass(frozen=True)
class _PeriodSetting:
    """A setting a facility holds by validity period (its WUE, its electricity tariff): one row
    per period with its cited source, audited, and recalculating the facility's records of that
    period in open quarters when added or removed."""

    model: type[FacilityWue | ElectricityTariff]
    audit_name: str
    cloud_refusal: str  # cloud regions take the provider's figure, never an organisation's
    source_missing: str
    used_refusal: str
    figures: tuple[str, ...]  # the row's own fields, audited between its period and source
    recalculated: str  # the setting as recalculation_for_facility_period names it


_WUE = _PeriodSetting(
    model=FacilityWue,
    audit_name="facility_wue",
    cloud_refusal="Cloud regions use the provider's published WUE",
    source_missing="Say where the WUE comes from (metered site water, design, report)",
    used_refusal="Computed records use this WUE",
    figures=("wue_l_per_kwh",),
    recalculated="wue",
)
_TARIFF = _PeriodSetting(
    model=ElectricityTariff,
    audit_name="tariff",
    cloud_refusal="Cloud usage keeps the cost its bill carries",
    source_missing="Say where the price comes from (contract, invoice, supplier)",
    used_refusal="Computed costs use this tariff",
    figures=("price_per_kwh", "currency"),
    recalculated="tariff",
)


def _facility_period_checked(
    setting: _PeriodSetting, location: Location, valid_from: date, valid_to: date
) -> None:
    if location.organisation_id is None:
        raise ApplicationError(setting.cloud_refusal, status_code=404)
    period_checked(valid_from, valid_to)


def _period_row_create(
    setting: _PeriodSetting,
    location: Location,
    period: tuple[date, date],
    source: str,
    actor,
    **figures,
) -> tuple[FacilityWue | ElectricityTariff, RecalculationJob]:
    valid_from, valid_to = period
    if not source.strip():
        raise ApplicationError(setting.source_missing)
    row = setting.model.objects.create(
        organisation_id=location.organisation_id,
        location=location,
        valid_from=valid_from,
        valid_to=valid_to,
        source=source.strip(),
        created_by=actor_user(actor),  # a token has no user: its audit event names it
        **figures,
    )
    return row, _period_row_changed(setting, row, "create", actor)


def _period_row_delete(setting: _PeriodSetting, row, actor) -> RecalculationJob:
    job = _period_row_changed(setting, row, "delete", actor)
    return delete_unless_used(row, job, setting.used_refusal)


def _period_row_changed(setting: _PeriodSetting, row, verb: str, actor) -> RecalculationJob:
    audit_record(
        organisation=row.organisation,
        action=f"{setting.audit_name}.{verb}",
        target=row,
        actor=actor,
        details={
            "facility": row.location.code,
            "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat(),
            **{name: getattr(row, name) for name in setting.figures},
            "source": row.source,
        },
    )
    period = {"valid_from": row.valid_from, "valid_to": row.valid_to}
    return recalculation_for_facility_period(
        location=row.location, setting=setting.recalculated, user=actor, **period
    )


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
    _facility_period_checked(_WUE, location, valid_from, valid_to)
    if not 0.0 <= wue_l_per_kwh <= MAX_WUE:
        raise ApplicationError(f"WUE must be between 0 and {MAX_WUE:g} L per IT kWh")
    figures = {"wue_l_per_kwh": wue_l_per_kwh}
    return _period_row_create(_WUE, location, (valid_from, valid_to), source, actor, **figures)


@transaction.atomic
def facility_wue_delete(*, row: FacilityWue, actor=None) -> RecalculationJob:
    return _period_row_delete(_WUE, row, actor)


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
    _facility_period_checked(_TARIFF, location, valid_from, valid_to)
    if not 0 <= price_per_kwh <= 100:
        raise ApplicationError("A price per kWh is between 0 and 100 (in its currency)")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ApplicationError("Give the currency as an ISO 4217 code such as EUR")
    figures = {"price_per_kwh": price_per_kwh, "currency": currency}
    return _period_row_create(
        _TARIFF, location, (valid_from, valid_to), source, created_by, **figures
    )


@transaction.atomic
def tariff_delete(*, tariff: ElectricityTariff, actor=None) -> RecalculationJob:
    return _period_row_delete(_TARIFF, tariff, actor)
