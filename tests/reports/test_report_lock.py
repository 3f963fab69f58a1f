import hashlib
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from accounts.models import AuditEvent
from inventory.models import ContractualInstrument, DailyRollup, MonthlyRollup, WorkloadRecord
from inventory.pipeline import rollup_mismatches
from reports.lineage_selectors import records_after
from reports.models import ReportImmutableError, ReportVersion
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import (
    allocate_market,
    job,
    scope2,
    seed_quarter,
    send,
)

RESTATE = "/api/v1/reports/scope2/restatements/"
Q1 = {"year": 2026, "quarter": 1}


def lock(client, **body):
    """`client` prepares 2026 Q1's close, a second person approves it: the only way to lock."""
    return close_quarter(client, **{**Q1, **body})


def independent_hash(organisation) -> str:
    """The documented input hash, recomputed here from the raw records and allocations."""

    def text(value):
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    lines = []
    records = WorkloadRecord.objects.filter(
        organisation=organisation, activity_date__year=2026, activity_date__month__lte=3
    ).order_by("external_id")
    for r in records:
        fields = (
            r.external_id,
            r.content_hash,
            r.status,
            r.it_kwh,
            r.facility_kwh,
            r.location_kg,
            r.grid_factor_id,
            r.factor_override_id,
            r.methodology_version,
        )
        lines.append("|".join(["W", *map(text, fields)]))
    allocations = organisation.marketallocation_set.filter(month__year=2026, month__month__lte=3)
    for a in allocations.order_by("zone", "month", "basis", "instrument_id", "id"):
        fields = (a.zone, a.month, a.basis, a.instrument_id, a.kwh, a.kg_per_kwh, a.kg)
        lines.append("|".join(["M", *map(text, fields)]))
    return hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()


