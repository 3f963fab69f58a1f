"""inventory reads shared with other apps."""

from datetime import date
from itertools import islice

from django.db.models import QuerySet, Sum

from accounts.principal import Principal
from inventory.models import DailyRollup, ImportJob, TeamMappingRule


def locked_periods(organisation_id: int) -> list[tuple[date, date]]:
    """The organisation's periods that a locked report freezes, as [start, end) date pairs.

    Recalculation and the market-based allocation leave records, allocations and rollups of
    these periods as they are. They are the quarters with a locked report version
    (reports.models.ReportVersion), less the one a restatement is recomputing right now.
    """
    from reports.models import locked_quarters

    return locked_quarters(organisation_id)


def computed_records_by_location(*, principal: Principal) -> dict[int, int]:
    """Computed records of the principal's teams per location id, from the rollups (counting
    raw records would scan every record of the organisation)."""
    rows = (
        principal.visible(DailyRollup.objects.all())
        .values("location_id")
        .annotate(records=Sum("record_count"))
        .order_by()
    )
    return {row["location_id"]: row["records"] for row in rows}


def import_jobs_recent(*, principal: Principal, limit: int) -> list[ImportJob]:
    """The latest file imports this principal may read, newest first.

    A job's file name and row errors are its uploader's: a principal limited to teams reads
    the jobs of uploaders limited to teams it sees, never an organisation-wide upload.
    """
    jobs = ImportJob.objects.filter(organisation=principal.organisation).select_related(
        "created_by"
    )
    jobs = jobs.order_by("-created_at", "-id")
    if principal.sees_whole_organisation:
        return list(jobs[:limit])
    # The teams are a JSON list: SQLite has no portable "contained in", so Python checks it.
    limited = jobs.filter(team_ids__isnull=False).iterator(chunk_size=100)
    return list(islice((job for job in limited if principal.sees_teams(job.team_ids)), limit))


def import_job_get(*, principal: Principal, job_id: int) -> ImportJob | None:
    job = ImportJob.objects.filter(organisation=principal.organisation, pk=job_id).first()
    return job if job is not None and principal.sees_teams(job.team_ids) else None


def mapping_rule_list(*, principal: Principal) -> QuerySet[TeamMappingRule]:
    """The billing tag → team rules of the teams this principal sees."""
    return principal.visible(TeamMappingRule.objects.all()).select_related("team")
