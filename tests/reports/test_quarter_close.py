"""Closing a quarter with two people: prepare with a note, then approve (the lock) or send back."""

import shutil
import subprocess
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Role
from accounts.principal import principal_for_membership
from accounts.services import member_add
from inventory.models import ContractualInstrument
from reports.models import QuarterClose, ReportVersion
from reports.services import report_lock
from tests.conftest import PASSWORD, make_tenant
from tests.reports.scope2_data import allocate_market, job, scope2, seed_quarter, send
from tests.reports.test_audit_pdf import export
from tests.reports.test_report_lock import independent_hash

CLOSES = "/api/v1/reports/scope2/closes/"
PREPARE = CLOSES + "prepare/"
APPROVE = CLOSES + "approve/"
SEND_BACK = CLOSES + "send-back/"
Q1 = {"year": 2026, "quarter": 1}


def post(client, url, **body):
    return client.post(url, {**Q1, **body}, format="json")


def prepare(client, note="Q1 figures checked against the meters", **body):
    return post(client, PREPARE, note=note, **body)


def closes(client):
    return client.get(CLOSES, Q1).json()


@pytest.mark.django_db
class TestTwoPeopleClose:
    def test_it_locks_only_when_a_second_person_approves(self, tenant):
        esg = seed_quarter(tenant)
        draft = scope2(esg).json()

        prepared = prepare(esg)
        assert prepared.status_code == 201, prepared.content
        body = prepared.json()
        assert body["status"] == "pending"
        assert body["prepared_by_name"] == "acme-esg_officer"
        assert body["prepared_by_role"] == "esg_officer"
        # Q1: jan-train, feb-serve, mar-tune on premises (Scope 2) + mar-cloud (Scope 3) = 4.
        assert body["record_count"] == 4
        assert body["content_hash"] == independent_hash(tenant.organisation)
        assert body["totals"]["scope2"] == draft["scope2"]
        assert body["decided_by_name"] is None and body["version"] is None
        assert ReportVersion.objects.count() == 0
        assert scope2(esg).json()["status"] != "locked"

        approved = post(tenant.client_for("admin"), APPROVE, comment="Agreed with finance")
        assert approved.status_code == 200, approved.content
        body = approved.json()
        assert body["status"] == "approved"
        assert body["decided_by_name"] == "acme-admin"
        assert body["decided_by_role"] == "admin"
        assert body["comment"] == "Agreed with finance"
        assert body["version"] == 1
        assert body["figures_changed"] is False

        version = ReportVersion.objects.get()
        assert version.locked_by_name == "acme-admin"
        assert version.content_hash == body["content_hash"]
        assert version.close.prepared_by.username == "acme-esg_officer"
        assert scope2(esg).json()["status"] == "locked"

    def test_every_step_is_in_the_audit_trail_with_both_people(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg, note="first try")
        post(tenant.client_for("admin"), SEND_BACK, comment="March invoice missing")
        prepare(esg, note="with the March invoice")
        post(tenant.client_for("admin"), APPROVE, comment="ok")

        events = AuditEvent.objects.filter(action__startswith="report.").order_by("id")
        trail = [(e.action, e.actor_label) for e in events]
        assert trail == [
            ("report.close.prepare", "acme-esg_officer"),
            ("report.close.send_back", "acme-admin"),
            ("report.close.prepare", "acme-esg_officer"),
            ("report.lock", "acme-admin"),
            ("report.close.approve", "acme-admin"),
        ]
        sent_back, approved = events[1], events[4]
        assert sent_back.details["comment"] == "March invoice missing"
        assert sent_back.details["prepared_by"] == "acme-esg_officer"
        assert approved.details["version"] == 1
        assert approved.details["period"] == "2026 Q1"
        assert events[2].details["note"] == "with the March invoice"
        # The audit page reads as sentences: who prepared, when, and who approved.
        trail_page = tenant.client_for("auditor").get("/settings/audit/").content.decode()
        prepared_at = QuarterClose.objects.get(status="approved").prepared_at
        assert "report.close.approve" in trail_page
        assert f"{prepared_at:%Y-%m-%d %H:%M} UTC" in trail_page

    def test_the_preparer_can_never_approve_or_send_back(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg)
        refused = post(esg, APPROVE)
        assert refused.status_code == 403
        assert "a second person" in refused.json()["message"]
        assert post(esg, SEND_BACK, comment="withdrawn").status_code == 403
        assert ReportVersion.objects.count() == 0
        assert QuarterClose.objects.get().status == "pending"

    def test_an_admin_who_prepared_cannot_approve_either(self, tenant):
        seed_quarter(tenant)
        admin = tenant.client_for("admin")
        assert prepare(admin).status_code == 201
        assert post(admin, APPROVE).status_code == 403
        assert post(tenant.client_for("esg_officer"), APPROVE).status_code == 200

    def test_another_esg_officer_may_approve(self, tenant):
        esg = seed_quarter(tenant)
        second = member_add(
            organisation=tenant.organisation,
            username="acme-esg-2",
            password=PASSWORD,
            role=Role.ESG_OFFICER,
        )
        prepare(esg)
        esg.force_login(second.user)
        approved = post(esg, APPROVE)
        assert approved.status_code == 200, approved.content
        assert approved.json()["decided_by_name"] == "acme-esg-2"
        assert approved.json()["decided_by_role"] == "esg_officer"

    def test_the_approver_is_told_when_the_figures_changed_and_may_accept_them(self, tenant):
        esg = seed_quarter(tenant)
        prepared = prepare(esg).json()
        send(tenant, [job("late-train", date(2026, 3, 20))])
        allocate_market(tenant.organisation, ContractualInstrument.objects.get())
        admin = tenant.client_for("admin")

        refused = post(admin, APPROVE)
        assert refused.status_code == 409
        assert "changed since acme-esg_officer prepared" in refused.json()["message"]
        assert "4 records then, 5 now" in refused.json()["message"]
        assert ReportVersion.objects.count() == 0  # the refused approval locked nothing
        assert QuarterClose.objects.get().status == "pending"

        approved = post(admin, APPROVE, accept_changed_figures=True)
        assert approved.status_code == 200, approved.content
        assert approved.json()["figures_changed"] is True
        version = ReportVersion.objects.get()
        assert version.record_count == 5
        assert version.content_hash != prepared["content_hash"]
        # late-train: 8 devices x 500 W x 10 h = 40 kWh IT, x PUE 1.2 = 48 kWh = 0.048 MWh
        # more than prepared.
        added = version.report["scope2"]["mwh"] - prepared["totals"]["scope2"]["mwh"]
        assert added == pytest.approx(0.048)
        event = AuditEvent.objects.get(action="report.close.approve")
        assert event.details["figures_changed"] is True
        assert event.details["locked_content_hash"] == version.content_hash

    def test_sending_back_ends_the_preparation_and_it_can_be_prepared_again(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg, note="first")
        admin = tenant.client_for("admin")
        blank = post(admin, SEND_BACK, comment="  ")
        assert blank.status_code == 400
        sent = post(admin, SEND_BACK, comment="Use the corrected PUE")
        assert sent.status_code == 200
        assert sent.json()["status"] == "sent_back"
        assert sent.json()["comment"] == "Use the corrected PUE"
        assert ReportVersion.objects.count() == 0
        assert post(admin, APPROVE).status_code == 409  # nothing waits any more

        assert prepare(esg, note="second").status_code == 201
        history = closes(esg)
        assert [(c["note"], c["status"]) for c in history] == [
            ("first", "sent_back"),
            ("second", "pending"),
        ]


