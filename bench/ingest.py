"""Ingestion benchmark against Postgres: HTTP bulk ingestion vs raw COPY, CodeCarbon latency,
importer memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_ingest \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/ingest.py [--records 1000000]

1. Starts gunicorn on 127.0.0.1 (a real server, `--workers` processes) with compute tasks
   queued to Redis (no worker runs during the timing: ingestion is what is measured).
2. Posts `--records` workload records through POST /api/v1/workloads/ as JSON arrays, then as
   many again as NDJSON and as CSV (`--batch` records a request, `--clients` threads), bodies
   encoded before the clock starts; prints records/s of each.
3. Times raw COPY of the same rows (pre-rendered COPY text) into a table of the same shape
   (`CREATE TABLE … (LIKE inventory_workloadrecord INCLUDING ALL)`), and the ratio.
4. 32 CodeCarbon HTTP-output posters (each its own run, posting running totals): p50/p95/p99
   latency twice, as trackers do it (all 32 post at the same instant, round after round: what
   the issue asks) and as a stress (each posts again as soon as it is answered).
5. Generates a portal CSV of `--csv-mb` MB and runs the importer on it in a child process:
   its peak RSS (VmHWM) and rows/s.
`--parts` runs some of these (bulk, codecarbon, import); the others keep their figures.
Writes bench/results/ingest.json. Every loop is bounded in count and time; traffic stays on
127.0.0.1.
"""

import argparse
import http.client
import json
import os
import queue
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ingest.json"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")

FIELDS = (
    "external_id",
    "team",
    "model",
    "phase",
    "started_at",
    "ended_at",
    "location",
    "hardware",
    "device_count",
    "energy_kwh",
    "utilization",
)
START = datetime(2026, 1, 1, tzinfo=UTC)
# The server, its children and a bench that signs users in must share it (sessions).
BENCH_SECRET_KEY = "bench-" + "x" * 60


def record(prefix: str, i: int) -> dict:
    # Spread over 200 days from START, so a big file never reaches the future.
    started = START + timedelta(seconds=(i * 37) % (200 * 86400))
    return {
        "external_id": f"{prefix}-{i}",
        "team": "research" if i % 3 else "serving",
        "model": f"model-{i % 8}",
        "phase": "training" if i % 4 else "inference",
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_at": (started + timedelta(hours=1 + i % 5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "location": "bench-dc" if i % 2 else "aws:us-east-1",
        "hardware": "nvidia-h100-sxm",
        "device_count": 1 + i % 8,
        "energy_kwh": round(0.5 + (i % 100) * 0.25, 2),
        "utilization": 0.5,
    }


def bodies(
    fmt: str,
    prefix: str,
    count: int,
    batch: int,
    make: Callable[[str, int], dict] = record,
    fields: tuple[str, ...] = FIELDS,
) -> list[bytes]:
    """Request bodies of `batch` records each (`make(prefix, i)`) as json, ndjson or csv."""
    out = []
    for start in range(0, count, batch):
        rows = [make(prefix, i) for i in range(start, min(count, start + batch))]
        if fmt == "json":
            out.append(json.dumps(rows).encode())
        elif fmt == "ndjson":
            out.append(("\n".join(json.dumps(r) for r in rows) + "\n").encode())
        else:
            lines = [",".join(fields)]
            lines += [",".join(str(r[f]) for f in fields) for r in rows]
            out.append(("\n".join(lines) + "\n").encode())
    return out


CONTENT_TYPES = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> tuple:
    for attempt in range(3):
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt == 2:
                raise
    raise RuntimeError("unreachable")


