"""Record browser: a page of 100 records at 5M records, on Postgres.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench_records \\
        .venv/bin/python bench/records.py [--records 5000000] [--runs 40] [--reseed]

Builds (once; --reseed to rebuild) an organisation of --records computed workload records over
a year (12 teams, 60 models, 4 facilities, every phase and data-quality tier), written with
COPY, and its daily rollups from them; a neighbour organisation with a tenth as many shares the
tables, so every query has to find its tenant's rows among others'.

Then requests, in-process through the whole Django stack as an admin and as an engineer
limited to two teams, the record browser's API and page: the first page of a year, a page
deep in it (after following the cursor), a team, a model, a location and tier, a batch, and
one record's detail. After warm-up runs, p50 and p95 of the wall time are printed and written
to bench/results/records.json.

Target (issue 20): a page of 100 in p95 < 300 ms at 5M records.
"""

import json
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

import timing  # noqa: E402  (bench/ is on the path above)

TEAMS = 12
MODELS_PER_TEAM = 5
DAYS = 365
TARGET_MS = 300.0
SLUG = "bench-records"
BATCH_SIZE = 5000  # records per ingest batch, as a large client sends them
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway bench login


RECORD_COLUMNS = [
    "organisation_id",
    "batch_id",
    "external_id",
    "content_hash",
    "team_id",
    "ai_model_id",
    "phase",
    "started_at",
    "ended_at",
    "duration_s",
    "activity_date",
    "location_id",
    "device_count",
    "avg_power_w",
    "energy_includes_pue",
    "tags",
    "created_at",
    "status",
    "energy_tier",
    "scope",
    "it_kwh",
    "pue_used",
    "facility_kwh",
    "location_kg_per_kwh",
    "location_kg",
    "methodology_version",
    "compute_error",
]

ROLLUPS_FROM_RECORDS = """
INSERT INTO inventory_dailyrollup (organisation_id, day, team_id, ai_model_id, location_id,
    record_kind, phase, energy_tier, scope, record_count, it_kwh, facility_kwh, location_kg,
    market_kg, inferences, tokens, energy_cost_currency)
SELECT organisation_id, activity_date, team_id, ai_model_id, location_id, 'workload', phase,
    energy_tier, scope, COUNT(*), SUM(it_kwh), SUM(facility_kwh), SUM(location_kg), NULL, 0, 0,
    ''
FROM inventory_workloadrecord WHERE organisation_id = %s AND status = 'computed'
GROUP BY organisation_id, activity_date, team_id, ai_model_id, location_id, phase,
    energy_tier, scope
"""


