import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3J9-vQ2#pL8@wR5!tY7^uI1&oP4*aS6(dF0)gH2_jK9+lZ3xC5vB7nM1qW4eR8",
    "DJANGO_ALLOWED_HOSTS": "greenai.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_needs_a_secret_key():
    result = manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_needs_allowed_hosts():
    result = manage("check", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_a_boolean_that_is_not_true_or_false_is_a_start_up_error():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_bare_machine_starts_without_warnings_that_bury_the_url():
    result = manage("check", REDIS_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("System check identified no issues")
    assert "W040" not in result.stderr and "AXES" not in result.stderr


def test_the_in_memory_broker_names_its_host(caplog):
    from django.conf import settings
    from kombu import Connection

    if settings.CELERY_BROKER_URL.startswith("memory://"):
        Connection(settings.CELERY_BROKER_URL)._info()
        assert "No hostname was supplied" not in caplog.text


def test_each_xdist_worker_has_a_redis_database_of_its_own():
    from tests.conftest import worker_redis_url

    # REDIS_URL's database plus the worker's index: CI's /0 gives gw0 /0 and gw1 /1.
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/0"
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/1"
    # No database in the URL is Redis's 0; a query string is kept.
    assert worker_redis_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://h:6379/3?timeout=1", "gw2") == "redis://h:6379/5?timeout=1"
