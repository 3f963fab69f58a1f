from celery import shared_task

from inventory.imports.jobs import import_job_run


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    """Import one uploaded file; the job row carries status, progress and errors."""
    return import_job_run(job_id=job_id).status
