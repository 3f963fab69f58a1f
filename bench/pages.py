"""Server time of the dashboard pages over a large organisation, on Postgres.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench .venv/bin/python bench/pages.py

Builds (once; --reseed to rebuild) an organisation of 5M workload records over two years:
12 teams, 60 models, 4 facilities and 4 cloud regions, every phase and data-quality tier,
market-based allocations with a renewable certificate; its daily rollups and all of its raw
records (computed, a few pending or failed) are written with COPY. Two more organisations with
rollups of the same size and a 5% sample of raw records share the tables, so every query has
to find its tenant's rows among others'.

Each page is requested in-process through the whole Django stack (middleware, session, view,
template) as an admin and as an engineer limited to two teams; after warm-up runs, p50 and
p95 of the wall time are printed and written to bench/results/pages.json.
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")

import timing  # noqa: E402  (bench/, the script's folder, is first on the path)

TEAMS = 12
MODELS_PER_TEAM = 5
DAYS = 730
ORGANISATIONS = 3  # the measured one and two neighbours of the same size
TARGET_MS = 300.0


def setup_django() -> None:
    import django

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("bench/pages.py measures Postgres: set DATABASE_URL=postgres://…/greenai_bench")
    from ingest import ensure_database

    ensure_database(url)
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_factors", verbosity=0)


def _copy(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def seed_organisation(slug: str, records: int, raw_records_wanted: int, rng: random.Random) -> dict:
    """One organisation of the bench's shape; returns what the timings need."""
    from django.db import transaction

    from accounts.models import Role
    from accounts.services import member_add, organisation_create, team_create
    from inventory.models import (
        AiModel,
        BatchComputation,
        ContractualInstrument,
        Hardware,
        IngestBatch,
        Location,
        Zone,
    )
    from inventory.pipeline.rollups import monthly_rollups_refresh

    today = date.today()
    start = today - timedelta(days=DAYS)
    with transaction.atomic():
        organisation = organisation_create(name=f"Bench {slug}", slug=slug)
        teams = [
            team_create(organisation=organisation, name=f"Team {i:02d}", slug=f"team-{i:02d}")
            for i in range(TEAMS)
        ]
        models = [
            (team, AiModel.objects.create(organisation=organisation, name=f"model-{t:02d}-{m}"))
            for t, team in enumerate(teams)
            for m in range(MODELS_PER_TEAM)
        ]
        zones = ["FR", "DE", "NL", "SE"]
        zones = [z for z in zones if Zone.objects.filter(code=z).exists()] or ["FR"]
        facilities = [
            Location.objects.create(
                organisation=organisation,
                code=f"dc-{zone.lower()}",
                name=f"DC {zone}",
                kind=Location.Kind.OWNED,
                zone=zone,
                pue=1.2 + 0.05 * i,
                pue_source="metered",
            )
            for i, zone in enumerate(zones)
        ]
        clouds = list(Location.objects.filter(organisation__isnull=True).order_by("code")[:4])
        for role in Role.values:
            member_add(
                organisation=organisation,
                username=f"{slug}-{role}",
                password="bench-password-not-secret",  # noqa: S106 - a throwaway bench login
                role=role,
                teams=teams[:2] if role == Role.ENGINEER else [],
            )
        ContractualInstrument.objects.create(
            organisation=organisation,
            kind="eac",
            zone=zones[0],
            valid_from=start,
            valid_to=today,
            mwh=50_000.0,
            kg_per_kwh=0.0,
            reference=f"GO-{slug}",
        )
        batch = IngestBatch.objects.create(organisation=organisation, source="api", received=0)
        hardware = list(
            Hardware.objects.filter(dataset__is_active=True).values_list("id", flat=True)[:6]
        )
    locations = [(loc.id, "scope2", loc.zone) for loc in facilities] + [
        (loc.id, "scope3_cat1", loc.zone) for loc in clouds
    ]
    phases = ["training", "fine_tuning", "inference", "inference"]
    tiers = ["measured", "metered", "modelled"]

    # Each model runs every day in one or two places and phases; record counts are drawn so
    # their sum is `records`.
    plan = []
    for day_index in range(DAYS):
        day = start + timedelta(days=day_index)
        for team, model in models:
            for _ in range(rng.choice((2, 3, 3, 4))):
                location_id, scope, _zone = rng.choice(locations)
                plan.append((day, team.id, model.id, location_id, scope))
    per_row = records / len(plan)
    rollup_count = 0

    def rollups():
        nonlocal rollup_count
        for day, team_id, model_id, location_id, scope in plan:
            count = max(1, int(rng.expovariate(1 / per_row)))
            phase = rng.choice(phases)
            tier = rng.choice(tiers)
            it_kwh = count * rng.uniform(5, 60)
            facility = it_kwh * 1.3
            location_kg = facility * rng.uniform(0.03, 0.4)
            market_kg = location_kg * rng.uniform(0.2, 1.6) if scope == "scope2" else None
            inferences = count * rng.randint(50_000, 200_000) if phase == "inference" else 0
            # The whole footprint as the pipeline fills it: on-site water where a WUE or a
            # measurement exists (most rows), embodied where a device row is cited, and energy
            # cost in the facility's currency (cloud rows: the bill's).
            water_l = it_kwh * rng.uniform(0.2, 1.8) if rng.random() < 0.9 else None
            embodied_kg = count * rng.uniform(0.05, 0.4) if rng.random() < 0.8 else None
            currency = "USD" if scope == "scope3_cat1" else "EUR"
            rollup_count += count
            yield (
                organisation.id,
                day,
                team_id,
                model_id,
                location_id,
                "workload",
                phase,
                tier,
                scope,
                count,
                it_kwh,
                facility,
                location_kg,
                market_kg,
                inferences,
                inferences * 400,
                water_l,
                count if water_l is not None else 0,
                embodied_kg,
                facility * rng.uniform(0.08, 0.25),
                currency,
            )

    rows = _copy(
        "inventory_dailyrollup",
        [
            "organisation_id",
            "day",
            "team_id",
            "ai_model_id",
            "location_id",
            "record_kind",
            "phase",
            "energy_tier",
            "scope",
            "record_count",
            "it_kwh",
            "facility_kwh",
            "location_kg",
            "market_kg",
            "inferences",
            "tokens",
            "water_onsite_l",
            "water_record_count",
            "embodied_kg",
            "energy_cost",
            "energy_cost_currency",
        ],
        rollups(),
    )
    monthly_rollups_refresh(organisation_id=organisation.id)

    # Raw records behind the rollups, spread over every day of the plan (pages that read
    # records, such as hardware used and the data page, must find theirs among all of them).
    now = datetime.now(UTC)

    def raw_records():
        for i in range(raw_records_wanted):
            day, team_id, model_id, location_id, scope = plan[len(plan) - 1 - i % len(plan)]
            started = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
            status = "pending" if i % 997 == 0 else "failed" if i % 4999 == 0 else "computed"
            yield (
                organisation.id,
                batch.id,
                f"job-{i}",
                "0" * 64,
                team_id,
                model_id,
                "training",
                started,
                started + timedelta(hours=4),
                14400.0,
                day,
                location_id,
                rng.choice(hardware) if hardware else None,
                8,
                False,
                "{}",
                now,
                status,
                "modelled",
                scope,
                40.0,
                48.0,
                10.0,
                "2026.1",
                "No grid factor for zone XX" if status == "failed" else "",
                "",  # no cost of its own sent
                "EUR" if status == "computed" else "",
                48.0 * 0.15 if status == "computed" else None,
            )

    raw = _copy(
        "inventory_workloadrecord",
        [
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
            "hardware_id",
            "device_count",
            "energy_includes_pue",
            "tags",
            "created_at",
            "status",
            "energy_tier",
            "scope",
            "it_kwh",
            "facility_kwh",
            "location_kg",
            "methodology_version",
            "compute_error",
            "currency",
            "energy_cost_currency",
            "energy_cost",
        ],
        raw_records(),
    )
    IngestBatch.objects.filter(pk=batch.pk).update(received=raw, created=raw)
    BatchComputation.objects.create(batch=batch, records=raw)  # computed, as the pipeline leaves it

    def allocations():
        month = start.replace(day=1)
        while month <= today:
            for zone in {z for _, s, z in locations if s == "scope2"}:
                yield (organisation.id, zone, month, "residual_mix", None, 8e5, 0.3, 2.4e5, now)
                if zone == zones[0]:
                    yield (organisation.id, zone, month, "instrument", None, 2e5, 0.0, 0.0, now)
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)

    _copy(
        "inventory_marketallocation",
        [
            "organisation_id",
            "zone",
            "month",
            "basis",
            "instrument_id",
            "kwh",
            "kg_per_kwh",
            "kg",
            "methodology_version",
            "computed_at",
        ],
        ((*row[:8], "2026.1", row[8]) for row in allocations()),
    )
    return {"rollup_rows": rows, "records": rollup_count, "raw_records": raw}


