"""Fault suite: the real service (gunicorn, Celery worker with beat, Redis, Postgres), broken on
purpose while it ingests, and checked afterwards: every record stored once, every record
computed, record totals and daily rollups equal to the exact expected figures, no partial batch.

Runs on this suite's own Redis and Postgres cluster (tests/hardening/stack.py); never stops
the shared ones. Slow (a few minutes): `make test-faults` (GREENAI_RUN_FAULTS=1); every
scenario prints what it did and what it checked (the target runs pytest with -s).

Records are measured energy at lab-paris (FR grid, PUE 1.2): each one is 1.2 kWh facility, so
N records must total exactly N × 1.2 kWh, and the rollups the same.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import requests

from tests.conftest import needs_services
from tests.hardening.stack import (
    HEALTH_TOKEN,
    Postgres,
    Redis,
    Stack,
    Totals,
    free_port,
    say,
    totals,
    wait_for_computed,
    wait_until,
)

pytestmark = [pytest.mark.services, pytest.mark.faults]

KWH_PER_RECORD = 1.0
PUE = 1.2
COMPUTE_TIMEOUT = 180.0
ORGANISATIONS = ("dup", "redis", "kill", "pg")


@pytest.fixture(scope="module")
def stack():
    needs_services()
    say("starting this suite's own Postgres, Redis, gunicorn and Celery worker (with beat)")
    postgres = Postgres(port=free_port())
    redis = Redis(port=free_port())
    service = Stack(postgres=postgres, redis=redis)
    try:
        postgres.start()
        where = f"own cluster on port {postgres.port}" if postgres.own_cluster else None
        say(f"Postgres: {where or postgres.why_not}")
        redis.start()
        service.organisations = service.prepare(*ORGANISATIONS)
        service.start_web()
        service.start_worker()
        service.supervise()
        say(f"web {service.base_url}, Redis :{redis.port}, database {postgres.url()}")
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def db(stack):
    conn = stack.postgres.connect()
    yield conn
    conn.close()


def batch(prefix: str, number: int, size: int, month: date) -> list[dict]:
    """`size` measured records of 1 kWh, spread over the days of `month`."""
    records = []
    for i in range(size):
        day = month + timedelta(days=(number * size + i) % 28)
        start = f"{day.isoformat()}T{i % 24:02d}:00:00Z"
        end = f"{day.isoformat()}T{i % 24:02d}:30:00Z"
        records.append(
            {
                "external_id": f"{prefix}-{number}-{i}",
                "team": "research",
                "model": f"{prefix}-model",
                "phase": "training",
                "started_at": start,
                "ended_at": end,
                "location": "lab-paris",
                "energy_kwh": KWH_PER_RECORD,
            }
        )
    return records


def post(stack: Stack, key: str, records: list[dict], timeout: float = 60) -> requests.Response:
    return requests.post(
        stack.base_url + "/api/v1/workloads/",
        json=records,
        headers={"Authorization": f"Token {key}"},
        timeout=timeout,
    )


def assert_exact(found: Totals, expected: int, what: str) -> None:
    say(
        f"{what}: {found.records} records ({found.distinct_ids} distinct ids), "
        f"{found.computed} computed, {found.pending} pending, {found.failed} failed; "
        f"{found.facility_kwh:.6f} kWh in records, {found.rollup_facility_kwh:.6f} kWh and "
        f"{found.rollup_records} records in rollups; {found.batches_short} partial batches"
    )
    assert found.records == found.distinct_ids == expected, "records lost or doubled"
    assert found.computed == expected and found.pending == 0 and found.failed == 0
    assert found.batches_claimed == expected and found.batches_short == 0, "partial batch"
    assert found.facility_kwh == pytest.approx(expected * KWH_PER_RECORD * PUE, rel=1e-12)
    assert found.rollup_records == expected
    assert found.rollup_facility_kwh == pytest.approx(found.facility_kwh, rel=1e-12)
    assert found.rollup_location_kg == pytest.approx(found.location_kg, rel=1e-12)
    assert found.location_kg > 0
    kwh = expected * KWH_PER_RECORD * PUE
    say(f"checked: exactly {expected} records, {kwh:g} kWh, rollups equal")


def test_duplicate_delivery_of_every_batch_counts_each_record_once(stack, db):
    org = stack.organisations["dup"]
    batches = [batch("dup", n, 500, date(2026, 1, 1)) for n in range(8)]
    expected = sum(len(b) for b in batches)
    say(f"sending {len(batches)} batches of 500 records, each one twice at once (two threads)")
    with ThreadPoolExecutor(max_workers=4) as pool:
        pairs = [
            (pool.submit(post, stack, org["key"], b), pool.submit(post, stack, org["key"], b))
            for b in batches
        ]
        results = [(a.result(), b.result()) for a, b in pairs]
    batch_ids = []
    for first, second in results:
        assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
        created = first.json()["created"] + second.json()["created"]
        assert created == 500, "a record of a doubly sent batch was stored twice or not at all"
        batch_ids += [first.json()["batch_id"], second.json()["batch_id"]]
    say("sending every batch a third time, one after the other: all answered 200, 0 created")
    for records in batches:
        response = post(stack, org["key"], records)
        assert response.status_code == 200 and response.json()["created"] == 0
        assert response.json()["duplicates"] == 500
    say(f"delivering the compute task of each of {len(batch_ids)} batches twice more")
    from celery import Celery

    broker = Celery(broker=stack.redis.url)
    for batch_id in batch_ids:
        for _ in range(2):
            broker.send_task("inventory.tasks.compute_batch", args=[batch_id])
    assert_exact(
        wait_for_computed(db, org["organisation_id"], expected, COMPUTE_TIMEOUT),
        expected,
        "after duplicate deliveries",
    )


def test_ingestion_keeps_answering_while_redis_is_down_and_the_sweep_computes_it(stack, db):
    org = stack.organisations["redis"]
    month = date(2026, 2, 1)
    before = [batch("redis-up", n, 500, month) for n in range(2)]
    during = [batch("redis-down", n, 500, month) for n in range(6)]
    expected = sum(len(b) for b in before + during)
    for records in before:
        assert post(stack, org["key"], records).status_code == 201
    say("stopping Redis (the broker) in the middle of ingestion")
    stack.redis.stop()
    latencies = []
    for records in during:
        started = time.monotonic()
        response = post(stack, org["key"], records)
        latencies.append(time.monotonic() - started)
        assert response.status_code == 201, response.text[:300]
    say(
        f"{len(during)} batches accepted with Redis down: 201 each, slowest "
        f"{max(latencies):.2f} s, mean {sum(latencies) / len(latencies):.2f} s"
    )
    assert max(latencies) < 5.0, "a request waited on the dead broker"
    health = requests.get(
        stack.base_url + "/health/",
        headers={"Authorization": f"Bearer {HEALTH_TOKEN}"},
        timeout=10,
    )
    broker_ok = health.json()["checks"]["broker"]["ok"]
    say(f"/health/ with Redis down: {health.status_code}, broker ok={broker_ok}")
    assert health.status_code == 503 and not broker_ok
    pending = totals(db, org["organisation_id"]).pending
    say(f"{pending} records pending while the broker is down (stored, not yet computed)")
    assert pending > 0
    say("restarting Redis; the beat sweep must compute what was not queued")
    restarts_before = len(stack.worker_restarts)
    stack.redis.start()
    assert_exact(
        wait_for_computed(db, org["organisation_id"], expected, COMPUTE_TIMEOUT),
        expected,
        "after the Redis outage",
    )
    assert wait_until(
        lambda: requests.get(stack.base_url + "/health/", timeout=10).status_code == 200, 60
    ), "/health/ did not recover"
    say("checked: /health/ answers 200 again")
    for cause in stack.worker_restarts[restarts_before:]:
        say(
            "note: the worker exited during the outage and was started again, as "
            f"docker-compose's restart policy does; its last error: {cause.strip()[:200]}"
        )


def _compute_in_progress(db, organisation_id: int) -> str | None:
    """The query of a worker transaction computing this organisation's records, if any."""
    row = db.execute(
        r"""SELECT regexp_replace(left(query, 300), '\s+', ' ', 'g') FROM pg_stat_activity
           WHERE pid <> pg_backend_pid() AND datname = current_database()
             AND state = 'active' AND xact_start IS NOT NULL
             AND (query ILIKE '%%UPDATE%%inventory_workloadrecord%%'
                  OR (query ILIKE 'WITH%%' AND query ILIKE '%%inventory_workloadrecord%%'))
           LIMIT 1"""
    ).fetchone()
    return row[0][:120] if row else None


