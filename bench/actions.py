"""Answer time of the action views over a 5M-record organisation: a base model beside its
variant, and a what-if of a team's quarter at every location (issue 21: under 1 s each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/greenai_bench .venv/bin/python bench/actions.py

Uses bench/pages.py's organisation (built once, --reseed to rebuild: 5M workload records over
two years, 12 teams, 60 models, 4 facilities and 4 cloud regions, two neighbours of the same
size). Declares one of its models a quantised variant of another, then requests each API
through the whole Django stack as an admin and as an engineer limited to two teams; after
warm-up runs prints p50 and p95 and writes bench/results/actions.json.
"""

import json
import os
import platform
from datetime import date

import pages  # bench/pages.py: the dataset and Django set-up
import timing

TARGET_MS = 1000.0


def _last_quarter() -> tuple[date, date]:
    today = date.today()
    number = (today.month - 1) // 3 + 1
    year, number = (today.year - 1, 4) if number == 1 else (today.year, number - 1)
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return start, end


def measure(runs: int, warmup: int) -> list[dict]:
    from inventory.model_variants import model_variant_set
    from inventory.models import AiModel

    models = {m.name: m for m in AiModel.objects.filter(organisation__slug="bench-0")}
    base, variant = models["model-01-0"], models["model-01-1"]
    model_variant_set(model=variant, base_model=base, technique="quantisation", precision="int8")
    start, end = _last_quarter()
    period = f"start={start}&end={end}"
    calls = [
        (
            "variant comparison, a quarter",
            f"/api/v1/models/{base.id}/variants/comparison/?{period}",
        ),
        ("what-if of a team, a quarter", f"/api/v1/what-if/?team=team-01&{period}"),
        ("what-if of a model, a quarter", f"/api/v1/what-if/?model={base.id}&{period}"),
    ]
    calls[0] = (calls[0][0], f"{calls[0][1]}?{period}")
    return timing.timed_as_admin_and_engineer(calls, "call", runs, warmup)


def main() -> None:
    args = timing.bench_arguments(__doc__.split("\n\n")[0], runs=20, warmup=3)
    pages.setup_django()
    dataset = pages.seed(args.records, args.reseed)
    results = measure(args.runs, args.warmup)
    for row in results:
        flag = "ok" if row["p95_ms"] < TARGET_MS else "SLOW"
        times = f"p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms"
        print(f"{row['role']:9} {row['call']:32} {times}  {flag}")
    out = pages.ROOT / "bench/results/actions.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "dataset": dataset,
                "target_p95_ms": TARGET_MS,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
