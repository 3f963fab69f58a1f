"""Computation throughput on Postgres: 1M pending records → results, rollups, market allocation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench_compute \\
        .venv/bin/python bench/compute.py [--records 1000000] [--workers 2]

Loads (with COPY) one organisation's year of pending records into its own database, in activity
order as a live system appends them (--order random shuffles them): workload
records (80 %: every energy tier, 2 owned/colocation facilities and 6 cloud regions, 8 teams,
40 models, 3 phases) and cloud usage billing lines (20 %: every usage kind), plus a renewable
certificate so the market-based allocation has work to do. Then times what the workers do:
``records_compute()`` run by --workers threads at once (each its own database connection, as
Celery worker processes would), i.e. the compute UPDATEs, the daily rollups and the market
allocation, committed window by window. Checks the result (nothing pending, rollups equal the
raw sums), prints the figures and writes bench/results/compute.json.

Target (issue 5): 1M records computed and rolled up in ≤ 10 s on a 2-core machine.
"""

import argparse
import json
import os
import platform
import random
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

TARGET_SECONDS = 10.0
YEAR = 2025
TEAMS = 8
MODELS = 40
CLOUD_REGIONS = ["aws:us-east-1", "aws:eu-west-1", "gcp:europe-west4", "gcp:us-central1",
                 "azure:westeurope", "azure:eastus"]  # fmt: skip


def setup() -> None:
    import django
    from ingest import ensure_database  # creates the database if need be

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench/compute.py measures Postgres: set DATABASE_URL=postgres://…/<bench db>")
    ensure_database(url)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_factors", verbosity=0)


def organisation():
    from accounts.models import Organisation, Team
    from inventory.models import AiModel, ContractualInstrument, IngestBatch, Location

    org, _ = Organisation.objects.get_or_create(slug="bench-compute", defaults={"name": "Bench"})
    teams = [
        Team.objects.get_or_create(organisation=org, slug=f"team-{n}", defaults={"name": f"T{n}"})[
            0
        ].id
        for n in range(TEAMS)
    ]
    models = [
        AiModel.objects.get_or_create(organisation=org, name=f"model-{n}")[0].id
        for n in range(MODELS)
    ]
    facilities = [
        Location.objects.get_or_create(
            organisation=org,
            code=code,
            defaults={"name": code, "kind": kind, "zone": zone, "pue": pue},
        )[0].id
        for code, kind, zone, pue in (
            ("paris-dc", "owned", "FR", 1.25),
            ("frankfurt-colo", "colocation", "DE", None),
        )
    ]
    regions = list(
        Location.objects.filter(organisation=None, code__in=CLOUD_REGIONS).values_list(
            "id", flat=True
        )
    )
    ContractualInstrument.objects.get_or_create(
        organisation=org,
        reference="GO-BENCH-2025",
        defaults={
            "kind": "eac",
            "zone": "FR",
            "valid_from": date(YEAR, 1, 1),
            "valid_to": date(YEAR, 12, 31),
            "mwh": 5000.0,
            "kg_per_kwh": 0.0,
        },
    )
    batch = IngestBatch.objects.create(organisation=org, source="import")
    return org, batch, teams, models, facilities, regions


