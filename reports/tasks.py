"""Export tasks, on their own queue (CELERY_TASK_ROUTES) so a burst of PDF exports never
delays the computation of ingested records."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from greenai_portal.logs import log_context
from reports.models import ReportVersion
from reports.services import report_annex_keep, report_export_build, report_exports_resume
from reports.target_services import alert_webhook_deliver, targets_check


@shared_task(acks_late=True)
def build_report_export(export_id: int) -> int:
    """Render one export's audit PDF (progress and failures are stored on the export)."""
    with log_context(export_id=export_id):
        return report_export_build(export_id=export_id).pdf_bytes


@shared_task(acks_late=True)
def keep_report_annex(version_id: int) -> int:
    """Work out what a newly locked version's PDF derives from its records (record annex,
    calculation trace) and keep it before its first export."""
    with log_context(report_version_id=version_id):
        version = ReportVersion.objects.select_related("organisation").get(pk=version_id)
        return report_annex_keep(version=version)["count"]


@shared_task(acks_late=True)
def sweep_report_exports() -> int:
    """Queue again the exports no worker holds (message lost, or worker died)."""
    return report_exports_resume(quiet_for=timedelta(seconds=settings.GREENAI_RESUME_AFTER_SECONDS))


@shared_task(acks_late=True)
def check_targets() -> int:
    """Compare every target's forecast with its limit; alert once per crossing."""
    return targets_check()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def deliver_alert_webhook(alert_id: int, body: str) -> str:
    """POST one alert's signed body to its target's webhook."""
    return alert_webhook_deliver(alert_id=alert_id, body=body.encode())
