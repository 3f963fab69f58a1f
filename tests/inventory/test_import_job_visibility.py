"""Import jobs name their file and their rows' errors: a caller limited to teams reads only the
jobs of uploaders limited to teams it sees (inventory.selectors.import_jobs_recent / _get)."""

import pytest

from accounts.principal import principal_for_membership
from inventory.models import ImportJob
from inventory.selectors import import_job_get, import_jobs_recent

pytestmark = pytest.mark.django_db


def job(tenant, name: str, *teams: str, whole: bool = False) -> ImportJob:
    return ImportJob.objects.create(
        organisation=tenant.organisation,
        format="portal_workloads_csv",
        original_name=name,
        file=f"imports/{name}",
        team_ids=None if whole else sorted(tenant.teams[t].id for t in teams),
        errors=[{"row": 2, "field": "team", "message": f"{name} row error"}],
    )


@pytest.fixture
def jobs(tenant):
    return {
        "all": job(tenant, "all.csv", whole=True),
        "research": job(tenant, "research.csv", "research"),
        "serving": job(tenant, "serving.csv", "serving"),
        "both": job(tenant, "both.csv", "research", "serving"),
    }


def names(principal) -> list[str]:
    return [j.original_name for j in import_jobs_recent(principal=principal, limit=10)]


def test_it_lists_every_job_to_the_whole_organisation(tenant, jobs):
    admin = principal_for_membership(tenant.members["admin"])
    assert names(admin) == ["both.csv", "serving.csv", "research.csv", "all.csv"]


def test_it_lists_a_limited_engineer_only_its_teams_jobs(tenant, jobs):
    engineer = principal_for_membership(tenant.members["engineer"])  # limited to serving
    assert names(engineer) == ["serving.csv"]
    assert import_jobs_recent(principal=engineer, limit=0) == []
    assert import_job_get(principal=engineer, job_id=jobs["serving"].pk) == jobs["serving"]
    for other in ("all", "research", "both"):
        assert import_job_get(principal=engineer, job_id=jobs[other].pk) is None


def test_the_api_answers_404_for_another_teams_job_and_shows_its_own(tenant, jobs):
    client = tenant.token_client(scopes=["read"], team="serving")
    assert client.get(f"/api/v1/imports/{jobs['research'].pk}/").status_code == 404
    assert client.get(f"/api/v1/imports/{jobs['all'].pk}/").status_code == 404
    own = client.get(f"/api/v1/imports/{jobs['serving'].pk}/")
    assert own.status_code == 200
    assert own.json()["original_name"] == "serving.csv"


def test_the_pages_show_a_limited_engineer_no_other_teams_file_or_errors(tenant, jobs):
    client = tenant.client_for("engineer")
    for url in ("/data/", "/data/imports/"):
        html = client.get(url).content.decode()
        assert "research.csv" not in html and "all.csv" not in html and "both.csv" not in html
    assert "serving.csv" in client.get("/data/imports/").content.decode()


def test_another_organisation_sees_none_of_the_jobs(tenant, outsider, jobs):
    client = outsider.token_client(scopes=["read"])
    assert client.get(f"/api/v1/imports/{jobs['serving'].pk}/").status_code == 404
    assert "serving.csv" not in outsider.client_for("admin").get("/data/imports/").content.decode()
