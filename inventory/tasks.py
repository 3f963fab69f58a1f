from celery import shared_task
from django.db import OperationalError

from inventory.pipeline import records_compute


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def compute_batch(batch_id: int) -> int:
    return records_compute(batch_id=batch_id).computed


@shared_task(acks_late=True)
def sweep_pending_records() -> int:
    """Compute whatever is still pending: records whose task was lost or never queued."""
    return records_compute().computed
