"""Pending records → results → daily rollups → market allocation, one window at a time.

A window is one organisation's month. Computing a window is one transaction: take the
window lock, compute every pending workload and cloud usage record of the month (two set-based
UPDATEs), then, under the organisation lock, rebuild the rollups of the days touched and the
month's market allocation. A worker killed midway rolls the whole window back (records stay
pending, rollups unchanged); a second worker either waits for the window or, when it only
tries, moves on to another. Nothing is computed twice: the UPDATEs only take records still
pending, and only the window's holder runs them.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from inventory.calculation.methodology import (
    DEFAULT_FACILITY_PUE,
    DEFAULT_REPLICATION,
    DEFAULT_UTILIZATION,
    METHODOLOGY_VERSION,
)
from inventory.factor_library import active_dataset
from inventory.pipeline import cloud, workloads
from inventory.pipeline.market import market_allocations_rebuild
from inventory.pipeline.rollups import daily_rollups_rebuild
from inventory.pipeline.sql import (
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

    def add(self, other: "ComputeResult") -> None:
        self.computed += other.computed
        self.failed += other.failed
        self.days_rolled_up += other.days_rolled_up
        self.windows += other.windows
        self.organisations |= other.organisations


_PENDING_WINDOWS_SQL = """
SELECT DISTINCT organisation_id, activity_date FROM inventory_workloadrecord
WHERE status = 'pending' {filter}
UNION
SELECT DISTINCT organisation_id, activity_date FROM inventory_cloudusagerecord
WHERE status = 'pending' {filter}
"""


def pending_windows(
    *,
    batch_id: int | None = None,
    organisation_id: int | None = None,
    recalculation_job_id: int | None = None,
) -> list[Window]:
    """(organisation, month) windows holding pending records, optionally only those of a
    batch, an organisation or a recalculation job."""
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
        cursor.execute(_PENDING_WINDOWS_SQL.format(filter=" ".join(clauses)), params)
        rows = cursor.fetchall()
    windows = set()
    for organisation, day in rows:
        day = day if isinstance(day, date) else date.fromisoformat(day)
        windows.add((organisation, month_start(day)))
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
        "methodology_version": METHODOLOGY_VERSION,
        "now": timezone.now(),
    }


def _organisation_basis(organisation_id: int) -> str:
    from accounts.models import Organisation

    return Organisation.objects.values_list("factor_basis", flat=True).get(pk=organisation_id)


def window_compute(organisation_id: int, month: date, *, wait: bool = True) -> ComputeResult | None:
    """Compute one window; None when wait is False and another worker holds it."""
    with transaction.atomic():
        if not window_lock(organisation_id, month, wait=wait):
            return None
        params = _params(organisation_id, month)
        counts: dict[tuple[date, str], int] = defaultdict(int)
        for module in (workloads, cloud):
            for key, count in run_compute_update(module.CTES, module.UPDATE, params).items():
                counts[key] += count
        if not counts:
            return ComputeResult()
        days = {day for day, _ in counts}
        organisation_lock(organisation_id)
        daily_rollups_rebuild(organisation_id=organisation_id, days=days)
        market_allocations_rebuild(organisation_id=organisation_id, months=[month])
        result = ComputeResult(
            computed=sum(counts.values()),
            failed=sum(n for (_, status), n in counts.items() if status == "failed"),
            days_rolled_up=len(days),
            windows=1,
            organisations={organisation_id},
        )
    logger.info(
        "computed window",
        extra={
            "organisation_id": organisation_id,
            "month": month.isoformat(),
            "computed": result.computed,
            "failed": result.failed,
            "days": result.days_rolled_up,
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

    Each window computes all its pending records, whichever batch they came in. Windows
    another worker holds are skipped on the first pass, so workers spread over the backlog,
    then waited for, so records that arrived while that worker ran are not left to the sweep.
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
            result = window_compute(organisation, month, wait=wait)
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
