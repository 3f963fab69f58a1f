"""Wall time of in-process Django requests, shared by the page, action and record benches."""

import argparse
import statistics
import time


def timed_gets(client, path: str, runs: int, warmup: int) -> list[float]:
    """Milliseconds of `runs` GETs of `path`, sorted, after `warmup` untimed ones.

    Every answer, warm-up included, must be a 200.
    """
    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000.0)
        assert response.status_code == 200, (path, response.status_code)
    return sorted(timings)


def percentiles(timings: list[float]) -> dict:
    """p50 and p95 (nearest rank, rounded down) of sorted timings, in ms to one decimal."""
    return {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
    }


def signed_in(username: str):
    """A Django test client with `username` logged in."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def timed_as_admin_and_engineer(
    named_paths: list[tuple[str, str]], label: str, runs: int, warmup: int
) -> list[dict]:
    """Timings of each (name, path) as bench-0's admin and as its engineer limited to two teams."""
    results = []
    for role in ("admin", "engineer"):
        client = signed_in(f"bench-0-{role}")
        for name, path in named_paths:
            timings = timed_gets(client, path, runs, warmup)
            results.append(
                {label: name, "path": path, "role": role, "runs": runs}
                | percentiles(timings)
                | {"max_ms": round(timings[-1], 1)}
            )
    return results


def bench_arguments(description: str, runs: int, warmup: int) -> argparse.Namespace:
    """The command line the request benches share: dataset size, timed and warm-up runs, reseed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--reseed", action="store_true")
    return parser.parse_args()
