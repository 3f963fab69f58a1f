"""CodeCarbon's HTTP output and API client posting into the portal."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from accounts.services import api_token_create
from inventory.models import CodeCarbonRun, IngestBatch, Location, TeamMappingRule, WorkloadRecord

RUN = "0f0e6a51-6b43-4c4e-a4a4-1f0c1d1b8c2e"


def emissions_data(**overrides) -> dict:
    """An EmissionsData body as CodeCarbon 3.3.2's HTTPOutput posts it (running totals)."""
    body = {
        "timestamp": "2026-01-10T12:00:00",
        "project_name": "atlas-7b",
        "run_id": RUN,
        "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
        "duration": 3600.0,
        "emissions": 0.05,
        "emissions_rate": 1.4e-05,
        "cpu_power": 42.5,
        "gpu_power": 0.0,
        "ram_power": 10.0,
        "cpu_energy": 1.0,
        "gpu_energy": 0.0,
        "ram_energy": 0.2,
        "energy_consumed": 1.2,
        "water_consumed": 0.0,
        "country_name": "France",
        "country_iso_code": "FRA",
        "region": None,
        "cloud_provider": "",
        "cloud_region": "",
        "os": "Linux",
        "python_version": "3.11.7",
        "codecarbon_version": "3.3.2",
        "cpu_count": 2,
        "cpu_model": "AMD EPYC",
        "gpu_count": 0,
        "gpu_model": "",
        "longitude": None,
        "latitude": None,
        "ram_total_size": 24.0,
        "tracking_mode": "machine",
        "cpu_utilization_percent": 50.0,
        "gpu_utilization_percent": 0.0,
        "ram_utilization_percent": 10.0,
        "ram_used_gb": 2.0,
        "on_cloud": "N",
        "pue": 1.0,
        "wue": 0.0,
        "user": "ana",
    }
    body.update(overrides)
    return body


@pytest.fixture
def client() -> APIClient:
    """No credentials: CodeCarbon authenticates with the key in the URL or x-api-token."""
    return APIClient()


def token_key(tenant, scopes=("ingest",), team=None) -> str:
    _, key = api_token_create(
        organisation=tenant.organisation,
        name="codecarbon",
        scopes=scopes,
        team=tenant.teams[team] if team else None,
    )
    return key


def post_output(client, key, body):
    return client.post(f"/api/v1/codecarbon/emissions/{key}/", body, format="json")


