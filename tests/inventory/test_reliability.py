"""Reliability with a real worker, real Redis and real Postgres.

Workers are SIGKILLed mid-window, the broker is unreachable while the API accepts records,
and workers race each other; every total must be exact afterwards and nothing computed twice
(the sum of the per-window "computed" counts the workers logged equals the record count).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.db.models import Sum

from accounts.services import api_token_create
from inventory.models import DailyRollup, WorkloadRecord
from inventory.pipeline import rollup_mismatches
from tests.conftest import needs_services, workload
from tests.hardening.stack import free_port, wait_until
from tests.inventory.test_pipeline import stored_batch, stored_workload

ROOT = Path(__file__).resolve().parents[2]
DEAD_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def database_url(application: str) -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        f"?application_name={application}"
    )


def libpq_params() -> dict:
    s = connection.settings_dict
    return {
        "dbname": s["NAME"],
        "user": s["USER"],
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "autocommit": True,
    }


class Processes:
    """Celery workers, beat and a web server as subprocesses, output in files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        log = self.directory / f"{name}.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(name),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_LOG_FORMAT": "json",
            "DJANGO_CONN_MAX_AGE": "0",
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=environment,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.running.append((process, log))
        return process

    def worker(self, name: str, **env: str) -> subprocess.Popen:
        return self.start(
            name,
            [
                "-m",
                "celery",
                "-A",
                "greenai_portal",
                "worker",
                "--pool=solo",
                f"-n{name}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            **env,
        )

    def beat(self, seconds: float = 1.0) -> subprocess.Popen:
        return self.start(
            "beat",
            [
                "-m",
                "celery",
                "-A",
                "greenai_portal",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.directory / "beat-schedule"),
            ],
            GREENAI_SWEEP_SECONDS=str(seconds),
        )

    def output(self) -> str:
        return "\n".join(f"== {log.name}\n{log.read_text()[-3000:]}" for _, log in self.running)

    def computed_by_workers(self) -> int:
        """Records the workers' committed windows computed, from their JSON logs."""
        total = 0
        for _, log in self.running:
            for line in log.read_text().splitlines():
                if line.startswith("{") and '"computed window"' in line:
                    total += json.loads(line)["computed"]
        return total

    def stop_all(self) -> None:
        for process, _ in self.running:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path):
    needs_services()
    assert connection.vendor == "postgresql"
    import redis

    from greenai_portal.celery import app

    # A clean queue: no messages (or unacknowledged ones) left by an earlier test.
    client = redis.Redis.from_url(app.conf.broker_url)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    client.close()
    running = Processes(tmp_path)
    yield running
    running.stop_all()
    # Backends of killed workers must be gone before the test database is flushed.
    wait_until(lambda: not worker_backends(), timeout=15)


def worker_backends(application: str | None = None) -> list[tuple[int, str, str]]:
    with psycopg.connect(**libpq_params()) as conn:
        rows = conn.execute(
            "SELECT pid, application_name, coalesce(wait_event, '') FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name LIKE %s",
            [application or "w%"],
        ).fetchall()
    return rows


def pending() -> int:
    return WorkloadRecord.objects.filter(status="pending").count()


def assert_exact(expected_records: int) -> None:
    assert pending() == 0
    assert WorkloadRecord.objects.filter(status="computed").count() == expected_records
    assert DailyRollup.objects.aggregate(n=Sum("record_count"))["n"] == expected_records
    raw = WorkloadRecord.objects.aggregate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"))
    rolled = DailyRollup.objects.aggregate(kwh=Sum("facility_kwh"), kg=Sum("location_kg"))
    assert abs(raw["kg"] - rolled["kg"]) < 0.0005
    assert abs(raw["kwh"] - rolled["kwh"]) < 0.0005
    assert rollup_mismatches() == []


