"""The upload page offers the clouds' exports; what it posts (session login) is imported."""

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import CloudUsageRecord

from .test_focus import MIXED

pytestmark = pytest.mark.django_db


def test_it_offers_focus_and_names_the_containers(tenant):
    html = tenant.client_for("engineer").get("/data/imports/").content.decode()
    assert '<option value="focus">FOCUS 1.0–1.2 billing export (AWS, Azure, GCP)</option>' in html
    assert "Parquet" in html and ".zip" in html


def test_it_imports_what_the_page_posts(tenant, default_team, django_capture_on_commit_callbacks):
    client = tenant.client_for("admin")  # an engineer may import for the serving team only
    upload = SimpleUploadedFile("focus.csv.gz", gzip.compress(MIXED.encode()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "format": "focus"})
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (job["status"], job["rows_created"], job["progress"]) == ("completed", 5, 1.0), job[
        "errors"
    ]
    assert CloudUsageRecord.objects.filter(organisation=tenant.organisation).count() == 5
