"""GET /health/: database, broker, workers and the backlog; 200 when healthy, 503 otherwise."""

import time

import pytest
from django.test import Client

from tests.conftest import needs_services
from tests.inventory.test_pipeline import stored_cloud_usage, stored_workload

pytestmark = pytest.mark.django_db


def get_health():
    started = time.monotonic()
    response = Client().get("/health/")
    return response, time.monotonic() - started


def test_an_eager_install_is_healthy_and_reports_its_backlog(tenant, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    stored_workload(tenant, avg_power_w=100.0)
    stored_cloud_usage(tenant, usage_kind="memory", quantity=10.0)
    response, _ = get_health()
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {
        "ok": True,
        "mode": "eager",
        "ms": body["checks"]["broker"]["ms"],
    }
    assert body["backlog"]["pending_records"] == 2
    assert body["backlog"]["pending_by_kind"] == {
        "workload": 1,
        "cloud_usage": 1,
        "recalculation": 0,
    }
    assert body["backlog"]["batches_waiting"] == 2
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_unreachable_broker_is_503_and_answers_fast(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6390/0"  # nothing listens there
    response, took = get_health()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert "6390" in body["checks"]["broker"]["error"]
    assert body["checks"]["workers"] == {"ok": False, "error": "broker unreachable"}
    assert body["checks"]["database"]["ok"] is True
    assert took < 3.0


def test_it_refuses_anything_but_get():
    assert Client().post("/health/").status_code == 405


@pytest.mark.services
def test_with_redis_but_no_worker_it_is_503_and_shows_the_queue_length(settings):
    needs_services()
    from greenai_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = app.conf.broker_url
    app.control.purge()
    response, took = get_health()
    body = response.json()
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["broker"]["queue_length"] == 0
    assert body["backlog"]["broker_queue_length"] == 0
    # No worker answers a ping (the reliability tests cover the healthy case with one).
    assert body["checks"]["workers"]["count"] == 0
    assert response.status_code == 503
    assert took < 5.0
