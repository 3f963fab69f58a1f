"""What the pipeline still has to do, defined once: the data page and the overview show an
organisation's (or a team-limited member's) records waiting, /health/ everyone's."""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Count, Min, Q

from accounts.principal import Principal
from inventory.models import (
    CloudUsageRecord,
    ComputeStatus,
    RecalculationJob,
    RecalculationStatus,
    WorkloadRecord,
)
from inventory.pipeline.compute import batches_waiting


@dataclass(frozen=True)
class RecordsWaiting:
    workload: int = 0
    cloud_usage: int = 0
    batches: int = 0
    recalculations: int = 0
    oldest: datetime | None = None

    @property
    def count(self) -> int:
        return self.workload + self.cloud_usage


def records_waiting(*, principal: Principal | None = None) -> RecordsWaiting:
    """Pending records where the pipeline looks for work (records have no index on their
    status): those of the batches not computed yet and those a queued or running
    recalculation took, each counted once. Those the principal sees, or (None) all of them."""
    organisation_id = principal.organisation.id if principal is not None else None
    batches = batches_waiting(organisation_id=organisation_id)
    jobs = RecalculationJob.objects.filter(
        status__in=[RecalculationStatus.QUEUED, RecalculationStatus.RUNNING]
    )
    if organisation_id is not None:
        jobs = jobs.filter(organisation_id=organisation_id)
    job_ids = list(jobs.values_list("id", flat=True))
    queues = [Q(batch_id__in=batches)] if batches else []
    queues += [Q(recalculation_job_id__in=job_ids)] if job_ids else []
    if not queues:  # ids first (few): an empty queue costs no scan of the records at all
        return RecordsWaiting()
    counts, oldest = {}, []
    for kind, model in (("workload", WorkloadRecord), ("cloud_usage", CloudUsageRecord)):
        records = model.objects.filter(reduce(or_, queues), status=ComputeStatus.PENDING)
        if principal is not None:
            records = principal.visible(records)
        summary = records.aggregate(count=Count("id"), oldest=Min("created_at"))
        counts[kind] = summary["count"]
        oldest += [summary["oldest"]] if summary["oldest"] else []
    return RecordsWaiting(
        **counts,
        batches=len(batches),
        recalculations=len(job_ids),
        oldest=min(oldest, default=None),
    )