def seed(records: int, reseed: bool) -> dict:
    from django.db import connection

    from accounts.models import Organisation

    if reseed:
        Organisation.objects.filter(slug__startswith="bench-").delete()
    if Organisation.objects.filter(slug="bench-0").exists():
        return json.loads((ROOT / "bench/results/pages-dataset.json").read_text())
    rng = random.Random(20261122)
    started = time.perf_counter()
    # The measured organisation holds every record raw; the others a sample of theirs.
    sizes = [
        seed_organisation(f"bench-{i}", records, records if i == 0 else records // 20, rng)
        for i in range(ORGANISATIONS)
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    dataset = {
        "organisations": ORGANISATIONS,
        "measured_organisation": {
            **sizes[0],
            "teams": TEAMS,
            "models": TEAMS * MODELS_PER_TEAM,
            "days": DAYS,
        },
        "all_rollup_rows": sum(s["rollup_rows"] for s in sizes),
        "seed_seconds": round(time.perf_counter() - started, 1),
    }
    (ROOT / "bench/results").mkdir(exist_ok=True)
    (ROOT / "bench/results/pages-dataset.json").write_text(json.dumps(dataset, indent=2) + "\n")
    return dataset


def measure(runs: int, warmup: int) -> list[dict]:
    from accounts.models import Team
    from inventory.models import AiModel

    team = Team.objects.get(organisation__slug="bench-0", slug="team-01")
    model = AiModel.objects.get(organisation__slug="bench-0", name="model-01-0")
    pages = [
        ("overview", "/"),
        ("overview, one quarter", "/?period=" + _last_quarter_key()),
        ("overview, filtered by team", f"/?team={team.id}"),
        ("overview, scope 2 only", "/?scope=scope2"),
        ("overview, trend CSV", "/?download=trend-scope2"),
        ("team page", f"/teams/{team.slug}/"),
        ("model page", f"/models/{model.id}/"),
        ("data page", "/data/"),
        ("settings: teams and members", "/settings/teams/"),
        ("settings: facilities", "/settings/facilities/"),
        ("factor library", "/factors/"),
    ]
    return timing.timed_as_admin_and_engineer(pages, "page", runs, warmup)


def _last_quarter_key() -> str:
    today = date.today()
    number = (today.month - 1) // 3 + 1
    year, number = (today.year - 1, 4) if number == 1 else (today.year, number - 1)
    return f"{year}-q{number}"


def main() -> None:
    args = timing.bench_arguments(__doc__.split("\n\n")[0], runs=30, warmup=3)
    setup_django()
    dataset = seed(args.records, args.reseed)
    results = measure(args.runs, args.warmup)
    print(
        f"dataset: {dataset['measured_organisation']['records']:,} records in "
        f"{dataset['measured_organisation']['rollup_rows']:,} rollup rows "
        f"({dataset['all_rollup_rows']:,} rows across {dataset['organisations']} organisations)"
    )
    print(f"{'page':32} {'role':9} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        flag = "" if r["p95_ms"] < TARGET_MS else f"  over {TARGET_MS:.0f} ms"
        print(f"{r['page']:32} {r['role']:9} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f}{flag}")
    from django.db import connection

    out = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "database": connection.vendor,
        "target_p95_ms": TARGET_MS,
        "dataset": dataset,
        "pages": results,
        "all_under_target": all(r["p95_ms"] < TARGET_MS for r in results),
    }
    (ROOT / "bench/results/pages.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
