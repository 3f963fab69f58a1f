"""Reads of the two-person close of a quarter: its history, a review of a pending close, and
the sign-off the audit PDF prints."""

from django.db.models import QuerySet

from accounts.principal import Principal
from greenai_portal import periods
from reports.lineage_selectors import quarter_inputs
from reports.models import QuarterClose, ReportVersion


def quarter_closes(*, principal: Principal, year: int, quarter: int) -> QuerySet[QuarterClose]:
    """The quarter's closes, oldest first; none for a principal limited to some teams (a close
    covers the whole organisation)."""
    return (
        principal.visible(QuarterClose.objects.filter(year=year, quarter=quarter), team=None)
        .select_related("prepared_by", "decided_by", "version")
        .order_by("prepared_at", "id")
    )


def pending_close(closes: QuerySet[QuarterClose]) -> QuarterClose | None:
    return next((c for c in closes if c.status == QuarterClose.Status.PENDING), None)


def close_review(close: QuarterClose) -> dict:
    """What the approver compares: the records and input hash now against the preparation's.
    A hint only: the approval itself compares the hash of what it locks."""
    period = periods.quarter(close.year, close.quarter)
    inputs = quarter_inputs(
        organisation_id=close.organisation_id, start=period.start, end=period.end
    )
    return {
        "record_count": inputs.record_count,
        "changed": inputs.content_hash != close.content_hash,
    }


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _step(close: QuarterClose) -> dict:
    return {
        "prepared_by": person_name(close.prepared_by),
        "prepared_by_role": close.prepared_by_role,
        "prepared_at": close.prepared_at,
        "note": close.note,
        "reason": close.reason,
        "record_count": close.record_count,
        "content_hash": close.content_hash,
        "status": close.status,
        "decided_by": person_name(close.decided_by),
        "decided_by_role": close.decided_by_role,
        "decided_at": close.decided_at,
        "comment": close.comment,
        "figures_changed": close.figures_changed,
        "version": close.version.version if close.version_id else None,
    }


def quarter_sign_off(*, organisation_id: int, year: int, quarter: int) -> dict:
    """The sign-off page of the audit PDF: the approved close (preparer and approver), the one
    still waiting, and the preparations sent back before, oldest first."""
    closes = (
        QuarterClose.objects.filter(organisation_id=organisation_id, year=year, quarter=quarter)
        .select_related("prepared_by", "decided_by", "version")
        .order_by("prepared_at", "id")
    )
    steps = [_step(close) for close in closes]
    by_status = {
        status: [s for s in steps if s["status"] == status] for status in QuarterClose.Status
    }
    lock = ReportVersion.objects.filter(
        organisation_id=organisation_id, year=year, quarter=quarter, version=1
    ).first()
    return {
        # The lock itself, for a quarter locked in one step (the single-step API).
        "lock": {
            "locked_by": lock.locked_by_name,
            "locked_by_role": lock.locked_by_role,
            "locked_at": lock.locked_at,
        }
        if lock
        else None,
        "approved": next(iter(by_status[QuarterClose.Status.APPROVED]), None),
        "pending": next(iter(by_status[QuarterClose.Status.PENDING]), None),
        "sent_back": by_status[QuarterClose.Status.SENT_BACK],
    }
