"""Targets and budgets: progress, run-rate forecast and one alert per crossing, by hand."""

import hashlib
import hmac
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from accounts.models import AuditEvent, Role
from reports.models import Target, TargetAlert
from reports.target_services import target_create, targets_check
from reports.targets import target_progress
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override, posted_and_computed

# 15 Feb 2026: 45 of Q1's 90 days and of 2026's 365 days have passed.
TODAY = date(2026, 2, 15)


def push(tenant, external_id, day, kwh, team="research"):
    record = workload(
        external_id=external_id, team=team, energy_kwh=kwh,
        started_at=f"{day}T00:00:00Z", ended_at=f"{day}T10:00:00Z",
    )  # fmt: skip
    posted_and_computed(tenant, [record])


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers, body))  # names are case-insensitive
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/greenai"
    server.shutdown()


@pytest.fixture
def budget(tenant, receiver):
    """10 kg (0.010 t) of Scope 2 location-based CO2e a quarter for the research team; Paris
    at PUE 1.2 and 0.05 kg/kWh: a measured 50 kWh is 60 kWh, 3 kg."""
    fr_override(tenant.organisation)
    for role in (Role.ADMIN, Role.ESG_OFFICER):
        user = tenant.members[role].user
        user.email = f"{role}@acme.example"
        user.save()
    return target_create(
        organisation=tenant.organisation, team=tenant.teams["research"], name="Research budget",
        kind="budget", scope="scope2", basis="location", budget=0.010, webhook_url=receiver,
    )  # fmt: skip


