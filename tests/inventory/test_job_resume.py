"""The sweep resumes imports and exports whose message was lost or whose worker died, and
leaves alone those that are recent, finished, or held by a live worker."""

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from greenai_portal.job_locks import JobKind
from inventory.imports import services as jobs
from inventory.models import ImportJob, WorkloadRecord
from inventory.tasks import sweep_pending_records
from reports.models import ReportExport
from reports.tasks import sweep_report_exports
from tests.conftest import needs_services
from tests.inventory.test_celery_worker import IMPORT_CSV, database_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks(settings, tmp_path):
    """What the sweep queues runs in-process here; uploads go to a throwaway directory."""
    from greenai_portal.celery import app

    settings.MEDIA_ROOT = tmp_path
    settings.GREENAI_RESUME_AFTER_SECONDS = 300
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def lost_import(tenant, csv: str = IMPORT_CSV, age_s: int = 600) -> ImportJob:
    """An upload accepted while its message never reached a worker (broker down)."""
    job = ImportJob(
        organisation=tenant.organisation,
        format="portal_workloads_csv",
        original_name="w.csv",
        size_bytes=len(csv),
    )
    job.file.save("w.csv", ContentFile(csv.encode()), save=False)
    job.save()
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=age_s))
    return ImportJob.objects.get(pk=job.pk)


def lost_export(tenant, age_s: int = 600) -> ReportExport:
    response = tenant.client_for("admin").post(
        "/api/v1/reports/scope2/exports/", {"year": 2026, "quarter": 1}, format="json"
    )
    assert response.status_code == 202, response.json()
    ReportExport.objects.filter(pk=response.json()["id"]).update(
        created_at=timezone.now() - timedelta(seconds=age_s)
    )
    return ReportExport.objects.get(pk=response.json()["id"])


def test_it_imports_a_file_whose_message_was_lost(tenant):
    job = lost_import(tenant)
    stored = Path(job.file.path)
    assert stored.exists() and job.status == "queued"  # kept while it may be retried
    sweep_pending_records()
    job.refresh_from_db()
    assert (job.status, job.rows_created) == ("completed", 1)
    assert WorkloadRecord.objects.get().external_id == "imp-1"
    assert not stored.exists()


def test_it_leaves_a_recent_or_finished_import_alone(tenant, outsider):
    recent = lost_import(tenant, age_s=60)
    finished = lost_import(outsider, age_s=600)
    ImportJob.objects.filter(pk=finished.pk).update(status="failed")
    assert jobs.import_jobs_resume(quiet_for=timedelta(seconds=300)) == 0
    assert ImportJob.objects.get(pk=recent.pk).status == "queued"
    assert ImportJob.objects.get(pk=finished.pk).status == "failed"
    assert not WorkloadRecord.objects.exists()


def test_a_refused_file_is_deleted_with_its_errors_kept(tenant):
    job = lost_import(tenant, csv=IMPORT_CSV.replace("lab-paris", "nowhere"))
    stored = Path(job.file.path)
    sweep_pending_records()
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_count == 1 and job.errors[0]["field"] == "location"
    assert not stored.exists()
    assert not WorkloadRecord.objects.exists()


def test_an_import_stopped_by_its_time_limit_fails_and_says_so(tenant, monkeypatch):
    job = lost_import(tenant)

    def over_time(_job):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(jobs, "_run", over_time)
    with pytest.raises(SoftTimeLimitExceeded):
        jobs.import_job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == "Stopped (it took longer than its time limit); nothing more stored"
    assert jobs.import_jobs_resume(quiet_for=timedelta(0)) == 0  # failed for good


def test_it_builds_an_export_whose_message_was_lost(tenant, outsider):
    export = lost_export(tenant)
    recent = lost_export(outsider, age_s=30)
    assert sweep_report_exports() == 1
    export.refresh_from_db()
    assert export.status == "done"
    assert bytes(export.pdf).startswith(b"%PDF")
    assert ReportExport.objects.get(pk=recent.pk).status == "queued"


@pytest.mark.services
def test_a_job_a_live_worker_holds_is_not_queued_again(transactional_db, tenant):
    """A worker holds its import's session lock; once its connection dies, the sweep runs it."""
    needs_services()
    assert connection.vendor == "postgresql"
    job = lost_import(tenant)
    worker = psycopg.connect(database_url(), autocommit=True)
    worker.execute("SELECT pg_advisory_lock(%s, %s)", [job.id, int(JobKind.IMPORT)])
    assert jobs.import_jobs_resume(quiet_for=timedelta(seconds=300)) == 0
    # A duplicate message meanwhile does nothing either.
    assert jobs.import_job_run(job_id=job.id).status == "queued"
    worker.close()  # the worker dies: its lock goes with its connection
    assert jobs.import_jobs_resume(quiet_for=timedelta(seconds=300)) == 1
    assert ImportJob.objects.get(pk=job.pk).status == "completed"
