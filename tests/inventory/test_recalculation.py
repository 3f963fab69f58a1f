"""Recalculation of open periods after factor, PUE or instrument changes; locked periods stay."""

import io
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inventory.factors.library import DATA_DIR, factor_dataset_load
from inventory.models import (
    ContractualInstrument,
    DailyRollup,
    FactorOverride,
    Location,
    MarketAllocation,
    MonthlyRollup,
    RecalculationJob,
    WorkloadRecord,
)
from inventory.pipeline import records_compute
from inventory.pipeline.recalculation import (
    recalculation_for_dataset,
    recalculation_for_facility_pue,
    recalculation_for_instruments,
    recalculation_for_override,
    recalculation_run,
    recalculations_resume,
)
from tests.inventory.test_pipeline import stored_workload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def fresh(record) -> WorkloadRecord:
    return WorkloadRecord.objects.get(pk=record.pk)


def dataset_variant(tmp_path, version: str, **edits: tuple[str, str]) -> Path:
    """A copy of the shipped dataset as `version`, with `file=(old text, new text)` edits."""
    directory = tmp_path / "factors"
    shutil.copytree(DATA_DIR, directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["version"] = version
    (directory / "manifest.json").write_text(json.dumps(manifest))
    for name, (old, new) in edits.items():
        path = directory / f"{name}.csv"
        text = path.read_text()
        assert old in text, f"{old!r} is not in {name}.csv"
        path.write_text(text.replace(old, new))
    return directory


def run_now(django_capture_on_commit_callbacks, start):
    """Start a recalculation and run its queued task (eager Celery) as the commit would."""
    with django_capture_on_commit_callbacks(execute=True):
        job = start()
    return RecalculationJob.objects.get(pk=job.pk)


def override_recalculated(tenant, capture, valid_from, valid_to, kg_per_kwh):
    """A French grid-average override for the period, and the recalculation it starts, run."""
    override = FactorOverride.objects.create(
        organisation=tenant.organisation,
        zone="FR",
        kind="grid_average",
        valid_from=valid_from,
        valid_to=valid_to,
        kg_per_kwh=kg_per_kwh,
        source="Supplier letter",
    )
    job = run_now(
        capture,
        lambda: recalculation_for_override(
            organisation=tenant.organisation,
            zone="FR",
            kind="grid_average",
            valid_from=valid_from,
            valid_to=valid_to,
        ),
    )
    return override, job


def test_an_override_recalculates_exactly_its_zone_and_period(
    tenant, computed, django_capture_on_commit_callbacks
):
    january, february, april = computed
    override, job = override_recalculated(
        tenant, django_capture_on_commit_callbacks, date(2026, 2, 1), date(2026, 3, 31), 0.1
    )
    assert (job.status, job.total_records, job.processed_records, job.progress) == (
        "done",
        1,
        1,
        1.0,
    )
    assert fresh(february).factor_override == override
    assert fresh(february).location_kg == pytest.approx(february.facility_kwh * 0.1)
    # February's month follows its day: the same kWh at 0.1 kg/kWh.
    month = MonthlyRollup.objects.get(day=date(2026, 2, 1))
    assert month.location_kg == pytest.approx(february.facility_kwh * 0.1)
    assert fresh(february).recalculation_job == job
    for untouched in (january, april):
        assert fresh(untouched).computed_at == untouched.computed_at
        assert fresh(untouched).recalculation_job is None


def test_a_facility_pue_change_recomputes_the_records_that_use_it(
    tenant, django_capture_on_commit_callbacks
):
    uses_facility = stored_workload(tenant, avg_power_w=500.0)
    own_pue = stored_workload(tenant, avg_power_w=500.0, pue=1.1)
    records_compute()
    lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    lab.pue = 1.5
    lab.save()
    job = run_now(
        django_capture_on_commit_callbacks, lambda: recalculation_for_facility_pue(location=lab)
    )
    assert job.total_records == 1
    assert fresh(uses_facility).pue_used == 1.5
    assert fresh(uses_facility).facility_kwh == pytest.approx(5.0 * 1.5)
    assert fresh(own_pue).pue_used == 1.1
    assert fresh(own_pue).recalculation_job is None


def test_a_new_dataset_version_recalculates_records_computed_with_another(
    tenant, computed, tmp_path
):
    directory = dataset_variant(
        tmp_path,
        "2026.2-test",
        grid_factors=("FR,2024,,grid_average,0.036,direct", "FR,2024,,grid_average,0.04,direct"),
    )
    dataset, created = factor_dataset_load(directory=directory)
    assert created
    [job] = recalculation_for_dataset(dataset=dataset)
    job = recalculation_run(job_id=job.id)
    assert (job.status, job.total_records) == ("done", 3)
    for record in computed:
        now = fresh(record)
        assert now.factor_dataset == dataset
        assert now.location_kg_per_kwh == 0.04
    # Run again: nothing is affected any more.
    again = recalculation_for_dataset(dataset=dataset)[0]
    assert recalculation_run(job_id=again.id).total_records == 0


def test_locked_periods_are_left_alone(
    tenant, computed, monkeypatch, django_capture_on_commit_callbacks
):
    january, february, april = computed
    first_quarter = [(date(2026, 1, 1), date(2026, 4, 1))]
    monkeypatch.setattr(
        "inventory.pipeline.recalculation.locked_periods", lambda organisation_id: first_quarter
    )
    monkeypatch.setattr(
        "inventory.pipeline.market.locked_periods", lambda organisation_id: first_quarter
    )
    march_allocations = list(MarketAllocation.objects.filter(month__lt=date(2026, 4, 1)))
    _, job = override_recalculated(
        tenant, django_capture_on_commit_callbacks, date(2026, 1, 1), date(2026, 12, 31), 0.2
    )
    assert job.total_records == 1
    assert job.locked_periods == [["2026-01-01", "2026-04-01"]]
    assert fresh(april).location_kg_per_kwh == 0.2
    for locked in (january, february):
        assert fresh(locked).location_kg == locked.location_kg
        assert fresh(locked).computed_at == locked.computed_at
    assert list(MarketAllocation.objects.filter(month__lt=date(2026, 4, 1))) == march_allocations


def test_an_instrument_change_rebuilds_the_market_allocation_only(
    tenant, computed, django_capture_on_commit_callbacks
):
    ContractualInstrument.objects.create(
        organisation=tenant.organisation,
        kind="eac",
        zone="FR",
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        mwh=1.0,
        kg_per_kwh=0.0,
        reference="GO-1",
    )
    job = run_now(
        django_capture_on_commit_callbacks,
        lambda: recalculation_for_instruments(
            organisation=tenant.organisation,
            zone="FR",
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
        ),
    )
    assert (job.status, job.total_records) == ("done", 0)
    covered = MarketAllocation.objects.filter(basis="instrument").order_by("month")
    # 12 kWh per record (1 kW × 10 h × PUE 1.2): the 1 MWh covers all three months.
    assert [(a.month.month, a.kwh) for a in covered] == [(1, 12.0), (2, 12.0), (4, 12.0)]
    assert all(fresh(r).computed_at == r.computed_at for r in computed)


def test_the_sweep_resumes_a_job_whose_task_was_lost(tenant, computed):
    lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    lab.pue = 1.3
    lab.save()
    job = recalculation_for_facility_pue(location=lab)  # its task never runs: no commit here
    assert RecalculationJob.objects.get(pk=job.pk).status == "queued"
    assert recalculations_resume(quiet_for=timedelta(0)) == 1
    job.refresh_from_db()
    assert (job.status, job.total_records) == ("done", 3)
    assert all(fresh(r).pue_used == 1.3 for r in computed)


class TestRecalculationApi:
    def test_a_member_follows_the_progress_of_a_recalculation(self, tenant, computed):
        lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        job = recalculation_for_facility_pue(location=lab)
        recalculation_run(job_id=job.id)
        response = tenant.client_for("auditor").get(f"/api/v1/recalculations/{job.id}/")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "done"
        assert (body["total_records"], body["processed_records"], body["progress"]) == (3, 3, 1.0)
        assert body["trigger"] == "facility_pue"

    def test_another_organisation_gets_404(self, tenant, outsider, computed):
        lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        job = recalculation_for_facility_pue(location=lab)
        response = outsider.client_for("admin").get(f"/api/v1/recalculations/{job.id}/")
        assert response.status_code == 404

    def test_an_admin_starts_one_and_an_engineer_may_not(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        payload = {"zone": "FR", "date_from": "2026-02-01", "date_to": "2026-02-28"}
        refused = tenant.client_for("engineer").post(
            "/api/v1/recalculations/", payload, format="json"
        )
        assert refused.status_code == 403
        with django_capture_on_commit_callbacks(execute=True):
            response = tenant.client_for("admin").post(
                "/api/v1/recalculations/", payload, format="json"
            )
        assert response.status_code == 202
        job = RecalculationJob.objects.get(pk=response.json()["id"])
        assert (job.status, job.total_records, job.trigger) == ("done", 1, "manual")
        listed = tenant.client_for("esg_officer").get("/api/v1/recalculations/").json()
        assert [j["id"] for j in listed] == [job.id]

    def test_bad_dates_are_refused_with_a_reason(self, tenant):
        response = tenant.client_for("admin").post(
            "/api/v1/recalculations/",
            {"date_from": "2026-03-01", "date_to": "2026-02-01"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "date_to"


class TestCommands:
    def test_recalculate_runs_an_organisations_recalculation_here(self, tenant, computed):
        out = io.StringIO()
        call_command(
            "recalculate", "--organisation", "acme", "--from", "2026-02-01", "--wait", stdout=out
        )
        assert "done, 2/2 records" in out.getvalue()  # February and April

    def test_check_rollups_finds_and_repairs_a_day_that_differs(self, tenant, computed):
        DailyRollup.objects.filter(day=date(2026, 2, 10)).update(record_count=7)
        # The day differs from its record (7 against 1), and February's monthly rows (1
        # record) from the day's rows (7).
        out = io.StringIO()
        with pytest.raises(CommandError, match="2 day"):
            call_command("check_rollups", stdout=out)
        assert "day 2026-02-10: records" in out.getvalue()
        assert "month 2026-02-01: records (7, 1)" in out.getvalue()
        out = io.StringIO()
        call_command("check_rollups", "--repair", stdout=out)
        assert "0 day(s) or month(s) still differ" in out.getvalue()
        assert DailyRollup.objects.get(day=date(2026, 2, 10)).record_count == 1
        assert MonthlyRollup.objects.get(day=date(2026, 2, 1)).record_count == 1

    def test_check_rollups_finds_and_repairs_a_month_that_differs(self, tenant, computed):
        MonthlyRollup.objects.filter(day=date(2026, 4, 1)).update(facility_kwh=99.0)
        out = io.StringIO()
        with pytest.raises(CommandError, match="1 day"):
            call_command("check_rollups", stdout=out)
        assert "month 2026-04-01" in out.getvalue()
        call_command("check_rollups", "--repair", stdout=io.StringIO())
        day = DailyRollup.objects.get(day__month=4)
        assert MonthlyRollup.objects.get(day=date(2026, 4, 1)).facility_kwh == day.facility_kwh