@pytest.mark.django_db
class TestHttpOutput:
    def test_it_stores_a_run_as_measured_energy_including_pue(self, tenant, client):
        key = token_key(tenant, team="research")
        response = post_output(client, key, emissions_data())
        assert response.status_code == 201, response.json()
        record = WorkloadRecord.objects.get()
        assert (record.energy_kwh, record.energy_includes_pue) == (1.2, True)
        assert record.team.slug == "research"
        assert record.ai_model.name == "atlas-7b"
        assert record.duration_s == 3600.0
        assert record.started_at.isoformat() == "2026-01-10T11:00:00+00:00"
        assert record.tags["codecarbon_emissions_kg"] == "0.05"
        assert record.tags["codecarbon_pue"] == "1.0"
        assert record.batch.source == IngestBatch.Source.CODECARBON
        location = record.location
        assert (location.code, location.zone, location.kind) == ("country:FR", "FR", "owned")
        assert location.organisation == tenant.organisation

    def test_it_turns_running_totals_into_records_that_add_up(self, tenant, client):
        key = token_key(tenant, team="research")
        flush = emissions_data(duration=1800.0, energy_consumed=0.5, emissions=0.02)
        flush["timestamp"] = "2026-01-10T11:30:00"
        stop = emissions_data()
        assert post_output(client, key, flush).json()["energy_kwh"] == 0.5
        assert post_output(client, key, stop).json()["energy_kwh"] == pytest.approx(0.7)
        resent = post_output(client, key, stop)
        assert resent.status_code == 201
        assert resent.json()["duplicates"] == 1
        late = post_output(client, key, flush)
        assert late.json()["duplicates"] == 1
        energies = sorted(WorkloadRecord.objects.values_list("energy_kwh", flat=True))
        assert energies == [0.5, pytest.approx(0.7)]
        assert sum(energies) == pytest.approx(1.2)
        second = WorkloadRecord.objects.order_by("started_at").last()
        assert second.started_at.isoformat() == "2026-01-10T11:30:00+00:00"
        run = CodeCarbonRun.objects.get()
        assert (run.energy_kwh, run.posts, run.mode) == (1.2, 2, "http")

    def test_it_takes_the_key_in_the_query(self, tenant, client):
        key = token_key(tenant, team="research")
        response = client.post(
            f"/api/v1/codecarbon/emissions/?key={key}", emissions_data(), format="json"
        )
        assert response.status_code == 201

    def test_it_refuses_a_bad_key_and_a_read_only_token(self, tenant, client):
        assert post_output(client, "gai_000000000000_nope", emissions_data()).status_code == 401
        read_only = token_key(tenant, scopes=("read",), team="research")
        assert post_output(client, read_only, emissions_data()).status_code == 403
        assert WorkloadRecord.objects.count() == 0

    def test_it_maps_a_project_to_a_team_model_and_place_by_rule(self, tenant, client):
        TeamMappingRule.objects.create(
            organisation=tenant.organisation,
            source="codecarbon",
            key="project_name",
            value="atlas-7b",
            team=tenant.teams["serving"],
            model_name="atlas-7b-chat",
            location_code="lab-paris",
            phase="inference",
        )
        response = post_output(client, token_key(tenant), emissions_data())
        assert response.status_code == 201
        record = WorkloadRecord.objects.get()
        assert (record.team.slug, record.ai_model.name, record.phase) == (
            "serving",
            "atlas-7b-chat",
            "inference",
        )
        assert record.location.code == "lab-paris"

    def test_it_uses_the_cloud_region_when_on_cloud(self, tenant, client):
        body = emissions_data(cloud_provider="aws", cloud_region="us-east-1", on_cloud="Y")
        post_output(client, token_key(tenant, team="research"), body)
        assert WorkloadRecord.objects.get().location.code == "aws:us-east-1"

    def test_it_asks_for_a_rule_when_no_team_can_be_told(self, tenant, client):
        response = post_output(client, token_key(tenant), emissions_data())
        assert response.status_code == 400
        assert "mapping rule" in response.json()["message"]

    def test_it_refuses_bad_values(self, tenant, client):
        key = token_key(tenant, team="research")
        response = post_output(client, key, emissions_data(energy_consumed=-1, duration="x"))
        assert response.status_code == 400
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"energy_consumed", "duration"}

    def test_it_keeps_runs_per_organisation(self, tenant, outsider, client):
        post_output(client, token_key(tenant, team="research"), emissions_data())
        response = post_output(client, token_key(outsider, team="research"), emissions_data())
        assert response.json()["created"] == 1
        assert CodeCarbonRun.objects.count() == 2
        assert Location.objects.filter(code="country:FR").count() == 2


@pytest.mark.django_db
class TestApiMode:
    def headers(self, key) -> dict:
        return {"HTTP_X_API_TOKEN": key}

    def test_it_registers_a_run_and_stores_each_delta(self, tenant, client):
        key = token_key(tenant, team="research")
        TeamMappingRule.objects.create(
            organisation=tenant.organisation,
            source="codecarbon",
            key="experiment_id",
            value="e-1",
            team=tenant.teams["research"],
            model_name="atlas-7b",
            location_code="country:FR",
        )
        run = client.post(
            "/api/v1/codecarbon/runs",
            {"timestamp": "2026-01-10T10:00:00+00:00", "experiment_id": "e-1", "os": "Linux"},
            format="json",
            **self.headers(key),
        )
        assert run.status_code == 201, run.json()
        run_id = run.json()["id"]
        for minute, energy in ((2, 0.01), (4, 0.02)):
            delta = {
                "timestamp": f"2026-01-10T10:0{minute}:00+00:00",
                "run_id": run_id,
                "duration": 120,
                "emissions_sum": 0.001,
                "emissions_rate": 1e-5,
                "cpu_power": 40.0,
                "gpu_power": 0.0,
                "ram_power": 10.0,
                "cpu_energy": energy,
                "gpu_energy": 0.0,
                "ram_energy": 0.0,
                "energy_consumed": energy,
                "wue": 0,
            }
            response = client.post(
                "/api/v1/codecarbon/emissions", delta, format="json", **self.headers(key)
            )
            assert response.status_code == 201, response.json()
        records = WorkloadRecord.objects.order_by("started_at")
        assert [r.energy_kwh for r in records] == [0.01, 0.02]
        assert [r.duration_s for r in records] == [120.0, 120.0]
        assert {r.location.code for r in records} == {"country:FR"}
        assert records[0].external_id == f"{run_id}:2026-01-10T10:02:00+00:00"

    def test_it_refuses_deltas_of_unknown_runs(self, tenant, client):
        body = {"run_id": "nope", "timestamp": "2026-01-10T10:02:00+00:00", "duration": 1}
        body["energy_consumed"] = 0.1
        response = client.post(
            "/api/v1/codecarbon/emissions",
            body,
            format="json",
            **self.headers(token_key(tenant, team="research")),
        )
        assert response.status_code == 404

    def test_it_needs_the_token_header(self, tenant, client):
        response = client.post("/api/v1/codecarbon/runs", {"experiment_id": "e"}, format="json")
        assert response.status_code == 401


