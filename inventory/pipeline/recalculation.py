"""Recalculation of open periods after a factor dataset, an override, a facility's PUE or WUE
or the contractual instruments change.

A job marks exactly the affected records pending (tagged with the job), window by window
under the window lock, leaving periods a report locks alone; the pipeline then computes them
like any pending record, rebuilding rollups and the market allocation. Changes that only move
the market-based figures (instruments, residual-mix overrides) rebuild the allocation of the
months concerned. Progress is the share of the job's records no longer pending.

Runs are idempotent: marking skips records the job already took and computing only takes
pending records, so a job a worker lost is simply run again (by the sweep).
"""

import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Organisation
from greenai_portal.job_locks import JobKind, job_claim
from inventory.models import (
    CloudUsageRecord,
    DailyRollup,
    FactorDataset,
    FactorKind,
    Location,
    MarketAllocation,
    RecalculationJob,
    RecalculationStatus,
    RecalculationTrigger,
    WorkloadRecord,
)
from inventory.pipeline.compute import records_compute
from inventory.pipeline.locks import locked_periods
from inventory.pipeline.market import market_allocations_rebuild
from inventory.pipeline.sql import (
    as_date,
    month_start,
    next_month,
    organisation_lock,
    window_lock,
)

logger = logging.getLogger(__name__)

_TABLES = ("inventory_workloadrecord", "inventory_cloudusagerecord")


@dataclass(frozen=True)
class RecalculationScope:
    """Which records and months a recalculation touches; None means no restriction."""

    zone: str | None = None
    location_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    dataset_id: int | None = None  # records not computed with this dataset version
    records: bool = True  # recompute records (else only the market allocation)
    market: bool = False  # rebuild the market allocation of the months in range
    # With location_id: the facility setting that changed ("pue", "wue" or "tariff"); only the
    # records that rely on it are recomputed (a tariff prices every record of the facility).
    facility_setting: str = "pue"

    def as_json(self) -> dict:
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict) -> "RecalculationScope":
        values = dict(data)
        for key in ("date_from", "date_to"):
            if values.get(key):
                values[key] = date.fromisoformat(values[key])
        return cls(**values)


def _record_filter(table: str, scope: RecalculationScope, locked: list) -> tuple[str, dict]:
    """SQL conditions (after WHERE organisation_id = ...) selecting the affected records."""
    clauses = ["status <> 'pending'"]
    params: dict = {}
    if scope.zone is not None:
        clauses.append("location_id IN (SELECT id FROM inventory_location WHERE zone = %(zone)s)")
        params["zone"] = scope.zone
    if scope.location_id is not None:
        clauses.append("location_id = %(location)s")
        params["location"] = scope.location_id
        if table == "inventory_workloadrecord" and scope.facility_setting == "wue":
            clauses.append("water_l IS NULL")  # measured water uses no WUE
        elif table == "inventory_workloadrecord" and scope.facility_setting == "pue":
            # Records with their own PUE, or energy that includes one, do not use the facility's.
            clauses.append("pue IS NULL AND NOT energy_includes_pue")
    if scope.date_from is not None:
        clauses.append("activity_date >= %(date_from)s")
        params["date_from"] = scope.date_from
    if scope.date_to is not None:
        clauses.append("activity_date <= %(date_to)s")
        params["date_to"] = scope.date_to
    if scope.dataset_id is not None:
        clauses.append(
            "(factor_dataset_id IS NULL OR factor_dataset_id <> %(dataset)s OR status = 'failed')"
        )
        params["dataset"] = scope.dataset_id
    for n, (start, end) in enumerate(locked):
        clauses.append(f"NOT (activity_date >= %(ls{n})s AND activity_date < %(le{n})s)")
        params[f"ls{n}"], params[f"le{n}"] = start, end
    return " AND ".join(clauses), params


def _affected_months(organisation_id: int, scope: RecalculationScope, locked: list) -> list[date]:
    months: set[date] = set()
    with connection.cursor() as cursor:
        for table in _TABLES:
            where, params = _record_filter(table, scope, locked)
            cursor.execute(
                f"SELECT DISTINCT activity_date FROM {table} "
                f"WHERE organisation_id = %(organisation)s AND {where}",
                {**params, "organisation": organisation_id},
            )
            for (day,) in cursor.fetchall():
                months.add(month_start(as_date(day)))
    return sorted(months)


