"""Record references hold without database FK checks: the ORM still protects and cascades."""

import pytest
from django.db.models import ProtectedError

from inventory.models import IngestBatch, Location, WorkloadRecord
from tests.inventory.test_pipeline import stored_workload


@pytest.mark.django_db
class TestRecordReferences:
    def test_a_team_or_location_with_records_cannot_be_deleted(self, tenant):
        record = stored_workload(tenant, avg_power_w=100.0)
        with pytest.raises(ProtectedError):
            record.team.delete()
        with pytest.raises(ProtectedError):
            Location.objects.get(pk=record.location_id).delete()
        with pytest.raises(ProtectedError):
            IngestBatch.objects.get(pk=record.batch_id).delete()
        with pytest.raises(ProtectedError):
            tenant.organisation.delete()
        assert WorkloadRecord.objects.filter(pk=record.pk).exists()
