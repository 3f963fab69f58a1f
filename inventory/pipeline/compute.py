"""Pending records → results → daily rollups → market allocation, one window at a time.

A window is one organisation's month. Computing a window is one transaction: take the
window lock, compute the window's pending workload and cloud usage records (of one batch or
one recalculation job, or all of them) with two set-based UPDATEs, then, under the
organisation lock, rebuild the rollups of the days touched and the month's market
allocation. A worker killed midway rolls the whole window back (records stay pending,
rollups unchanged); a second worker either waits for the window or, when it only tries,
moves on to another. Nothing is computed twice: the UPDATEs only take records still pending,
and only the window's holder runs them.

The queue: record rows have no index on their status (computing one is then a HOT update,
see inventory/models/records.py), so pending work is found by batch (a batch's task, or the
sweep for batches without a BatchComputation) or by recalculation job; a full scan is the
hourly backstop.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from inventory.calculation.methodology import (
    DEFAULT_FACILITY_PUE,
    DEFAULT_REPLICATION,
    DEFAULT_UTILIZATION,
    METHODOLOGY_VERSION,
)
from inventory.factors.library import active_dataset
from inventory.llm.estimation import llm_usage_estimate
from inventory.models import BatchComputation, IngestBatch
from inventory.pipeline import cloud, workloads
from inventory.pipeline.market import market_allocations_rebuild
from inventory.pipeline.rollups import (
    daily_rollups_rebuild,
    days_with_rollups,
    monthly_rollups_refresh,
)
from inventory.pipeline.sql import (
    MAX_FIGURE,
    PENDING_DAYS_SQL,
    as_date,
    is_postgres,
    month_start,
    next_month,
    organisation_lock,
    run_compute_update,
    window_lock,
)

logger = logging.getLogger(__name__)

Window = tuple[int, date]  # (organisation id, first day of the month)


@dataclass
class ComputeResult:
    computed: int = 0  # records taken from pending (computed or failed)
    failed: int = 0
    days_rolled_up: int = 0
    windows: int = 0
    organisations: set[int] = field(default_factory=set)
    # Wall time inside the windows: the compute UPDATEs, the rollups, the market allocation.
    update_seconds: float = 0.0
    rollup_seconds: float = 0.0
    market_seconds: float = 0.0

    def add(self, other: "ComputeResult") -> None:
        self.computed += other.computed
        self.failed += other.failed
        self.days_rolled_up += other.days_rolled_up
        self.windows += other.windows
        self.organisations |= other.organisations
        self.update_seconds += other.update_seconds
        self.rollup_seconds += other.rollup_seconds
        self.market_seconds += other.market_seconds


def _only(batch_id: int | None, recalculation_job_id: int | None) -> tuple[str, str, dict]:
    """Conditions restricting a window to one batch's or one job's records: for the keys
    (the (location, day, hardware) combinations the factor picks are made for) and for the
    UPDATE. Without a restriction the keys are those of every record of the window, a
    superset, read by an index-only scan of the covering (organisation, day) index."""
    if batch_id is not None:
        return (
            "AND batch_id = %(only)s AND status = 'pending'",
            "AND w.batch_id = %(only)s",
            {"only": batch_id},
        )
    if recalculation_job_id is not None:
        return (
            "AND recalculation_job_id = %(only)s AND status = 'pending'",
            "AND w.recalculation_job_id = %(only)s",
            {"only": recalculation_job_id},
        )
    return "", "", {}


def pending_windows(
    *,
    batch_id: int | None = None,
    organisation_id: int | None = None,
    recalculation_job_id: int | None = None,
) -> list[Window]:
    """(organisation, month) windows holding pending records, optionally only those of a
    batch (found by its index), an organisation (by its (organisation, day) index) or a
    recalculation job (within its organisation). With no filter: a full scan."""
    clauses, params = [], {}
    for column, value in (
        ("batch_id", batch_id),
        ("organisation_id", organisation_id),
        ("recalculation_job_id", recalculation_job_id),
    ):
        if value is not None:
            clauses.append(f"AND {column} = %({column})s")
            params[column] = value
    with connection.cursor() as cursor:
        cursor.execute(PENDING_DAYS_SQL.format(filter=" ".join(clauses)), params)
        rows = cursor.fetchall()
    windows = set()
    for organisation, day in rows:
        windows.add((organisation, month_start(as_date(day))))
    return sorted(windows)


def _params(organisation_id: int, month: date) -> dict:
    return {
        "organisation": organisation_id,
        "basis": _organisation_basis(organisation_id),
        "start": month,
        "end": next_month(month),
        "dataset": active_dataset().id,
        "default_pue": DEFAULT_FACILITY_PUE,
        "utilization": DEFAULT_UTILIZATION,
        "replication": DEFAULT_REPLICATION,
        "max_figure": MAX_FIGURE,
        "methodology_version": METHODOLOGY_VERSION,
        "now": timezone.now(),
    }


def _organisation_basis(organisation_id: int) -> str:
    from accounts.models import Organisation

    return Organisation.objects.values_list("factor_basis", flat=True).get(pk=organisation_id)


def window_compute(
    organisation_id: int,
    month: date,
    *,
    wait: bool = True,
    batch_id: int | None = None,
    recalculation_job_id: int | None = None,
    up_to: dict[str, int] | None = None,
) -> ComputeResult | None:
    """Compute one window's pending records (only a batch's or a job's, if given; only those
    at or below the `up_to` record ids, {"workload": id, "cloud": id}, a report lock's
    cut-off, if given); None when wait is False and another worker holds the window."""
    only, only_w, only_params = _only(batch_id, recalculation_job_id)
    with transaction.atomic():
        if not window_lock(organisation_id, month, wait=wait):
            return None
        started = time.monotonic()
        params = {**_params(organisation_id, month), **only_params}
        end = next_month(month)
        # Under the window lock no one else touches these days' records or rollups.
        rolled_up = days_with_rollups(organisation_id=organisation_id, start=month, end=end)
        fresh = [
            month + timedelta(days=n)
            for n in range((end - month).days)
            if month + timedelta(days=n) not in rolled_up
        ]
        counts: dict[tuple[date, str], int] = defaultdict(int)
        for kind, module in (("workload", workloads), ("cloud", cloud)):
            ctes = module.CTES.replace("/*only*/", only)
            bound = " AND w.id <= %(up_to)s" if up_to else ""
            update = module.UPDATE.replace("/*only_w*/", only_w + bound)
            computed = run_compute_update(
                ctes,
                update,
                {**params, "up_to": up_to[kind]} if up_to else params,
                rollup_select=module.ROLLUP_SELECT,
                fresh_days=fresh,
            )
            for key, count in computed.items():
                counts[key] += count
        if not counts:
            return ComputeResult()
        updated = time.monotonic()
        days = {day for day, _ in counts}
        organisation_lock(organisation_id)
        # Fresh days got their rollup rows in the UPDATE statement (Postgres); rebuild the rest.
        rebuild = days if not is_postgres() else days & rolled_up
        # A rebuild sums the window's month again after its own days, the fresh ones' rows
        # included; with none to rebuild, the month is summed here.
        daily_rollups_rebuild(organisation_id=organisation_id, days=rebuild)
        if not rebuild:
            monthly_rollups_refresh(organisation_id=organisation_id, months=[month])
        rolled = time.monotonic()
        market_allocations_rebuild(organisation_id=organisation_id, months=[month])
        result = ComputeResult(
            computed=sum(counts.values()),
            failed=sum(n for (_, status), n in counts.items() if status == "failed"),
            days_rolled_up=len(days),
            windows=1,
            organisations={organisation_id},
            update_seconds=updated - started,
            rollup_seconds=rolled - updated,
            market_seconds=time.monotonic() - rolled,
        )
    logger.info(
        "computed window",
        extra={
            "organisation_id": organisation_id,
            "month": month.isoformat(),
            "computed": result.computed,
            "failed": result.failed,
            "days": result.days_rolled_up,
            "update_ms": round(result.update_seconds * 1000),
            "rollup_ms": round(result.rollup_seconds * 1000),
            "market_ms": round(result.market_seconds * 1000),
        },
    )
    return result


def records_compute(
    *,
    batch_id: int | None = None,
    organisation_id: int | None = None,
    recalculation_job_id: int | None = None,
    on_window=None,
) -> ComputeResult:
    """Compute the windows holding pending records (of a batch, organisation or job, if given).

    With a batch or a job, only its records; otherwise every pending record of the windows.
    Windows another worker holds are skipped on the first pass, so workers spread over the
    backlog, then waited for, so nothing found pending here is left to the sweep.
    """
    total = ComputeResult()
    skipped = []
    windows = pending_windows(
        batch_id=batch_id,
        organisation_id=organisation_id,
        recalculation_job_id=recalculation_job_id,
    )
    for wait, todo in ((False, windows), (True, skipped)):
        for organisation, month in todo:
            result = window_compute(
                organisation,
                month,
                wait=wait,
                batch_id=batch_id,
                recalculation_job_id=recalculation_job_id,
            )
            if result is None:
                skipped.append((organisation, month))
                continue
            total.add(result)
            if on_window is not None:
                on_window(result)
    logger.info(
        "computed records",
        extra={
            "batch_id": batch_id,
            "recalculation_job_id": recalculation_job_id,
            "computed": total.computed,
            "failed": total.failed,
            "windows": total.windows,
        },
    )
    return total


def batch_compute(*, batch_id: int) -> ComputeResult:
    """Compute a batch's records, then mark the batch computed (off the sweep's queue).

    The batch's queued flag comes off first, in its own transaction: a record stored after
    that queues a new task; one stored before it is committed, and computed here."""
    IngestBatch.objects.filter(pk=batch_id, compute_queued=True).update(compute_queued=False)
    result = records_compute(batch_id=batch_id)
    # A batch holds one kind of record: LLM API usage is estimated with EcoLogits instead.
    llm = llm_usage_estimate(batch_id=batch_id)
    result.computed += llm.estimated + llm.failed
    result.failed += llm.failed
    BatchComputation.objects.update_or_create(
        batch_id=batch_id, defaults={"records": result.computed}
    )
    return result


def batches_waiting(*, organisation_id: int | None = None) -> list[int]:
    """Batches holding records and not computed yet (of one organisation, or all): their task
    was lost, never queued (the broker was down) or is still on its way."""
    batches = IngestBatch.objects.filter(created__gt=0, computation__isnull=True)
    if organisation_id is not None:
        batches = batches.filter(organisation_id=organisation_id)
    return list(batches.order_by("id").values_list("id", flat=True))


def pending_sweep() -> ComputeResult:
    """Compute every batch still waiting (the periodic sweep)."""
    total = ComputeResult()
    for batch_id in batches_waiting():
        total.add(batch_compute(batch_id=batch_id))
    return total
