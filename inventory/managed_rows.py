"""What the services of the rows an organisation manages (facilities, instruments, overrides)
check alike: a known grid zone, a period that ends after it starts, and a delete refused while
a computed figure names the row."""

from datetime import date

from django.db.models import ProtectedError

from greenai_portal.errors import ApplicationError
from inventory.models import RecalculationJob, Zone


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
