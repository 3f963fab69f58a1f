"""inventory reads shared with other apps."""

from datetime import date

from django.db.models import Sum

from accounts.models import Organisation
from accounts.principal import Access, Principal
from inventory.models import DailyRollup, ImportJob


def locked_periods(organisation_id: int) -> list[tuple[date, date]]:
    """The organisation's periods that a locked report freezes, as [start, end) date pairs.

    Recalculation and the market-based allocation leave records, allocations and rollups of
    these periods as they are. They are the quarters with a locked report version
    (reports.models.ReportVersion), less the one a restatement is recomputing right now.
    """
    from reports.models import locked_quarters

    return locked_quarters(organisation_id)


def computed_records_by_location(*, organisation: Organisation) -> dict[int, int]:
    """Computed records per location id, from the rollups (counting raw records would scan
    every record of the organisation)."""
    rows = (
        DailyRollup.objects.filter(organisation=organisation)
        .values("location_id")
        .annotate(records=Sum("record_count"))
        .order_by()
    )
    return {row["location_id"]: row["records"] for row in rows}


def import_job_for(*, principal: Principal, job_id: int) -> ImportJob | None:
    """An import the principal may read: any of the organisation's with read access; with
    ingest alone (an upload-only token), only the ones that token uploaded, so a pipeline can
    poll its own import without reading anyone else's."""
    jobs = ImportJob.objects.filter(organisation=principal.organisation)
    if not principal.can(Access.READ):
        jobs = jobs.filter(token=principal.token) if principal.token else jobs.none()
    return jobs.filter(pk=job_id).first()