@pytest.mark.django_db
class TestCloseRefusals:
    def test_it_refuses_bad_input(self, tenant):
        esg = seed_quarter(tenant)
        assert prepare(esg, note="").status_code == 400
        assert prepare(esg, note="   ").status_code == 400
        assert post(esg, PREPARE, note="x", quarter=5).status_code == 400
        assert post(esg, PREPARE, note="x", year="twenty").status_code == 400
        assert prepare(esg, note="x" * 2001).status_code == 400
        assert (
            post(tenant.client_for("admin"), APPROVE, accept_changed_figures="maybe").status_code
            == 400
        )
        assert esg.get(CLOSES, {"year": 2026, "quarter": 0}).status_code == 400
        assert QuarterClose.objects.count() == 0

    def test_a_quarter_still_running_needs_a_reason(self, tenant):
        esg = seed_quarter(tenant)
        # The tests run on the real date; a quarter ending in 2099 has not ended.
        refused = post(esg, PREPARE, note="early", year=2099, quarter=4)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "reason"

    def test_it_refuses_a_second_preparation_and_a_locked_quarter(self, tenant):
        esg = seed_quarter(tenant)
        assert prepare(esg).status_code == 201
        again = prepare(esg)
        assert again.status_code == 409
        assert "already waiting for approval" in again.json()["message"]
        post(tenant.client_for("admin"), APPROVE)
        locked = prepare(esg)
        assert locked.status_code == 409
        assert "already locked" in locked.json()["message"]

    def test_only_whole_organisation_people_with_lock_access_take_part(self, tenant):
        seed_quarter(tenant)
        for client in (
            tenant.client_for("engineer"),
            tenant.client_for("auditor"),
            tenant.token_client(scopes=("ingest", "read")),
            tenant.manage_client(),
        ):
            assert prepare(client).status_code == 403
        assert QuarterClose.objects.count() == 0
        prepare(tenant.client_for("esg_officer"))
        for client in (tenant.client_for("engineer"), tenant.client_for("auditor")):
            assert post(client, APPROVE).status_code == 403
            assert post(client, SEND_BACK, comment="no").status_code == 403
        assert QuarterClose.objects.get().status == "pending"
        # The auditor reads the history; an engineer limited to a team sees none of it.
        assert len(closes(tenant.client_for("auditor"))) == 1
        assert closes(tenant.client_for("engineer")) == []

    def test_another_organisation_neither_sees_nor_approves_the_close(self, tenant):
        seed_quarter(tenant)
        prepare(tenant.client_for("esg_officer"))
        other = make_tenant("globex").client_for("admin")
        assert closes(other) == []
        assert post(other, APPROVE).status_code == 409  # globex has nothing waiting
        assert post(other, SEND_BACK, comment="no").status_code == 409
        assert QuarterClose.objects.get().status == "pending"
        assert ReportVersion.objects.count() == 0


