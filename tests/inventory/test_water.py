"""Water through the pipeline: records pushed as users push them (API, CodeCarbon), facility WUE
set over the API, figures read back and compared with litres worked out by hand."""

import csv
import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from ecologits.electricity_mix_repository import electricity_mixes
from rest_framework.test import APIClient

from accounts.audit import audit_event_list
from accounts.principal import principal_for_membership
from greenai_portal.errors import ApplicationError
from inventory.factors.library import factor_dataset_load
from inventory.ingestion.schemas import WORKLOAD
from inventory.ingestion.services import content_hash
from inventory.models import (
    CloudWue,
    ContractualInstrument,
    DailyRollup,
    FacilityWue,
    FactorDataset,
    Location,
    OffsiteWaterFactor,
    WorkloadRecord,
)
from inventory.pipeline import records_compute
from reports.services import report_lock
from tests.conftest import workload
from tests.inventory.test_codecarbon_ingest import emissions_data, post_output, token_key
from tests.inventory.test_managed_row_apis import api_call
from tests.inventory.test_pipeline import stored_cloud_usage, stored_workload
from tests.inventory.test_recalculation import dataset_variant, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

WUE_URL = "/api/v1/facilities/wue/"
INDICATORS_URL = "/api/v1/facilities/indicators/"
# 8 H100s for 24 h at half load: (79.1 + 0.5 × (700 − 79.1)) W = 389.55 W per device (the
# library's H100 row: max 700 W, idle 79.1 W); × 8 × 24 h = 74,793.6 Wh = 74.7936 kWh IT.
H100_DAY_IT_KWH = 74.7936

WUE_2026 = {
    "facility": "lab-paris",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "wue_l_per_kwh": 1.8,
    "source": "Site water meter 2025 / IT meter 2025",
}


def h100_day(**overrides) -> dict:
    return workload(started_at="2026-01-10T00:00:00Z", ended_at="2026-01-11T00:00:00Z", **overrides)


def ingest(tenant, *records):
    response = tenant.token_client().post("/api/v1/workloads/", list(records), format="json")
    assert response.status_code == 201, response.content
    records_compute()


