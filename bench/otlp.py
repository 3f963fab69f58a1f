"""OTLP traces benchmark: GenAI spans per second through POST /api/v1/otlp/v1/traces.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_otlp \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/otlp.py [--spans 204800]

1. Starts gunicorn on 127.0.0.1 (`--workers` processes) with the estimate tasks queued to
   Redis (no worker runs during the timing: ingestion is what is measured), as bench/ingest.py.
2. Builds `--spans` realistic spans of an instrumented chat application with the real
   OpenTelemetry SDK, encoded by its OTLP exporter's encoder in batches of `--batch` (512,
   the SDK's BatchSpanProcessor default): every 8th span an HTTP server span (ignored), the
   others chat calls with the attributes the OpenAI instrumentation sets, over 4 models.
   Bodies are encoded before the clock starts.
3. Posts them as `application/x-protobuf` from `--clients` threads (keep-alive connections,
   as exporters do); prints spans/s, records/s and request latency; checks the records stored.
`--profile N` instead profiles N batches in-process (Django test client, cProfile).
Writes bench/results/otlp.json. Every loop is bounded; traffic stays on 127.0.0.1.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "otlp.json"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")

from bench.ingest import (  # noqa: E402  (the path above first)
    free_port,
    migrated_django,
    post,
    purge_queued_tasks,
    setup_tenant,
    start_server,
)

PATH = "/api/v1/otlp/v1/traces"
OK = (200, 201)
# 2026-03-02T09:00:00Z: in the past, so no span is refused as future.
START_NS = 1_772_442_000_000_000_000
MODELS = (
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
    ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
)


def span_bodies(count: int, batch: int) -> tuple[list[bytes], int]:
    """Protobuf ExportTraceServiceRequests of `batch` spans each, and how many are LLM calls."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(
        resource=Resource.create({"service.name": "support-bot", "greenai.team": "research"})
    )
    tracer = provider.get_tracer("opentelemetry.instrumentation.openai_v2", "2.1b0")
    bodies, chats, spans = [], 0, []
    for i in range(count):
        start = START_NS + i * 50_000_000  # a call every 50 ms
        if i % 8 == 0:
            span = tracer.start_span(
                "POST /answer",
                attributes={"http.request.method": "POST", "http.route": "/answer",
                            "http.response.status_code": 200, "url.scheme": "https"},
                start_time=start,
            )  # fmt: skip
        else:
            requested, answered = MODELS[i % len(MODELS)]
            chats += 1
            span = tracer.start_span(
                f"chat {requested}",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": requested,
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.request.max_tokens": 1024,
                    "gen_ai.response.model": answered,
                    "gen_ai.response.id": f"chatcmpl-{i:012d}",
                    "gen_ai.response.finish_reasons": ("stop",),
                    "gen_ai.usage.input_tokens": 400 + (i * 37) % 3000,
                    "gen_ai.usage.output_tokens": 50 + (i * 53) % 900,
                    "server.address": "api.openai.com",
                    "server.port": 443,
                },
                start_time=start,
            )
        span.end(end_time=start + 200_000_000 + (i * 7919) % 5_000_000_000)
        spans.append(span)
        if len(spans) == batch:
            bodies.append(encode_spans(spans).SerializeToString())
            spans = []
    if spans:
        bodies.append(encode_spans(spans).SerializeToString())
    return bodies, chats


