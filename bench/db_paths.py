"""greenai_portal.db judged: each hot path through db.py and through the plain ORM, in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_h2_bench \\
    .venv/bin/python bench/db_paths.py [--iterations 2000] [--repeats 7]

Paths (each as the portal runs it, and as the plain Django ORM would):
- token lookup: every API call (`api_token_by_prefix`: token, organisation, team);
- CodeCarbon post, run lock: every post reads its run FOR UPDATE with team, location, model;
- CodeCarbon post, counters: every post bumps its batch's and run's counters (4 statements);
- CodeCarbon new run, row inserts: the batch and run rows of a run's first post;
- mapping lookups: a rule list and a team by id (a run's first post, imports).
Each path: `--iterations` calls per repeat, `--repeats` repeats, the median µs per call, wall
(perf_counter) and this process's CPU (process_time: Python's cost; the server's is not in it).
The machine is shared: CPU time is the steadier figure. Writes are rolled back.
Writes bench/results/db_paths.json.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "db_paths.json"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenai_portal.settings")

from bench.ingest import BENCH_SECRET_KEY, migrated_django  # noqa: E402  (the path above first)

# As production runs: DEBUG on would make Django's cursors (the ORM's) log every query, which
# db.py's prepared cursor skips, and tilt the comparison.
os.environ.update(
    DJANGO_DEBUG="false", DJANGO_SECRET_KEY=BENCH_SECRET_KEY, DJANGO_ALLOWED_HOSTS="localhost"
)

# db.py must win by this much on a path to stay there (the brief's "pays clearly").
PAYS = 1.3


class _Rollback(Exception):
    """Ends a timed block's transaction without keeping its writes."""


def timed(call: Callable[[], object], iterations: int, repeats: int, *, atomic: bool) -> dict:
    """Median µs per call over `repeats` runs of `iterations` calls (wall and CPU). With
    `atomic`, each call runs in its own transaction, rolled back, as a post's would be."""
    from django.db import transaction

    def once() -> None:
        if not atomic:
            call()
            return
        try:
            with transaction.atomic():
                call()
                raise _Rollback
        except _Rollback:
            pass

    for _ in range(min(iterations, 200)):  # warm: connection, prepared statements, caches
        once()
    wall, cpu = [], []
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(iterations):
            once()
        cpu.append((time.process_time() - cpu_start) / iterations * 1e6)
        wall.append((time.perf_counter() - wall_start) / iterations * 1e6)
    return {
        "wall_us": round(statistics.median(wall), 1),
        "cpu_us": round(statistics.median(cpu), 1),
    }


def paths(tenant: dict) -> dict[str, dict[str, Callable[[], object]]]:
    """Each path's two ways, as zero-argument calls on the bench tenant."""
    from django.db import connection
    from django.db.models import F

    from accounts.models import ApiToken, Team
    from accounts.selectors import api_token_by_prefix
    from greenai_portal.db import first_where, row_inserted
    from inventory.ingestion import codecarbon
    from inventory.ingestion.mapping import mapping_rules
    from inventory.models import (
        BatchComputation,
        CodeCarbonRun,
        IngestBatch,
        MappingSource,
        TeamMappingRule,
    )

    organisation, run, principal = tenant["organisation"], tenant["run"], tenant["principal"]
    prefix, team_id = tenant["prefix"], tenant["team_id"]
    ended_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    locked = codecarbon._locked_run(organisation_id=organisation.id, run_id=run.run_id)
    lock_of = ("self",) if connection.features.has_select_for_update_of else ()

    def orm_locked_run() -> object:
        row = (
            CodeCarbonRun.objects.select_for_update(of=lock_of)
            .select_related("team", "location", "ai_model")
            .filter(organisation_id=organisation.id, run_id=run.run_id)
            .first()
        )
        model = row.ai_model
        return codecarbon.LockedRun(
            row.id, row.run_id, row.organisation_id, row.batch_id, row.team_id, row.team.slug,
            row.location_id, row.location.code, row.ai_model_id, model.name if model else "",
            row.phase, row.experiment_id, row.duration_s, row.energy_kwh, row.emissions_kg,
            row.last_ended_at, row.posts,
        )  # fmt: skip

    def db_counters() -> None:
        codecarbon._post_counted(
            locked, created=1, duration_s=1.0, energy_kwh=0.1, emissions_kg=0.01, ended_at=ended_at
        )

    def orm_counters() -> bool:
        batch = IngestBatch.objects.filter(pk=locked.batch_id)
        batch.update(
            received=F("received") + 1, created=F("created") + 1, duplicates=F("duplicates")
        )
        CodeCarbonRun.objects.filter(pk=locked.id).update(
            duration_s=1.0, energy_kwh=0.1, emissions_kg=0.01, last_ended_at=ended_at,
            posts=F("posts") + 1,
        )  # fmt: skip
        BatchComputation.objects.filter(batch_id=locked.batch_id).delete()
        return batch.filter(compute_queued=False).update(compute_queued=True) == 1

    run_values = {
        "organisation_id": organisation.id, "mode": "http", "team_id": team_id,
        "location_id": run.location_id, "phase": "other",
    }  # fmt: skip
    counter = iter(range(10**9))

    def db_inserts() -> None:
        batch_id = row_inserted(
            IngestBatch, {"organisation_id": organisation.id, "source": "codecarbon"}
        )
        row_inserted(
            CodeCarbonRun, {**run_values, "run_id": f"db-{next(counter)}", "batch_id": batch_id}
        )

    def orm_inserts() -> None:
        batch = IngestBatch.objects.create(organisation_id=organisation.id, source="codecarbon")
        CodeCarbonRun.objects.create(**run_values, run_id=f"orm-{next(counter)}", batch=batch)

    def orm_rules() -> list:
        rules = TeamMappingRule.objects.filter(
            organisation_id=organisation.id, source__in=["aws", MappingSource.ANY]
        ).order_by("priority", "id")
        return list(rules)

    return {
        "token_lookup": {
            "db": lambda: api_token_by_prefix(prefix=prefix),
            "orm": lambda: (
                ApiToken.objects.select_related("organisation", "team")
                .filter(prefix=prefix)
                .first()
            ),
        },
        "codecarbon_post_run_lock": {
            "db": lambda: codecarbon._locked_run(
                organisation_id=organisation.id, run_id=run.run_id
            ),
            "orm": orm_locked_run,
        },
        "codecarbon_post_counters": {"db": db_counters, "orm": orm_counters},
        "codecarbon_new_run_inserts": {"db": db_inserts, "orm": orm_inserts},
        "mapping_rule_list": {
            "db": lambda: mapping_rules(principal=principal, source="aws"),
            "orm": orm_rules,
        },
        "team_by_id": {
            "db": lambda: first_where(Team, "id = %s", [team_id]),
            "orm": lambda: Team.objects.filter(id=team_id).order_by("id").first(),
        },
    }