@pytest.mark.django_db
class TestLock:
    def test_an_esg_officer_locks_a_quarter_with_its_totals_factors_and_input_hash(self, tenant):
        client = seed_quarter(tenant)
        draft = scope2(client).json()
        response = lock(client)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["version"] == 1
        # The second person's approval locks: the version names them.
        assert body["locked_by_name"] == "acme-admin"
        assert body["locked_by_role"] == "admin"
        assert body["record_count"] == 4
        assert body["methodology_versions"] == ["2026.1"]
        assert body["content_hash"] == independent_hash(tenant.organisation)

        stored = ReportVersion.objects.get()
        assert stored.report["scope2"] == draft["scope2"]
        assert stored.report["breakdowns"] == draft["breakdowns"]
        zones = {(f["zone"], f["kind"]) for f in stored.factors}
        assert ("FR", "override (grid_average)") in zones
        assert any(f["licence"] and f["source"] for f in stored.factors if f["zone"] != "FR")
        assert sum(b["records_in_period"] for b in stored.lineage["batches"]) == 4

        report = scope2(client).json()
        assert report["status"] == "locked"
        assert report["version"] == 1
        assert report["lock"]["content_hash"] == body["content_hash"]

    def test_the_hash_is_deterministic_and_follows_the_inputs(self, tenant):
        from reports.lineage_selectors import quarter_inputs

        seed_quarter(tenant)
        args = {
            "organisation_id": tenant.organisation.id,
            "start": __import__("datetime").date(2026, 1, 1),
            "end": __import__("datetime").date(2026, 4, 1),
        }
        first = quarter_inputs(**args).content_hash
        assert quarter_inputs(**args).content_hash == first
        WorkloadRecord.objects.filter(external_id="jan-train").update(location_kg=2.5)
        assert quarter_inputs(**args).content_hash != first

    def test_an_admin_may_lock_but_engineers_auditors_and_tokens_may_not(self, tenant):
        seed_quarter(tenant)
        assert lock(tenant.client_for("engineer")).status_code == 403
        assert lock(tenant.client_for("auditor")).status_code == 403
        assert lock(tenant.token_client(scopes=("ingest", "read"))).status_code == 403
        assert ReportVersion.objects.count() == 0
        assert lock(tenant.client_for("admin")).status_code == 201  # the ESG officer approves

    def test_there_is_no_one_step_lock_for_scripts(self, tenant):
        client = seed_quarter(tenant)
        for who in (client, tenant.manage_client(scopes=("manage", "read"))):
            assert who.post("/api/v1/reports/scope2/locks/", Q1, format="json").status_code == 404
        assert ReportVersion.objects.count() == 0

    def test_a_locked_quarter_cannot_be_locked_again(self, tenant):
        client = seed_quarter(tenant)
        assert lock(client).status_code == 201
        response = lock(client)
        assert response.status_code == 409
        assert "restatement" in response.json()["message"]

    def test_it_refuses_a_quarter_with_missing_market_figures(self, tenant):
        client = seed_quarter(tenant)
        DailyRollup.objects.filter(day__month=2).update(market_kg=None)
        response = lock(client)
        assert response.status_code == 409
        assert "market-based" in response.json()["message"]

    def test_it_computes_the_quarters_waiting_records_before_locking_them(self, tenant):
        client = seed_quarter(tenant)
        draft = scope2(client).json()["scope2"]
        closes = "/api/v1/reports/scope2/closes/"
        prepared = client.post(closes + "prepare/", {**Q1, "note": "checked"}, format="json")
        assert prepared.status_code == 201, prepared.content
        # A record stored before the approval and not computed yet (its worker is behind).
        WorkloadRecord.objects.filter(external_id="jan-train").update(status="pending")
        # Recomputing it reallocates its month with the pipeline's own market allocation (the
        # seed's is the test's): the approver accepts the figures that changed.
        approval = {**Q1, "accept_changed_figures": True}
        response = tenant.client_for("admin").post(closes + "approve/", approval, format="json")
        assert response.status_code == 200, response.content
        assert ReportVersion.objects.get().record_count == 4
        assert WorkloadRecord.objects.get(external_id="jan-train").status == "computed"
        locked = ReportVersion.objects.get().report["scope2"]
        # Recomputed as before: 0.216 MWh, the same location-based tonnes.
        assert (locked["mwh"], locked["location_t"]) == pytest.approx(
            (draft["mwh"], draft["location_t"])
        )
        assert locked["mwh"] == pytest.approx(0.216)

    def test_it_refuses_an_empty_quarter_and_names_bad_input(self, tenant):
        client = seed_quarter(tenant)
        assert lock(client, year=2024, quarter=2).status_code == 409
        response = lock(client, quarter=9)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "quarter"