def run(port: int, path: str, headers: dict, bodies: list[bytes], clients: int) -> dict:
    """Every body posted once from `clients` threads, each on its keep-alive connection;
    OTLP answers are checked for rejected spans."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    local = threading.local()

    def send(body: bytes) -> tuple[float, int, bytes]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        began = time.perf_counter()
        status, answer = post(local.conn, path, body, headers)
        return time.perf_counter() - began, status, answer

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(send, bodies))
    elapsed = time.perf_counter() - began
    failures = [(status, answer[:300]) for _, status, answer in answers if status not in OK]
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[0]}")
    if path == PATH:
        partials = [ExportTraceServiceResponse.FromString(a).partial_success for _, _, a in answers]
        if any(partial.rejected_spans for partial in partials):
            raise SystemExit(f"spans rejected: {partials[0].error_message}")
    latencies = sorted(seconds for seconds, _, _ in answers)
    return {
        "seconds": round(elapsed, 3),
        "requests": len(latencies),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 1),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
    }


def server_pids(server_pid: int) -> list[int]:
    """gunicorn's master and workers, and the Postgres backends serving this database (all
    but the bench's own connection): the processes whose CPU time a request costs."""
    from django.db import connection

    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return [server_pid, *map(int, children), *backends]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each process still alive (/proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


def timed(server_pid: int, measure) -> tuple[dict, float]:
    """What `measure()` returns, and the server's CPU seconds it took: on a machine others
    share, throughput follows their load, CPU time per span much less."""
    before = cpu_seconds(server_pids(server_pid))
    result = measure()
    after = cpu_seconds(server_pids(server_pid))
    return result, sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def json_bodies(bodies: list[bytes]) -> list[bytes]:
    """The same usage rows as the OTLP bodies carry, as JSON arrays for POST /llm-usage/
    (new external ids): what the OTLP path costs over the plain ingest API."""
    from inventory.otlp.decoding import PROTOBUF, read_request, usage_rows

    arrays = []
    for body in bodies:
        request = read_request(body, content_type=PROTOBUF, content_encoding=None, limit=len(body))
        rows = usage_rows(request, default_team=None).rows
        arrays.append(json.dumps([{**row, "external_id": "json-" + row["external_id"]}
                                  for row in rows]).encode())  # fmt: skip
    return arrays


def profile(key: str, bodies: list[bytes]) -> None:
    """In-process: the Django test client through the whole stack, under cProfile."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    send = lambda body: client.generic("POST", PATH, body, content_type="application/x-protobuf")  # noqa: E731
    send(bodies[0])  # warm: imports, the first connection
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for body in bodies[1:]:
        assert send(body).status_code == 200
    profiler.disable()
    elapsed = time.perf_counter() - began
    spans = 512 * (len(bodies) - 1)
    per_batch_ms = elapsed / (len(bodies) - 1) * 1000
    print(f"in-process: {spans / elapsed:,.0f} spans/s ({per_batch_ms:.1f} ms a batch)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=512 * 400)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0, help="profile N batches in-process")
    args = parser.parse_args()
    os.environ.setdefault("GREENAI_THROTTLE_OTLP", "100000000/min")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    migrated_django()
    from inventory.models import LlmUsageRecord

    organisation, key, _ = setup_tenant()
    if args.profile:
        bodies, _ = span_bodies(512 * (args.profile + 1), 512)
        profile(key, bodies)
        return
    bodies, chats = span_bodies(args.spans, args.batch)
    print(f"{args.spans} spans ({chats} LLM calls) in {len(bodies)} bodies of {args.batch}, "
          f"{sum(map(len, bodies)) / len(bodies) / 1024:.0f} kB each")  # fmt: skip
    port = free_port()
    server = start_server(port, args.workers, 1)
    otlp = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-protobuf"}
    plain = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    try:
        run(port, PATH, otlp, bodies[:4], args.clients)  # warm: each worker's first requests
        LlmUsageRecord.objects.filter(organisation=organisation).delete()
        bodies, chats = span_bodies(args.spans, args.batch)  # new trace ids: none a duplicate
        measured, otlp_cpu = timed(server.pid, lambda: run(port, PATH, otlp, bodies, args.clients))
        again = run(port, PATH, otlp, bodies, args.clients)  # an exporter's retries: duplicates
        arrays = json_bodies(bodies)
        as_json, json_cpu = timed(
            server.pid, lambda: run(port, "/api/v1/llm-usage/", plain, arrays, args.clients)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = LlmUsageRecord.objects.filter(organisation=organisation).count()
    if stored != 2 * chats:  # each LLM-call span once through OTLP, once as JSON
        raise SystemExit(f"stored {stored} records for 2 x {chats} LLM-call spans")
    purge_queued_tasks()
    spans_per_s = round(args.spans / measured["seconds"])
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "settings": {
            "spans": args.spans,
            "batch": args.batch,
            "clients": args.clients,
            "gunicorn_workers": args.workers,
        },
        "first_export": {
            **measured,
            "spans_per_s": spans_per_s,
            "records_per_s": round(chats / measured["seconds"]),
        },
        "re_export_duplicates": {**again, "spans_per_s": round(args.spans / again["seconds"])},
        # The same rows through the plain JSON ingest API, in the same run: the machine's
        # speed varies (other work on it), the ratio of the two less.
        "same_rows_as_json": {**as_json, "records_per_s": round(chats / as_json["seconds"])},
        "otlp_over_json_records_ratio": round(as_json["seconds"] / measured["seconds"], 2),
        # Server CPU (gunicorn + Postgres backends) per span, and the rate it allows on this
        # machine's cores with no other work on them.
        "server_cpu_seconds": {"otlp": round(otlp_cpu, 2), "json": round(json_cpu, 2)},
        "server_cpu_us_per_span": round(otlp_cpu / args.spans * 1e6, 1),
        "spans_per_s_on_idle_cores": round(args.spans / (otlp_cpu / os.cpu_count())),
        "json_records_per_s_on_idle_cores": round(chats / (json_cpu / os.cpu_count())),
        "records_stored": stored,
        "target_spans_per_s": 20_000,
        "met": spans_per_s >= 20_000,
    }
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