def test_a_worker_killed_mid_computation_loses_and_doubles_nothing(stack, db):
    org = stack.organisations["kill"]
    organisation_id = org["organisation_id"]
    batches = [batch("kill", n, 2000, date(2026, 3 + n % 2, 1)) for n in range(10)]
    expected = sum(len(b) for b in batches)
    say("stopping the worker, queueing 10 batches of 2000 records over two months")
    with stack.unsupervised():
        stack.worker.stop()
        for records in batches:
            assert post(stack, org["key"], records).status_code == 201
        say(
            "starting the worker; killing it inside a compute statement once some batches "
            "are committed"
        )
        stack.start_worker()
        seen = None
        deadline = time.monotonic() + 120
        while seen is None and time.monotonic() < deadline:
            seen = _compute_in_progress(db, organisation_id)
            if seen is not None and totals(db, organisation_id).computed == 0:
                seen = None  # not yet: first let a batch commit
            if seen is None:
                time.sleep(0.005)
        assert seen, "the worker never started computing"
        stack.worker.kill()
        at_kill = totals(db, organisation_id)
    say(f"SIGKILLed the worker (all its processes) during: {seen!r}")
    say(f"at the kill: {at_kill.computed} computed, {at_kill.pending} pending")
    # A window is one transaction: what was committed is whole, the rest rolled back.
    assert at_kill.pending > 0, "the computation finished before the kill"
    assert at_kill.rollup_records == at_kill.computed
    assert at_kill.rollup_facility_kwh == pytest.approx(at_kill.facility_kwh, rel=1e-12)
    say("checked: rollups equal the committed records (no half-computed window)")
    say("restarting the worker; the sweep finds the records of the lost task")
    stack.start_worker()
    assert_exact(
        wait_for_computed(db, organisation_id, expected, COMPUTE_TIMEOUT),
        expected,
        "after the worker was killed",
    )