def page(client, url="/reports/2026/Q1/lock/", **form):
    if form:
        return client.post(url, form, follow=True).content.decode()
    return client.get(url).content.decode()


@pytest.mark.django_db
class TestClosePages:
    def test_the_pages_walk_through_prepare_then_approve(self, tenant):
        esg = seed_quarter(tenant)
        assert "Prepare the close of 2026 Q1…" in page(esg, "/reports/2026/Q1/")
        form = page(esg)
        assert 'name="note" required' in form
        assert 'data-confirm="records">4<' in form  # what the approval will freeze

        done = page(esg, note="Meters read on 2 April")
        assert "2026 Q1 is prepared for closing" in done
        assert ReportVersion.objects.count() == 0
        report = page(esg, "/reports/2026/Q1/")
        assert "Waiting for approval: prepared for closing by acme-esg_officer (ESG officer)" in (
            report
        )
        assert "Review and approve" not in report  # never to the preparer
        own = page(esg)
        assert 'data-close="own"' in own and "Approve and lock" not in own

        admin = tenant.client_for("admin")
        review = page(admin)
        assert 'data-close="note">Meters read on 2 April<' in review
        assert 'data-close="records">4 / 4<' in review
        assert 'data-close="changed"' not in review
        assert "accept_changed_figures" not in review
        locked = page(admin, "/reports/2026/Q1/close/approve/", comment="Matches finance")
        assert "2026 Q1 is approved and locked as version 1." in locked
        assert 'data-status="locked"' in locked
        assert '<tr data-close-row="approved">' in locked
        assert "acme-admin (Admin)" in locked and "Matches finance" in locked
        # An auditor reads who closed it; the page never shows internal role codes.
        audited = page(tenant.client_for("auditor"), "/reports/2026/Q1/")
        assert "acme-esg_officer (ESG officer)" in audited
        assert "(esg_officer)" not in audited and "None" not in audited

    def test_the_preparer_posting_the_approval_is_told_why_nothing_happened(self, tenant):
        esg = seed_quarter(tenant)
        page(esg, note="checked")
        answer = page(esg, "/reports/2026/Q1/close/approve/", comment="self")
        assert "a second person (an admin or another ESG officer) must approve it" in answer
        answer = page(esg, "/reports/2026/Q1/close/send-back/", comment="self")
        assert "must send it back" in answer
        assert ReportVersion.objects.count() == 0

    def test_changed_figures_are_shown_and_must_be_accepted_on_the_page(self, tenant):
        esg = seed_quarter(tenant)
        page(esg, note="checked")
        send(tenant, [job("late-train", date(2026, 3, 20))])
        allocate_market(tenant.organisation, ContractualInstrument.objects.get())
        admin = tenant.client_for("admin")
        review = page(admin)
        assert 'data-close="records">4 / 5<' in review
        assert 'data-close="changed"' in review
        assert 'name="accept_changed_figures" required' in review
        refused = page(admin, "/reports/2026/Q1/close/approve/", comment="")
        assert "changed since acme-esg_officer prepared the close" in refused
        assert ReportVersion.objects.count() == 0
        locked = page(admin, "/reports/2026/Q1/close/approve/", accept_changed_figures="on")
        assert "locked as version 1" in locked
        assert "figures changed since preparation, accepted" in locked

    def test_sending_back_on_the_page_needs_a_comment(self, tenant):
        esg = seed_quarter(tenant)
        page(esg, note="checked")
        admin = tenant.client_for("admin")
        assert "needs a comment" in page(admin, "/reports/2026/Q1/close/send-back/", comment="")
        answer = page(admin, "/reports/2026/Q1/close/send-back/", comment="Add the May PUE")
        assert "sent back to acme-esg_officer with your comments; nothing was locked" in answer
        report = page(esg, "/reports/2026/Q1/")
        assert '<tr data-close-row="sent_back">' in report and "Add the May PUE" in report
        assert "Prepare the close of 2026 Q1…" in report  # it can be prepared again

    def test_people_without_lock_access_or_of_another_organisation_take_no_part(self, tenant):
        seed_quarter(tenant)
        page(tenant.client_for("esg_officer"), note="checked")
        for role in ("engineer", "auditor"):
            client = tenant.client_for(role)
            assert client.get("/reports/2026/Q1/lock/").status_code == 403
            page(client, "/reports/2026/Q1/close/approve/", comment="x")
        engineer_view = page(tenant.client_for("engineer"), "/reports/2026/Q1/")
        assert "checked" not in engineer_view  # a team-limited reader sees no close
        other = make_tenant("globex").client_for("admin")
        page(other, "/reports/2026/Q1/close/approve/", comment="x")
        assert "Waiting for approval" not in page(other, "/reports/2026/Q1/")
        assert ReportVersion.objects.count() == 0
        assert QuarterClose.objects.get().status == "pending"


