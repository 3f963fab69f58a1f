"""Hardening suites: fast password hashing, the `faults` marker and its opt-in switch."""

import os

import pytest

FAULTS_SWITCH = "GREENAI_RUN_FAULTS"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "faults: stops and restarts services (own Redis, own Postgres cluster, worker); "
        f"runs only with {FAULTS_SWITCH}=1 (make test-faults)",
    )


def pytest_collection_modifyitems(config, items):
    if os.environ.get(FAULTS_SWITCH) == "1":
        return
    skip = pytest.mark.skip(reason=f"fault suite: run with `make test-faults` ({FAULTS_SWITCH}=1)")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Dozens of members are created per test; PBKDF2 would spend seconds on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
