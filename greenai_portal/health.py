"""GET /health/: a cheap liveness answer for anyone, the details for operators.

Anyone (load balancers, uptime checks): `{"status": "ok"}` 200 when the database and the
broker answer (two round trips, each bounded by a 1 s timeout), else
`{"status": "unavailable"}` 503; nothing else, so hammering it costs the service nothing and
tells nobody anything.

Operators (a staff user's session, or `Authorization: Bearer <GREENAI_HEALTH_TOKEN>`) also
get each check's timing and error, the workers that answer a ping (GREENAI_HEALTH_WORKER_TIMEOUT,
about a second: only for them), each queue's length and the records waiting
(inventory.pipeline.status, the same definition as the data page), over every tenant. 200 then
needs at least one worker as well. With eager Celery (no REDIS_URL) there is no broker or
worker to ask: both report "eager".
"""

import hmac
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


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
    from inventory.pipeline.status import records_waiting

    waiting = records_waiting()
    return {
        "ok": True,
        "batches_waiting": waiting.batches,
        "pending_records": waiting.count,
        "pending_by_kind": {"workload": waiting.workload, "cloud_usage": waiting.cloud_usage},
        "recalculations_running": waiting.recalculations,
        "oldest_pending": waiting.oldest.isoformat() if waiting.oldest else None,
    }


def _eager() -> bool:
    return settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory")


def _broker() -> dict[str, Any]:
    if _eager():
        return {"ok": True, "mode": "eager"}
    import redis

    from greenai_portal.celery import app

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
        # Each queue is a Redis list of its name holding the waiting messages.
        return {"ok": True, "queues": {q.name: client.llen(q.name) for q in app.conf.task_queues}}
    finally:
        client.close()


def _workers() -> dict[str, Any]:
    if _eager():
        return {"ok": True, "mode": "eager"}
    from greenai_portal.celery import app

    replies = app.control.ping(timeout=settings.GREENAI_HEALTH_WORKER_TIMEOUT) or []
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "workers": names}


def _is_operator(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.GREENAI_HEALTH_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def _details() -> tuple[bool, dict[str, Any]]:
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    if checks["broker"]["ok"]:
        checks["workers"] = _timed(_workers)
    else:
        # Pinging workers goes through the broker: no point waiting on a dead one.
        checks["workers"] = {"ok": False, "error": "broker unreachable"}
    backlog = _timed(_backlog) if checks["database"]["ok"] else {"ok": False}
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"checks": checks, "backlog": backlog}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    if _is_operator(request):
        healthy, details = _details()
    else:
        healthy, details = _timed(_database)["ok"] and _timed(_broker)["ok"], {}
    body = {"status": "ok" if healthy else "unavailable", **details}
    return JsonResponse(body, status=200 if healthy else 503)