def sign_off_page(client, **quarter) -> str:
    """The text of the audit PDF's sign-off page (section 12, the last one)."""
    job = export(client, **quarter)
    assert job["status"] == "done", job
    # -raw: the text in the order it was written, so a table cell wrapped over lines reads whole.
    result = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-raw", "-", "-"],
        input=client.get(job["download_url"]).content,
        capture_output=True,
        check=True,
    )
    text = result.stdout.decode()
    return text[text.rindex("12. Sign-off") :]


@pytest.mark.django_db
class TestSignOffPage:
    def test_the_pdf_names_both_people_their_roles_notes_and_times(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg, note="Meters read on 2 April")
        post(tenant.client_for("admin"), SEND_BACK, comment="Add the March invoice")
        prepare(esg, note="March invoice added")
        post(tenant.client_for("admin"), APPROVE, comment="Matches finance")
        approved = QuarterClose.objects.get(status="approved")

        text = sign_off_page(esg)
        flat = " ".join(text.split())
        assert "closed by two people" in flat
        assert (
            f"Prepared acme-esg_officer ESG officer {approved.prepared_at:%-d %b %Y, %H:%M} UTC"
            in (flat)
        )
        assert "March invoice added" in flat
        decided = f"{approved.decided_at:%-d %b %Y, %H:%M} UTC"
        assert f"Approved and locked acme-admin Admin {decided} Matches finance" in flat
        assert "Sent back before" in flat and "Add the March invoice" in flat
        assert "4 input records" in flat
        for internal in ("None", "esg_officer)", "sent_back", "pending"):
            assert internal not in flat.replace("acme-esg_officer", "")

    def test_a_draft_waiting_for_approval_says_so(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg, note="Meters read on 2 April")
        flat = " ".join(sign_off_page(esg).split())
        assert "Not approved yet: prepared for closing by acme-esg_officer (ESG officer)" in flat
        assert "Meters read on 2 April" in flat

    def test_a_quarter_locked_in_one_step_says_no_second_person_approved(self, tenant):
        esg = seed_quarter(tenant)
        prepare(esg, note="Meters read on 2 April")  # still waiting when the script locked
        # Versions locked before locking took two people (the one-step lock API, since
        # removed) keep saying so.
        officer = tenant.members["esg_officer"]
        report_lock(principal=principal_for_membership(officer), **Q1, user=officer.user)
        locked_at = ReportVersion.objects.get().locked_at
        flat = " ".join(sign_off_page(esg).split())
        assert (
            "Locked in one step by acme-esg_officer (ESG officer) on "
            f"{locked_at:%-d %b %Y, %H:%M} UTC: no second person approved this close"
        ) in flat
        assert "Not approved yet" not in flat


