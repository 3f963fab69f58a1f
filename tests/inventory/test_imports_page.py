"""The upload page (mounted at /data/imports/)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import ImportJob

pytestmark = pytest.mark.django_db


def test_it_shows_the_form_the_progress_bar_and_recent_jobs(tenant):
    # Uploaded by a member of "serving", the engineer's team.
    ImportJob.objects.create(
        organisation=tenant.organisation, format="aws_cur", original_name="cur.csv",
        status="completed", rows_created=12, file="imports/x.csv",
        team_ids=[tenant.teams["serving"].id],
    )  # fmt: skip
    response = tenant.client_for("engineer").get("/data/imports/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="import-form"' in html and "<progress" in html
    assert '<option value="">Detect from the file\'s header</option>' in html
    assert "AWS Cost and Usage Report" in html
    assert "cur.csv" in html
    assert "/api/v1/imports/" in html


def test_it_does_not_offer_the_form_to_an_auditor(tenant):
    html = tenant.client_for("auditor").get("/data/imports/").content.decode()
    assert 'id="import-form"' not in html
    assert "cannot import" in html


def test_it_shows_only_the_organisations_jobs(tenant, outsider):
    ImportJob.objects.create(
        organisation=outsider.organisation, format="aws_cur", original_name="secret.csv",
        file="imports/y.csv",
    )  # fmt: skip
    html = tenant.client_for("admin").get("/data/imports/").content.decode()
    assert "secret.csv" not in html


def test_it_needs_a_login(client):
    assert client.get("/data/imports/").status_code == 302


@pytest.mark.django_db
class TestDataPageImportProgress:
    """The data page's file imports: a bar per job, full when the job finished."""

    def job(self, tenant, **fields):
        return ImportJob.objects.create(
            organisation=tenant.organisation,
            format="portal_workloads_csv",
            original_name=f"{fields['status']}.csv",
            size_bytes=1000,
            **fields,
        )

    def bar(self, page: str, name: str) -> str:
        label = f'aria-label="Progress of {name}"'
        start = page.rindex("<progress", 0, page.index(label))
        return page[start : page.index(">", start) + 1]

    def test_it_shows_a_finished_import_full_and_a_running_one_by_its_progress(self, tenant):
        # a completed job whose passes' byte counter was lost still reads as done
        self.job(tenant, status="completed", bytes_processed=0, rows_processed=300)
        self.job(tenant, status="failed", bytes_processed=400)
        # checking, 250 of 1000 bytes read: 0.5 × 250 / 1000 = 0.125
        self.job(tenant, status="validating", bytes_processed=250)
        # storing, 30 of 40 rows: 0.5 + 0.5 × 30 / 40 = 0.875
        self.job(tenant, status="importing", bytes_processed=1000, rows_total=40, rows_processed=30)
        page = tenant.client_for("admin").get("/data/").content.decode()
        assert 'value="1.0000"' in self.bar(page, "completed.csv")
        assert 'value="1.0000"' in self.bar(page, "failed.csv")
        assert 'value="0.1250"' in self.bar(page, "validating.csv")
        assert 'value="0.8750"' in self.bar(page, "importing.csv")
        assert "data-refresh-while-running" in page

    def test_it_stops_refreshing_once_every_import_finished(self, tenant):
        self.job(tenant, status="completed")
        page = tenant.client_for("admin").get("/data/").content.decode()
        assert "data-refresh-while-running" not in page.split('id="imports-title"')[0][-300:]

    def test_it_keeps_the_bytes_read_of_a_finished_import(
        self, tenant, eager_celery, django_capture_on_commit_callbacks
    ):
        csv = (
            "external_id,team,phase,started_at,ended_at,location,energy_kwh\n"
            "j1,research,training,2026-01-10T00:00:00Z,2026-01-10T01:00:00Z,lab-paris,1\n"
        )
        upload = SimpleUploadedFile("w.csv", csv.encode(), content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            response = tenant.token_client().post(
                "/api/v1/imports/", {"file": upload, "format": "portal_workloads_csv"},
                format="multipart",
            )  # fmt: skip
        job = ImportJob.objects.get(pk=response.json()["id"])
        # every byte of the file read (63 + 75 = 138), not written back as 0 when it finished
        assert (job.status, job.bytes_processed, job.size_bytes) == (
            "completed",
            len(csv),
            len(csv),
        )
