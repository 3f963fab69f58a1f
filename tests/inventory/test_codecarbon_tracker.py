"""The real codecarbon package (3.3.2 from PyPI) reporting into a live portal server."""

import csv
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from inventory.models import CodeCarbonRun, TeamMappingRule, WorkloadRecord

codecarbon = pytest.importorskip("codecarbon")


def busy(seconds: float) -> int:
    """A short CPU-bound workload for the tracker to measure."""
    end, total = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        total += sum(i * i for i in range(2000))
    return total


def track(tmp_path, **options) -> None:
    """A real offline tracker (France) around a short workload, flushed once then stopped."""
    tracker = codecarbon.OfflineEmissionsTracker(
        country_iso_code="FRA",
        output_dir=str(tmp_path),
        measure_power_secs=1,
        log_level="error",
        **options,
    )
    tracker.start()
    busy(1.5)
    tracker.flush()
    busy(1.5)
    tracker.stop()


def emissions_csv(directory) -> list[dict[str, str]]:
    with (directory / "emissions.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(autouse=True)
def quiet_codecarbon():
    logging.getLogger("codecarbon").setLevel(logging.ERROR)


@pytest.mark.django_db(transaction=True)
def test_an_offline_tracker_posts_its_run_and_the_portal_matches_its_csv(
    tenant, live_server, tmp_path
):
    _, key = api_token_create(
        organisation=tenant.organisation,
        name="cc",
        scopes=["ingest"],
        team=tenant.teams["research"],
    )
    track(
        tmp_path,
        project_name="atlas-7b",
        emissions_endpoint=f"{live_server.url}/api/v1/codecarbon/emissions/{key}/",
    )

    rows = emissions_csv(tmp_path)
    final = rows[-1]
    records = WorkloadRecord.objects.filter(organisation=tenant.organisation)
    assert records.count() == 2  # the flush and the stop
    stored = sum(r.energy_kwh for r in records)
    assert stored == pytest.approx(float(final["energy_consumed"]), rel=1e-9, abs=1e-15)
    assert stored > 0
    run = CodeCarbonRun.objects.get()
    assert run.run_id == final["run_id"]
    assert {r.location.code for r in records} == {"country:FR"}
    assert all(r.energy_includes_pue for r in records)
    assert {r.ai_model.name for r in records} == {"atlas-7b"}


@pytest.mark.django_db(transaction=True)
def test_a_tracker_in_api_mode_registers_a_run_and_sends_its_deltas(tenant, live_server, tmp_path):
    _, key = api_token_create(organisation=tenant.organisation, name="cc", scopes=["ingest"])
    experiment = "a1b2c3d4-0000-4000-8000-000000000001"
    TeamMappingRule.objects.create(
        organisation=tenant.organisation,
        source="codecarbon",
        key="experiment_id",
        value=experiment,
        team=tenant.teams["serving"],
        model_name="atlas-7b-chat",
        location_code="country:FR",
    )
    track(
        tmp_path,
        save_to_api=True,
        api_endpoint=f"{live_server.url}/api/v1/codecarbon",
        api_key=key,
        experiment_id=experiment,
    )

    final = emissions_csv(tmp_path)[-1]
    run = CodeCarbonRun.objects.get(mode="api")
    records = WorkloadRecord.objects.filter(organisation=tenant.organisation)
    assert records.count() >= 1
    assert sum(r.energy_kwh for r in records) == pytest.approx(
        float(final["energy_consumed"]), rel=1e-9, abs=1e-15
    )
    assert {(r.team.slug, r.ai_model.name) for r in records} == {("serving", "atlas-7b-chat")}
    assert run.experiment_id == experiment


@pytest.mark.django_db(transaction=True)
def test_an_api_mode_file_imported_after_the_posts_counts_each_run_once(
    tenant, live_server, tmp_path, eager_celery
):
    """Two API-mode runs append to one emissions.csv, both as run_id None; importing it
    after their posts adds nothing, and neither run is lost."""
    _, key = api_token_create(
        organisation=tenant.organisation, name="cc", scopes=["ingest", "read"],
        team=tenant.teams["serving"],
    )  # fmt: skip
    TeamMappingRule.objects.create(
        organisation=tenant.organisation, source="codecarbon", key="experiment_id",
        value="*", team=tenant.teams["serving"], location_code="country:FR",
    )  # fmt: skip
    for _ in range(2):
        track(tmp_path, save_to_api=True, api_endpoint=f"{live_server.url}/api/v1/codecarbon",
              api_key=key, experiment_id="5b0fa12a-3dd7-45bb-9766-cc326314d9f1")  # fmt: skip
    rows = emissions_csv(tmp_path)
    assert [r["run_id"] for r in rows] == ["None"] * 4  # a flush and a stop per run
    finals = [float(rows[1]["energy_consumed"]), float(rows[3]["energy_consumed"])]
    posted = sum(r.energy_kwh for r in WorkloadRecord.objects.all())

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with (tmp_path / "emissions.csv").open("rb") as handle:
        response = client.post(
            "/api/v1/imports/", {"file": handle, "format": "codecarbon_csv"}, format="multipart"
        )
    job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "completed", job
    assert CodeCarbonRun.objects.count() == 2
    stored = sum(r.energy_kwh for r in WorkloadRecord.objects.all())
    # Whatever the posts brought (the client drops deltas under a second), the runs now hold
    # exactly their files' final totals, once each.
    assert stored == pytest.approx(sum(finals), rel=1e-9)
    assert stored >= posted


@pytest.mark.django_db(transaction=True)
def test_a_tracker_in_tokyo_is_read_in_the_organisations_time_zone(
    tenant, live_server, tmp_path, monkeypatch
):
    """The tracker writes Tokyo wall-clock time without an offset; the portal, told the
    organisation is in Asia/Tokyo, stores the true UTC times."""
    tenant.organisation.time_zone = "Asia/Tokyo"
    tenant.organisation.save()
    _, key = api_token_create(
        organisation=tenant.organisation, name="cc", scopes=["ingest"],
        team=tenant.teams["research"],
    )  # fmt: skip
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        before = datetime.now(UTC).replace(microsecond=0)
        track(tmp_path, emissions_endpoint=f"{live_server.url}/api/v1/codecarbon/emissions/{key}/")
        after = datetime.now(UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    written = datetime.fromisoformat(emissions_csv(tmp_path)[-1]["timestamp"])
    # Tokyo is UTC+9 all year: the file's time is the UTC clock's, 9 hours ahead.
    nine = timedelta(hours=9)
    assert before.replace(tzinfo=None) + nine <= written <= after.replace(tzinfo=None) + nine
    ended = sorted(r.ended_at for r in WorkloadRecord.objects.all())
    assert len(ended) == 2 and before <= ended[0] <= ended[1] <= after