def run_bulk(
    port: int,
    token: str,
    fmt: str,
    payloads: list[bytes],
    clients: int,
    path: str = "/api/v1/workloads/",
) -> dict:
    work: queue.Queue = queue.Queue()
    for body in payloads:
        work.put(body)
    created, failures = [], []
    headers = {"Authorization": f"Token {token}", "Content-Type": CONTENT_TYPES[fmt]}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            status, answer = post(conn, path, body, headers)
            if status in (200, 201):
                created.append(json.loads(answer)["created"])
            else:
                failures.append((status, answer[:300]))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{fmt}: {len(failures)} failed requests, e.g. {failures[0]}")
    total = sum(created)
    return {"records": total, "seconds": round(elapsed, 3), "records_per_s": round(total / elapsed)}


def raw_copy(organisation, count: int) -> dict:
    """COPY the same rows, pre-rendered, into a table shaped like inventory_workloadrecord."""
    from inventory.ingestion.services import WORKLOADS
    from inventory.models import AiModel, IngestBatch, Location, WorkloadRecord

    organisation_id = organisation.id
    batch = IngestBatch.objects.create(organisation_id=organisation_id, source="api")
    teams = dict(
        WorkloadRecord._meta.get_field("team")
        .related_model.objects.filter(organisation_id=organisation_id)
        .values_list("slug", "id")
    )
    locations = {
        "bench-dc": Location.objects.get(code="bench-dc", organisation_id=organisation_id).id,
        "aws:us-east-1": Location.objects.get(code="aws:us-east-1", organisation__isnull=True).id,
    }
    models = dict(AiModel.objects.filter(organisation_id=organisation_id).values_list("name", "id"))
    hardware = (
        WorkloadRecord._meta.get_field("hardware")
        .related_model.objects.get(code="nvidia-h100-sxm")
        .id
    )
    fixed = WORKLOADS.table.fixed_values()
    columns = [*WORKLOADS.table.columns, *(c for c, _ in fixed)]
    fixed_text = "\t".join(copy_text(v) for _, v in fixed)
    lines = []
    for i in range(count):
        r = record("copy", i)
        started = datetime.fromisoformat(r["started_at"])
        ended = datetime.fromisoformat(r["ended_at"])
        row = (
            organisation_id, batch.id, r["external_id"], "0" * 64, teams[r["team"]],
            models.get(r["model"]), r["phase"], started.isoformat(), ended.isoformat(),
            (ended - started).total_seconds(), started.date().isoformat(),
            locations[r["location"]], hardware, r["device_count"], r["energy_kwh"], None,
            r["utilization"], None, False, None, None, "{}", None, None,
        )  # fmt: skip
        lines.append("\t".join(copy_text(v) for v in row) + "\t" + fixed_text + "\n")
    return timed_copy("inventory_workloadrecord", columns, "".join(lines).encode())


