"""Celery tasks: they take ids and call a pipeline service; all idempotent and acks_late.

A task killed midway is redelivered (acks_late, reject on worker lost) or its work is found
by the sweep; running any of them twice computes nothing twice.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from greenai_portal.errors import ApplicationError
from greenai_portal.logs import log_context
from inventory.imports.services import import_job_run, import_jobs_resume
from inventory.llm.estimation import llm_usage_estimate
from inventory.meters.selectors import prometheus_sources_due
from inventory.meters.services import prometheus_source_pull
from inventory.pipeline import batch_compute, pending_sweep, records_compute
from inventory.pipeline.recalculation import recalculation_run, recalculations_resume

logger = logging.getLogger(__name__)

# Deadlocks, serialisation failures and dropped connections are worth another go.
_RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@shared_task(**_RETRY)
def compute_batch(batch_id: int) -> int:
    """Compute this batch's records, then take the batch off the sweep's queue."""
    with log_context(batch_id=batch_id):
        return batch_compute(batch_id=batch_id).computed


@shared_task(**_RETRY)
def estimate_llm_usage(organisation_id: int) -> int:
    """Estimate an organisation's pending LLM usage records (after a model declaration
    changed; new batches are estimated by compute_batch)."""
    with log_context(organisation_id=organisation_id):
        return llm_usage_estimate(organisation_id=organisation_id).estimated


@shared_task(**_RETRY)
def sweep_pending_records() -> int:
    """Compute the batches still waiting (their task was lost, or never queued because the
    broker was down), resume recalculations whose worker died and queue again the imports
    no worker holds."""
    computed = pending_sweep().computed
    resumed = recalculations_resume()
    imports = import_jobs_resume(quiet_for=timedelta(seconds=settings.GREENAI_RESUME_AFTER_SECONDS))
    if computed or resumed or imports:
        logger.info(
            "sweep",
            extra={
                "computed": computed,
                "recalculations_resumed": resumed,
                "imports_resumed": imports,
            },
        )
    return computed


@shared_task(**_RETRY)
def sweep_all_pending_records() -> int:
    """Backstop: a full scan for pending records however they got there (hourly)."""
    llm = llm_usage_estimate()
    return records_compute().computed + llm.estimated + llm.failed


@shared_task(**_RETRY)
def run_recalculation(job_id: int) -> int:
    with log_context(recalculation_job_id=job_id):
        return recalculation_run(job_id=job_id).processed_records


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    """Import one uploaded file; the job row carries status, progress and errors."""
    with log_context(import_job_id=job_id):
        return import_job_run(job_id=job_id).status


@shared_task(**_RETRY)
def pull_prometheus_source(source_id: int) -> int:
    """Store the complete hours of GPU energy since this source's last pull."""
    with log_context(prometheus_source_id=source_id):
        try:
            return prometheus_source_pull(source_id=source_id).created
        except ApplicationError as error:
            # Kept on the source (last_error) for its settings page; the next beat retries.
            logger.warning("prometheus pull failed", extra={"error": str(error)})
            return 0


@shared_task(acks_late=True)
def pull_prometheus_sources() -> int:
    """Beat: one pull task per enabled source, so one slow Prometheus delays no other."""
    due = prometheus_sources_due()
    for source_id in due:
        pull_prometheus_source.delay(source_id)
    return len(due)
