"""Hardware power rows are versioned with the factor dataset: a result keeps the row it was
computed with, a new version recomputes open periods with its own rows, locked ones stay."""

from datetime import date

import pytest

from accounts.principal import principal_for_membership
from inventory.factors.library import factor_dataset_load
from inventory.models import CloudUsageRecord, Hardware, WorkloadRecord
from inventory.pipeline import records_compute
from inventory.pipeline.recalculation import recalculation_for_dataset, recalculation_run
from reports.services import report_lock
from tests.inventory.test_pipeline import ingest, record, stored_cloud_usage, stored_workload
from tests.inventory.test_recalculation import dataset_variant, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

H100_ROW = "nvidia-h100-sxm,NVIDIA H100 SXM,gpu,NVIDIA,device,79.1,700,"
# The same H100 at 800 W maximum in the next version.
H100_800_W = (H100_ROW, H100_ROW.replace(",79.1,700,", ",79.1,800,"))


def h100_record(tenant, month: int) -> WorkloadRecord:
    """8 H100 for 10 hours at the default 50 % utilisation, modelled."""
    h100 = Hardware.objects.get(code="nvidia-h100-sxm", dataset__is_active=True)
    return stored_workload(tenant, day=date(2026, month, 10), hardware=h100, device_count=8)


def test_a_modelled_result_names_the_power_row_it_used(tenant):
    record = h100_record(tenant, 1)
    records_compute()
    result = fresh(record)
    # (79.1 + 0.5 × (700 − 79.1)) W × 8 × 10 h = 31.164 kWh.
    assert result.it_kwh == pytest.approx(31.164, rel=1e-12)
    assert result.power_model == record.hardware
    assert (result.power_model.max_w, result.power_model.dataset) == (700.0, result.factor_dataset)


def test_measured_and_metered_results_name_no_power_row(tenant):
    metered = stored_workload(tenant, avg_power_w=500.0)
    records_compute()
    assert fresh(metered).power_model is None


def test_a_new_version_recomputes_open_periods_with_its_own_rows(tenant, tmp_path):
    january, april = h100_record(tenant, 1), h100_record(tenant, 4)
    records_compute()
    january, april = fresh(january), fresh(april)
    esg = tenant.members["esg_officer"]
    report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)
    old_row = january.power_model

    new, _ = factor_dataset_load(directory=dataset_variant(tmp_path, "2026.x", hardware=H100_800_W))
    [job] = recalculation_for_dataset(dataset=new)
    assert recalculation_run(job_id=job.id).total_records == 1

    # The old version's row is untouched, and the locked January result still names it.
    old_row.refresh_from_db()
    assert (old_row.max_w, old_row.dataset_id) == (700.0, january.factor_dataset_id)
    assert Hardware.objects.filter(code="nvidia-h100-sxm").count() == 2
    locked = fresh(january)
    assert (locked.power_model, locked.it_kwh, locked.computed_at) == (
        old_row,
        january.it_kwh,
        january.computed_at,
    )
    # April (open) now uses the new row: (79.1 + 0.5 × 720.9) × 8 × 10 / 1000 = 35.164 kWh.
    reopened = fresh(april)
    assert reopened.power_model.dataset == new
    assert reopened.power_model.max_w == 800.0
    assert reopened.it_kwh == pytest.approx(35.164, rel=1e-12)
    assert reopened.facility_kwh == pytest.approx(35.164 * 1.2, rel=1e-12)
    # The record still names the device it arrived with.
    assert reopened.hardware == old_row


def test_records_arriving_under_a_new_version_name_its_row(tenant, tmp_path):
    new, _ = factor_dataset_load(directory=dataset_variant(tmp_path, "2026.x", hardware=H100_800_W))
    ingest(tenant, record(utilization=0.5))
    stored = WorkloadRecord.objects.get()
    assert stored.hardware.dataset == new
    listed = tenant.token_client().get("/api/v1/hardware/").json()
    h100 = [row for row in listed if row["code"] == "nvidia-h100-sxm"]
    assert [row["max_w"] for row in h100] == [800.0]
    assert len(listed) == Hardware.objects.filter(dataset=new).count()


def test_vcpu_hours_without_hardware_use_the_unknown_cpu_row_of_the_version_in_use(
    tenant, tmp_path
):
    new, _ = factor_dataset_load(directory=dataset_variant(tmp_path, "2026.x"))
    usage = stored_cloud_usage(tenant, quantity=100.0)
    records_compute()
    result = CloudUsageRecord.objects.get(pk=usage.pk)
    assert result.status == "computed"
    assert (result.power_model.code, result.power_model.dataset) == ("unknown-cpu-aws", new)
    # CCF: 100 vCPU-h × (0.74 + 0.5 × (3.5 − 0.74)) W = 212 Wh, before PUE.
    assert result.it_kwh == pytest.approx(0.212, rel=1e-12)
