"""Fixtures the recalculation tests share."""

from datetime import date

import pytest

from inventory.models import WorkloadRecord
from inventory.pipeline import records_compute
from tests.inventory.test_pipeline import stored_batch, stored_workload


@pytest.fixture
def computed(tenant):
    """Three metered records at the Paris lab (January, February, April 2026), computed."""
    batch = stored_batch(tenant)
    records = [
        stored_workload(tenant, batch, day=date(2026, month, 10), avg_power_w=1000.0)
        for month in (1, 2, 4)
    ]
    records_compute()
    return [WorkloadRecord.objects.get(pk=r.pk) for r in records]
