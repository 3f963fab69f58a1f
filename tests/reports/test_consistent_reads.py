"""A report, its factor lines and its PDF each come from one consistent view of the data,
whatever a worker commits while they are read."""

import threading
from datetime import date

import pytest
from django.db import connection

from inventory.models import Location, WorkloadRecord
from inventory.pipeline import records_compute
from reports import scope2_selectors
from reports.models import ReportExport
from reports.scope2_selectors import audit_document
from tests.conftest import needs_services, workload
from tests.inventory.test_celery_worker import wait_for, worker  # noqa: F401 (fixture)
from tests.inventory.test_pipeline import stored_workload
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import allocate_market, eac, scope2, seed_quarter

LYON = {"code": "lab-lyon", "name": "Lyon lab", "kind": "owned", "zone": "FR", "pue": 1.5}


def lyon(tenant) -> Location:
    return Location.objects.create(organisation=tenant.organisation, **LYON)


def committed_by_a_worker_meanwhile(original):
    """`original`, run once a pipeline on another connection has computed and committed
    the records pending now: what a worker does between two of the report's queries."""

    def worker_commits_then(*args, **kwargs):
        def compute() -> None:
            try:
                records_compute()
            finally:
                connection.close()

        thread = threading.Thread(target=compute)
        thread.start()
        thread.join()
        return original(*args, **kwargs)

    return worker_commits_then


@pytest.mark.services
def test_a_location_a_worker_commits_between_the_report_queries_is_no_500(
    transactional_db, tenant, monkeypatch
):
    """Before: the rollups query saw lab-paris only, the monthly query lab-lyon too, and the
    report raised KeyError (a 500) looking up lab-lyon's zone."""
    needs_services()
    assert connection.vendor == "postgresql"
    stored_workload(tenant, avg_power_w=1000.0)  # 1 kW × 10 h = 10 kWh IT × 1.2 = 12 kWh
    records_compute()
    stored_workload(tenant, avg_power_w=1000.0, location=lyon(tenant))  # 10 × 1.5 = 15 kWh
    monkeypatch.setattr(
        scope2_selectors, "_monthly", committed_by_a_worker_meanwhile(scope2_selectors._monthly)
    )
    client = tenant.client_for("esg_officer")

    response = scope2(client)
    assert response.status_code == 200
    body = response.json()
    # The view the report started with: lab-paris's 12 kWh only, in every part of it.
    assert body["scope2"]["mwh"] == pytest.approx(0.012)
    assert [line["code"] for line in body["breakdowns"]["location"]] == ["lab-paris"]
    # A month without data is a gap (None), not 0.
    assert sum(m["scope2_mwh"] or 0 for m in body["trend"]) == pytest.approx(0.012)
    assert WorkloadRecord.objects.filter(status="computed").count() == 2  # it did commit

    monkeypatch.undo()
    after = scope2(client).json()
    assert after["scope2"]["mwh"] == pytest.approx(0.027)  # 12 + 15 kWh
    assert sum(m["scope2_mwh"] or 0 for m in after["trend"]) == pytest.approx(0.027)


@pytest.mark.services
def test_reading_the_report_while_a_real_worker_computes_never_fails(worker, tenant):  # noqa: F811
    """The documented worker computes batch after batch at new facilities while the report is
    read again and again: every read answers 200 and its parts agree."""
    client = tenant.token_client()
    reader = tenant.client_for("esg_officer")
    codes = [f"lab-{n}" for n in range(12)]
    for code in codes:
        Location.objects.create(
            organisation=tenant.organisation, code=code, name=code, kind="owned", zone="FR", pue=1.0
        )
    statuses = []
    for n, code in enumerate(codes):
        record = workload(external_id=f"race-{n}", location=code, avg_power_w=500.0)
        assert client.post("/api/v1/workloads/", record, format="json").status_code == 201
        for _ in range(5):
            response = scope2(reader)
            statuses.append(response.status_code)
            if response.status_code == 200:
                body = response.json()
                by_location = sum(line["mwh"] for line in body["breakdowns"]["location"])
                assert by_location == pytest.approx(body["scope2"]["mwh"])
    assert wait_for(lambda: not WorkloadRecord.objects.filter(status="pending").exists())
    assert set(statuses) == {200}, statuses
    # 12 records × 8 GPUs × 500 W × 10 h = 480 kWh, PUE 1.0.
    assert scope2(reader).json()["scope2"]["mwh"] == pytest.approx(0.48)


@pytest.mark.django_db
def test_the_draft_pdf_lists_the_factor_rows_the_lock_stores(tenant):
    """Before: the draft listed grid factors and overrides only, the lock power models too."""
    client = seed_quarter(tenant)
    # A modelled record (no measured energy or power): it names the H100's power model.
    stored_workload(tenant, day=date(2026, 3, 20), hardware=WorkloadRecord.objects.first().hardware)
    records_compute()
    allocate_market(tenant.organisation, eac(tenant.organisation))
    draft = ReportExport.objects.create(organisation=tenant.organisation, year=2026, quarter=1)
    draft_rows = [row["id"] for row in audit_document(export=draft)["factors"]]
    response = close_quarter(client)
    assert response.status_code == 201, response.json()
    version = tenant.organisation.report_versions.get()
    assert draft_rows == [row["id"] for row in version.factors]
    assert any(row_id.startswith("hardware:") for row_id in draft_rows)
