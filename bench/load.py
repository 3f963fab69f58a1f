"""Sustained ingestion and dashboard reads together, on loopback, for a bounded time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/load.py [--seconds 60]

1. Starts gunicorn (bench/ingest.py's server: DEBUG off, real throttling limits raised) and a
   Celery worker, so records posted are computed while pages are read, as in production.
2. Preloads `--preload` records through the API and waits until the worker has computed them,
   so the pages read real figures.
3. For `--seconds`: `--ingest-clients` threads post batches of `--batch` workload records to
   POST /api/v1/workloads/, paced at `--ingest-rate` records/s in all (12,000 by default,
   above the 10,000 target; 0 posts as fast as the server takes them), while `--readers`
   threads, each signed in as the organisation's admin (a real session cookie), read the
   overview, team, data and report pages and the footprint API in turn, `--page-rate` reads
   a second in all (240 page views a minute by default; an open model: each reader keeps its
   pace whether or not the server keeps up; `--page-rate 0` reads back to back, a stress
   test). Bodies are encoded before the clock starts.
4. Prints ingestion records/s, page and API latency p50/p95/p99 (also per path) and the error
   count, writes bench/results/load.json (or `--results`), and exits non-zero on any error.

Targets (issue 8): zero errors, p95 page latency under 500 ms while ingesting >= 10,000 records/s.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (
    BENCH_SECRET_KEY,
    ROOT,
    bodies,
    free_port,
    migrated_django,
    post,
    purge_queued_tasks,
    server_env,
    setup_tenant,
    start_server,
    warm_up,
)

RESULTS = ROOT / "bench" / "results" / "load.json"
PAGE_TARGET_P95_MS = 500.0
INGEST_TARGET = 10_000
PAGES = ["/", "/teams/research/", "/data/", "/reports/"]
APIS = ["/api/v1/footprint/?start=2026-01-01&end=2026-12-31&group_by=team"]


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 1),
    }


def admin_session(organisation) -> str:
    """A signed-in admin's session key (stored in the database the server reads)."""
    from django.test import Client

    from accounts.services import member_add

    member = member_add(
        organisation=organisation,
        username=f"{organisation.slug}-admin",
        password="bench-password-not-secret",  # noqa: S106 - a throwaway bench login
        role="admin",
    )
    client = Client()
    client.force_login(member.user)
    return client.cookies["sessionid"].value


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "DJANGO_LOG_LEVEL": "WARNING", "CELERY_TASK_ALWAYS_EAGER": "false"}
    command = [sys.executable, "-m", "celery", "-A", "greenai_portal", "worker"]
    return subprocess.Popen(
        [*command, "--concurrency", "1", "--loglevel", "WARNING", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
    )


def wait_computed(organisation_id: int, timeout: float) -> float:
    from inventory.models import WorkloadRecord

    began = time.monotonic()
    pending = WorkloadRecord.objects.filter(organisation_id=organisation_id, status="pending")
    while pending.exists():
        if time.monotonic() - began > timeout:
            raise SystemExit(f"the worker left {pending.count()} records pending")
        time.sleep(1)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--preload", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--ingest-clients", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--ingest-rate", type=float, default=12_000, help="records/s in all; 0: flat out"
    )
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument(
        "--page-rate", type=float, default=4.0, help="page and API reads per second, all readers"
    )
    parser.add_argument("--workers", type=int, default=4)
    # Threads let a page be served while the process's other requests are long ingest posts.
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    # The sessions signed in here must be valid for the server.
    os.environ["DJANGO_SECRET_KEY"] = BENCH_SECRET_KEY
    migrated_django()
    from django.db import connection

    organisation, key, _ = setup_tenant()
    session = admin_session(organisation)
    # Pages need the hashed static files a production deploy collects (DEBUG is off).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=server_env(),
        check=True,
    )
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    stale = purge_queued_tasks()  # e.g. left by bench/ingest.py on the same broker
    if stale:
        print(f"dropped {stale} stale tasks from the broker's queue")
    worker = start_worker()
    try:
        warm_up(port, key, args.workers * args.threads)
        ingest_headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for body in bodies("json", "preload", args.preload, args.batch):
            status, answer = post(conn, "/api/v1/workloads/", body, ingest_headers)
            if status not in (200, 201):
                raise SystemExit(f"preload failed: {status} {answer[:300]!r}")
        computed_in = wait_computed(organisation.id, timeout=600)
        print(f"Preloaded  : {args.preload} records, computed in {computed_in:.0f} s")
        # What autovacuum does in production after a bulk load; this machine's Postgres runs
        # with autovacuum off, and stale statistics pick plans made for an empty table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        # Bodies are encoded before the clock starts (as bench/ingest.py does): the bench's own
        # JSON encoding would otherwise take CPU from the server it measures.
        budget = int(args.seconds * INGEST_TARGET * 3)
        payloads = iter(bodies("json", "load", budget, args.batch))
        stop = time.monotonic() + args.seconds
        lock = threading.Lock()
        created: list[int] = []
        errors: list[str] = []
        latencies: dict[str, list[float]] = {"page": [], "api": [], "ingest": []}
        by_path: dict[str, list[float]] = defaultdict(list)

        def record(kind: str, began: float, status: int, path: str) -> None:
            elapsed_ms = (time.perf_counter() - began) * 1000
            with lock:
                latencies[kind].append(elapsed_ms)
                by_path[path].append(elapsed_ms)
                if status not in (200, 201):  # a redirect to the login page is a failure too
                    errors.append(f"{status} {path}")

        def ingester(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            # Paced like the readers: --ingest-rate records/s in all (0: as fast as possible).
            rate = args.ingest_rate
            interval = args.ingest_clients * args.batch / rate if rate else 0.0
            due = time.monotonic() + interval * offset / args.ingest_clients
            while time.monotonic() < stop:
                if interval:
                    time.sleep(max(0.0, due - time.monotonic()))
                    due += interval
                with lock:
                    body = next(payloads, None)
                if body is None:  # ingestion would stop early and flatter the page figures
                    with lock:
                        errors.append("the bench ran out of pre-encoded bodies: raise the budget")
                    return
                began = time.perf_counter()
                status, answer = post(conn, "/api/v1/workloads/", body, ingest_headers)
                record("ingest", began, status, "POST /api/v1/workloads/")
                if status in (200, 201):
                    with lock:
                        created.append(json.loads(answer)["created"])

        def reader(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            headers = {"Cookie": f"sessionid={session}"}
            paths = [("page", p) for p in PAGES] + [("api", p) for p in APIS]
            n = offset
            interval = args.readers / args.page_rate if args.page_rate else 0.0
            due = time.monotonic() + interval * offset / args.readers
            while time.monotonic() < stop:
                # Open model: each reader asks at its own steady pace (people reading
                # dashboards), whether or not the server keeps up; --page-rate 0 reads back
                # to back instead (a stress test: latency is then the CPU share a page gets).
                if interval:
                    time.sleep(max(0.0, due - time.monotonic()))
                    due += interval
                kind, path = paths[n % len(paths)]
                n += 1
                began = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                record(kind, began, response.status, path)

        threads = [threading.Thread(target=ingester, args=(i,)) for i in range(args.ingest_clients)]
        threads += [threading.Thread(target=reader, args=(i,)) for i in range(args.readers)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)

    ingested = sum(created)
    pages, apis = percentiles(latencies["page"]), percentiles(latencies["api"])
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(elapsed, 1),
        "settings": vars(args),
        "ingest": {
            "records": ingested,
            "records_per_s": round(ingested / elapsed),
            "target_records_per_s": INGEST_TARGET,
            "requests": percentiles(latencies["ingest"]),
        },
        "pages": pages,
        "api": apis,
        "by_path": {path: percentiles(samples) for path, samples in sorted(by_path.items())},
        "errors": len(errors),
        "error_examples": errors[:5],
        "page_target_p95_ms": PAGE_TARGET_P95_MS,
    }
    results["meets_target"] = (
        not errors
        and pages.get("p95_ms", 1e9) < PAGE_TARGET_P95_MS
        and results["ingest"]["records_per_s"] >= INGEST_TARGET
    )
    print(f"Ingestion  : {ingested} records in {elapsed:.0f} s = "
          f"{results['ingest']['records_per_s']} records/s (target {INGEST_TARGET})")  # fmt: skip
    for name, figures in (
        ("Pages", pages),
        ("API", apis),
        ("Ingest req", results["ingest"]["requests"]),
    ):
        print(f"{name:<11}: {figures}")
    for path, figures in results["by_path"].items():
        print(f"  {path:<50} p50 {figures['p50_ms']:>7} ms  p95 {figures['p95_ms']:>7} ms")
    print(f"Errors     : {len(errors)} {errors[:3]}")
    print(f"Target met : {results['meets_target']}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"written {args.results}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