def test_the_demo_closes_the_last_whole_fiscal_year_and_the_last_ended_quarter():
    from reports.management.commands.seed_demo import demo_days, quarters_to_close

    # Fiscal years from April: on 5 Dec 2026 the last whole one is FY2025/26 (2025 Q2 to
    # 2026 Q1), the last ended quarter 2026 Q3; the records start with the base year
    # FY2024/25 on 1 Apr 2024, 978 days before.
    assert quarters_to_close(date(2026, 12, 5)) == [
        (2025, 2),
        (2025, 3),
        (2025, 4),
        (2026, 1),
        (2026, 3),
    ]
    assert quarters_to_close(date(2026, 4, 2)) == [(2025, 2), (2025, 3), (2025, 4), (2026, 1)]
    assert demo_days(date(2026, 12, 5)) == (date(2026, 12, 5) - date(2024, 4, 1)).days == 978


def test_the_demo_seed_closes_its_quarters_by_two_people(demo):
    # Seeding it again closes nothing twice: tests/reports/test_seed_demo.py.
    from reports.management.commands.seed_demo import quarters_to_close

    today = timezone.now().date()
    closes = QuarterClose.objects.order_by("year", "quarter")
    assert [(c.year, c.quarter, c.status) for c in closes] == [
        (year, quarter, "approved") for year, quarter in sorted(quarters_to_close(today))
    ]
    year, quarter = quarters_to_close(today)[-1]
    close = closes.get(year=year, quarter=quarter)
    assert (close.prepared_by.username, close.prepared_by_role) == ("esg", "esg_officer")
    assert (close.decided_by.username, close.decided_by_role) == ("admin", "admin")
    assert close.version.version == 1 and close.version.locked_by_name == "admin"
    assert f"{year} Q{quarter} closed by esg (prepared) and admin (approved)" in demo.output

    auditor = APIClient()
    auditor.force_login(get_user_model().objects.get(username="auditor"))
    flat = " ".join(sign_off_page(auditor, year=year, quarter=quarter).split())
    assert "closed by two people" in flat
    assert "Prepared esg ESG officer" in flat and "Approved and locked admin Admin" in flat