def seed_organisation(slug: str, records: int, rng: random.Random) -> int:
    """One organisation of `records` computed workload records; returns its id."""
    from django.db import connection, transaction
    from pages import _copy  # COPY through Django's connection

    from accounts.models import Role
    from accounts.services import member_add, organisation_create, team_create
    from inventory.models import AiModel, BatchComputation, IngestBatch, Location
    from inventory.pipeline.rollups import monthly_rollups_refresh

    start = date.today() - timedelta(days=DAYS)
    with transaction.atomic():
        organisation = organisation_create(name=f"Bench {slug}", slug=slug)
        teams = [
            team_create(organisation=organisation, name=f"Team {i:02d}", slug=f"team-{i:02d}")
            for i in range(TEAMS)
        ]
        models = [
            (team.id, AiModel.objects.create(organisation=organisation, name=f"m-{t}-{m}").id)
            for t, team in enumerate(teams)
            for m in range(MODELS_PER_TEAM)
        ]
        locations = [
            Location.objects.create(
                organisation=organisation,
                code=f"dc-{zone.lower()}",
                name=f"DC {zone}",
                kind=Location.Kind.OWNED,
                zone=zone,
                pue=1.2,
                pue_source="metered",
            ).id
            for zone in ("FR", "DE", "NL", "SE")
        ]
        for role in Role.values:
            member_add(
                organisation=organisation,
                username=f"{slug}-{role}",
                password=PASSWORD,
                role=role,
                teams=teams[:2] if role == Role.ENGINEER else [],
            )
        batches = [
            IngestBatch.objects.create(
                organisation=organisation, source="api", received=BATCH_SIZE, created=BATCH_SIZE
            ).id
            for _ in range((records + BATCH_SIZE - 1) // BATCH_SIZE)
        ]
        BatchComputation.objects.bulk_create(
            [BatchComputation(batch_id=b, records=BATCH_SIZE) for b in batches]
        )
    phases = ["training", "fine_tuning", "inference", "inference"]
    tiers = ["measured", "metered", "modelled"]
    # A model runs in one phase, measured one way, in its two facilities (by day): a day's
    # records of a model fall in a few rollup rows, as real jobs do (the dashboards' shape).
    runs = [
        (team_id, model_id, phases[n % 4], tiers[n % 3], locations[n % 4], locations[(n + 1) % 4])
        for n, (team_id, model_id) in enumerate(models)
    ]
    zone_factors = dict(zip(locations, (0.05, 0.35, 0.3, 0.02), strict=True))
    now = datetime.now(UTC)

    def rows():
        # Arrival order: day after day, as a live system appends them.
        for i in range(records):
            day = start + timedelta(days=i * DAYS // records)
            team_id, model_id, phase, tier, *places = rng.choice(runs)
            began = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
            it_kwh = rng.uniform(1, 60)
            factor = zone_factors[places[day.toordinal() % 2]]
            yield (
                organisation.id,
                batches[i // BATCH_SIZE],
                f"job-{i}",
                "0" * 64,
                team_id,
                model_id,
                phase,
                began,
                began + timedelta(hours=4),
                14400.0,
                day,
                places[day.toordinal() % 2],
                8,
                it_kwh * 1000 / 32,
                False,
                "{}",
                now,
                "computed",
                tier,
                "scope2",
                it_kwh,
                1.2,
                it_kwh * 1.2,
                factor,
                it_kwh * 1.2 * factor,
                "2026.1",
                "",
            )

    _copy("inventory_workloadrecord", RECORD_COLUMNS, rows())
    with connection.cursor() as cursor:
        cursor.execute(ROLLUPS_FROM_RECORDS, [organisation.id])
    monthly_rollups_refresh(organisation_id=organisation.id)
    return organisation.id


def drop_database(url: str) -> None:
    """--reseed starts from an empty database (deleting millions of records row by row through
    the ORM's cascades would take longer than seeding them)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(records: int) -> dict:
    from django.db import connection

    from accounts.models import Organisation

    if not Organisation.objects.filter(slug=SLUG).exists():
        rng = random.Random(20261205)
        started = time.perf_counter()
        seed_organisation(SLUG, records, rng)
        seed_organisation(f"{SLUG}-neighbour", records // 10, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    organisation = Organisation.objects.get(slug=SLUG)
    from inventory.models import WorkloadRecord

    return {
        "organisation_id": organisation.id,
        "records": WorkloadRecord.objects.filter(organisation=organisation).count(),
        "all_records": WorkloadRecord.objects.count(),
    }


def signed_in(role: str):
    return timing.signed_in(f"{SLUG}-{role}")


def scenarios(organisation_id: int) -> list[tuple[str, str, str]]:
    """(name, who, url) of every timed request."""

    from accounts.models import Team
    from inventory.models import AiModel, IngestBatch, Location, WorkloadRecord

    today = date.today()
    year = f"start={today - timedelta(days=DAYS)}&end={today + timedelta(days=1)}"
    api = "/api/v1/records/workloads/"
    team = Team.objects.filter(organisation_id=organisation_id).order_by("slug").last()
    model = AiModel.objects.filter(organisation_id=organisation_id).order_by("name").first()
    location = Location.objects.filter(organisation_id=organisation_id).order_by("code").first()
    batch = IngestBatch.objects.filter(organisation_id=organisation_id).order_by("id")[10]
    record = WorkloadRecord.objects.filter(organisation_id=organisation_id).order_by("id")[1000]
    # A cursor 50 pages into the year (5,000 records), reached as a client does.
    client = signed_in("admin")
    cursor = None
    for _ in range(50):
        query = year + (f"&before={cursor}" if cursor else "")
        cursor = client.get(f"{api}?{query}").json()["next_cursor"]
    return [
        ("api first page of a year", "admin", f"{api}?{year}"),
        ("api page 51 of a year", "admin", f"{api}?{year}&before={cursor}"),
        ("api a team", "admin", f"{api}?{year}&team={team.id}"),
        ("api a model", "admin", f"{api}?{year}&model={model.id}"),
        ("api a location and tier", "admin", f"{api}?{year}&location={location.id}&tier=measured"),
        ("api engineer (2 teams)", "engineer", f"{api}?{year}"),
        ("api a batch", "admin", f"{api}?batch={batch.id}&status=all"),
        ("api one record", "admin", f"{api}{record.id}/"),
        ("page first page of a year", "admin", f"/records/?kind=workloads&{year}"),
        ("page a team", "admin", f"/records/?kind=workloads&{year}&team={team.id}"),
        ("page engineer (2 teams)", "engineer", f"/records/?kind=workloads&{year}"),
        ("page one record", "admin", f"/records/workloads/{record.id}/"),
    ]


def measure(organisation_id: int, runs: int, warmup: int) -> list[dict]:
    clients = {who: signed_in(who) for who in ("admin", "engineer")}
    results = []
    for name, who, url in scenarios(organisation_id):
        results.append(
            {"name": name, "as": who}
            | timing.percentiles(timing.timed_gets(clients[who], url, runs, warmup))
        )
        print(
            f"{name:32s} p50 {results[-1]['p50_ms']:7.1f} ms   p95 {results[-1]['p95_ms']:7.1f} ms"
        )
    return results


def main() -> None:
    args = timing.bench_arguments(__doc__.split("\n")[0], runs=40, warmup=5)
    from pages import setup_django  # migrates and loads the factor library

    if args.reseed:
        drop_database(os.environ.get("DATABASE_URL", ""))
    setup_django()
    dataset = seed(args.records)
    results = measure(dataset["organisation_id"], args.runs, args.warmup)
    worst = max(r["p95_ms"] for r in results)
    report = {
        "target": f"a page of 100 in p95 < {TARGET_MS:.0f} ms at 5M records",
        "dataset": dataset,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "results": results,
        "worst_p95_ms": worst,
        "meets_target_at_this_size": worst < TARGET_MS,
    }
    (ROOT / "bench/results").mkdir(exist_ok=True)
    (ROOT / "bench/results/records.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{dataset['records']:,} records: worst p95 {worst:.1f} ms (target {TARGET_MS:.0f})")


if __name__ == "__main__":
    main()
