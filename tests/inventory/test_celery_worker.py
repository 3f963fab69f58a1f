"""The worker started exactly as the README, `make worker` and docker-compose start it runs
every background job: computation, file imports, recalculations and audit-PDF exports."""

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from greenai_portal.celery import app
from inventory.models import DailyRollup, ImportJob, Location, WorkloadRecord
from reports.models import ReportExport
from tests.conftest import needs_services, workload
from tests.hardening.stack import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# 8 GPUs × 500 W × 10 h = 40 kWh IT; lab-paris's PUE 1.2 → 48 kWh facility.
IMPORT_CSV = (
    "external_id,team,model,phase,started_at,ended_at,location,hardware,device_count,"
    "avg_power_w\n"
    "imp-1,research,atlas-7b,training,2026-01-10T00:00:00Z,2026-01-10T10:00:00Z,lab-paris,"
    "nvidia-h100-sxm,8,500\n"
)


def compose_worker_argv() -> list[str]:
    return shlex.split(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
                       ["worker"]["command"])  # fmt: skip


def makefile_worker_argv() -> list[str]:
    recipe = re.search(r"^worker:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    return shlex.split(recipe.replace("$(BIN)/", ""))


def readme_mentions(argv: list[str]) -> bool:
    return " ".join(argv) in (ROOT / "README.md").read_text().replace("\n", " ")


def test_the_makefile_compose_and_readme_start_the_same_worker_on_every_queue():
    argv = compose_worker_argv()
    assert argv == makefile_worker_argv()
    assert readme_mentions(argv)
    queues = next(a.split("=", 1)[1] for a in argv if a.startswith("--queues="))
    assert set(queues.split(",")) == {queue.name for queue in app.conf.task_queues}
    assert {route["queue"] for route in app.conf.task_routes.values()} <= set(queues.split(","))


def test_every_task_lives_in_an_autodiscovered_tasks_module():
    """Celery imports `<installed app>.tasks` only: a task anywhere else is never registered."""
    from django.apps import apps

    discovered = {f"{config.name}.tasks" for config in apps.get_app_configs()}
    defining = set()
    for path in ROOT.glob("[!.]*/**/*.py"):
        if "tests" in path.parts or "bench" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        decorators = [
            d for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
            for d in node.decorator_list
        ]  # fmt: skip
        if any("shared_task" in ast.unparse(d) for d in decorators):
            defining.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert defining == {"inventory.tasks", "reports.tasks"}
    assert defining <= discovered


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """`celery -A greenai_portal worker ...` as compose runs it, from the virtualenv."""
    needs_services()
    settings.MEDIA_ROOT = tmp_path
    app.control.purge()
    argv = compose_worker_argv()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "GREENAI_MEDIA_ROOT": str(tmp_path),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [str(BIN / argv[0]), *argv[1:]], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    process.log_path = tmp_path / "worker.log"
    assert wait_until(lambda: app.control.ping(timeout=0.5), timeout=60), tail(process)
    yield process
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    log.close()


# How long a task may take to be consumed and done by the worker under test.
WORKER_TIMEOUT_S = 90.0


def tail(process) -> str:
    return "worker log:\n" + process.log_path.read_text()[-4000:]


def computed_record(external_id: str) -> WorkloadRecord | None:
    return WorkloadRecord.objects.filter(external_id=external_id, status="computed").first()


@pytest.mark.services
def test_it_registers_every_task_and_consumes_every_queue(worker):
    app.loader.import_default_modules()
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    registered = app.control.inspect(timeout=5).registered()
    queues = app.control.inspect(timeout=5).active_queues()
    (worker_tasks,) = registered.values()
    (worker_queues,) = queues.values()
    assert ours <= set(worker_tasks), tail(worker)
    assert "inventory.tasks.run_import_job" in worker_tasks
    assert {q["name"] for q in worker_queues} == {"celery", "exports"}


@pytest.mark.services
def test_a_real_worker_computes_an_ingested_record(worker, tenant):
    assert connection.vendor == "postgresql"
    client = tenant.token_client()
    response = client.post("/api/v1/workloads/", workload(avg_power_w=500.0), format="json")
    assert response.status_code == 201
    assert wait_until(
        lambda: WorkloadRecord.objects.filter(status="computed").exists(), WORKER_TIMEOUT_S
    ), tail(worker)
    record = WorkloadRecord.objects.get()
    assert record.facility_kwh == pytest.approx(48.0)
    assert record.location_kg == pytest.approx(48.0 * record.grid_factor.kg_per_kwh)
    assert DailyRollup.objects.get().record_count == 1


@pytest.mark.services
def test_it_imports_an_uploaded_file_then_deletes_it(worker, tenant):
    client = tenant.token_client()
    upload = SimpleUploadedFile("w.csv", IMPORT_CSV.encode())
    response = client.post(
        "/api/v1/imports/", {"file": upload, "format": "portal_workloads_csv"}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get(pk=response.json()["id"])
    stored = Path(job.file.path)
    assert wait_until(lambda: computed_record("imp-1"), WORKER_TIMEOUT_S), tail(worker)
    job.refresh_from_db()
    assert (job.status, job.rows_created) == ("completed", 1)
    assert computed_record("imp-1").facility_kwh == pytest.approx(48.0)
    # Imported for good: the upload is gone, from disk and from the job.
    assert not stored.exists()
    assert not job.file


@pytest.mark.services
def test_it_recalculates_and_exports_the_audit_pdf(worker, tenant):
    client = tenant.token_client()
    client.post("/api/v1/workloads/", workload(avg_power_w=500.0), format="json")
    assert wait_until(
        lambda: WorkloadRecord.objects.filter(status="computed").exists(), WORKER_TIMEOUT_S
    ), tail(worker)
    # The facility's PUE changes behind the pipeline's back; a recalculation applies it:
    # 40 kWh IT × 1.5 = 60 kWh facility.
    Location.objects.filter(organisation=tenant.organisation, code="lab-paris").update(pue=1.5)
    admin = tenant.client_for("admin")
    response = admin.post("/api/v1/recalculations/", {}, format="json")
    assert response.status_code == 202, response.json()
    url = f"/api/v1/recalculations/{response.json()['id']}/"
    assert wait_until(lambda: admin.get(url).json()["status"] == "done", WORKER_TIMEOUT_S), tail(
        worker
    )
    assert WorkloadRecord.objects.get().facility_kwh == pytest.approx(60.0)

    response = admin.post(
        "/api/v1/reports/scope2/exports/", {"year": 2026, "quarter": 1}, format="json"
    )
    assert response.status_code == 202, response.json()
    export = ReportExport.objects.get(pk=response.json()["id"])
    assert wait_until(
        lambda: ReportExport.objects.get(pk=export.pk).status in ("done", "failed"),
        WORKER_TIMEOUT_S,
    ), tail(worker)
    export.refresh_from_db()
    assert export.status == "done", export.error
    assert bytes(export.pdf).startswith(b"%PDF")
    assert export.pdf_bytes == len(bytes(export.pdf)) > 1000


@pytest.mark.services
def test_exports_wait_on_their_own_queue_and_computation_on_its_own():
    """A burst of exports must not sit in front of computation: one message, one queue."""
    needs_services()
    import redis

    from inventory.tasks import compute_batch
    from reports.tasks import build_report_export

    app.control.purge()
    client = redis.Redis.from_url(app.conf.broker_url)
    try:
        for export_id in (1, 2, 3):
            build_report_export.delay(export_id)
        compute_batch.delay(1)
        assert (client.llen("exports"), client.llen("celery")) == (3, 1)
    finally:
        app.control.purge()
        client.close()