def _mark_pending(job: RecalculationJob, scope: RecalculationScope, locked: list) -> int:
    """Mark the affected records pending, one window per transaction; returns how many."""
    marked = 0
    for month in _affected_months(job.organisation_id, scope, locked):
        with transaction.atomic(), connection.cursor() as cursor:
            window_lock(job.organisation_id, month, wait=True)
            for table in _TABLES:
                where, params = _record_filter(table, scope, locked)
                cursor.execute(
                    f"""UPDATE {table} SET status = 'pending', recalculation_job_id = %(job)s
                    WHERE organisation_id = %(organisation)s
                      AND activity_date >= %(start)s AND activity_date < %(end)s
                      AND (recalculation_job_id IS NULL OR recalculation_job_id <> %(job)s)
                      AND {where}""",
                    {
                        **params,
                        "job": job.id,
                        "organisation": job.organisation_id,
                        "start": month,
                        "end": next_month(month),
                    },
                )
                marked += cursor.rowcount
    return marked


def _job_counts(job: RecalculationJob) -> tuple[int, int]:
    """(records the job took, of which still pending)."""
    total = pending = 0
    for model in (WorkloadRecord, CloudUsageRecord):
        rows = model.objects.filter(organisation_id=job.organisation_id, recalculation_job=job)
        total += rows.count()
        pending += rows.filter(status="pending").count()
    return total, pending


def _market_months(organisation_id: int, scope: RecalculationScope, locked: list) -> list[date]:
    """Months of the scope's range (or every month with Scope 2 rollups or allocations)."""
    if scope.date_from is not None and scope.date_to is not None:
        months, month = [], month_start(scope.date_from)
        while month <= scope.date_to:
            months.append(month)
            month = next_month(month)
        return months
    days = DailyRollup.objects.filter(organisation_id=organisation_id, scope="scope2")
    if scope.date_from is not None:
        days = days.filter(day__gte=scope.date_from)
    if scope.date_to is not None:
        days = days.filter(day__lte=scope.date_to)
    months = {month_start(d) for d in days.values_list("day", flat=True).distinct()}
    allocations = MarketAllocation.objects.filter(organisation_id=organisation_id)
    months |= set(allocations.values_list("month", flat=True).distinct())
    return sorted(months)


def recalculation_run(*, job_id: int) -> RecalculationJob:
    """Run (or resume) a job: mark, compute, rebuild the market months, finish."""
    with job_claim(JobKind.RECALCULATION, job_id) as claimed:
        if not claimed:
            logger.info("recalculation already running elsewhere", extra={"job_id": job_id})
            return RecalculationJob.objects.get(pk=job_id)
        return _run(RecalculationJob.objects.get(pk=job_id))


def _run(job: RecalculationJob) -> RecalculationJob:
    if job.status in (RecalculationStatus.DONE, RecalculationStatus.FAILED):
        return job
    scope = RecalculationScope.from_json(job.scope)
    locked = locked_periods(job.organisation_id)
    job.status = RecalculationStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.locked_periods = [[start.isoformat(), end.isoformat()] for start, end in locked]
    job.save(update_fields=["status", "started_at", "locked_periods"])
    logger.info("recalculation started", extra={"job_id": job.id, "trigger": job.trigger})
    try:
        if scope.records:
            _mark_pending(job, scope, locked)
            job.total_records, pending = _job_counts(job)
            job.processed_records = job.total_records - pending
            job.save(update_fields=["total_records", "processed_records"])

            def progress(_result) -> None:
                _, still_pending = _job_counts(job)
                job.processed_records = job.total_records - still_pending
                job.save(update_fields=["processed_records"])

            records_compute(
                organisation_id=job.organisation_id,
                recalculation_job_id=job.id,
                on_window=progress,
            )
        if scope.market:
            months = _market_months(job.organisation_id, scope, locked)
            with transaction.atomic():
                organisation_lock(job.organisation_id)
                market_allocations_rebuild(
                    organisation_id=job.organisation_id,
                    months=months,
                    zones=None if scope.zone is None else [scope.zone],
                )
    except Exception as error:
        job.status = RecalculationStatus.FAILED
        job.error = f"{type(error).__name__}: {error}"[:500]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        logger.exception("recalculation failed", extra={"job_id": job.id})
        raise
    job.total_records, pending = _job_counts(job)
    job.processed_records = job.total_records - pending
    job.status = RecalculationStatus.DONE if pending == 0 else RecalculationStatus.RUNNING
    job.finished_at = timezone.now() if pending == 0 else None
    job.save(update_fields=["total_records", "processed_records", "status", "finished_at"])
    logger.info(
        "recalculation finished",
        extra={"job_id": job.id, "records": job.total_records, "status": job.status},
    )
    return job


def _queue(job: RecalculationJob) -> None:
    from inventory.tasks import run_recalculation

    # robust: the job is durable; if the broker is down the sweep resumes it.
    transaction.on_commit(lambda: run_recalculation.delay(job.id), robust=True)


