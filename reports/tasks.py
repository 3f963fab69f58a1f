"""Export tasks, on their own queue (CELERY_TASK_ROUTES) so a burst of PDF exports never
delays the computation of ingested records."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from greenai_portal.logs import log_context
from reports.services import report_export_build, report_exports_resume


@shared_task(acks_late=True)
def build_report_export(export_id: int) -> int:
    """Render one export's audit PDF (progress and failures are stored on the export)."""
    with log_context(export_id=export_id):
        return report_export_build(export_id=export_id).pdf_bytes


@shared_task(acks_late=True)
def sweep_report_exports() -> int:
    """Queue again the exports no worker holds (message lost, or worker died)."""
    return report_exports_resume(quiet_for=timedelta(seconds=settings.GREENAI_RESUME_AFTER_SECONDS))
