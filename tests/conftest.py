"""Shared fixtures: the factor library, one organisation with a user per role, and an outsider."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, Team
from accounts.services import api_token_create, member_add, organisation_create, team_create
from greenai_portal.celery import app as celery_app
from inventory.factors.library import factor_dataset_load
from inventory.models import Location
from inventory.pipeline import records_compute
from tests.snapshots import BEFORE_DEMO, DEMO, snapshot_restore, snapshot_take

PASSWORD = "correct-horse-battery"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def worker_redis_url(url: str, worker: str) -> str:
    """The Redis database of pytest-xdist's worker `worker` ("gw0", "gw1", ...): REDIS_URL's
    database plus the worker's index, so workers never share queues, broadcasts or counters."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


def _redis_of_this_worker() -> None:
    # Django read REDIS_URL before this module was imported: point the settings, the Celery
    # app and the environment the tests' worker and server subprocesses inherit at this
    # worker's database (the broadcasts of `celery control` are per database too).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not settings.REDIS_URL:
        return
    url = worker_redis_url(settings.REDIS_URL, worker)
    os.environ["REDIS_URL"] = settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    celery_app.conf.broker_url = url


_redis_of_this_worker()


def needs_services() -> None:
    """Fail under CI, skip on a bare dev machine, when Postgres and Redis are not configured."""
    missing = [v for v in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(v)]
    if missing:
        message = f"needs real services: set {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """PBKDF2's deliberate slowness is the point in production and pure waste in tests."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def factors(db):
    """The shipped factor dataset (idempotent: a no-op when already loaded)."""
    dataset, _ = factor_dataset_load()
    return dataset


@dataclass(frozen=True)
class DemoSeed:
    """What `seed_demo` printed when it ran on an empty database."""

    output: str


def demo_seeded() -> DemoSeed:
    """Seed the demo as `make run` does (factors, then the demo) and compute it."""
    output = StringIO()
    call_command("load_factors", verbosity=0)
    call_command("seed_demo", stdout=output)
    # With REDIS_URL set (CI) the seed's compute task goes to a broker no worker reads here.
    records_compute()
    return DemoSeed(output.getvalue())


@pytest.fixture(scope="session")
def demo_seed(django_db_setup, django_db_blocker) -> DemoSeed | None:
    """On Postgres, the demo seeded once per session and kept aside (tests/snapshots.py),
    the database itself left as it was; None on SQLite (a bare machine), whose tests each
    seed their own (`demo_install`)."""
    if connection.vendor != "postgresql":
        return None
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        snapshot_take(BEFORE_DEMO)
        try:
            seeded = demo_seeded()
            snapshot_take(DEMO)
        finally:
            snapshot_restore(BEFORE_DEMO)
    return seeded


def demo_install(demo_seed: DemoSeed | None) -> DemoSeed:
    """Put the demo in the database: a copy of the session's seed, or a seed of its own."""
    if demo_seed is None:
        return demo_seeded()
    snapshot_restore(DEMO)
    return demo_seed


@pytest.fixture
def demo(db, demo_seed) -> Iterator[DemoSeed]:
    """The seeded demo in this test's transaction: what the test changes is rolled back."""
    yield demo_install(demo_seed)
    # The rollback brings the content types' earlier ids back: drop the ORM's cache of them.
    ContentType.objects.clear_cache()


@dataclass
class Tenant:
    organisation: Organisation
    teams: dict[str, Team]
    members: dict[str, Membership]

    def client_for(self, role: str) -> APIClient:
        client = APIClient()
        client.force_login(self.members[role].user)
        return client

    def token_client(
        self, scopes=("ingest", "read"), team: str | None = None, created_by=None
    ) -> APIClient:
        _, key = api_token_create(
            organisation=self.organisation,
            name="test",
            scopes=scopes,
            team=self.teams[team] if team else None,
            created_by=created_by,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    def manage_client(self, scopes=("manage", "read")) -> APIClient:
        """A token the admin created with the manage scope."""
        return self.token_client(scopes, created_by=self.members[Role.ADMIN].user)


def make_tenant(slug: str) -> Tenant:
    organisation = organisation_create(name=f"Org {slug}", slug=slug)
    teams = {
        s: team_create(organisation=organisation, name=s.title(), slug=s)
        for s in ("research", "serving")
    }
    Location.objects.create(
        organisation=organisation,
        code="lab-paris",
        name="Paris lab",
        kind=Location.Kind.OWNED,
        zone="FR",
        pue=1.2,
        pue_source="metered",
    )
    members = {
        role: member_add(
            organisation=organisation,
            username=f"{slug}-{role}",
            password=PASSWORD,
            role=role,
            teams=[teams["serving"]] if role == Role.ENGINEER else [],
        )
        for role in Role.values
    }
    return Tenant(organisation, teams, members)


@pytest.fixture
def tenant(factors) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def outsider(factors) -> Tenant:
    return make_tenant("globex")


def workload(**overrides) -> dict:
    """A valid workload record as a client would send it."""
    record = {
        "external_id": "job-1",
        "team": "research",
        "model": "atlas-7b",
        "phase": "training",
        "started_at": "2026-01-10T00:00:00Z",
        "ended_at": "2026-01-10T10:00:00Z",
        "location": "lab-paris",
        "hardware": "nvidia-h100-sxm",
        "device_count": 8,
        "utilization": 0.5,
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


@pytest.fixture
def eager_celery():
    """Queued tasks run in-process here, with or without a broker configured."""
    from greenai_portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
