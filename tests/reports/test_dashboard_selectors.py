"""Records waiting and records failed, as the overview and the data page count them."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.principal import principal_for_membership
from inventory.models import (
    BatchComputation,
    IngestBatch,
    RecalculationJob,
    RecalculationStatus,
    WorkloadRecord,
)
from inventory.pipeline.compute import batch_compute, batches_waiting, records_compute
from reports.dashboard_selectors import records_failed, records_waiting
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key
from tests.inventory.test_pipeline import stored_batch, stored_cloud_usage, stored_workload


def principal(tenant, role="admin"):
    return principal_for_membership(tenant.members[role])


@pytest.mark.django_db
class TestRecordsWaiting:
    def test_it_counts_the_records_of_batches_not_computed_yet(self, tenant, outsider):
        batch = stored_batch(tenant)
        stored_workload(tenant, batch, avg_power_w=100.0)
        stored_workload(tenant, batch, avg_power_w=100.0, team=tenant.teams["serving"])
        stored_cloud_usage(tenant, batch)
        assert records_waiting(principal=principal(tenant))["count"] == 3
        # An engineer of the serving team counts only that team's records; others see none.
        assert records_waiting(principal=principal(tenant, "engineer"))["count"] == 1
        assert records_waiting(principal=principal(outsider))["count"] == 0

        batch_compute(batch_id=batch.id)
        assert records_waiting(principal=principal(tenant)) == {"count": 0, "oldest": None}

    def test_a_codecarbon_run_that_posts_again_is_waiting_and_on_the_sweeps_queue(self, tenant):
        client = APIClient()  # CodeCarbon sends no credentials but the key in the URL
        key = token_key(tenant, team="research")
        assert post_output(client, key, emissions_data()).status_code == 201
        batch = IngestBatch.objects.get(organisation=tenant.organisation, source="codecarbon")
        batch_compute(batch_id=batch.id)
        assert records_waiting(principal=principal(tenant))["count"] == 0

        later = emissions_data(
            timestamp="2026-01-10T13:00:00", duration=7200.0, energy_consumed=2.4, emissions=0.1
        )
        assert post_output(client, key, later).status_code == 201
        assert not BatchComputation.objects.filter(batch=batch).exists()
        assert batch.id in batches_waiting()
        waiting = records_waiting(principal=principal(tenant))
        assert waiting["count"] == 1 and waiting["oldest"] is not None

    def test_it_counts_the_records_a_running_recalculation_took(self, tenant):
        stored_workload(tenant, avg_power_w=100.0)
        stored_workload(tenant, avg_power_w=100.0, day=date(2026, 2, 3))
        records_compute()
        for batch in IngestBatch.objects.all():
            BatchComputation.objects.get_or_create(batch=batch)
        assert records_waiting(principal=principal(tenant))["count"] == 0

        # What a running job does to the records of its windows (inventory.pipeline.recalculation).
        job = RecalculationJob.objects.create(
            organisation=tenant.organisation,
            trigger="override",
            description="FR override",
            status=RecalculationStatus.RUNNING,
        )
        WorkloadRecord.objects.filter(activity_date__month=2).update(
            status="pending", recalculation_job=job
        )
        assert records_waiting(principal=principal(tenant))["count"] == 1


@pytest.mark.django_db
class TestRecordsFailed:
    def test_it_lists_failed_records_with_their_reason_for_the_callers_teams(
        self, tenant, outsider
    ):
        batch = stored_batch(tenant)
        stored_workload(tenant, batch, external_id="absurd", energy_kwh=1e308)
        stored_workload(
            tenant,
            batch,
            external_id="absurd-serving",
            energy_kwh=1e308,
            team=tenant.teams["serving"],
            day=date(2026, 1, 12),
        )
        stored_workload(tenant, batch, external_id="fine", avg_power_w=100.0)
        stored_cloud_usage(tenant, batch, external_id="absurd-usage", quantity=1e308)
        records_compute()

        failed = records_failed(principal=principal(tenant))
        assert failed["count"] == 3
        # Latest day first: the serving record is of 12 January, the others of 10 January.
        assert failed["lines"][0]["external_id"] == "absurd-serving"
        assert {line["external_id"] for line in failed["lines"]} == {
            "absurd-serving",
            "absurd",
            "absurd-usage",
        }
        assert {line["kind"] for line in failed["lines"]} == {"workload", "cloud usage"}
        assert all("above 1e12" in line["compute_error"] for line in failed["lines"])

        engineer = records_failed(principal=principal(tenant, "engineer"))
        assert engineer["count"] == 1
        assert engineer["lines"][0]["external_id"] == "absurd-serving"
        assert engineer["lines"][0]["team__name"] == "Serving"
        assert records_failed(principal=principal(outsider)) == {"count": 0, "lines": []}

    def test_the_list_is_bounded_but_the_count_is_not(self, tenant):
        batch = stored_batch(tenant)
        for n in range(5):
            stored_workload(tenant, batch, external_id=f"absurd-{n}", energy_kwh=1e308)
        records_compute()
        failed = records_failed(principal=principal(tenant), limit=2)
        assert failed["count"] == 5 and len(failed["lines"]) == 2