def copy_text(value) -> str:
    """A value as text COPY reads it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def timed_copy(table: str, columns: list[str], data: bytes) -> dict:
    """Text COPY of `data` into a fresh table shaped like `table` (its indexes included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS bench_copy")
        raw.execute(f"CREATE TABLE bench_copy (LIKE {table} INCLUDING ALL)")
        began = time.perf_counter()
        with raw.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as copy:
            for start in range(0, len(data), 1 << 20):
                copy.write(data[start : start + (1 << 20)])
        elapsed = time.perf_counter() - began
        raw.execute("SELECT count(*) FROM bench_copy")
        stored = raw.fetchone()[0]
        raw.execute("DROP TABLE bench_copy")
    return {
        "records": stored,
        "seconds": round(elapsed, 3),
        "records_per_s": round(stored / elapsed),
    }


def codecarbon_latency(port: int, token: str, posters: int, posts: int, together: bool) -> dict:
    """`together`: every round, all posters post at the same instant (a barrier before each
    post); otherwise each posts again as soon as it is answered."""
    latencies: list[float] = []
    # A run's first post also registers the run (mapping rules, location, model, its batch).
    later_latencies: list[float] = []
    failures: list = []
    barrier = threading.Barrier(posters)

    def poster(n: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        run_id = f"bench-run-{os.getpid()}-{n}-{time.time_ns()}"
        barrier.wait()
        for k in range(1, posts + 1):
            if together:
                barrier.wait()
            body = json.dumps(
                {
                    "timestamp": (START + timedelta(minutes=2 * k)).strftime("%Y-%m-%dT%H:%M:%S"),
                    "project_name": "bench-model",
                    "run_id": run_id,
                    "experiment_id": "bench",
                    "duration": 120.0 * k,
                    "emissions": 0.001 * k,
                    "energy_consumed": 0.01 * k,
                    "country_iso_code": "FRA",
                    "cloud_provider": "",
                    "cloud_region": "",
                    "pue": 1.0,
                    "codecarbon_version": "3.3.2",
                }
            ).encode()
            began = time.perf_counter()
            status, answer = post(
                conn,
                f"/api/v1/codecarbon/emissions/{token}/",
                body,
                {"Content-Type": "application/json"},
            )
            latencies.append(time.perf_counter() - began)
            if k > 1:
                later_latencies.append(latencies[-1])
            if status != 201:
                failures.append((status, answer[:200]))

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(posters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"codecarbon: {len(failures)} failed posts, e.g. {failures[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    later = statistics.quantiles(later_latencies, n=100)
    return {
        "posters": posters,
        "posts": len(latencies),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "p99_ms_after_first_post": round(later[98] * 1000, 1),
    }


def write_csv(path: Path, megabytes: int) -> int:
    rows = 0
    limit = megabytes * 1024 * 1024
    with path.open("w", newline="") as handle:
        handle.write(",".join(FIELDS) + "\n")
        written = 0
        while written < limit:
            chunk = []
            for i in range(rows, rows + 10_000):
                r = record("import", i)
                chunk.append(",".join(str(r[f]) for f in FIELDS) + "\n")
            text = "".join(chunk)
            handle.write(text)
            written += len(text)
            rows += 10_000
    return rows


def peak_rss_kb() -> int:
    """This process's own peak RSS: VmHWM of its address space.

    Not ru_maxrss: Linux keeps in it the high-water mark of the image replaced at exec, here
    the bench parent holding a million encoded records, which is not the importer's memory.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def import_child(job_id: int) -> None:
    """Runs in a child process so its peak RSS is the importer's alone."""
    import django

    django.setup()
    from inventory.imports.services import import_job_run

    job = import_job_run(job_id=job_id)
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "status": job.status,
                "rows": job.rows_created,
                "message": job.message,
                "peak_rss_kb": peak_kb,
            }
        )
    )


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist yet."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def purge_queued_tasks() -> int:
    """Drop the compute tasks queued on the bench's broker: this bench queues them with no
    worker running, and a later bench's worker must not spend its time on them."""
    from greenai_portal.celery import app

    return app.control.purge()


def migrated_django() -> None:
    """Django set up on the bench database, created and migrated if need be."""
    import django
    from django.core.management import call_command

    ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    call_command("migrate", verbosity=0)


def setup_tenant():
    from accounts.models import Organisation
    from accounts.services import api_token_create, organisation_create, team_create
    from inventory.factors.library import factor_dataset_load
    from inventory.models import Location

    factor_dataset_load()
    slug = f"bench-{int(time.time())}"
    organisation = organisation_create(name=f"Bench {slug}", slug=slug)
    for team in ("research", "serving"):
        team_create(organisation=organisation, name=team.title(), slug=team)
    Location.objects.create(
        organisation=organisation, code="bench-dc", name="Bench DC", kind="owned", zone="FR",
        pue=1.2,
    )  # fmt: skip
    # read too: the warm-up reads the hardware list.
    _, key = api_token_create(organisation=organisation, name="bench", scopes=["ingest", "read"])
    team = organisation.teams.get(slug="research")
    _, cc_key = api_token_create(
        organisation=organisation, name="bench-cc", scopes=["ingest"], team=team
    )
    return Organisation.objects.get(pk=organisation.pk), key, cc_key