def reset(org_id: int) -> None:
    """Empty the bench organisation's records, rollups and allocations (its own database)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inventory_workloadrecord, inventory_cloudusagerecord, "
            "inventory_dailyrollup, inventory_marketallocation"
        )


# What the pipeline finds on a pending record, after the kind's declared ingest columns.
# What a sender leaves out of a pending record, as the ingestion writers store it.
SENT_DEFAULTS = {"currency": "", "instance_type": "", "tags": "{}", "energy_includes_pue": False}


def pending_copy(kind: str) -> tuple[str, Callable[..., tuple]]:
    """The COPY column list of pending records of one kind, from its declaration
    (inventory.ingestion.services.KIND_SPECS), and a function making a row of it from
    column values by name: a column not named is NULL or its SENT_DEFAULTS value, and the
    columns the writers fix (status, tiers, created_at...) take their fixed values."""
    from inventory.ingestion.services import KIND_SPECS

    table = KIND_SPECS[kind].table
    fixed = table.fixed_values()
    tail = tuple(value for _, value in fixed)

    def row(**values) -> tuple:
        return tuple(values.get(c, SENT_DEFAULTS.get(c)) for c in table.columns) + tail

    return ", ".join((*table.columns, *(name for name, _ in fixed))), row


def load(records: int, cloud_share: float, order: str, seed: int = 1) -> dict:
    """COPY `records` pending records; returns counts and the load time."""
    from django.db import connection

    from inventory.models import Hardware

    org, batch, teams, models, facilities, regions = organisation()
    reset(org.id)
    rng = random.Random(seed)
    gpus = list(
        Hardware.objects.filter(kind="gpu", dataset__is_active=True).values_list("id", flat=True)
    )
    cpus = list(
        Hardware.objects.filter(kind="cpu", dataset__is_active=True).values_list("id", flat=True)
    )
    locations = facilities * 3 + regions
    cloud = int(records * cloud_share)
    workload = records - cloud
    start = datetime(YEAR, 1, 1, tzinfo=UTC)

    def when(n: int, count: int, span: float) -> float:
        """Offset of the n-th record in the year: in activity order (with up to an hour of
        jitter), as a live system appends them, or anywhere in the year (--order random)."""
        if order == "random":
            return rng.uniform(0, span)
        return min(span - 1, n * span / count + rng.uniform(0, span / 8760))

    started = time.monotonic()
    workload_columns, workload_row = pending_copy("workload")
    cloud_columns, cloud_row = pending_copy("cloud_usage")
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY inventory_workloadrecord ({workload_columns}) FROM STDIN") as copy:
            for n in range(workload):
                begin = start + timedelta(seconds=when(n, workload, 365 * 86400))
                seconds = rng.uniform(60, 36000)
                tier = n % 3
                copy.write_row(
                    workload_row(
                        organisation_id=org.id,
                        batch_id=batch.id,
                        external_id=f"w{n}",
                        content_hash="bench",
                        team_id=teams[n % TEAMS],
                        ai_model_id=models[n % MODELS],
                        phase=("training", "fine_tuning", "inference")[n % 3],
                        started_at=begin,
                        ended_at=begin + timedelta(seconds=seconds),
                        duration_s=seconds,
                        activity_date=begin.date(),
                        location_id=locations[n % len(locations)],
                        hardware_id=gpus[n % len(gpus)],
                        device_count=1 + n % 8,
                        energy_kwh=rng.uniform(0.1, 50) if tier == 0 else None,
                        avg_power_w=rng.uniform(50, 700) if tier == 1 else None,
                        utilization=rng.random() if tier == 2 and n % 2 else None,
                        inferences=n if n % 5 == 0 else None,
                    )
                )
        kinds = ("compute", "gpu", "memory", "storage_ssd", "storage_hdd", "network")
        with raw.copy(f"COPY inventory_cloudusagerecord ({cloud_columns}) FROM STDIN") as copy:
            for n in range(cloud):
                begin = start + timedelta(hours=int(when(n, cloud, 365 * 24)))
                kind = kinds[n % len(kinds)]
                hardware = (
                    gpus[n % len(gpus)]
                    if kind == "gpu"
                    else (cpus[n % len(cpus)] if kind == "compute" and n % 2 else None)
                )
                copy.write_row(
                    cloud_row(
                        organisation_id=org.id,
                        batch_id=batch.id,
                        external_id=f"c{n}",
                        content_hash="bench",
                        team_id=teams[n % TEAMS],
                        ai_model_id=models[n % MODELS] if n % 2 else None,
                        location_id=regions[n % len(regions)],
                        service="bench-service",
                        usage_kind=kind,
                        quantity=rng.uniform(0.1, 1000),
                        hardware_id=hardware,
                        utilization=rng.random() if kind in ("compute", "gpu") and n % 3 else None,
                        replication=2.0 if kind in ("storage_ssd", "storage_hdd") else None,
                        usage_start=begin,
                        usage_end=begin + timedelta(hours=1),
                        activity_date=begin.date(),
                    )
                )
    load_seconds = time.monotonic() - started
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Fresh statistics everywhere (the factor tables too), as autovacuum would have.
        cursor.execute("VACUUM ANALYZE")
    return {
        "organisation_id": org.id,
        "workload_records": workload,
        "cloud_usage_records": cloud,
        "order": order,
        "copy_seconds": round(load_seconds, 2),
        "vacuum_analyze_seconds": round(time.monotonic() - started, 2),
    }


def compute(workers: int) -> dict:
    """records_compute() in `workers` threads at once; each uses its own connection."""
    from django.db import connections

    from inventory.pipeline import ComputeResult, records_compute

    results: list[ComputeResult] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(records_compute())
        except BaseException as error:  # reported below, the bench fails
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    if errors:
        raise errors[0]
    total = ComputeResult()
    for result in results:
        total.add(result)
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "records_computed": total.computed,
        "records_failed": total.failed,
        "records_per_second": round(total.computed / seconds),
        "windows": total.windows,
        "days_rolled_up": total.days_rolled_up,
        # Summed over the workers (they overlap in time).
        "update_seconds": round(total.update_seconds, 2),
        "rollup_seconds": round(total.rollup_seconds, 2),
        "market_seconds": round(total.market_seconds, 2),
    }


def check(expected: int) -> dict:
    from django.db.models import Sum

    from inventory.models import CloudUsageRecord, DailyRollup, MarketAllocation, WorkloadRecord
    from inventory.pipeline import rollup_mismatches

    started = time.monotonic()
    pending = sum(
        m.objects.filter(status="pending").count() for m in (WorkloadRecord, CloudUsageRecord)
    )
    rolled = DailyRollup.objects.aggregate(n=Sum("record_count"))["n"] or 0
    failed = sum(
        m.objects.filter(status="failed").count() for m in (WorkloadRecord, CloudUsageRecord)
    )
    mismatches = rollup_mismatches()
    return {
        "pending_after": pending,
        "failed": failed,
        "records_in_rollups": rolled,
        "rollup_rows": DailyRollup.objects.count(),
        "market_allocation_rows": MarketAllocation.objects.count(),
        "rollup_days_differing_from_raw_sums": len(mismatches),
        "check_seconds": round(time.monotonic() - started, 2),
        "ok": pending == 0 and rolled + failed == expected and not mismatches,
    }


def server() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    return {"postgres": version.split(" on ")[0], **settings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--cloud-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--order",
        choices=["time", "random"],
        default="time",
        help="records in activity order as ingestion appends them (default), or shuffled",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/compute.json")
    args = parser.parse_args()
    setup()
    load_average_before = round(os.getloadavg()[0], 2)
    loaded = load(args.records, args.cloud_share, args.order)
    loaded["load_average_before"] = load_average_before
    print(
        f"loaded {loaded['workload_records']:,} workload + {loaded['cloud_usage_records']:,} "
        f"cloud usage records ({args.order} order) with COPY in {loaded['copy_seconds']} s "
        f"(+ VACUUM ANALYZE {loaded['vacuum_analyze_seconds']} s)"
    )
    computed = compute(args.workers)
    checked = check(args.records)
    print(
        f"computed {computed['records_computed']:,} records and their rollups and market "
        f"allocation in {computed['seconds']} s with {args.workers} worker(s): "
        f"{computed['records_per_second']:,} records/s "
        f"(target {args.records:,} in ≤ {TARGET_SECONDS:g} s); "
        f"{computed['windows']} windows, summed time: UPDATE {computed['update_seconds']} s, "
        f"rollups {computed['rollup_seconds']} s, market {computed['market_seconds']} s"
    )
    print(
        f"check: {checked['pending_after']} pending, {checked['failed']} failed, "
        f"{checked['records_in_rollups']:,} records in {checked['rollup_rows']:,} rollup rows, "
        f"{checked['rollup_days_differing_from_raw_sums']} days differing from raw sums "
        f"({'ok' if checked['ok'] else 'FAILED'})"
    )
    result = {
        "records": args.records,
        # Other work on the machine during the run (1-minute load average, before and after).
        "load_average": [loaded["load_average_before"], round(os.getloadavg()[0], 2)],
        "target_seconds": TARGET_SECONDS,
        "meets_target": computed["seconds"] <= TARGET_SECONDS and checked["ok"],
        "load": loaded,
        "compute": computed,
        "check": checked,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            **server(),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    if not checked["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
