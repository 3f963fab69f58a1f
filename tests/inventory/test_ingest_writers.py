"""The Postgres COPY path and the portable multi-row INSERT path store the same rows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.principal import principal_for_token
from accounts.services import api_token_create
from greenai_portal.errors import ApplicationError
from inventory.ingestion import writers
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD, batch_context
from inventory.ingestion.services import record_batch_ingest
from inventory.models import CloudUsageRecord, WorkloadRecord
from tests.conftest import workload

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is the Postgres path"
)

IGNORED = {"id", "organisation", "batch", "created_at", "team", "ai_model", "location"}


def principal(tenant):
    token, _ = api_token_create(organisation=tenant.organisation, name="w", scopes=["ingest"])
    return principal_for_token(token)


def workloads(count: int) -> list[dict]:
    start = datetime(2026, 1, 10, tzinfo=UTC)
    raw = [
        workload(
            external_id=f"job-{i}",
            started_at=(start + timedelta(minutes=i)).isoformat(),
            ended_at=(start + timedelta(minutes=i, hours=2)).isoformat(),
            energy_kwh=None if i % 3 else i * 0.5,
            tags={"i": str(i)} if i % 2 else None,
            model=None if i % 5 == 0 else f"m-{i % 4}",
        )
        for i in range(count)
    ]
    records, errors = WORKLOAD.validate(raw, batch_context())
    assert not errors
    return records


def cloud_usages(count: int) -> list[dict]:
    raw = [
        {
            "external_id": f"u-{i}",
            "team": "research",
            "location": "gcp:europe-west4",
            "service": "Compute Engine",
            "usage_kind": "compute",
            "quantity": i + 0.25,
            "usage_start": "2026-01-10T00:00:00Z",
            "usage_end": "2026-01-10T01:00:00Z",
            "tags": {"n": str(i)},
        }
        for i in range(count)
    ]
    records, errors = CLOUD_USAGE.validate(raw, batch_context())
    assert not errors
    return records


def stored(model, organisation) -> list[dict]:
    fields = [f.name for f in model._meta.concrete_fields if f.name not in IGNORED]
    rows = model.objects.filter(organisation=organisation).order_by("external_id")
    return [
        {
            **row,
            "team": t,
            "ai_model": m,
            "location": loc,
        }
        for row, (t, m, loc) in zip(
            rows.values(*fields),
            rows.values_list("team__slug", "ai_model__name", "location__code"),
            strict=True,
        )
    ]


@pytest.mark.django_db
class TestWriters:
    def test_the_portable_path_stores_every_field(self, tenant):
        result = record_batch_ingest(
            kind="workload", principal=principal(tenant), records=workloads(30), use_copy=False
        )
        assert (result.created, result.duplicates) == (30, 0)
        record = WorkloadRecord.objects.get(external_id="job-3")
        assert (record.energy_kwh, record.tags, record.status) == (1.5, {"i": "3"}, "pending")
        assert record.ai_model.name == "m-3"

    @needs_postgres
    def test_copy_and_insert_store_identical_workload_rows(self, tenant, outsider):
        records = workloads(500)
        for who, use_copy in ((tenant, True), (outsider, False)):
            result = record_batch_ingest(
                kind="workload", principal=principal(who), records=records, use_copy=use_copy
            )
            assert result.created == 500
        assert stored(WorkloadRecord, tenant.organisation) == stored(
            WorkloadRecord, outsider.organisation
        )

    @needs_postgres
    def test_copy_and_insert_store_identical_cloud_usage_rows(self, tenant, outsider):
        records = cloud_usages(300)
        for who, use_copy in ((tenant, True), (outsider, False)):
            record_batch_ingest(
                kind="cloud_usage", principal=principal(who), records=records, use_copy=use_copy
            )
        assert stored(CloudUsageRecord, tenant.organisation) == stored(
            CloudUsageRecord, outsider.organisation
        )

    @pytest.mark.parametrize("use_copy", [False, pytest.param(True, marks=needs_postgres)])
    def test_both_paths_count_duplicates_and_refuse_conflicts(self, tenant, use_copy):
        who = principal(tenant)
        records = workloads(300)
        record_batch_ingest(kind="workload", principal=who, records=records[:200])
        result = record_batch_ingest(
            kind="workload", principal=who, records=records, use_copy=use_copy
        )
        assert (result.created, result.duplicates) == (100, 200)
        # An id stored before, now with other content, among new ones: found in the table.
        fresh = workloads(700)[300:]
        changed = [*fresh, {**records[10], "device_count": 99}]
        with pytest.raises(ApplicationError) as refused:
            record_batch_ingest(kind="workload", principal=who, records=changed, use_copy=use_copy)
        assert refused.value.status_code == 409
        assert [e["row"] for e in refused.value.errors] == [400]
        assert WorkloadRecord.objects.count() == 300

    @needs_postgres
    def test_a_partial_re_send_leaves_nothing_of_its_failed_copy(self, tenant):
        # The batch is copied straight into the table until its first stored id (row 150)
        # fails the COPY; the savepoint takes those 150 rows back and the staged path stores
        # each new record once and counts the stored ones as duplicates.
        who = principal(tenant)
        records = workloads(400)
        record_batch_ingest(kind="workload", principal=who, records=records[150:250])
        result = record_batch_ingest(kind="workload", principal=who, records=records)
        assert (result.created, result.duplicates) == (300, 100)
        assert WorkloadRecord.objects.filter(organisation=tenant.organisation).count() == 400
        changed = [*workloads(450)[400:], {**records[0], "device_count": 99}]
        with pytest.raises(ApplicationError) as refused:
            record_batch_ingest(kind="workload", principal=who, records=changed)
        assert [e["row"] for e in refused.value.errors] == [50]
        assert WorkloadRecord.objects.filter(organisation=tenant.organisation).count() == 400

    @needs_postgres
    def test_a_fresh_batch_is_copied_straight_into_the_table(self, tenant, monkeypatch):
        staged = []
        monkeypatch.setattr(writers, "_write_staged", lambda *args: staged.append(args))
        result = record_batch_ingest(
            kind="workload", principal=principal(tenant), records=workloads(300)
        )
        assert (result.created, staged) == (300, [])
        assert WorkloadRecord.objects.get(external_id="job-7").tags == {"i": "7"}
