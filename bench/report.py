"""Benchmark: the Scope 2 report of a large quarter (JSON < 1 s, audit PDF < 15 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench_report \\
        .venv/bin/python bench/report.py [--records 5000000]

Builds, for a new organisation with 100 teams and 1,000 models, the 2026 Q1 daily rollups
that 5M computed workload records would give (COPY on Postgres), in the shape the pipeline
writes them: per day × team × model × location × phase × tier, Scope 2 in three facilities
(FR, DE, PL) and public cloud in two regions, plus the market-based allocation per zone ×
month (an EAC and a PPA first, the residual mix for the rest) and market_kg pro rata on every
Scope 2 rollup. The raw records themselves are not generated: the report reads only rollups
and allocations (an input hash over 5M records is the lock's cost, not the report's).

Times: the report JSON through the API (cold and warm), locking the quarter, and the audit
PDF of the locked version (kaleido + WeasyPrint, every breakdown line included). Prints the
figures and writes bench/results/report.json.
"""

import argparse
import json
import os
import platform
import random
import secrets
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/greenai_bench_report")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

QUARTER_START, QUARTER_END = date(2026, 1, 1), date(2026, 4, 1)
FACILITIES = (
    ("bench-paris", "FR", 1.2),
    ("bench-frankfurt", "DE", 1.3),
    ("bench-warsaw", "PL", 1.4),
)
CLOUD_REGIONS = ("aws:eu-west-3", "gcp:europe-west1")
GRID_KG = {"FR": 0.05, "DE": 0.38, "PL": 0.7}
RESIDUAL_KG = {"FR": 0.06, "DE": 0.55, "PL": 0.8}
ROLLUP_COLUMNS = (
    "organisation_id, day, team_id, ai_model_id, location_id, record_kind, phase, "
    "energy_tier, scope, record_count, it_kwh, facility_kwh, location_kg, market_kg, "
    "inferences, tokens"
)


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_factors", verbosity=0)


