"""A real Celery worker, on real Redis and Postgres, computes what the API accepted."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from inventory.models import DailyRollup, WorkloadRecord
from tests.conftest import needs_services, workload

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(transactional_db):
    needs_services()
    from greenai_portal.celery import app

    app.control.purge()
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_TASK_ALWAYS_EAGER": "false"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "greenai_portal",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.services
def test_a_real_worker_computes_an_ingested_record(worker, tenant):
    assert connection.vendor == "postgresql"
    client = tenant.token_client()
    response = client.post("/api/v1/workloads/", workload(avg_power_w=500.0), format="json")
    assert response.status_code == 201
    computed = wait_for(lambda: WorkloadRecord.objects.filter(status="computed").exists())
    if not computed:
        worker.terminate()
        pytest.fail("worker did not compute the record:\n" + worker.communicate()[0][-4000:])
    record = WorkloadRecord.objects.get()
    assert record.facility_kwh == pytest.approx(48.0)
    assert record.location_kg == pytest.approx(48.0 * record.grid_factor.kg_per_kwh)
    assert DailyRollup.objects.get().record_count == 1
