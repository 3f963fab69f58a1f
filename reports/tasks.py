from celery import shared_task

from reports.services import report_export_build


@shared_task(acks_late=True)
def build_report_export(export_id: int) -> int:
    """Render one export's audit PDF (progress and failures are stored on the export)."""
    return report_export_build(export_id=export_id).pdf_bytes
