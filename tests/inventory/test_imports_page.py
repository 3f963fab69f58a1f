"""The upload page (mounted at /data/imports/)."""

import pytest

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