@pytest.mark.django_db
class TestComputeQueue:
    """A run's posts share one batch: one compute task waits for it, not one per post."""

    def totals(self, hours: int) -> dict:
        return emissions_data(
            timestamp=f"2026-01-10T{10 + hours:02d}:00:00",
            duration=3600.0 * hours,
            energy_consumed=0.5 * hours,
            emissions=0.02 * hours,
        )

    def test_posts_queue_one_task_until_it_starts(
        self, tenant, client, monkeypatch, django_capture_on_commit_callbacks
    ):
        from inventory.pipeline.compute import batch_compute
        from inventory.tasks import compute_batch

        queued = []
        monkeypatch.setattr(compute_batch, "delay", queued.append)
        key = token_key(tenant, team="research")
        with django_capture_on_commit_callbacks(execute=True):
            for hours in (1, 2, 3):
                assert post_output(client, key, self.totals(hours)).status_code == 201
            post_output(client, key, self.totals(3))  # a re-send stores and queues nothing
        batch = CodeCarbonRun.objects.get().batch_id
        assert queued == [batch]
        # The task starts: it takes the flag off and computes every record stored so far.
        assert batch_compute(batch_id=batch).computed == 3
        assert not IngestBatch.objects.get(pk=batch).compute_queued
        with django_capture_on_commit_callbacks(execute=True):
            post_output(client, key, self.totals(4))
        assert queued == [batch, batch]
        statuses = WorkloadRecord.objects.order_by("ended_at").values_list("status", flat=True)
        assert list(statuses) == ["computed", "computed", "computed", "pending"]

    def test_with_a_worker_every_post_is_computed(
        self, tenant, client, eager_celery, django_capture_on_commit_callbacks
    ):
        key = token_key(tenant, team="research")
        for hours in (1, 2, 3):
            with django_capture_on_commit_callbacks(execute=True):
                post_output(client, key, self.totals(hours))
        statuses = set(WorkloadRecord.objects.values_list("status", flat=True))
        assert (WorkloadRecord.objects.count(), statuses) == (3, {"computed"})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are Postgres'")
@pytest.mark.django_db(transaction=True)
def test_a_run_registered_by_two_posts_at_once_is_stored_once(tenant, monkeypatch):
    """The second post's INSERT of the run waits for the first's commit, then gives way: its
    batch is dropped and it goes on with the run the first registered."""
    from accounts.principal import principal_for_token
    from inventory.ingestion import codecarbon

    token, _ = api_token_create(
        organisation=tenant.organisation,
        name="cc",
        scopes=["ingest"],
        team=tenant.teams["research"],
    )
    principal = principal_for_token(token)
    gave_way, first_stored, errors = [], threading.Event(), []
    real_row_inserted = codecarbon.row_inserted

    def spied_row_inserted(model, values):
        pk = real_row_inserted(model, values)
        if model is CodeCarbonRun and pk is None:
            gave_way.append(values["run_id"])
        return pk

    monkeypatch.setattr(codecarbon, "row_inserted", spied_row_inserted)

    def post(hours: int, hold: bool) -> None:
        try:
            with transaction.atomic():
                codecarbon.codecarbon_output_ingest(
                    principal=principal,
                    payload=emissions_data(
                        timestamp=f"2026-01-10T{10 + hours:02d}:00:00",
                        duration=3600.0 * hours,
                        energy_consumed=0.5 * hours,
                    ),
                )
                if hold:  # commit only once the other post waits on the run's row
                    first_stored.set()
                    wait_for_a_lock_wait()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=post, args=(1, True))
    first.start()
    assert first_stored.wait(10)
    second = threading.Thread(target=post, args=(2, False))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    assert gave_way == [RUN]
    run = CodeCarbonRun.objects.get()
    assert IngestBatch.objects.filter(source="codecarbon").count() == 1
    records = WorkloadRecord.objects.filter(batch_id=run.batch_id).order_by("ended_at")
    assert [r.energy_kwh for r in records] == [pytest.approx(0.5), pytest.approx(0.5)]
    assert (run.posts, run.energy_kwh) == (2, pytest.approx(1.0))


def wait_for_a_lock_wait(timeout_s: float = 10) -> None:
    with connections["default"].cursor() as cursor:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # Within a transaction the statistics views hold still unless told to look again.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no post waited for the run's row")