def today_is(monkeypatch, day: date) -> None:
    """The portal's clock (timezone.localdate) reads `day`."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)


@pytest.mark.django_db
class TestLockBeforeTheQuarterEnds:
    def test_it_refuses_a_quarter_still_running_without_a_reason(self, tenant, monkeypatch):
        client = seed_quarter(tenant)
        today_is(monkeypatch, date(2026, 3, 20))
        for body in ({}, {"reason": "   "}):
            response = lock(client, **body)
            assert response.status_code == 400, response.content
            assert response.json()["message"] == (
                "2026 Q1 has not ended (it runs to 31 Mar 2026); give a reason to lock it early"
            )
            assert response.json()["errors"][0]["field"] == "reason"
        assert ReportVersion.objects.count() == 0

    def test_with_a_reason_it_locks_early_and_keeps_the_reason(self, tenant, monkeypatch):
        client = seed_quarter(tenant)
        today_is(monkeypatch, date(2026, 3, 31))  # the quarter's last day: not ended yet
        response = lock(client, reason=" Board pack due 31 March ")
        assert response.status_code == 201, response.content
        assert response.json()["reason"] == "Board pack due 31 March"
        event = AuditEvent.objects.get(action="report.lock")
        assert event.details["reason"] == "Board pack due 31 March"

    def test_a_quarter_that_has_ended_locks_without_a_reason(self, tenant, monkeypatch):
        client = seed_quarter(tenant)
        today_is(monkeypatch, date(2026, 4, 1))  # Q1 ends on 1 April (exclusive)
        response = lock(client)
        assert response.status_code == 201, response.content
        assert response.json()["reason"] == ""


@pytest.mark.django_db
class TestLockConfirmationPage:
    def test_it_shows_what_the_lock_freezes_before_anything_is_locked(self, tenant):
        client = seed_quarter(tenant)
        report = client.get("/reports/2026/Q1/").content.decode()
        assert 'href="/reports/2026/Q1/lock/"' in report
        html = client.get("/reports/2026/Q1/lock/").content.decode()
        assert "1 Jan 2026 to 31 Mar 2026" in html
        # 3 Scope 2 records + 1 public-cloud record; 48 + 48 + 120 kWh = 0.216 MWh;
        # location 2.4 + 2.4 + 6.0 kg = 10.8 kg = 0.011 t; market 11.6 kg = 0.012 t.
        assert 'data-confirm="records">4<' in html
        assert 'data-confirm="mwh">0.216 MWh<' in html
        assert 'data-confirm="location">0.011 t CO2e<' in html
        assert 'data-confirm="market">0.012 t CO2e<' in html
        assert 'name="reason"' not in html
        assert ReportVersion.objects.count() == 0

    def test_for_a_quarter_still_running_it_asks_for_the_reason(self, tenant, monkeypatch):
        client = seed_quarter(tenant)
        today_is(monkeypatch, date(2026, 2, 10))
        html = client.get("/reports/2026/Q1/lock/").content.decode()
        assert "2026 Q1 has not ended" in html and "runs to 31 Mar 2026" in html
        assert 'name="reason" required' in html
        note = {"note": "checked"}
        response = client.post("/reports/2026/Q1/lock/", {**note, "reason": ""}, follow=True)
        assert "give a reason to lock it early" in response.content.decode()
        response = client.post("/reports/2026/Q1/lock/", {**note, "reason": "audit visit"})
        admin = tenant.client_for("admin")
        response = admin.post("/reports/2026/Q1/close/approve/", follow=True)
        assert response.content.decode().count("locked as version 1") == 1  # shown once
        assert ReportVersion.objects.get().reason == "audit visit"

    def test_people_who_may_not_lock_get_no_confirmation_page(self, tenant, outsider):
        seed_quarter(tenant)
        for role in ("engineer", "auditor"):
            assert tenant.client_for(role).get("/reports/2026/Q1/lock/").status_code == 403
        # Another organisation's admin sees their own (empty) quarter, never this one's figures.
        html = outsider.client_for("admin").get("/reports/2026/Q1/lock/").content.decode()
        assert 'data-confirm="records">0<' in html

    def test_a_locked_quarter_sends_back_to_its_report(self, tenant):
        client = seed_quarter(tenant)
        assert lock(client).status_code == 201
        response = client.get("/reports/2026/Q1/lock/", follow=True)
        assert response.redirect_chain[-1][0] == "/reports/2026/Q1/"
        assert "already locked" in response.content.decode()


@pytest.mark.django_db
class TestImmutability:
    def test_the_api_refuses_to_change_or_delete_a_version(self, tenant):
        client = seed_quarter(tenant)
        version_id = lock(client).json()["id"]
        url = f"/api/v1/reports/scope2/versions/{version_id}/"
        admin = tenant.client_for("admin")
        assert admin.put(url, {"reason": "x"}, format="json").status_code == 405
        assert admin.patch(url, {"record_count": 1}, format="json").status_code == 405
        assert admin.delete(url).status_code == 405
        assert admin.get(url).json()["report"]["scope2"]["record_count"] == 3
        assert ReportVersion.objects.get().record_count == 4

    def test_the_admin_site_shows_versions_read_only(self, tenant):
        client = seed_quarter(tenant)
        version_id = lock(client).json()["id"]
        superuser = get_user_model().objects.create_superuser("root", password="x" * 12)
        client.force_login(superuser)
        url = f"/admin/reports/reportversion/{version_id}/change/"
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert client.post(url, {"reason": "edited"}).status_code == 403
        delete = f"/admin/reports/reportversion/{version_id}/delete/"
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get("/admin/reports/reportversion/add/").status_code == 403
        assert ReportVersion.objects.get().reason == ""

    def test_the_orm_refuses_save_delete_and_bulk_changes(self, tenant):
        lock(seed_quarter(tenant))
        version = ReportVersion.objects.get()
        version.record_count = 1
        with pytest.raises(ReportImmutableError):
            version.save()
        with pytest.raises(ReportImmutableError):
            version.delete()
        with pytest.raises(ReportImmutableError):
            ReportVersion.objects.filter(pk=version.pk).update(record_count=1)
        with pytest.raises(ReportImmutableError):
            ReportVersion.objects.all().delete()
        assert ReportVersion.objects.get().record_count == 4


@pytest.mark.django_db
class TestLateDataAndRestatements:
    def late_record(self, tenant):
        send(tenant, [job("late-train", __import__("datetime").date(2026, 3, 20))])
        allocate_market(tenant.organisation, ContractualInstrument.objects.get())

    def test_data_arriving_after_the_lock_is_kept_and_flagged(self, tenant):
        client = seed_quarter(tenant)
        lock(client)
        self.late_record(tenant)
        assert WorkloadRecord.objects.filter(external_id="late-train").exists()
        body = scope2(client).json()
        assert body["records_after_lock"] == 1
        assert body["scope2"]["mwh"] == pytest.approx(0.216)  # the locked figures
        # Found above the record ids the lock kept; a version without them compares times.
        version = ReportVersion.objects.get()
        assert set(version.lineage["last_record_ids"]) == {"workload", "cloud"}
        older = ReportVersion(locked_at=version.locked_at, lineage={})
        late = {"start": date(2026, 1, 1), "end": date(2026, 4, 1)}
        organisation_id = tenant.organisation.id
        assert records_after(organisation_id=organisation_id, version=older, **late) == 1
        assert records_after(organisation_id=organisation_id, version=version, **late) == 1
        html = client.get("/reports/2026/Q1/").content.decode()
        assert "1 record arrived after lock" in html

    def test_a_restatement_needs_a_reason_and_a_lock(self, tenant):
        client = seed_quarter(tenant)
        response = client.post(RESTATE, {**Q1, "reason": "  "}, format="json")
        assert response.status_code == 400
        response = client.post(RESTATE, {**Q1, "reason": "late data"}, format="json")
        assert response.status_code == 409
        lock(client)
        # The first restatement redoes the market-based allocation with the pipeline; a
        # second one on the same inputs has nothing to restate.
        client.post(RESTATE, {**Q1, "reason": "pipeline allocation"}, format="json")
        response = client.post(RESTATE, {**Q1, "reason": "no change"}, format="json")
        assert response.status_code == 409
        assert "Nothing changed" in response.json()["message"]

    def test_a_restatement_makes_a_new_version_and_the_old_one_stays_readable(self, tenant):
        client = seed_quarter(tenant)
        first_hash = lock(client).json()["content_hash"]
        self.late_record(tenant)
        response = client.post(
            RESTATE, {**Q1, "reason": "Late March job from the Paris lab"}, format="json"
        )
        assert response.status_code == 201, response.content
        second = response.json()
        assert second["version"] == 2
        assert second["reason"] == "Late March job from the Paris lab"
        assert second["record_count"] == 5
        totals = second["differences"]["totals"]["scope2"]
        assert totals["mwh"]["old"] == pytest.approx(0.216)
        assert totals["mwh"]["new"] == pytest.approx(0.264)
        assert totals["mwh"]["change"] == pytest.approx(0.048)
        assert totals["record_count"]["change"] == 1
        research = second["differences"]["lines"]["team"]
        assert [line["label"] for line in research] == ["Research"]
        # The monthly rollups follow: Q1's Scope 2 is 48 + 48 + 120 + the late 48 = 264 kWh,
        # and its market kg is the days' (the restatement re-allocated March).
        monthly = MonthlyRollup.objects.filter(scope="scope2", day__year=2026, day__month__lte=3)
        daily = DailyRollup.objects.filter(scope="scope2", day__year=2026, day__month__lte=3)
        sums = {"kwh": Sum("facility_kwh"), "kg": Sum("market_kg")}
        assert monthly.aggregate(**sums) == pytest.approx(daily.aggregate(**sums))
        assert monthly.aggregate(**sums)["kwh"] == pytest.approx(264.0)
        assert rollup_mismatches(organisation_id=tenant.organisation.id) == []
        assert second["differences"]["content_hash"]["old"] == first_hash

        latest = scope2(client).json()
        assert latest["status"] == "locked"
        assert latest["version"] == 2
        assert latest["records_after_lock"] == 0
        assert latest["restatements"][0]["reason"] == "Late March job from the Paris lab"
        old = scope2(client, version=1).json()
        assert old["status"] == "superseded"
        assert old["scope2"]["mwh"] == pytest.approx(0.216)
        assert old["restatements"] == []
        versions = client.get("/api/v1/reports/scope2/versions/?year=2026&quarter=1").json()
        assert [v["version"] for v in versions] == [1, 2]

    def test_the_page_locks_and_restates(self, tenant):
        client = seed_quarter(tenant)
        client.post("/reports/2026/Q1/lock/", {"note": "checked"})
        response = tenant.client_for("admin").post("/reports/2026/Q1/close/approve/", follow=True)
        assert "approved and locked as version 1" in response.content.decode()
        self.late_record(tenant)
        response = client.post("/reports/2026/Q1/restate/", {"reason": ""}, follow=True)
        assert "needs a reason" in response.content.decode()
        response = client.post("/reports/2026/Q1/restate/", {"reason": "late"}, follow=True)
        html = response.content.decode()
        assert 'data-status="locked"' in html
        assert "Version 2: restated" in html


@pytest.mark.django_db
class TestOtherOrganisations:
    def test_another_organisation_cannot_read_or_restate_a_locked_version(self, tenant, outsider):
        version_id = lock(seed_quarter(tenant)).json()["id"]
        other = outsider.client_for("admin")
        assert other.get(f"/api/v1/reports/scope2/versions/{version_id}/").status_code == 404
        assert scope2(other, version=1).status_code == 404
        assert other.get("/api/v1/reports/scope2/versions/?year=2026&quarter=1").json() == []
        response = other.post(RESTATE, {**Q1, "reason": "mine now"}, format="json")
        assert response.status_code == 409
        assert ReportVersion.objects.count() == 1

    def test_an_engineer_limited_to_teams_sees_no_locked_version(self, tenant):
        version_id = lock(seed_quarter(tenant)).json()["id"]
        engineer = tenant.client_for("engineer")
        assert engineer.get(f"/api/v1/reports/scope2/versions/{version_id}/").status_code == 404
        assert scope2(engineer).json()["status"] == "team_view"


@pytest.mark.django_db
class TestVersionOnThePage:
    def test_a_locked_version_is_shown_by_number(self, tenant):
        client = seed_quarter(tenant)
        assert lock(client).status_code == 201
        for role in ("esg_officer", "auditor", "admin"):
            response = tenant.client_for(role).get("/reports/2026/Q1/?version=1")
            assert response.status_code == 200
            assert 'data-status="locked">Locked, version 1<' in response.content.decode()
        assert client.get("/reports/2026/Q1/?version=2").status_code == 404

    def test_an_engineer_limited_to_teams_is_told_why_they_see_live_figures(self, tenant):
        assert lock(seed_quarter(tenant)).status_code == 201
        response = tenant.client_for("engineer").get("/reports/2026/Q1/?version=1")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-status="team_view"' in html
        assert "Version 1 covers the whole organisation; you see your teams&#x27; live" in html

    def test_a_version_that_is_not_a_number_is_named(self, tenant):
        client = seed_quarter(tenant)
        html = client.get("/reports/2026/Q1/?version=v1").content.decode()
        assert "Version &#x27;v1&#x27; is not a version number; the latest is shown." in html
