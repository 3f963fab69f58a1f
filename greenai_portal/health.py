"""GET /health/: database, broker and worker status and the computation backlog, as JSON.

200 when the database, the broker and at least one worker answer; 503 otherwise (the body
still says which part failed). With eager Celery (no REDIS_URL) there is no broker or worker
to ask: both report "eager". Public and cheap: no tenant data, only counts.
"""

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Celery's default queue: a Redis list of that name holds the waiting messages.
QUEUE = "celery"


def _timed(check) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = check()
    except Exception as error:  # a health check reports every failure, whatever it is
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _backlog() -> dict[str, Any]:
    from inventory.models import CloudUsageRecord, RecalculationJob, WorkloadRecord
    from inventory.pipeline import batches_waiting

    # Records have no index on their status: count the pending ones of the batches waiting
    # (by the batch index) and what running recalculations have left.
    waiting = batches_waiting()
    pending = {
        "workload": WorkloadRecord.objects.filter(batch_id__in=waiting, status="pending").count(),
        "cloud_usage": CloudUsageRecord.objects.filter(
            batch_id__in=waiting, status="pending"
        ).count(),
    }
    jobs = RecalculationJob.objects.filter(status__in=["queued", "running"])
    recalculating = sum(job.total_records - job.processed_records for job in jobs)
    return {
        "ok": True,
        "batches_waiting": len(waiting),
        "pending_records": sum(pending.values()) + recalculating,
        "pending_by_kind": {**pending, "recalculation": recalculating},
        "recalculations_running": len(jobs),
    }


def _eager() -> bool:
    return settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory")


def _broker() -> dict[str, Any]:
    if _eager():
        return {"ok": True, "mode": "eager"}
    import redis

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
        return {"ok": True, "queue": QUEUE, "queue_length": client.llen(QUEUE)}
    finally:
        client.close()


def _workers() -> dict[str, Any]:
    if _eager():
        return {"ok": True, "mode": "eager"}
    from greenai_portal.celery import app

    replies = app.control.ping(timeout=settings.GREENAI_HEALTH_WORKER_TIMEOUT) or []
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "workers": names}


@never_cache
@require_GET
def health(request) -> JsonResponse:
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    if checks["broker"]["ok"]:
        checks["workers"] = _timed(_workers)
    else:
        # Pinging workers goes through the broker: no point waiting on a dead one.
        checks["workers"] = {"ok": False, "error": "broker unreachable"}
    backlog = _timed(_backlog) if checks["database"]["ok"] else {"ok": False}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "backlog": backlog}
    if backlog.get("ok") and checks["broker"].get("queue_length") is not None:
        backlog["broker_queue_length"] = checks["broker"]["queue_length"]
    return JsonResponse(body, status=200 if healthy else 503)