@pytest.mark.django_db
class TestBudget:
    def test_a_budget_on_track_then_forecast_over(self, tenant, budget):
        push(tenant, "jan", "2026-01-10", 50.0)
        progress = target_progress(budget, TODAY)
        # 0.003 t in 45 of 90 days: at this rate 0.006 t, under 0.010.
        assert (progress.period, progress.elapsed_days, progress.period_days) == ("2026-Q1", 45, 90)
        assert progress.used == pytest.approx(0.003)
        assert progress.forecast == pytest.approx(0.006)
        assert progress.status == "on_track"
        push(tenant, "feb", "2026-02-01", 50.0)
        progress = target_progress(budget, TODAY)
        # 0.006 t so far: 0.012 t at this rate, over 0.010.
        assert progress.forecast == pytest.approx(0.012)
        assert progress.status == "forecast_over"

    def test_a_crossing_sends_one_email_and_one_signed_webhook(
        self, tenant, budget, eager_celery, django_capture_on_commit_callbacks
    ):
        push(tenant, "jan", "2026-01-10", 50.0)
        push(tenant, "feb", "2026-02-01", 50.0)
        with django_capture_on_commit_callbacks(execute=True):
            assert targets_check(today=TODAY) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert targets_check(today=TODAY) == 0  # still over: no second alert

        [email] = mail.outbox
        assert sorted(email.to) == ["admin@acme.example", "esg_officer@acme.example"]
        assert "Research budget" in email.subject and "2026-Q1" in email.subject
        [(headers, body)] = Receiver.received
        expected = hmac.new(budget.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-GreenAI-Signature"] == f"sha256={expected}"
        sent = json.loads(body)
        assert sent["event"] == "target.forecast_over"
        assert sent["progress"]["forecast"] == pytest.approx(0.012)
        alert = TargetAlert.objects.get()
        assert alert.webhook_status == "delivered (204)"

    def test_back_under_the_limit_then_over_again_is_a_new_crossing(
        self, tenant, budget, eager_celery, django_capture_on_commit_callbacks
    ):
        push(tenant, "jan", "2026-01-10", 50.0)
        push(tenant, "feb", "2026-02-01", 50.0)
        with django_capture_on_commit_callbacks(execute=True):
            targets_check(today=TODAY)
        budget.budget = 0.020
        budget.save()
        assert targets_check(today=TODAY) == 0  # under again: the alert closes
        budget.budget = 0.010
        budget.save()
        with django_capture_on_commit_callbacks(execute=True):
            assert targets_check(today=TODAY) == 1
        assert TargetAlert.objects.filter(cleared_at__isnull=False).count() == 1
        assert len(mail.outbox) == 2


@pytest.mark.django_db
class TestReduction:
    def test_the_year_s_allowance_on_the_straight_line_to_the_target(self, tenant):
        # 2025: 100 kWh measured → 120 kWh = 0.12 MWh. −50 % by 2027: allowances 0.12 (2025),
        # 0.09 (2026), 0.06 (2027). 2026 so far: 50 kWh → 0.06 MWh in 45 of 365 days:
        # 0.06 × 365 / 45 = 0.4867 MWh at this rate, over 0.09.
        push(tenant, "base", "2025-06-01", 100.0)
        push(tenant, "now", "2026-01-10", 50.0)
        target = target_create(
            organisation=tenant.organisation, name="Halve energy", kind="reduction",
            scope="scope2", basis="energy", base_year=2025, target_year=2027, reduction_pct=50,
        )  # fmt: skip
        progress = target_progress(target, TODAY)
        assert progress.base_value == pytest.approx(0.12)
        assert progress.target_value == pytest.approx(0.06)
        assert progress.limit == pytest.approx(0.09)
        assert progress.forecast == pytest.approx(0.06 * 365 / 45)
        assert progress.status == "forecast_over"

    def test_without_base_year_data_the_limit_is_not_available(self, tenant):
        target = target_create(
            organisation=tenant.organisation, name="Cut", kind="reduction", scope="scope2",
            basis="energy", base_year=2020, target_year=2030, reduction_pct=42,
        )  # fmt: skip
        progress = target_progress(target, TODAY)
        assert (progress.limit, progress.status) == (None, "not_available")


@pytest.mark.django_db
class TestTargetApi:
    def test_an_admin_token_sets_a_budget_and_members_follow_it(self, tenant):
        body = {
            "name": "Cloud budget", "kind": "budget", "scope": "scope3_cat1",
            "basis": "energy", "budget": 2.5, "team": "serving",
        }  # fmt: skip
        response = tenant.manage_client().post("/api/v1/targets/", body, format="json")
        assert response.status_code == 201, response.json()
        assert len(response.json()["webhook_secret"]) == 64
        assert AuditEvent.objects.filter(action="target.create").count() == 1
        engineer = tenant.client_for("engineer").get("/api/v1/targets/").json()  # serving
        assert [t["name"] for t in engineer] == ["Cloud budget"]

    def test_scopes_are_never_mixed_and_cloud_has_no_market_figure(self, tenant):
        body = {
            "name": "x",
            "kind": "budget",
            "scope": "scope3_cat1",
            "basis": "market",
            "budget": 1,
        }
        response = tenant.manage_client().post("/api/v1/targets/", body, format="json")
        assert response.status_code == 400
        assert "market-based" in response.json()["message"]

    def test_a_budget_needs_an_amount(self, tenant):
        body = {"name": "x", "kind": "budget", "scope": "scope2", "basis": "energy"}
        assert (
            tenant.manage_client().post("/api/v1/targets/", body, format="json").status_code == 400
        )

    def test_a_team_limited_member_does_not_follow_organisation_targets(self, tenant, outsider):
        target_create(
            organisation=tenant.organisation, name="Org budget", kind="budget", scope="scope2",
            basis="energy", budget=1.0,
        )  # fmt: skip
        assert tenant.client_for("engineer").get("/api/v1/targets/").json() == []
        assert outsider.client_for("admin").get("/api/v1/targets/").json() == []
        target = Target.objects.get()
        assert outsider.manage_client().delete(f"/api/v1/targets/{target.id}/").status_code == 404

    def test_the_overview_shows_progress(self, tenant, budget):
        push(tenant, "jan", "2026-01-10", 50.0)
        html = tenant.client_for("esg_officer").get("/").content.decode()
        assert "Research budget" in html
        assert 'data-figure="target-limit">0.010</td>' in html
