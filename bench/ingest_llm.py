"""LLM API usage ingestion benchmark against Postgres: HTTP bulk ingestion vs raw COPY of the
same rows in the same run, and the worker's EcoLogits estimate of one batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_ingest \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/ingest_llm.py [--records 1000000]

1. Starts gunicorn (bench/ingest.py's production-like server; compute tasks queued to Redis,
   no worker runs while timing).
2. Posts `--records` hourly LLM usage records through POST /api/v1/llm-usage/ as JSON arrays,
   then as many again as CSV (`--batch` records a request, `--clients` threads), bodies
   encoded before the clock starts; prints records/s of each.
3. Times raw COPY of the same rows (pre-rendered COPY text) into a table of the same shape
   (`CREATE TABLE … (LIKE inventory_llmusagerecord INCLUDING ALL)`), and the ratio.
4. Estimates one stored batch (`--batch` records, every one a distinct request shape, the
   worst case for the impact cache) with EcoLogits, as the worker does: records/s.
Writes bench/results/ingest_llm.json; traffic stays on 127.0.0.1.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (
    ROOT,
    copy_text,
    free_port,
    migrated_django,
    purge_queued_tasks,
    run_bulk,
    setup_tenant,
    start_server,
    timed_copy,
    warm_up,
)

RESULTS = ROOT / "bench" / "results" / "ingest_llm.json"
FIELDS = (
    "external_id",
    "team",
    "application",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "requests",
    "latency_s",
    "started_at",
    "ended_at",
)
START = datetime(2026, 1, 1, tzinfo=UTC)
MODELS = (("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5"), ("openai", "gpt-4o"))


def record(prefix: str, i: int) -> dict:
    """An hour of one application's requests; spread over 200 days from START."""
    started = START + timedelta(hours=i % (200 * 24))
    provider, model = MODELS[i % len(MODELS)]
    requests = 20 + i % 380
    return {
        "external_id": f"{prefix}-{i}",
        "team": "research" if i % 3 else "serving",
        "application": f"app-{i % 12}",
        "provider": provider,
        "model": model,
        "input_tokens": requests * (900 + i % 700),
        "output_tokens": requests * (150 + i % 350) + i % 97,
        "requests": requests,
        "latency_s": round(1.0 + (i % 400) / 100, 2),
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_at": (started + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def bodies(fmt: str, prefix: str, count: int, batch: int) -> list[bytes]:
    out = []
    for start in range(0, count, batch):
        rows = [record(prefix, i) for i in range(start, min(count, start + batch))]
        if fmt == "json":
            out.append(json.dumps(rows).encode())
        else:
            lines = [",".join(FIELDS)]
            lines += [",".join(str(r[f]) for f in FIELDS) for r in rows]
            out.append(("\n".join(lines) + "\n").encode())
    return out


def raw_copy(organisation, count: int) -> dict:
    """COPY the same rows, pre-rendered, into a table shaped like inventory_llmusagerecord."""
    from accounts.models import Team
    from inventory.llm.services import LLM_USAGES
    from inventory.models import IngestBatch

    batch = IngestBatch.objects.create(organisation_id=organisation.id, source="api")
    teams = dict(Team.objects.filter(organisation=organisation).values_list("slug", "id"))
    fixed = LLM_USAGES.table.fixed_values()
    columns = [*LLM_USAGES.table.columns, *(c for c, _ in fixed)]

    fixed_text = "\t".join(copy_text(v) for _, v in fixed)
    lines = []
    for i in range(count):
        r = record("copy", i)
        started = datetime.fromisoformat(r["started_at"])
        row = (
            organisation.id, batch.id, r["external_id"], "0" * 64, teams[r["team"]], None,
            r["application"], r["provider"], r["model"], r["input_tokens"], r["output_tokens"],
            r["requests"], r["latency_s"], started.isoformat(),
            datetime.fromisoformat(r["ended_at"]).isoformat(), started.date().isoformat(),
        )  # fmt: skip
        lines.append("\t".join(copy_text(v) for v in row) + "\t" + fixed_text + "\n")
    return timed_copy("inventory_llmusagerecord", columns, "".join(lines).encode())


def estimate_one_batch(organisation) -> dict:
    """The worker's estimate of the organisation's first stored batch, timed."""
    from inventory.llm.estimation import llm_usage_estimate
    from inventory.models import LlmUsageRecord

    batch_id = (
        LlmUsageRecord.objects.filter(organisation=organisation).order_by("id").first().batch_id
    )
    began = time.perf_counter()
    done = llm_usage_estimate(batch_id=batch_id)
    elapsed = time.perf_counter() - began
    return {
        "records": done.estimated,
        "failed": done.failed,
        "seconds": round(elapsed, 3),
        "records_per_s": round(done.estimated / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a Postgres database (and REDIS_URL)")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("set REDIS_URL: estimate tasks are queued, not run, while timing")

    migrated_django()
    organisation, key, _ = setup_tenant()
    results: dict = {
        "machine": {"cores": os.cpu_count()},
        "records": args.records,
        "batch": args.batch,
        "clients": args.clients,
        "server": f"gunicorn, {args.workers} workers × {args.threads} threads",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    warm_up(port, key, 4 * args.workers * args.threads)
    try:
        for fmt in ("json", "csv"):
            payloads = bodies(fmt, f"{fmt}-{organisation.slug}", args.records, args.batch)
            results[f"http_{fmt}"] = run_bulk(
                port, key, fmt, payloads, args.clients, path="/api/v1/llm-usage/"
            )
            del payloads
            print(f"HTTP {fmt:6}: {results[f'http_{fmt}']['records_per_s']:>8} records/s")
    finally:
        server.terminate()
        server.wait(30)
    results["raw_copy"] = raw_copy(organisation, args.records)
    print(f"raw COPY   : {results['raw_copy']['records_per_s']:>8} records/s")
    results["http_vs_copy"] = {
        f: round(results[f"http_{f}"]["records_per_s"] / results["raw_copy"]["records_per_s"], 3)
        for f in ("json", "csv")
    }
    print(f"HTTP / COPY: {results['http_vs_copy']}")
    results["estimate_one_batch"] = estimate_one_batch(organisation)
    print(f"estimate   : {results['estimate_one_batch']}")
    purge_queued_tasks()
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
