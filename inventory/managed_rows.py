"""What the services of the rows an organisation manages (facilities, instruments, overrides,
declared LLMs, Prometheus sources) check alike: a known grid zone, a period that ends after it
starts, a name used once, and a delete refused while a computed figure names the row."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError

from accounts.audit import audit_record
from greenai_portal.errors import ApplicationError
from inventory.models import RecalculationJob, Zone

ManagedRow = TypeVar("ManagedRow", bound=Model)


def zone_checked(code: str) -> str:
    code = code.strip()
    if not Zone.objects.filter(code=code).exists():
        raise ApplicationError(
            f"Unknown grid zone {code!r}: use a code from the factor library (e.g. FR, US-CAL-CISO)"
        )
    return code


def period_checked(valid_from: date, valid_to: date) -> None:
    if valid_to < valid_from:
        raise ApplicationError("The period must end on or after its first day")


def delete_unless_used(row, job: RecalculationJob, used: str) -> RecalculationJob:
    """Delete a settings row whose change `job` recorded first (the pk is gone after delete();
    a refused delete rolls it all back): refused while a computed figure names the row."""
    try:
        row.delete()
    except ProtectedError as error:
        raise ApplicationError(f"{used}; it stays for the audit trail") from error
    return job


def saved_under_unique_name(
    row: ManagedRow,
    *,
    action: str,
    actor,
    audited: Sequence[str],
    name_taken: str,
    name_taken_hint: str,
    after_save: Callable[[], None] | None = None,
) -> ManagedRow:
    """Save a row whose name its organisation may use once, with `after_save` in the same
    transaction, and audit `action` with the `audited` fields. A name already used is an
    ApplicationError (`name_taken`, and `name_taken_hint` on the field `name`)."""
    try:
        with transaction.atomic():
            row.save()
            if after_save is not None:
                after_save()
    except IntegrityError:
        raise ApplicationError(
            name_taken, errors=[{"field": "name", "message": name_taken_hint}]
        ) from None
    audit_record(
        organisation=row.organisation,
        action=action,
        target=row,
        actor=actor,
        details={name: getattr(row, name) for name in audited},
    )
    return row
