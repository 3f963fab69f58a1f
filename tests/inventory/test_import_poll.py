"""An upload-only token (scope ingest) polls the imports it uploaded itself, and no others."""

import pytest

from tests.inventory.test_imports_api import URL, WORKLOADS_CSV, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def uploaded(client, capture) -> int:
    with capture(execute=True):
        response = upload(client, "w.csv", WORKLOADS_CSV.encode(), "portal_workloads_csv")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_it_lets_an_ingest_only_token_poll_its_own_import(
    tenant, eager_celery, django_capture_on_commit_callbacks
):
    pipeline = tenant.token_client(scopes=("ingest",))
    job_id = uploaded(pipeline, django_capture_on_commit_callbacks)
    response = pipeline.get(f"{URL}{job_id}/")
    assert response.status_code == 200, response.content
    job = response.json()
    # WORKLOADS_CSV has 2 rows, both new.
    assert (job["status"], job["rows_total"], job["rows_created"]) == ("completed", 2, 2)


def test_it_hides_other_uploads_from_an_ingest_only_token(
    tenant, outsider, eager_celery, django_capture_on_commit_callbacks
):
    theirs = uploaded(tenant.token_client(scopes=("ingest",)), django_capture_on_commit_callbacks)
    admins = uploaded(tenant.client_for("admin"), django_capture_on_commit_callbacks)
    other_org = uploaded(outsider.token_client(), django_capture_on_commit_callbacks)
    pipeline = tenant.token_client(scopes=("ingest",))
    for job_id in (theirs, admins, other_org):
        assert pipeline.get(f"{URL}{job_id}/").status_code == 404, job_id
    # Read access reads every import of its own organisation, as before.
    reader = tenant.token_client(scopes=("read",))
    assert [reader.get(f"{URL}{i}/").status_code for i in (theirs, admins, other_org)] == [
        200,
        200,
        404,
    ]
