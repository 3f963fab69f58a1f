"""CodeCarbon's emissions.csv imported run by run, as real trackers write it."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

import inventory.imports.codecarbon
from greenai_portal.errors import ApplicationError
from inventory.imports.codecarbon import codecarbon_file_runs
from inventory.models import CodeCarbonRun, ImportJob, WorkloadRecord
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key
from tests.inventory.test_imports_api import CODECARBON_HEADER, run

# Imports and computations run as the worker would, in-process, with or without a broker.
pytestmark = pytest.mark.usefixtures("eager_celery")

COLUMNS = CODECARBON_HEADER.split(",")
EXPERIMENT = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"  # CodeCarbon's default experiment_id


def csv_file(*rows: dict) -> bytes:
    """emissions.csv with the 38 columns of CodeCarbon 3.3.2; unnamed cells empty."""
    base = {"project_name": "codecarbon", "experiment_id": EXPERIMENT, "country_iso_code": "FRA"}
    lines = [CODECARBON_HEADER]
    for row in rows:
        values = {**base, **row}
        lines.append(",".join(str(values.get(column, "")) for column in COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def cc_row(stamp: str, duration: float, energy: float, run_id: str = "run-1", **extra) -> dict:
    return {"timestamp": stamp, "run_id": run_id, "duration": duration,
            "energy_consumed": energy, **extra}  # fmt: skip


def import_file(tenant, content: bytes, capture, team: str | None = "research") -> dict:
    client = tenant.token_client(scopes=("ingest", "read"), team=team)
    return run(client, "emissions.csv", content, "codecarbon_csv", capture)


def energies(**filters) -> list[float]:
    records = WorkloadRecord.objects.filter(**filters).order_by("started_at", "id")
    return [r.energy_kwh for r in records]


def api_run(client, key, deltas: list[tuple[str, int, float]]) -> str:
    """A run registered by CodeCarbon's API client, then its delta posts (stamp, s, kWh)."""
    response = client.post(
        "/api/v1/codecarbon/runs",
        {"timestamp": deltas[0][0], "experiment_id": EXPERIMENT, "provider": "aws",
         "region": "eu-west-3"},
        format="json", HTTP_X_API_TOKEN=key,
    )  # fmt: skip
    run_id = response.json()["id"]
    for stamp, duration, energy in deltas:
        body = {"timestamp": stamp, "run_id": run_id, "duration": duration,
                "energy_consumed": energy, "emissions_sum": energy * 0.05}  # fmt: skip
        response = client.post(
            "/api/v1/codecarbon/emissions", body, format="json", HTTP_X_API_TOKEN=key
        )
        assert response.status_code == 201, response.json()
    return run_id


