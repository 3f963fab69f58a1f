"""A quarter can be locked while records keep arriving (Postgres, real concurrency).

Records of the quarter are stored in small batches in one thread while a worker thread
computes them, as at a steady ~hundreds of records a second; the lock cuts the quarter off
at the records stored up to its moment (computing the ones still pending itself) and every
record stored after it is a late record, found by records_after for a restatement.
"""

import threading
import time
from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import Role
from accounts.principal import principal_for_membership
from inventory.ingestion.schemas import WORKLOAD, batch_context
from inventory.ingestion.services import workload_batch_ingest
from inventory.models import WorkloadRecord
from inventory.pipeline import records_compute
from reports.lineage_selectors import records_after
from reports.services import report_lock
from tests.conftest import needs_services, workload
from tests.hardening.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

Q1 = {"start": date(2026, 1, 1), "end": date(2026, 4, 1)}
BATCH = 5


def records(serial: int, count: int) -> list[dict]:
    """`count` metered records of February 2026: 1 kW for 1 h each, 1 kWh of IT energy."""
    return [
        workload(
            external_id=f"trickle-{serial}-{n}",
            team="research",
            started_at="2026-02-10T00:00:00Z",
            ended_at="2026-02-10T01:00:00Z",
            energy_kwh=None,
            avg_power_w=1000.0,
            device_count=1,
            utilization=None,
        )
        for n in range(count)
    ]


def store(principal, serial: int, count: int = BATCH) -> None:
    clean, errors = WORKLOAD.validate(records(serial, count), batch_context())
    assert not errors, errors.errors
    workload_batch_ingest(principal=principal, records=clean)


class Trickle:
    """Stores small batches of the quarter's records until stopped; a second thread computes
    them like a worker that keeps up most of the time."""

    def __init__(self, principal, organisation_id: int) -> None:
        self.principal, self.organisation_id = principal, organisation_id
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.batches = 0
        steps = (self._store, self._compute)
        self.threads = [threading.Thread(target=self._run, args=(step,)) for step in steps]

    def _run(self, step) -> None:
        try:
            while not self.stop.is_set():
                step()
        except BaseException as error:  # reported by the test
            self.errors.append(error)
        finally:
            connection.close()

    def _store(self) -> None:
        store(self.principal, 1000 + self.batches)
        self.batches += 1
        time.sleep(0.005)

    def _compute(self) -> None:
        records_compute(organisation_id=self.organisation_id)
        time.sleep(0.02)

    def __enter__(self) -> "Trickle":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_a_quarter_locks_while_records_keep_arriving_and_later_ones_are_late(tenant):
    needs_services()
    assert connection.vendor == "postgresql"
    admin = principal_for_membership(tenant.members[Role.ADMIN])
    officer = principal_for_membership(tenant.members[Role.ESG_OFFICER])
    store(admin, 0, count=20)
    records_compute(organisation_id=tenant.organisation.id)
    with Trickle(admin, tenant.organisation.id) as trickle:
        time.sleep(0.5)
        # A loaded machine (two xdist workers on CI's two cores) may have stored fewer by then.
        wait_until(lambda: trickle.batches > 5, 30, step=0.01)
        stored_before = trickle.batches
        version = report_lock(principal=officer, year=2026, quarter=1)
        locked_at_batch = trickle.batches
        while trickle.batches < locked_at_batch + 10:  # keep trickling after the lock
            time.sleep(0.01)
    assert not trickle.errors, trickle.errors
    assert stored_before > 5  # the trickle was running when the lock was asked for

    cut_off = version.lineage["last_record_ids"]["workload"]
    quarter = WorkloadRecord.objects.filter(organisation=tenant.organisation, **{
        "activity_date__gte": Q1["start"], "activity_date__lt": Q1["end"]})  # fmt: skip
    included = quarter.filter(id__lte=cut_off)
    # Everything stored up to the cut-off is in the version, computed; nothing after it.
    assert version.record_count == included.count() >= 20
    assert not included.filter(status="pending").exists()
    # The figures agree with the inputs: 1 kWh IT x PUE 1.2 (lab-paris) per record.
    facility_kwh = included.aggregate(kwh=Sum("facility_kwh"))["kwh"]
    assert facility_kwh == pytest.approx(version.record_count * 1.2)
    assert version.report["scope2"]["record_count"] == version.record_count
    assert version.report["scope2"]["mwh"] == pytest.approx(facility_kwh / 1000)
    # What arrived after the cut-off (at least the 10 batches after the lock) is late.
    late = quarter.filter(id__gt=cut_off).count()
    assert late >= 10 * 5
    assert records_after(organisation_id=tenant.organisation.id, version=version, **Q1) == late
    assert version.record_count + late == quarter.count()
