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

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (
    ROOT,
    bulk_and_copy,
    bulk_arguments,
    copy_text,
    migrated_django,
    results_written,
    run_conditions,
    services_required,
    setup_tenant,
    timed_copy,
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
    args = bulk_arguments(__doc__.split("\n")[0]).parse_args()
    services_required("estimate")

    migrated_django()
    organisation, key, _ = setup_tenant()
    results = run_conditions(args)
    bulk_and_copy(
        args,
        organisation,
        key,
        results,
        formats=("json", "csv"),
        make=record,
        fields=FIELDS,
        path="/api/v1/llm-usage/",
        copy=raw_copy,
    )
    results["estimate_one_batch"] = estimate_one_batch(organisation)
    print(f"estimate   : {results['estimate_one_batch']}")
    results_written(results, RESULTS)


if __name__ == "__main__":
    main()