def scope2_csv_total(tenant) -> dict[str, str]:
    """The Scope 2 total line of the 2026 Q1 report's CSV."""
    response = tenant.client_for("admin").get(
        "/api/v1/reports/scope2/csv/", {"year": 2026, "quarter": 1}
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    table = lines[next(n for n, line in enumerate(lines) if line.startswith("section,")) :]
    rows = csv.DictReader(table)
    return next(r for r in rows if (r["section"], r["key"]) == ("scope2", "total"))


def set_wue(tenant, capture, **changes):
    response = api_call(
        tenant.client_for("admin"), capture, "post", WUE_URL, {**WUE_2026, **changes}
    )
    assert response.status_code == 201, response.content
    return response


class TestOnsiteWater:
    def test_8_h100s_for_a_day_at_wue_1_8_drink_134_6_litres(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day())
        record = WorkloadRecord.objects.get()
        assert record.it_kwh == pytest.approx(H100_DAY_IT_KWH, rel=1e-12)
        # 74.7936 kWh × 1.8 L/kWh = 134.62848 L (WUE on IT energy, before the PUE of 1.2).
        assert record.water_onsite_l == pytest.approx(134.62848, rel=1e-12)
        assert (record.water_tier, record.wue_used) == ("facility", 1.8)
        assert record.facility_wue.source == WUE_2026["source"]
        rollup = DailyRollup.objects.get()
        assert rollup.water_onsite_l == pytest.approx(134.62848, rel=1e-12)
        assert (rollup.record_count, rollup.water_record_count) == (1, 1)

    def test_a_records_measured_water_is_kept(self, tenant, django_capture_on_commit_callbacks):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day(water_l=50.0))
        record = WorkloadRecord.objects.get()
        assert (record.water_onsite_l, record.water_tier) == (50.0, "measured")
        assert (record.wue_used, record.facility_wue_id) == (None, None)

    def test_without_a_wue_water_is_not_available_never_zero(self, tenant):
        ingest(tenant, h100_day(), h100_day(external_id="job-2", water_l=20.0))
        unmeasured = WorkloadRecord.objects.get(external_id="job-1")
        assert unmeasured.status == "computed"
        assert (unmeasured.water_onsite_l, unmeasured.water_tier) == (None, "")
        # The day's rollup sums what is known and says how much: 1 record of 2.
        rollup = DailyRollup.objects.get()
        assert (rollup.water_onsite_l, rollup.water_record_count) == (20.0, 1)
        footprint = tenant.client_for("admin").get(
            "/api/v1/footprint/", {"start": "2026-01-01", "end": "2026-02-01"}
        )
        scope2 = footprint.json()["totals"]["scope2"]
        assert (scope2["water_onsite_l"], scope2["water_record_count"]) == (20.0, 1)
        assert scope2["record_count"] == 2

    def test_a_day_with_no_water_at_all_sums_to_none(self, tenant):
        ingest(tenant, h100_day())
        assert DailyRollup.objects.get().water_onsite_l is None
        footprint = tenant.client_for("admin").get(
            "/api/v1/footprint/", {"start": "2026-01-01", "end": "2026-02-01"}
        )
        scope2 = footprint.json()["totals"]["scope2"]
        assert (scope2["water_onsite_l"], scope2["water_record_count"]) == (None, 0)

    def test_a_cloud_region_uses_its_providers_published_wue(self, tenant):
        row = CloudWue.objects.get(dataset__is_active=True, provider="aws", region="us-east-1")
        # The GSF real-time-cloud sheet's 2024 figure for AWS us-east-1.
        assert (row.wue_l_per_kwh, row.year) == (0.12, 2024)
        assert "real-time-cloud" in row.source_url
        record = stored_cloud_usage(
            tenant, usage_kind="gpu", quantity=10.0, hardware=_h100(), utilization=0.5
        )
        records_compute()
        record = type(record).objects.get(pk=record.pk)
        # 10 GPU-hours × 389.55 W = 3.8955 kWh (replication 1); × 0.12 L/kWh = 0.46746 L.
        assert record.it_kwh == pytest.approx(3.8955, rel=1e-12)
        assert record.water_onsite_l == pytest.approx(0.46746, rel=1e-12)
        assert (record.water_tier, record.cloud_wue_id) == ("provider", row.id)

    def test_another_organisations_wue_never_applies(
        self, tenant, outsider, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        theirs = stored_workload(outsider, avg_power_w=1000.0)
        records_compute()
        assert fresh(theirs).water_onsite_l is None  # their lab-paris has no WUE


def _h100():
    from inventory.models import Hardware

    return Hardware.objects.get(dataset__is_active=True, code="nvidia-h100-sxm")


class TestWueSetting:
    def test_a_wue_recomputes_the_open_quarter_but_not_the_locked_one(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        january, february, april = computed
        esg = tenant.members["esg_officer"]
        report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)
        response = set_wue(tenant, django_capture_on_commit_callbacks)
        job = response.json()["recalculation"]
        assert job["trigger"] == "facility_wue"
        # April (open): 1 kW × 10 h = 10 kWh IT × 1.8 L/kWh = 18 L. Q1 is locked: unchanged.
        assert fresh(april).water_onsite_l == pytest.approx(18.0, rel=1e-12)
        for locked in (january, february):
            now = fresh(locked)
            assert (now.water_onsite_l, now.computed_at) == (None, locked.computed_at)
        events = audit_event_list(organisation=tenant.organisation, action="facility_wue.create")
        assert events and events[0].details["wue_l_per_kwh"] == 1.8

    def test_a_wue_row_only_covers_its_period(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        january, february, april = computed
        set_wue(
            tenant,
            django_capture_on_commit_callbacks,
            valid_from="2026-02-01",
            valid_to="2026-02-28",
            wue_l_per_kwh=0.5,
        )
        assert fresh(february).water_onsite_l == pytest.approx(5.0)  # 10 kWh × 0.5
        assert fresh(january).water_onsite_l is None
        assert fresh(april).water_onsite_l is None

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"wue_l_per_kwh": 12.0}, "wue_l_per_kwh"),
            ({"source": "  "}, "source"),
            ({"valid_to": "2025-12-31"}, "end on or after"),
        ],
    )
    def test_bad_wue_rows_are_refused_with_a_reason(self, tenant, change, message):
        response = tenant.client_for("admin").post(WUE_URL, {**WUE_2026, **change}, format="json")
        assert response.status_code == 400
        assert message in str(response.json())
        assert not FacilityWue.objects.exists()

    def test_another_organisations_facility_and_rows_are_not_found(
        self, tenant, outsider, django_capture_on_commit_callbacks
    ):
        Location.objects.create(
            organisation=outsider.organisation, code="globex-dc", name="DC", kind="owned", zone="DE"
        )
        admin = tenant.client_for("admin")
        assert (
            admin.post(WUE_URL, {**WUE_2026, "facility": "globex-dc"}, format="json").status_code
            == 404
        )
        row = set_wue(outsider, django_capture_on_commit_callbacks).json()
        assert admin.get(f"{WUE_URL}{row['id']}/").status_code == 404
        assert admin.delete(f"{WUE_URL}{row['id']}/").status_code == 404
        assert admin.get(WUE_URL).json() == []

    def test_a_used_wue_row_stays_and_an_unused_one_is_deleted(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        used = set_wue(tenant, django_capture_on_commit_callbacks).json()
        unused = set_wue(
            tenant,
            django_capture_on_commit_callbacks,
            valid_from="2030-01-01",
            valid_to="2030-12-31",
        ).json()
        admin = tenant.client_for("admin")
        refused = api_call(
            admin, django_capture_on_commit_callbacks, "delete", f"{WUE_URL}{used['id']}/"
        )
        assert refused.status_code == 400
        assert "stays for the audit trail" in refused.json()["message"]
        deleted = api_call(
            admin, django_capture_on_commit_callbacks, "delete", f"{WUE_URL}{unused['id']}/"
        )
        assert deleted.status_code == 200
        assert list(FacilityWue.objects.values_list("id", flat=True)) == [used["id"]]
        assert (
            tenant.client_for("engineer").post(WUE_URL, WUE_2026, format="json").status_code == 403
        )


class TestMeasuredWaterIn:
    def test_the_content_hash_of_a_record_without_water_never_changes(self):
        record = {"external_id": "job-1", "team": "research", "energy_kwh": 1.0}
        fields = WORKLOAD.content_fields
        assert content_hash(record, fields) == content_hash({**record, "water_l": None}, fields)
        assert content_hash(record, fields) != content_hash({**record, "water_l": 5.0}, fields)

    def test_codecarbon_water_is_shared_out_by_energy_across_posts(self, tenant):
        client = APIClient()
        key = token_key(tenant, team="research")
        # CodeCarbon at WUE 1.5: 0.5 kWh → 0.75 L at the flush, 1.2 kWh → 1.8 L at the stop.
        flush = emissions_data(duration=1800.0, energy_consumed=0.5, water_consumed=0.75, wue=1.5)
        flush["timestamp"] = "2026-01-10T11:30:00"
        stop = emissions_data(water_consumed=1.8, wue=1.5)
        assert post_output(client, key, flush).status_code == 201
        assert post_output(client, key, stop).status_code == 201
        records_compute()
        first, second = WorkloadRecord.objects.order_by("started_at")
        assert first.water_onsite_l == pytest.approx(0.75)  # 0.5 kWh × 1.8 L / 1.2 kWh
        assert second.water_onsite_l == pytest.approx(1.05)  # 0.7 kWh × 1.8 L / 1.2 kWh
        assert {first.water_tier, second.water_tier} == {"measured"}

    def test_codecarbon_without_a_wue_measured_no_water(self, tenant):
        client = APIClient()
        key = token_key(tenant, team="research")
        assert post_output(client, key, emissions_data()).status_code == 201  # wue 0, water 0
        assert WorkloadRecord.objects.get().water_l is None


class TestFacilityIndicators:
    def test_a_years_pue_wue_ref_and_energy_by_source(
        self, tenant, outsider, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        # A renewable certificate for 6 kWh of 2026 in France, at 0 kg CO2e/kWh.
        ContractualInstrument.objects.create(
            organisation=tenant.organisation,
            kind="eac",
            zone="FR",
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            mwh=0.006,
            kg_per_kwh=0.0,
            reference="GO-FR-2026-1",
        )
        stored_workload(tenant, avg_power_w=1000.0)  # 10 h at 1 kW, January, PUE 1.2
        stored_workload(outsider, avg_power_w=3000.0)
        records_compute()
        lines = tenant.client_for("esg_officer").get(INDICATORS_URL, {"year": 2026}).json()
        (paris,) = lines
        # IT 10 kWh, facility 12 kWh: PUE 1.2; water 10 kWh × 1.8 = 18 L = 0.018 m³, WUE 1.8;
        # the certificate covers 6 of the 12 kWh: renewable 0.006 MWh, REF 0.5.
        assert paris["facility"] == "lab-paris"
        assert paris["it_mwh"] == pytest.approx(0.010)
        assert paris["facility_mwh"] == pytest.approx(0.012)
        assert paris["pue"] == pytest.approx(1.2)
        assert (paris["pue_setting"], paris["pue_setting_source"]) == (1.2, "metered")
        assert paris["water_onsite_m3"] == pytest.approx(0.018)
        assert paris["wue"] == pytest.approx(1.8)
        assert [w["wue_l_per_kwh"] for w in paris["wue_settings"]] == [1.8]
        assert paris["renewable_mwh"] == pytest.approx(0.006)
        assert paris["non_renewable_mwh"] == pytest.approx(0.006)
        assert paris["ref"] == pytest.approx(0.5)
        assert (paris["records"], paris["water_records"]) == (1, 1)
        # Their 3 kW record is theirs alone: their IT energy is 30 kWh.
        (theirs,) = outsider.client_for("admin").get(INDICATORS_URL, {"year": 2026}).json()
        assert theirs["it_mwh"] == pytest.approx(0.030)
        assert theirs["water_onsite_m3"] is None
        # The engineer sees only the team serving: no record of theirs in the facility.
        assert tenant.client_for("engineer").get(INDICATORS_URL, {"year": 2026}).json() == []
        assert tenant.client_for("admin").get(INDICATORS_URL, {"year": 2025}).json() == []

    def test_a_bad_year_is_refused(self, tenant):
        response = tenant.client_for("admin").get(INDICATORS_URL, {"year": "1999"})
        assert response.status_code == 400

    def test_the_facilities_page_shows_wue_and_indicators(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        page = tenant.client_for("admin").get("/settings/facilities/", {"year": 2026})
        text = page.content.decode()
        assert page.status_code == 200
        assert "Site water meter 2025 / IT meter 2025" in text
        assert "Facility indicators 2026" in text
        # Three records of 10 kWh IT at 1.8 L/kWh: 54 L = 0.05 m³ (two decimals).
        assert ">0.05<" in text


class TestWaterLineage:
    def test_the_quarters_factor_rows_name_the_wue_rows_with_their_sources(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day())
        stored_cloud_usage(tenant, usage_kind="gpu", quantity=10.0, hardware=_h100())
        records_compute()
        lines = (
            tenant.client_for("auditor")
            .get("/api/v1/reports/scope2/factors/", {"year": 2026, "quarter": 1})
            .json()
        )
        wue = {f["kind"]: f for f in lines["factors"] if f["id"].split(":")[0].endswith("wue")}
        facility = wue["WUE (facility setting)"]
        assert (facility["zone"], facility["value"]) == ("lab-paris", 1.8)
        assert WUE_2026["source"] in facility["source"]
        cloud = wue["WUE (cloud region)"]
        assert (cloud["zone"], cloud["value"], cloud["year"]) == ("aws:us-east-1", 0.12, 2024)
        assert "real-time-cloud" in cloud["source_url"]
        paris = next(line for line in lines["locations"] if line["code"] == "lab-paris")
        assert facility["id"] in paris["factor_ids"]

    def test_the_quarters_csv_has_the_water_columns(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day())
        total = scope2_csv_total(tenant)
        # 134.62848 L = 0.13462848 m³ of on-site water, from 1 record of 1.
        assert float(total["water_onsite_m3"]) == pytest.approx(0.13462848)
        assert total["water_records"] == "1"

    def test_a_records_page_shows_how_its_water_was_worked_out(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day(), h100_day(external_id="job-2", location="aws:us-east-1"))
        paris, aws = (WorkloadRecord.objects.get(external_id=e) for e in ("job-1", "job-2"))
        client = tenant.client_for("auditor")
        text = client.get(f"/records/workloads/{paris.pk}/").content.decode()
        assert "74.7936 kWh IT × WUE 1.8 L/kWh (Site water meter 2025 / IT meter 2025)" in text
        assert ">134.628480 L<" in text
        text = client.get(f"/records/workloads/{aws.pk}/").content.decode()
        assert "74.7936 kWh IT × WUE 0.12 L/kWh (aws:us-east-1 2024" in text


class TestOffsiteWater:
    """Off-site water: facility kWh × the water consumption of the zone's country's generation
    (WRI/WSP 2020 through EcoLogits' electricity mixes), beside on-site water, never in it."""

    def test_a_france_facility_at_pue_1_2_evaporates_440_844_litres_off_site(self, tenant):
        france = electricity_mixes.find_electricity_mix(zone="FRA")
        assert (france.wue, france.warnings) == (3.6737, [])  # EcoLogits 0.11.3's FRA mix
        record = stored_workload(tenant, energy_kwh=100.0)
        records_compute()
        record = fresh(record)
        # 100 kWh IT × PUE 1.2 = 120 kWh facility × 3.6737 L/kWh = 440.844 L.
        assert record.water_offsite_l == pytest.approx(440.844, rel=1e-12)
        assert record.water_onsite_l is None  # lab-paris has no WUE: nothing added to it
        france_row = OffsiteWaterFactor.objects.get(dataset__is_active=True, country_iso="FR")
        assert record.offsite_water_factor_id == france_row.id  # the row it used, named
        rollup = DailyRollup.objects.get(organisation=tenant.organisation)
        assert rollup.water_offsite_l == pytest.approx(440.844, rel=1e-12)
        assert (rollup.water_offsite_record_count, rollup.water_record_count) == (1, 0)

    def test_a_cloud_region_uses_the_country_of_its_sub_national_grid(self, tenant):
        # aws:us-east-1 is on eGRID SRVC, a zone of the US: the USA mix, 3.1321 L/kWh.
        record = stored_cloud_usage(
            tenant, usage_kind="gpu", quantity=10.0, hardware=_h100(), utilization=0.5
        )
        records_compute()
        # 10 GPU-hours × 389.55 W = 3.8955 kWh IT × AWS PUE 1.135 = 4.4213925 kWh facility;
        # × 3.1321 L/kWh = 13.84824344925 L.
        record = type(record).objects.get(pk=record.pk)
        assert record.water_offsite_l == pytest.approx(13.84824344925, rel=1e-12)

    def test_a_zone_with_only_the_world_average_is_not_available(self, tenant):
        singapore = electricity_mixes.find_electricity_mix(zone="SGP")
        assert [w.code for w in singapore.warnings] == ["electricity-mix-wue-world"]
        Location.objects.create(
            organisation=tenant.organisation, code="sg-colo", name="Singapore colo",
            kind=Location.Kind.COLOCATION, zone="SG", pue=1.4,
        )  # fmt: skip
        record = stored_workload(
            tenant, energy_kwh=100.0, location=Location.objects.get(code="sg-colo")
        )
        records_compute()
        assert fresh(record).status == "computed"
        assert fresh(record).water_offsite_l is None  # not the world's 3.908 L/kWh
        assert fresh(record).offsite_water_factor_id is None
        rollup = DailyRollup.objects.get(organisation=tenant.organisation)
        assert (rollup.water_offsite_l, rollup.water_offsite_record_count) == (None, 0)

    def test_another_organisations_records_stay_in_their_own_sums(self, tenant, outsider):
        stored_workload(tenant, energy_kwh=100.0)
        stored_workload(outsider, energy_kwh=10.0)
        records_compute()
        mine = DailyRollup.objects.get(organisation=tenant.organisation)
        theirs = DailyRollup.objects.get(organisation=outsider.organisation)
        # 120 kWh × 3.6737 = 440.844 L; theirs 10 kWh × 1.2 × 3.6737 = 44.0844 L.
        assert mine.water_offsite_l == pytest.approx(440.844, rel=1e-12)
        assert theirs.water_offsite_l == pytest.approx(44.0844, rel=1e-12)

    def test_the_library_holds_countries_with_a_factor_of_their_own(self, factors):
        rows = {r.country_iso: r for r in OffsiteWaterFactor.objects.filter(dataset=factors)}
        assert rows["FR"].l_per_kwh == 3.6737
        assert rows["DE"].l_per_kwh == 1.947  # EcoLogits' DEU mix
        assert "SG" not in rows and "ZA" not in rows  # world average only
        # 50 mixes without the world warning in EcoLogits 0.11.3, one of them WOR itself.
        assert len(rows) == 49
        assert "Guidance for Calculating Water Use" in rows["FR"].source
        assert rows["FR"].source_url.startswith("https://www.wri.org/")
        assert "MPL-2.0" in rows["FR"].licence

    def test_a_library_naming_another_ecologits_version_is_refused(self, factors, tmp_path):
        directory = dataset_variant(tmp_path, "2099.1")
        manifest = json.loads((directory / "manifest.json").read_text())
        manifest["offsite_water_ecologits"] = "0.0.1"
        (directory / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ApplicationError, match=r"ecologits 0\.0\.1"):
            factor_dataset_load(directory=directory)
        assert not FactorDataset.objects.filter(version="2099.1").exists()

    def test_a_version_naming_no_ecologits_loads_no_off_site_factors(self, factors, tmp_path):
        directory = dataset_variant(tmp_path, "2026.4-again")  # as 2026.4 and older versions
        manifest = json.loads((directory / "manifest.json").read_text())
        del manifest["offsite_water_ecologits"]
        (directory / "manifest.json").write_text(json.dumps(manifest))
        dataset, created = factor_dataset_load(directory=directory)
        assert created
        assert not OffsiteWaterFactor.objects.filter(dataset=dataset).exists()

    def test_a_new_library_version_adds_it_to_open_quarters_only(
        self, tenant, tmp_path, django_capture_on_commit_callbacks
    ):
        # Records computed with a library without off-site factors (as before 2026.5).
        OffsiteWaterFactor.objects.all().delete()
        january, april = (
            stored_workload(tenant, day=date(2026, month, 10), avg_power_w=1000.0)
            for month in (1, 4)
        )
        records_compute()
        assert fresh(january).water_offsite_l is fresh(april).water_offsite_l is None
        esg = tenant.members["esg_officer"]
        report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)
        with django_capture_on_commit_callbacks(execute=True):
            directory = dataset_variant(tmp_path, "2099.1")
            call_command("load_factors", directory=directory, stdout=io.StringIO())
        # April (open): 1 kW × 10 h = 10 kWh IT × 1.2 = 12 kWh × 3.6737 L/kWh = 44.0844 L.
        assert fresh(april).water_offsite_l == pytest.approx(44.0844, rel=1e-12)
        assert fresh(january).water_offsite_l is None  # Q1 is locked: its figures stay

    def test_the_quarters_csv_shows_off_site_beside_on_site(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day())
        total = scope2_csv_total(tenant)
        # On-site: 74.7936 kWh IT × 1.8 = 134.62848 L. Off-site: × PUE 1.2 = 89.75232 kWh
        # facility × 3.6737 L/kWh = 329.723097984 L = 0.329723097984 m³, in its own column.
        assert float(total["water_onsite_m3"]) == pytest.approx(0.13462848)
        assert float(total["water_offsite_m3"]) == pytest.approx(0.329723097984)
        assert total["water_offsite_records"] == "1"

    def test_the_quarters_report_page_has_an_off_site_column_beside_on_site(
        self, tenant, django_capture_on_commit_callbacks
    ):
        set_wue(tenant, django_capture_on_commit_callbacks)
        ingest(tenant, h100_day())
        html = tenant.client_for("admin").get("/reports/2026/Q1/").content.decode()
        onsite, offsite = html.index("On-site water (m³)"), html.index("Off-site water (m³)")
        assert onsite < offsite  # two columns, the on-site one first
        # 0.13462848 m³ on-site and 0.329723097984 m³ off-site, 3 decimals each, never added
        # (their sum, 0.464, is nowhere).
        assert ">0.135<" in html and ">0.330<" in html
        assert ">0.464<" not in html

    def test_the_footprint_api_gives_both_waters_apart(self, tenant, outsider):
        stored_workload(tenant, energy_kwh=100.0)
        stored_workload(outsider, energy_kwh=10.0)
        records_compute()
        body = (
            tenant.client_for("admin")
            .get("/api/v1/footprint/?start=2026-01-01&end=2026-02-01&group_by=team")
            .json()
        )
        scope2 = body["totals"]["scope2"]
        # 440.844 L off-site (120 kWh × 3.6737), theirs not in it; on-site not available.
        assert scope2["water_offsite_l"] == pytest.approx(440.844, rel=1e-12)
        assert (scope2["water_offsite_record_count"], scope2["water_onsite_l"]) == (1, None)

    def test_the_quarters_factor_rows_cite_the_off_site_factor(self, tenant):
        ingest(tenant, h100_day())
        lines = (
            tenant.client_for("auditor")
            .get("/api/v1/reports/scope2/factors/", {"year": 2026, "quarter": 1})
            .json()
        )
        (offsite,) = [f for f in lines["factors"] if f["id"].startswith("offsite_water:")]
        assert (offsite["zone"], offsite["value"]) == ("FR", 3.6737)
        assert offsite["unit"] == "L per facility kWh"
        assert offsite["source"].startswith("WRI and WSP, Guidance for Calculating Water Use")
        assert "MPL-2.0" in offsite["licence"]
        assert offsite["dataset"] == "greenai-factors 2026.6"  # the active library
        paris = next(line for line in lines["locations"] if line["code"] == "lab-paris")
        assert offsite["id"] in paris["factor_ids"]