def build(records: int, seed: int = 7) -> dict:
    """The organisation, its 100 teams and 1,000 models, rollups and allocations."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Team
    from accounts.services import member_add, organisation_create
    from inventory.models import AiModel, ContractualInstrument, Location, MarketAllocation

    rng = random.Random(seed)
    slug = f"bench-report-{int(time.time())}"
    organisation = organisation_create(name=f"Bench {slug}", slug=slug)
    teams = Team.objects.bulk_create(
        [
            Team(organisation=organisation, name=f"Team {i:03d}", slug=f"team-{i:03d}")
            for i in range(100)
        ]
    )
    models = AiModel.objects.bulk_create(
        [AiModel(organisation=organisation, name=f"model-{i:04d}") for i in range(1000)]
    )
    facilities = [
        Location.objects.create(
            organisation=organisation, code=code, name=code, kind="owned", zone=zone, pue=pue
        )
        for code, zone, pue in FACILITIES
    ]
    clouds = list(Location.objects.filter(organisation__isnull=True, code__in=CLOUD_REGIONS))
    member = member_add(
        organisation=organisation,
        username=f"{slug}-esg",
        password=secrets.token_urlsafe(16),
        role="esg_officer",
    )

    days = [QUARTER_START + timedelta(d) for d in range((QUARTER_END - QUARTER_START).days)]
    rows = []
    for index, model in enumerate(models):
        team = teams[index // 10]
        facility = facilities[index % 3]
        for day in days:
            # Training in the model's facility, serving there too; every fifth model also
            # serves from a cloud region (Scope 3 cat. 1).
            rows.append((day, team.id, model.id, facility, "training", "measured", "scope2"))
            rows.append((day, team.id, model.id, facility, "inference", "metered", "scope2"))
            if index % 5 == 0 and clouds:
                cloud = clouds[index % len(clouds)]
                rows.append((day, team.id, model.id, cloud, "inference", "modelled", "scope3_cat1"))
    per_row, extra = divmod(records, len(rows))
    zone_month_kwh: dict[tuple[str, date], float] = defaultdict(float)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY inventory_dailyrollup ({ROLLUP_COLUMNS}) FROM STDIN"
        ) as copy:
            for n, (day, team_id, model_id, location, phase, tier, scope) in enumerate(rows):
                count = per_row + (1 if n < extra else 0)
                it_kwh = count * rng.uniform(2.0, 40.0)
                facility_kwh = it_kwh * (location.pue or 1.135)
                zone = location.zone
                kg = facility_kwh * GRID_KG.get(zone, 0.3)
                inferences = count * 2000 if phase == "inference" else 0
                if scope == "scope2":
                    zone_month_kwh[(zone, day.replace(day=1))] += facility_kwh
                copy.write_row(
                    (
                        organisation.id,
                        day,
                        team_id,
                        model_id,
                        location.id,
                        "workload",
                        phase,
                        tier,
                        scope,
                        count,
                        it_kwh,
                        facility_kwh,
                        kg,
                        None if scope == "scope2" else kg,
                        inferences,
                        inferences * 400,
                    )
                )
        copy_seconds = time.perf_counter() - started

        instruments = [
            ContractualInstrument.objects.create(
                organisation=organisation,
                kind=kind,
                zone=zone,
                valid_from=QUARTER_START,
                valid_to=date(2026, 12, 31),
                mwh=mwh,
                kg_per_kwh=0.0,
                reference=ref,
            )
            for kind, zone, mwh, ref in (
                ("eac", "FR", 2000.0, "GO-BENCH-FR"),
                ("ppa", "DE", 1500.0, "PPA-BENCH-DE"),
            )
        ]
        allocations, market_by_zone_month = [], {}
        left = {i.id: i.mwh * 1000.0 for i in instruments}
        now = timezone.now()
        for (zone, month), kwh in sorted(zone_month_kwh.items()):
            kg = 0.0
            remaining = kwh
            for instrument in instruments:
                if instrument.zone != zone or not remaining:
                    continue
                covered = min(left[instrument.id], remaining)
                left[instrument.id] -= covered
                remaining -= covered
                if covered:
                    allocations.append(
                        MarketAllocation(
                            organisation=organisation,
                            zone=zone,
                            month=month,
                            basis="instrument",
                            instrument=instrument,
                            kwh=covered,
                            kg_per_kwh=0.0,
                            kg=0.0,
                            methodology_version="2026.1",
                            computed_at=now,
                        )
                    )
            if remaining:
                residual = remaining * RESIDUAL_KG[zone]
                kg += residual
                allocations.append(
                    MarketAllocation(
                        organisation=organisation,
                        zone=zone,
                        month=month,
                        basis="residual_mix",
                        kwh=remaining,
                        kg_per_kwh=RESIDUAL_KG[zone],
                        kg=residual,
                        methodology_version="2026.1",
                        computed_at=now,
                    )
                )
            market_by_zone_month[(zone, month)] = kg / kwh
        MarketAllocation.objects.bulk_create(allocations)
        # market_kg pro rata, as the pipeline shares a zone-month's kg out to its rollups.
        for (zone, month), kg_per_kwh in market_by_zone_month.items():
            cursor.execute(
                """UPDATE inventory_dailyrollup r SET market_kg = r.facility_kwh * %s
                   FROM inventory_location l
                   WHERE r.location_id = l.id AND l.zone = %s AND r.organisation_id = %s
                     AND r.scope = 'scope2' AND r.day >= %s AND r.day < %s""",
                [kg_per_kwh, zone, organisation.id, month, _next_month(month)],
            )
        cursor.execute("ANALYZE inventory_dailyrollup")
    return {
        "organisation": organisation,
        "member": member,
        "rollup_rows": len(rows),
        "records": records,
        "copy_seconds": copy_seconds,
        "allocations": len(allocations),
    }


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def timed(function, repeat: int = 1) -> list[float]:
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        spent.append(time.perf_counter() - started)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    args = parser.parse_args()
    setup()

    from django.test import Client

    from accounts.principal import principal_for_membership
    from reports.models import ReportExport
    from reports.services import report_export_build, report_lock

    started = time.perf_counter()
    built = build(args.records)
    build_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(built["member"].user)
    url = "/api/v1/reports/scope2/?year=2026&quarter=1"

    def report_json():
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        report_json.body = response.json()

    json_times = timed(report_json, repeat=5)
    body = report_json.body
    principal = principal_for_membership(built["member"])
    lock_seconds = timed(
        lambda: report_lock(principal=principal, year=2026, quarter=1, user=built["member"].user)
    )[0]
    locked_json = timed(report_json, repeat=3)
    export = ReportExport.objects.create(
        organisation=built["organisation"],
        year=2026,
        quarter=1,
        report_version=built["organisation"].report_versions.get(),
    )
    pdf_seconds = timed(lambda: report_export_build(export_id=export.id))[0]
    export.refresh_from_db()

    result = {
        "benchmark": "bench/report.py",
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "database": "postgres",
        "organisation": {"teams": 100, "models": 1000, "records_represented": built["records"]},
        "rollup_rows": built["rollup_rows"],
        "market_allocations": built["allocations"],
        "raw_records_generated": False,
        "build_seconds": round(build_seconds, 2),
        "copy_seconds": round(built["copy_seconds"], 2),
        "report_json_seconds": {
            "first": round(json_times[0], 3),
            "median": round(sorted(json_times)[len(json_times) // 2], 3),
            "target": 1.0,
        },
        "report_json_bytes": len(json.dumps(body)),
        "lock_seconds": round(lock_seconds, 3),
        "locked_report_json_median_seconds": round(sorted(locked_json)[1], 3),
        "pdf_seconds": round(pdf_seconds, 2),
        "pdf_target_seconds": 15.0,
        "pdf_bytes": export.pdf_bytes,
        "scope2": {k: body["scope2"][k] for k in ("record_count", "mwh", "location_t", "market_t")},
        "breakdown_lines": {k: len(v) for k, v in body["breakdowns"].items()},
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
