"""GET /health/: a cheap, bare liveness answer for anyone; checks, workers and the backlog of
every tenant for operators only (staff, or the health token)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.principal import principal_for_membership
from reports.dashboard_selectors import records_waiting
from tests.conftest import needs_services
from tests.inventory.test_pipeline import stored_cloud_usage, stored_workload

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-health-token"


@pytest.fixture(autouse=True)
def health_token(settings):
    settings.GREENAI_HEALTH_TOKEN = TOKEN


def get_health(client=None, **headers):
    started = time.monotonic()
    response = (client or Client()).get("/health/", headers=headers)
    return response, time.monotonic() - started


def operator_health():
    return get_health(Authorization=f"Bearer {TOKEN}")


def test_anyone_gets_only_the_status(tenant, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    stored_workload(tenant, avg_power_w=100.0)
    response, _ = get_health()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("header", ["", "Bearer wrong", f"Token {TOKEN}", "Bearer "])
def test_a_wrong_token_or_a_member_gets_only_the_status(tenant, settings, header):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response, _ = get_health(Authorization=header)
    assert response.json() == {"status": "ok"}
    admin = Client()
    admin.force_login(tenant.members["admin"].user)  # an organisation's admin is no operator
    assert get_health(admin)[0].json() == {"status": "ok"}


def test_an_empty_token_setting_lets_no_bearer_in(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.GREENAI_HEALTH_TOKEN = ""
    assert get_health(Authorization="Bearer ")[0].json() == {"status": "ok"}


def test_operators_see_the_backlog_of_every_tenant_as_the_data_page_counts_it(
    tenant, outsider, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    stored_workload(tenant, avg_power_w=100.0)
    stored_cloud_usage(tenant, usage_kind="memory", quantity=10.0)
    stored_workload(outsider, avg_power_w=100.0)
    response, _ = operator_health()
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {
        "ok": True,
        "mode": "eager",
        "ms": body["checks"]["broker"]["ms"],
    }
    backlog = body["backlog"]
    # 2 of the tenant's (one per kind) + 1 of the outsider's, in 3 batches.
    assert backlog["pending_records"] == 3
    assert backlog["pending_by_kind"] == {"workload": 2, "cloud_usage": 1}
    assert backlog["batches_waiting"] == 3
    assert backlog["oldest_pending"] is not None
    # One definition: the data pages of both organisations add up to the same count.
    pages = [
        records_waiting(principal=principal_for_membership(t.members["admin"]))["count"]
        for t in (tenant, outsider)
    ]
    assert pages == [2, 1]


def test_a_staff_session_sees_the_details(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    staff = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    body = get_health(client)[0].json()
    assert body["checks"]["workers"]["mode"] == "eager"
    assert body["backlog"]["pending_records"] == 0


def test_an_unreachable_broker_is_503_and_answers_fast(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6390/0"  # nothing listens there
    anonymous, took = get_health()
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "unavailable"}  # no error text for anyone
    assert took < 3.0
    response, took = operator_health()
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
def test_with_redis_but_no_worker_operators_see_503_and_the_queues(settings):
    needs_services()
    from greenai_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = app.conf.broker_url
    app.control.purge()
    response, took = operator_health()
    body = response.json()
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["broker"]["queues"] == {"celery": 0, "exports": 0}
    # No worker answers a ping (the reliability tests cover the healthy case with one).
    assert body["checks"]["workers"]["count"] == 0
    assert response.status_code == 503
    assert took < 5.0


@pytest.mark.services
def test_anonymous_callers_never_wait_on_a_worker_ping(settings):
    """Before: every anonymous call pinged the workers for GREENAI_HEALTH_WORKER_TIMEOUT."""
    needs_services()
    from greenai_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = app.conf.broker_url
    # No worker runs, so a ping would wait the whole timeout: a call that took less than it
    # did not ping (a wide margin, so a loaded machine does not fail the test).
    settings.GREENAI_HEALTH_WORKER_TIMEOUT = 5.0
    with ThreadPoolExecutor(8) as pool:
        took = list(pool.map(lambda _: get_health()[1], range(40)))
    assert max(took) < 4.0, took