def recalculation_start(
    *,
    organisation: Organisation,
    trigger: str,
    description: str,
    scope: RecalculationScope,
    user=None,
) -> RecalculationJob:
    """Create a recalculation job and queue it (run at once when Celery is eager)."""
    job = RecalculationJob.objects.create(
        organisation=organisation,
        trigger=trigger,
        description=description[:300],
        scope=scope.as_json(),
        created_by=user if getattr(user, "pk", None) else None,
    )
    audit_record(
        organisation=organisation,
        action="recalculation.start",
        target=job,
        actor=user,
        details={"trigger": trigger, "description": job.description, "scope": job.scope},
    )
    _queue(job)
    return job


def recalculation_for_dataset(*, dataset: FactorDataset, user=None) -> list[RecalculationJob]:
    """A new dataset version: every organisation's open records computed with another one."""
    organisations = Organisation.objects.filter(
        id__in=WorkloadRecord.objects.values("organisation_id").union(
            CloudUsageRecord.objects.values("organisation_id")
        )
    ).order_by("id")
    return [
        recalculation_start(
            organisation=organisation,
            trigger=RecalculationTrigger.DATASET,
            description=f"Factor dataset {dataset.name} {dataset.version}",
            scope=RecalculationScope(dataset_id=dataset.id, market=True),
            user=user,
        )
        for organisation in organisations
    ]


def recalculation_for_override(
    *,
    organisation: Organisation,
    zone: str,
    kind: str,
    valid_from: date,
    valid_to: date,
    user=None,
) -> RecalculationJob:
    """An override was added, changed or removed: call with its period (old and new joined).

    A grid-average override moves location-based figures (and the market fallback); a
    residual-mix override only the market-based ones.
    """
    return recalculation_start(
        organisation=organisation,
        trigger=RecalculationTrigger.OVERRIDE,
        description=f"{kind} override for {zone}, {valid_from} to {valid_to}",
        scope=RecalculationScope(
            zone=zone,
            date_from=valid_from,
            date_to=valid_to,
            records=kind == FactorKind.GRID_AVERAGE,
            market=True,
        ),
        user=user,
    )


def recalculation_for_facility_pue(*, location: Location, user=None) -> RecalculationJob:
    """A facility's PUE changed: its records that rely on the facility PUE."""
    return recalculation_start(
        organisation=location.organisation,
        trigger=RecalculationTrigger.FACILITY_PUE,
        description=f"PUE of {location.code} is now {location.pue}",
        scope=RecalculationScope(location_id=location.id),
        user=user,
    )


# A facility's settings by validity period: what recalculates for each, how its job reads.
_FACILITY_PERIOD_SETTINGS = {
    "wue": (RecalculationTrigger.FACILITY_WUE, "WUE"),
    "tariff": (RecalculationTrigger.TARIFF, "Electricity tariff"),
}


def recalculation_for_facility_period(
    *, location: Location, setting: str, valid_from: date, valid_to: date, user=None
) -> RecalculationJob:
    """A facility's WUE or tariff row (`setting`) was added or removed: its records of that
    period; for a WUE those that use one (not those with measured water), for a tariff their
    energy cost (locked quarters keep theirs)."""
    trigger, what = _FACILITY_PERIOD_SETTINGS[setting]
    return recalculation_start(
        organisation=location.organisation,
        trigger=trigger,
        description=f"{what} of {location.code}, {valid_from} to {valid_to}",
        scope=RecalculationScope(
            location_id=location.id,
            date_from=valid_from,
            date_to=valid_to,
            facility_setting=setting,
        ),
        user=user,
    )


def recalculation_for_instruments(
    *, organisation: Organisation, zone: str, valid_from: date, valid_to: date, user=None
) -> RecalculationJob:
    """An instrument was added, changed or removed: rebuild the zone's market allocation from
    the first month of its validity (later months may get more or less of a carried balance).
    """
    return recalculation_start(
        organisation=organisation,
        trigger=RecalculationTrigger.INSTRUMENT,
        description=f"Contractual instruments for {zone} from {valid_from}",
        scope=RecalculationScope(
            zone=zone,
            date_from=valid_from,
            date_to=max(valid_to, valid_from),
            records=False,
            market=True,
        ),
        user=user,
    )


def recalculations_resume(*, quiet_for: timedelta = timedelta(seconds=30)) -> int:
    """Run the jobs left queued or running (their task was lost or its worker died)."""
    cutoff = timezone.now() - quiet_for
    jobs = RecalculationJob.objects.filter(
        status__in=[RecalculationStatus.QUEUED, RecalculationStatus.RUNNING],
        created_at__lt=cutoff,
    ).values_list("id", flat=True)
    resumed = 0
    for job_id in list(jobs):
        recalculation_run(job_id=job_id)
        resumed += 1
    return resumed