@pytest.mark.django_db
class TestRuns:
    def test_it_keeps_two_api_mode_runs_of_one_file_apart(
        self, tenant, django_capture_on_commit_callbacks
    ):
        # Both runs say run_id None (the tracker posted to an API that is not this portal).
        content = csv_file(
            cc_row("2026-01-10T10:01:00", 60.0, 0.1, "None"),
            cc_row("2026-01-10T10:02:00", 120.0, 0.25, "None"),
            cc_row("2026-01-10T11:00:30", 30.0, 0.05, "None"),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["status"] == "completed", job
        # Run 1: 0.1 then 0.25 - 0.1 = 0.15; run 2: 0.05. Total 0.3 kWh, none lost.
        assert energies() == [0.1, pytest.approx(0.15), 0.05]
        assert CodeCarbonRun.objects.count() == 2
        # A re-import stores nothing twice.
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert (job["status"], job["rows_created"], job["rows_duplicates"]) == ("completed", 0, 3)
        assert WorkloadRecord.objects.count() == 3
        assert [r["outcome"] for r in job["runs"]] == ["already_counted"] * 2

    def test_it_stores_a_flush_and_a_stop_in_the_same_second(
        self, tenant, django_capture_on_commit_callbacks
    ):
        content = csv_file(
            cc_row("2026-01-10T10:00:05", 5.012, 0.002),
            cc_row("2026-01-10T10:00:05", 5.431, 0.0023),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["status"] == "completed", job
        # 0.002, then 0.0023 - 0.002 = 0.0003 kWh.
        assert energies() == [0.002, pytest.approx(0.0003)]

    def test_it_counts_a_run_once_whose_flush_post_was_lost(
        self, tenant, django_capture_on_commit_callbacks
    ):
        key = token_key(tenant, team="research")
        stop = {"timestamp": "2026-01-10T12:00:00", "duration": 3600.0, "energy_consumed": 1.2}
        # Only the stop reached the portal: one record of the whole run, 1.2 kWh.
        assert post_output(APIClient(), key, emissions_data(**stop)).status_code == 201
        content = csv_file(
            cc_row("2026-01-10T11:30:00", 1800.0, 0.5, emissions_data()["run_id"]),
            cc_row(stop["timestamp"], 3600.0, 1.2, emissions_data()["run_id"]),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert (job["status"], job["rows_created"], job["rows_duplicates"]) == ("completed", 0, 2)
        assert energies() == [1.2]

    def test_a_bad_run_is_reported_and_the_others_are_stored(
        self, tenant, django_capture_on_commit_callbacks
    ):
        content = csv_file(
            cc_row("2026-01-10T10:00:00", 60.0, 0.1, "run-1"),
            cc_row("2026-01-10T10:00:00", 60.0, -3, "run-2"),
            cc_row("2026-01-10T10:05:00", 60.0, 0.2, "run-3"),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["status"] == "completed", job
        assert energies() == [0.1, 0.2]
        assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "run_id")]
        assert "Run 'run-2' (line 3) not stored: Line 3" in job["errors"][0]["message"]
        assert "1 refused" in job["message"] and "2 runs stored" in job["message"]
        assert [(r["file_run_id"], r["lines"], r["outcome"]) for r in job["runs"]] == [
            ("run-1", "2", "stored"),
            ("run-2", "3", "refused"),
            ("run-3", "4", "stored"),
        ]
        assert "energy_consumed" in job["runs"][1]["message"]

    def test_a_file_of_bad_runs_only_fails(self, tenant, django_capture_on_commit_callbacks):
        content = csv_file(cc_row("yesterday", 60.0, 0.1))
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["status"] == "failed"
        assert WorkloadRecord.objects.count() == 0


@pytest.mark.django_db
class TestApiModeFiles:
    """The tracker posted to this portal's API and wrote emissions.csv (run_id None) too."""

    def test_it_does_not_store_an_api_run_a_second_time(
        self, tenant, django_capture_on_commit_callbacks
    ):
        key = token_key(tenant, team="research")
        api_run(APIClient(), key, [("2026-01-10T10:02:00+00:00", 120, 0.01),
                                   ("2026-01-10T10:04:00+00:00", 120, 0.02)])  # fmt: skip
        content = csv_file(
            cc_row("2026-01-10T10:02:00", 120.0, 0.01, "None"),
            cc_row("2026-01-10T10:04:00", 240.0, 0.03, "None"),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert (job["status"], job["rows_created"], job["rows_duplicates"]) == ("completed", 0, 2)
        assert [r["outcome"] for r in job["runs"]] == ["posted_already"]
        # 0.01 + 0.02 = 0.03 kWh, as the file's final total says: nothing added.
        assert sum(energies()) == pytest.approx(0.03)
        assert CodeCarbonRun.objects.count() == 1

    def test_it_completes_a_partly_posted_api_run_from_the_file(
        self, tenant, django_capture_on_commit_callbacks
    ):
        key = token_key(tenant, team="research")
        run_id = api_run(APIClient(), key, [("2026-01-10T10:02:00+00:00", 120, 0.01)])
        # The stop (0.03 kWh in all) never arrived: the file adds 0.03 - 0.01 = 0.02 kWh.
        content = csv_file(
            cc_row("2026-01-10T10:02:00", 120.0, 0.01, "None"),
            cc_row("2026-01-10T10:04:00", 240.0, 0.03, "None"),
        )
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert (job["status"], job["rows_created"]) == ("completed", 1), job
        assert energies() == [0.01, pytest.approx(0.02)]
        (report,) = job["runs"]
        assert (report["run_id"], report["outcome"], report["lines"]) == (
            run_id,
            "completed_api_run",
            "2-3",
        )
        assert report["energy_kwh"] == pytest.approx(0.02)
        added = WorkloadRecord.objects.get(external_id=f"{run_id}:file:240000")
        assert added.ended_at == datetime(2026, 1, 10, 10, 4, tzinfo=UTC)
        assert CodeCarbonRun.objects.get().energy_kwh == 0.03
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["rows_created"] == 0

    def test_it_matches_only_runs_of_the_same_experiment_and_time(
        self, tenant, django_capture_on_commit_callbacks
    ):
        key = token_key(tenant, team="research")
        api_run(APIClient(), key, [("2026-01-10T10:02:00+00:00", 120, 0.01)])
        # A day later: another run of the default experiment, not posted.
        content = csv_file(cc_row("2026-01-11T10:02:00", 120.0, 0.04, "None"))
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert job["rows_created"] == 1
        assert energies() == [0.01, 0.04]
        assert CodeCarbonRun.objects.count() == 2


@pytest.mark.django_db
class TestTimeZone:
    def test_it_reads_local_times_in_the_organisation_time_zone(
        self, tenant, django_capture_on_commit_callbacks
    ):
        tenant.organisation.time_zone = "Asia/Tokyo"
        tenant.organisation.save()
        # 08:00 on 1 April in Tokyo (UTC+9) is 23:00 UTC on 31 March: still Q1.
        content = csv_file(cc_row("2026-04-01T08:00:00", 3600.0, 1.0))
        job = import_file(tenant, content, django_capture_on_commit_callbacks)
        assert "Times without an offset read in Asia/Tokyo" in job["message"]
        record = WorkloadRecord.objects.get()
        assert record.ended_at == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
        assert record.started_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)

    def test_an_offset_in_the_file_wins(self, tenant, django_capture_on_commit_callbacks):
        tenant.organisation.time_zone = "Asia/Tokyo"
        tenant.organisation.save()
        content = csv_file(cc_row("2026-04-01T08:00:00+02:00", 3600.0, 1.0))
        import_file(tenant, content, django_capture_on_commit_callbacks)
        assert WorkloadRecord.objects.get().ended_at == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)

    def test_http_output_posts_are_read_in_it_and_the_answer_says_so(self, tenant):
        tenant.organisation.time_zone = "Asia/Tokyo"
        tenant.organisation.save()
        key = token_key(tenant, team="research")
        body = emissions_data(timestamp="2026-04-01T08:00:00")
        response = post_output(APIClient(), key, body)
        assert response.json()["time_zone"] == "Asia/Tokyo"
        assert WorkloadRecord.objects.get().ended_at == datetime(2026, 3, 31, 23, tzinfo=UTC)
        later = emissions_data(timestamp="2026-04-01T10:00:00+09:00", duration=7200.0,
                               energy_consumed=2.0)  # fmt: skip
        assert post_output(APIClient(), key, later).json()["time_zone"] is None

    def test_other_organisations_keep_utc(
        self, tenant, outsider, django_capture_on_commit_callbacks
    ):
        tenant.organisation.time_zone = "Asia/Tokyo"
        tenant.organisation.save()
        import_file(outsider, csv_file(cc_row("2026-04-01T08:00:00", 3600.0, 1.0)),
                    django_capture_on_commit_callbacks)  # fmt: skip
        record = WorkloadRecord.objects.get(organisation=outsider.organisation)
        assert record.ended_at == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
        assert ImportJob.objects.get().message.endswith(
            "read in UTC (the organisation's time zone)"
        )


@pytest.mark.django_db
def test_it_completes_an_http_run_whose_stop_post_was_lost(
    tenant, django_capture_on_commit_callbacks
):
    key = token_key(tenant, team="research")
    flush = {"timestamp": "2026-01-10T11:30:00", "duration": 1800.0, "energy_consumed": 0.5}
    assert post_output(APIClient(), key, emissions_data(**flush)).status_code == 201
    run_id = emissions_data()["run_id"]
    content = csv_file(
        cc_row(flush["timestamp"], 1800.0, 0.5, run_id),
        cc_row("2026-01-10T12:00:00", 3600.0, 1.2, run_id),
    )
    job = import_file(tenant, content, django_capture_on_commit_callbacks)
    # The flush (0.5 kWh) was posted; the file adds the stop's 1.2 - 0.5 = 0.7 kWh.
    assert (job["rows_created"], job["rows_duplicates"]) == (1, 1)
    assert energies() == [0.5, pytest.approx(0.7)]
    assert job["runs"][0]["outcome"] == "stored"


@pytest.mark.django_db
def test_the_data_page_lists_each_run_of_an_import(tenant, django_capture_on_commit_callbacks):
    content = csv_file(
        cc_row("2026-01-10T10:00:00", 60.0, 0.1, "run-1"),
        cc_row("2026-01-10T10:00:00", 60.0, -3, "run-2"),
    )
    import_file(tenant, content, django_capture_on_commit_callbacks)
    html = tenant.client_for("admin").get("/data/").content.decode()
    assert "lines 2 · run run-1: stored · 1 records, 0.1000 kWh new" in html
    assert "lines 3 · run run-2: refused: Line 3: energy_consumed" in html


def test_a_file_too_big_to_group_is_refused(monkeypatch):
    monkeypatch.setattr(inventory.imports.codecarbon, "MAX_ROWS", 2)
    rows = [cc_row("2026-01-10T10:00:00", 60.0 + i, 0.1, "run-1") for i in range(3)]
    lines = csv_file(*rows).decode().splitlines(keepends=True)
    with pytest.raises(ApplicationError, match="More than 2 rows: split the file"):
        codecarbon_file_runs(lines)
    assert len(codecarbon_file_runs(lines[:3])) == 1  # header and two rows: one run
