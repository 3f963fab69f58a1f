"""A lock reads its counts and figures under the organisation lock that rollup rebuilds, the
market allocation and restatements hold: never from a half-rebuilt quarter (Postgres)."""

import psycopg
import pytest
from django.db import OperationalError, connection

from accounts.models import Role
from accounts.principal import principal_for_membership
from reports.models import ReportVersion
from reports.services import report_lock
from tests.conftest import needs_services
from tests.reports.scope2_data import seed_quarter

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ORGANISATION_LOCK = 1  # inventory.pipeline.sql._ORGANISATION_LOCK


def test_a_lock_waits_for_a_rebuild_that_holds_the_organisation_lock(tenant):
    needs_services()
    seed_quarter(tenant)
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    organisation_id = tenant.organisation.id
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=False) as rebuild:
        # Another session is half-way through a rebuild of this organisation's rollups.
        rebuild.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [organisation_id, ORGANISATION_LOCK]
        )
        with pytest.raises(OperationalError, match="lock timeout"):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '300ms'")
            try:
                report_lock(principal=admin, year=2026, quarter=1)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = 0")
        assert not ReportVersion.objects.exists()
        rebuild.rollback()  # the rebuild commits: the lock goes ahead
    version = report_lock(principal=admin, year=2026, quarter=1)
    # seed_quarter: Q1 2026 has 4 records, 3 in the Paris lab and 1 on AWS.
    assert (version.version, version.record_count) == (1, 4)