WRITES = {"codecarbon_post_run_lock", "codecarbon_post_counters", "codecarbon_new_run_inserts"}


def bench_tenant() -> dict:
    """An organisation with two teams, a facility, a token, four mapping rules and a run."""
    from accounts.principal import principal_for_token
    from accounts.selectors import api_token_by_prefix
    from accounts.services import api_token_create, organisation_create, team_create
    from inventory.models import CodeCarbonRun, IngestBatch, Location, TeamMappingRule

    slug = f"db-bench-{int(time.time())}"
    organisation = organisation_create(name=f"Bench {slug}", slug=slug)
    teams = [team_create(organisation=organisation, name=s.title(), slug=s) for s in ("a", "b")]
    location = Location.objects.create(
        organisation=organisation, code="bench-dc", kind="owned", zone="FR", pue=1.2
    )
    token, _ = api_token_create(
        organisation=organisation, name="b", scopes=["ingest"], team=teams[0]
    )
    for priority, source in enumerate(("aws", "any", "gcp", "aws")):
        TeamMappingRule.objects.create(
            organisation=organisation, source=source, key="account", value=str(priority),
            team=teams[priority % 2], priority=priority,
        )  # fmt: skip
    batch = IngestBatch.objects.create(organisation=organisation, source="codecarbon")
    run = CodeCarbonRun.objects.create(
        organisation=organisation, run_id="bench-run", mode="http", batch=batch, team=teams[0],
        location=location,
    )  # fmt: skip
    return {
        "organisation": organisation,
        "run": run,
        "prefix": token.prefix,
        "team_id": teams[0].id,
        "principal": principal_for_token(api_token_by_prefix(prefix=token.prefix)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    migrated_django()
    tenant = bench_tenant()
    results = {}
    for name, ways in paths(tenant).items():
        atomic = name in WRITES
        db = timed(ways["db"], args.iterations, args.repeats, atomic=atomic)
        orm = timed(ways["orm"], args.iterations, args.repeats, atomic=atomic)
        ratio = {unit: round(orm[f"{unit}_us"] / db[f"{unit}_us"], 2) for unit in ("wall", "cpu")}
        results[name] = {"db": db, "orm": orm, "orm_over_db": ratio, "pays": ratio["cpu"] > PAYS}
        print(
            f"{name:28} db {db['wall_us']:8.1f} µs wall {db['cpu_us']:8.1f} µs cpu | "
            f"orm {orm['wall_us']:8.1f} µs wall {orm['cpu_us']:8.1f} µs cpu | "
            f"orm/db {ratio['wall']:.2f}× wall {ratio['cpu']:.2f}× cpu"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_average": os.getloadavg(),
        "iterations": args.iterations,
        "repeats": args.repeats,
        "pays_above": PAYS,
        "paths": results,
    }
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