def test_postgres_restarted_during_bulk_requests_gives_a_clear_503_and_retries_store_once(
    stack,
):
    if not stack.postgres.own_cluster:
        pytest.skip(f"Postgres restart scenario skipped: {stack.postgres.why_not}")
    org = stack.organisations["pg"]
    batches = [batch("pg", n, 2000, date(2026, 5, 1)) for n in range(12)]
    expected = sum(len(b) for b in batches)
    in_flight = threading.Event()
    answers: list[tuple[int, int, str, str | None]] = []  # batch, status, body, Retry-After
    errors: list[str] = []

    def client() -> None:
        for number, records in enumerate(batches):
            for _attempt in range(40):
                if number == 3:
                    in_flight.set()
                try:
                    response = post(stack, org["key"], records)
                except requests.RequestException as error:
                    errors.append(f"batch {number}: {type(error).__name__}: {error}")
                    time.sleep(0.5)
                    continue
                answers.append(
                    (number, response.status_code, response.text[:200],
                     response.headers.get("Retry-After"))
                )  # fmt: skip
                if response.status_code in (200, 201):
                    break
                retry_after = float(response.headers.get("Retry-After") or 1)
                time.sleep(min(retry_after, 1.0))  # the test waits less than told

    say("a client sends 12 batches of 2000 records, retrying on 503; Postgres restarts mid-way")
    thread = threading.Thread(target=client)
    thread.start()
    assert in_flight.wait(120), "the client never reached the fourth batch"
    time.sleep(0.05)
    started = time.monotonic()
    stack.postgres.restart()
    say(
        f"restarted Postgres (fast mode: sessions terminated) in {time.monotonic() - started:.1f} s"
    )
    thread.join(timeout=600)
    assert not thread.is_alive(), "the client did not finish"
    unavailable = [a for a in answers if a[1] == 503]
    others = [a for a in answers if a[1] not in (200, 201, 503)]
    say(
        f"answers: {sum(a[1] == 201 for a in answers)} × 201, {len(unavailable)} × 503 "
        f"(Retry-After {sorted({a[3] for a in unavailable})}), {len(others)} other, "
        f"{len(errors)} connection errors"
    )
    assert not others, f"unclear answers during the restart: {others[:3]}"
    assert not errors, f"the client could not talk to the server: {errors[:3]}"
    assert unavailable, "no request met the restart (nothing was tested)"
    for _, _, body, retry_after in unavailable:
        assert retry_after and "database" in body.lower(), body
    say("checked: every failure was a 503 with Retry-After and a message; every batch got in")
    with stack.postgres.connect() as fresh:  # the restart closed the suite's own connection
        found = wait_for_computed(fresh, org["organisation_id"], expected, COMPUTE_TIMEOUT)
    assert_exact(found, expected, "after the Postgres restart")
    assert wait_until(
        lambda: requests.get(stack.base_url + "/health/", timeout=10).status_code == 200, 60
    )
    say("checked: /health/ answers 200 again")