def spread_records(tenant, count: int, batches: int = 1) -> list[int]:
    """`count` metered records over three months, in `batches` batches; their batch ids."""
    ids = []
    for b in range(batches):
        batch = stored_batch(tenant)
        ids.append(batch.id)
        for n in range(count // batches):
            day = date(2026, 1, 1) + timedelta(days=(n * 7 + b) % 90)
            stored_workload(tenant, batch, day=day, avg_power_w=100.0 + n % 50)
    return ids


def test_a_worker_killed_mid_window_leaves_nothing_half_done(tenant, processes):
    from inventory.tasks import compute_batch

    [batch_id] = spread_records(tenant, 120)
    organisation = tenant.organisation.id
    # Hold the organisation's rollup lock: the worker computes a window's records, then
    # waits for it, inside its transaction. That is where we kill it.
    with psycopg.connect(**libpq_params()) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, 1)", [organisation])
        compute_batch.delay(batch_id)
        worker = processes.worker("w1")
        blocked = wait_until(
            lambda: any(event == "advisory" for _, _, event in worker_backends("w1")), 30
        )
        assert blocked, processes.output()
        assert pending() == 120  # its UPDATE is not committed: invisible
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        holder.execute("SELECT pg_advisory_unlock(%s, 1)", [organisation])
    assert wait_until(lambda: not worker_backends("w1"), 15)
    assert pending() == 120
    assert not DailyRollup.objects.exists()

    # Restart: a new worker and the beat sweep pick up what the dead one left.
    processes.worker("w2")
    processes.beat(seconds=1.0)
    assert wait_until(lambda: pending() == 0, 40), processes.output()
    assert_exact(120)
    assert processes.computed_by_workers() == 120


def post(url: str, key: str, body) -> tuple[int, float]:
    request = urllib.request.Request(  # noqa: S310 - the local test server
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return response.status, time.monotonic() - started


def test_records_accepted_while_the_broker_is_down_are_computed_by_the_sweep(tenant, processes):
    port = free_port()
    processes.start(
        "web",
        ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        REDIS_URL=DEAD_BROKER,
    )
    url = f"http://127.0.0.1:{port}/api/v1/workloads/"
    up = wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 30)
    assert up, processes.output()
    _, key = api_token_create(organisation=tenant.organisation, name="ci", scopes=["ingest"])
    # The server's first request imports the views and opens its database connection (2-3 s
    # on a loaded machine): a GET (refused to an ingest-only token) first, so the timings
    # below are those of the posts and their failed publishes alone.
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(
            urllib.request.Request(url, headers={"Authorization": f"Token {key}"}), timeout=30
        ).close()
    timings = []
    for n in range(5):
        records = [
            workload(
                external_id=f"b{n}-{i}",
                avg_power_w=200.0 + i,
                started_at=f"2026-01-{i + 1:02d}T00:00:00Z",
                ended_at=f"2026-01-{i + 1:02d}T05:00:00Z",
            )
            for i in range(20)
        ]
        status, took = post(url, key, records)
        assert status == 201
        timings.append(took)
    assert max(timings) < 2.0, timings  # the failed publish does not hold the request
    assert pending() == 100  # accepted, stored, not computed: the broker is down

    # The broker is back (workers and beat use the real one): the sweep computes them.
    processes.worker("w1")
    processes.beat(seconds=1.0)
    assert wait_until(lambda: pending() == 0, 40), processes.output()
    assert_exact(100)
    assert processes.computed_by_workers() == 100


def test_racing_workers_compute_nothing_twice(tenant, processes):
    from inventory.tasks import compute_batch, sweep_pending_records

    batch_ids = spread_records(tenant, 600, batches=12)
    processes.worker("w1")
    processes.worker("w2")
    processes.worker("w3")
    for batch_id in batch_ids:
        compute_batch.delay(batch_id)
        sweep_pending_records.delay()  # sweeps race the batch tasks for the same windows
    assert wait_until(lambda: pending() == 0, 45), processes.output()
    time.sleep(1.0)  # let the last windows' log lines reach the files
    assert_exact(600)
    assert processes.computed_by_workers() == 600


def test_health_is_200_with_a_worker_answering(tenant, processes, client, settings):
    processes.worker("w1")
    from greenai_portal.celery import app

    settings.GREENAI_HEALTH_TOKEN = "operator"
    assert wait_until(lambda: bool(app.control.ping(timeout=0.5)), 30), processes.output()
    response = client.get("/health/", headers={"Authorization": "Bearer operator"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["workers"]["count"] >= 1
    assert body["checks"]["broker"]["queues"] == {"celery": 0, "exports": 0}