def server_env() -> dict[str, str]:
    """The environment of a production-like server: DEBUG off, limits raised for the bench."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "GREENAI_THROTTLE_INGEST": "100000000/min",
        "GREENAI_THROTTLE_CODECARBON": "100000000/min",
        "GREENAI_MAX_BATCH_RECORDS": "50000",
        "GREENAI_MAX_BODY_BYTES": str(64 * 1024 * 1024),
    }


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = server_env()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "greenai_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "300",
            "--log-level",
            "warning",
            "--preload",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start")


def warm_up(port: int, token: str, concurrency: int) -> None:
    """First requests import the URL conf and views in each worker: not what is measured."""

    def hit():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(3):
            conn.request("GET", "/api/v1/hardware/", headers={"Authorization": f"Token {token}"})
            conn.getresponse().read()

    threads = [threading.Thread(target=hit) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def bulk_arguments(description: str) -> argparse.ArgumentParser:
    """The command line of a bulk ingest bench: records, batch size, clients, server size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    return parser


def services_required(queued: str) -> None:
    """Stop unless Postgres and Redis are named: `queued` tasks wait there while timing."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a Postgres database (and REDIS_URL)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit(f"set REDIS_URL: {queued} tasks are queued, not run, while timing")


def run_conditions(args: argparse.Namespace) -> dict:
    """What a bulk run measured under: machine, sizes, server, time and load at the start."""
    return {
        "machine": {"cores": os.cpu_count()},
        "records": args.records,
        "batch": args.batch,
        "clients": args.clients,
        "server": f"gunicorn, {args.workers} workers × {args.threads} threads",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        # Other people's test suites share this 2-core machine: the load says how much.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def results_written(results: dict, path: Path) -> None:
    """Drop the tasks the run queued, note the load at the end and write the results."""
    purge_queued_tasks()
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}")


def main() -> None:
    parser = bulk_arguments(__doc__.split("\n")[0])
    parser.add_argument("--cc-posters", type=int, default=32)
    parser.add_argument("--cc-posts", type=int, default=40)
    # Sync workers: each request goes to whichever process is free (threads of a busy
    # process behind the GIL made the tail: p99 1.8 s at 4×4 against 0.6 s at 6×1).
    parser.add_argument("--cc-workers", type=int, default=6)
    parser.add_argument("--cc-threads", type=int, default=1)
    parser.add_argument("--csv-mb", type=int, default=1024)
    parser.add_argument(
        "--parts",
        default="bulk,codecarbon,import",
        help="which measurements to run; the others keep their figures in the results file",
    )
    parser.add_argument("--import-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_child:
        import_child(args.import_child)
        return
    services_required("compute")

    migrated_django()
    organisation, key, cc_key = setup_tenant()
    parts = set(args.parts.split(","))
    results: dict = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results |= run_conditions(args)

    if "bulk" in parts:
        bulk_and_copy(args, organisation, key, results)
    if "codecarbon" in parts:
        codecarbon(args, key, cc_key, results)
    if "import" in parts:
        import_memory(args, organisation, results)
    results_written(results, RESULTS)


def bulk_and_copy(
    args,
    organisation,
    key: str,
    results: dict,
    *,
    formats: tuple[str, ...] = ("json", "ndjson", "csv"),
    make: Callable[[str, int], dict] = record,
    fields: tuple[str, ...] = FIELDS,
    path: str = "/api/v1/workloads/",
    copy: Callable[[object, int], dict] | None = None,
) -> None:
    """Records per second over HTTP in each format against a raw COPY of the same rows
    (`copy`, this module's raw_copy unless given)."""
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    warm_up(port, key, 4 * args.workers * args.threads)
    try:
        for fmt in formats:
            payloads = bodies(
                fmt, f"{fmt}-{organisation.slug}", args.records, args.batch, make, fields
            )
            results[f"http_{fmt}"] = run_bulk(port, key, fmt, payloads, args.clients, path)
            del payloads
            print(f"HTTP {fmt:6}: {results[f'http_{fmt}']['records_per_s']:>8} records/s")
    finally:
        server.terminate()
        server.wait(30)

    results["raw_copy"] = (copy or raw_copy)(organisation, args.records)
    print(f"raw COPY   : {results['raw_copy']['records_per_s']:>8} records/s")
    best = max(results[f"http_{f}"]["records_per_s"] for f in formats)
    results["http_vs_copy"] = {
        f: round(results[f"http_{f}"]["records_per_s"] / results["raw_copy"]["records_per_s"], 3)
        for f in formats
    }
    print(f"HTTP / COPY: {results['http_vs_copy']} (best {best} records/s)")


def codecarbon(args, key: str, cc_key: str, results: dict) -> None:
    port = free_port()
    server = start_server(port, args.cc_workers, args.cc_threads)
    warm_up(port, key, 4 * args.cc_workers * args.cc_threads)
    try:
        # Each worker's first posts open its Redis connection and import the ingestion path.
        codecarbon_latency(port, cc_key, args.cc_posters, 3, together=False)
        results["codecarbon"] = {
            mode: codecarbon_latency(
                port, cc_key, args.cc_posters, args.cc_posts, together=mode == "together"
            )
            for mode in ("together", "back_to_back")
        }
    finally:
        server.terminate()
        server.wait(30)
    results["codecarbon"]["server"] = f"gunicorn, {args.cc_workers}×{args.cc_threads}"
    for mode in ("together", "back_to_back"):
        cc = results["codecarbon"][mode]
        print(f"CodeCarbon {mode}: p50 {cc['p50_ms']} ms, p95 {cc['p95_ms']} ms, "
              f"p99 {cc['p99_ms']} ms ({cc['posts']} posts, {cc['posters']} posters); "
              f"p99 {cc['p99_ms_after_first_post']} ms after each run's first post")  # fmt: skip


def import_memory(args, organisation, results: dict) -> None:
    from django.conf import settings
    from django.db import connection

    from inventory.models import ImportJob

    # What autovacuum does in production after millions of new rows; this machine's Postgres
    # runs with autovacuum off, and stale statistics send the importer's duplicate check
    # (organisation, external_id IN chunk) to a scan of the whole organisation.
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        results["postgres_autovacuum"] = cursor.fetchone()[0]
        cursor.execute("ANALYZE inventory_workloadrecord")
    media = Path(tempfile.mkdtemp(prefix="greenai-bench-"))
    (media / "imports").mkdir()
    path = media / "imports" / "bench.csv"
    rows = write_csv(path, args.csv_mb)
    settings.MEDIA_ROOT = media
    job = ImportJob.objects.create(
        organisation=organisation, format="portal_workloads_csv", file="imports/bench.csv",
        original_name="bench.csv", size_bytes=path.stat().st_size,
    )  # fmt: skip
    began = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--import-child", str(job.id)],
        env={
            **os.environ,
            "GREENAI_MEDIA_ROOT": str(media),
            "DJANGO_LOG_LEVEL": "WARNING",
            # As a production worker runs: DEBUG off (no query log kept in memory).
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        },
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    elapsed = time.perf_counter() - began
    outcome = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else {}
    results["import"] = {
        "file_mb": round(path.stat().st_size / 1024 / 1024, 1),
        "rows": rows,
        "status": outcome.get("status", f"crashed: {child.stderr[-500:]}"),
        "seconds": round(elapsed, 1),
        "rows_per_s": round(rows / elapsed),
        "peak_rss_mb": round(outcome.get("peak_rss_kb", 0) / 1024, 1),
    }
    path.unlink()
    done = results["import"]
    print(f"Import     : {done['file_mb']} MB, {rows} rows in {elapsed:.0f} s, "
          f"peak RSS {done['peak_rss_mb']} MB ({done['status']})")  # fmt: skip


if __name__ == "__main__":
    main()
