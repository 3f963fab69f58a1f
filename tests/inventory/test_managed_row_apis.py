"""Facilities, instruments and factor overrides over the REST API: each write recomputes exactly
the open periods it affects (other zones, other organisations and locked quarters keep their
figures) and answers with the recalculation, whose progress the API and the data page show."""

from datetime import date

import pytest

from accounts.audit import audit_event_list
from accounts.principal import principal_for_membership
from inventory.ingestion.mapping import mapping_rules, match_rule
from inventory.models import (
    FactorOverride,
    Location,
    MarketAllocation,
    TeamMappingRule,
    WorkloadRecord,
)
from inventory.pipeline import records_compute
from reports.services import report_lock
from tests.hardening.test_isolation_matrix import INSTRUMENT, OVERRIDE
from tests.inventory.test_pipeline import stored_workload
from tests.inventory.test_recalculation import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

EXACT = 1e-12


def api_call(client, capture, method: str, path: str, data: dict | None = None):
    """Call the API and run what its commit queues (the recalculation task), as a worker would."""
    with capture(execute=True):
        return getattr(client, method)(path, data, format="json")


def progress(client, response) -> dict:
    """The recalculation a write queued, as its own URL shows it now (the write answered
    while it was queued)."""
    queued = response.json()["recalculation"]
    assert (queued["status"], queued["processed_records"]) == ("queued", 0)
    return client.get(f"/api/v1/recalculations/{queued['id']}/").json()


@pytest.fixture
def berlin(tenant, django_capture_on_commit_callbacks):
    """A German colocation added over the API, with one metered record in February, computed."""
    response = api_call(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        "post",
        "/api/v1/facilities/",
        {"code": "berlin", "kind": "colocation", "zone": "DE", "pue": 1.4, "pue_source": "SLA"},
    )
    assert response.status_code == 201, response.content
    facility = Location.objects.get(pk=response.json()["id"])
    record = stored_workload(tenant, day=date(2026, 2, 10), location=facility, avg_power_w=1000.0)
    records_compute()
    return fresh(record)


@pytest.fixture
def theirs(outsider):
    """Another organisation's February record in France, computed."""
    record = stored_workload(outsider, day=date(2026, 2, 10), avg_power_w=1000.0)
    records_compute()
    return fresh(record)


def unchanged(record: WorkloadRecord) -> bool:
    now = fresh(record)
    return (now.location_kg, now.computed_at) == (record.location_kg, record.computed_at)


class TestFactorOverrides:
    OVERRIDE = {
        "zone": "FR",
        "kind": "grid_average",
        "valid_from": "2026-02-01",
        "valid_to": "2026-03-31",
        "kg_per_kwh": 0.1,
        "source": "Supplier disclosure 2026",
    }

    def test_an_override_recomputes_only_its_zone_period_and_organisation(
        self, tenant, computed, berlin, theirs, django_capture_on_commit_callbacks
    ):
        january, february, april = computed
        response = api_call(
            tenant.client_for("admin"),
            django_capture_on_commit_callbacks,
            "post",
            "/api/v1/factor-overrides/",
            self.OVERRIDE,
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["zone"], body["kg_per_kwh"], body["source"]) == (
            "FR",
            0.1,
            "Supplier disclosure 2026",
        )
        job = progress(tenant.client_for("auditor"), response)
        assert (job["trigger"], job["status"], job["total_records"], job["progress"]) == (
            "override",
            "done",
            1,
            1.0,
        )
        # February in Paris: 1 kW × 10 h × PUE 1.2 = 12 kWh, at 0.1 kg/kWh = 1.2 kg.
        now = fresh(february)
        assert now.location_kg == pytest.approx(1.2, rel=EXACT)
        assert now.factor_override_id == body["id"]
        # January and April (outside the period), Berlin (DE) and the other organisation: as
        # they were, not even recomputed.
        assert all(unchanged(r) for r in (january, april, berlin, theirs))
        # Berlin: 1 kW × 10 h × PUE 1.4 = 14 kWh at the library's German factor.
        assert berlin.facility_kwh == pytest.approx(14.0, rel=EXACT)
        assert berlin.location_kg == pytest.approx(14.0 * berlin.grid_factor.kg_per_kwh, rel=EXACT)

    def test_a_locked_quarter_keeps_its_figures(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        _, february, april = computed
        esg = tenant.members["esg_officer"]
        report_lock(principal=principal_for_membership(esg), year=2026, quarter=1, user=esg.user)
        response = api_call(
            tenant.client_for("admin"),
            django_capture_on_commit_callbacks,
            "post",
            "/api/v1/factor-overrides/",
            {**self.OVERRIDE, "valid_to": "2026-06-30", "kg_per_kwh": 0.2},
        )
        job = progress(tenant.client_for("admin"), response)
        assert job["locked_periods"] == [["2026-01-01", "2026-04-01"]]
        assert job["total_records"] == 1
        assert unchanged(february)  # Q1 is locked
        assert fresh(april).location_kg == pytest.approx(12.0 * 0.2, rel=EXACT)

    def test_an_unused_override_is_deleted_and_a_used_one_stays(
        self, tenant, computed, django_capture_on_commit_callbacks
    ):
        client = tenant.client_for("admin")
        used = api_call(
            client,
            django_capture_on_commit_callbacks,
            "post",
            "/api/v1/factor-overrides/",
            self.OVERRIDE,
        ).json()
        unused = api_call(
            client,
            django_capture_on_commit_callbacks,
            "post",
            "/api/v1/factor-overrides/",
            {**self.OVERRIDE, "valid_from": "2027-01-01", "valid_to": "2027-12-31"},
        ).json()
        refused = client.delete(f"/api/v1/factor-overrides/{used['id']}/")
        assert refused.status_code == 400
        assert "Computed records use this override" in refused.json()["message"]
        deleted = api_call(
            client,
            django_capture_on_commit_callbacks,
            "delete",
            f"/api/v1/factor-overrides/{unused['id']}/",
        )
        assert deleted.status_code == 200
        assert progress(client, deleted)["total_records"] == 0
        assert list(FactorOverride.objects.values_list("id", flat=True)) == [used["id"]]

    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"zone": "XX"}, None, "Unknown grid zone 'XX'"),
            ({"kg_per_kwh": 2.5}, "kg_per_kwh", "less than or equal to 2.0"),
            ({"valid_to": "2026-01-01"}, None, "must end on or after its first day"),
            ({"source": " "}, "source", "may not be blank"),
        ],
    )
    def test_bad_overrides_are_refused_with_a_reason(self, tenant, change, field, message):
        response = tenant.client_for("admin").post(
            "/api/v1/factor-overrides/", {**self.OVERRIDE, **change}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        where = body["errors"][0]["message"] if field else body["message"]
        assert message in where
        if field:
            assert body["errors"][0]["field"] == field
        assert not FactorOverride.objects.exists()


class TestFacilities:
    def test_a_pue_change_recomputes_that_facilitys_records_only(
        self, tenant, computed, berlin, django_capture_on_commit_callbacks
    ):
        paris = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        client = tenant.client_for("admin")
        response = api_call(
            client,
            django_capture_on_commit_callbacks,
            "patch",
            f"/api/v1/facilities/{paris.pk}/",
            {"pue": 1.5, "pue_source": "metered 2026"},
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["pue"], body["pue_source"]) == (1.5, "metered 2026")
        job = progress(client, response)
        assert (job["status"], job["total_records"], job["processed_records"]) == ("done", 3, 3)
        for record in computed:
            now = fresh(record)
            assert (now.pue_used, now.facility_kwh) == (1.5, pytest.approx(15.0, rel=EXACT))
            assert now.location_kg == pytest.approx(15.0 * record.location_kg_per_kwh, rel=EXACT)
        assert unchanged(berlin)

    def test_the_same_pue_again_recomputes_nothing(self, tenant, computed):
        paris = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        response = tenant.client_for("admin").patch(
            f"/api/v1/facilities/{paris.pk}/", {"pue": 1.2, "pue_source": "metered"}, format="json"
        )
        assert response.json()["recalculation"] is None

    def test_members_list_their_facilities_and_bad_ones_are_refused(self, tenant):
        client = tenant.client_for("admin")
        listed = tenant.client_for("auditor").get("/api/v1/facilities/").json()
        assert [(f["code"], f["zone"], f["pue"]) for f in listed] == [("lab-paris", "FR", 1.2)]
        cloud = client.post(
            "/api/v1/facilities/", {"code": "x", "kind": "cloud", "zone": "FR"}, format="json"
        )
        assert cloud.status_code == 400
        assert "owned data centre or a colocation" in cloud.json()["message"]
        low = client.post(
            "/api/v1/facilities/",
            {"code": "x", "kind": "owned", "zone": "FR", "pue": 0.9, "pue_source": "m"},
            format="json",
        )
        assert low.json()["errors"][0]["field"] == "pue"


class TestInstruments:
    def test_an_instrument_covers_its_market_and_months_only(
        self, tenant, computed, berlin, django_capture_on_commit_callbacks
    ):
        response = api_call(
            tenant.client_for("admin"),
            django_capture_on_commit_callbacks,
            "post",
            "/api/v1/instruments/",
            {
                "kind": "eac",
                "zone": "FR",
                "valid_from": "2026-02-01",
                "valid_to": "2026-02-28",
                "mwh": 1.0,
                "kg_per_kwh": 0.0,
                "reference": "GO-2026-0042",
            },
        )
        assert response.status_code == 201
        job = progress(tenant.client_for("admin"), response)
        assert (job["trigger"], job["status"]) == ("instrument", "done")
        covered = MarketAllocation.objects.filter(organisation=tenant.organisation, kwh__gt=0)
        assert sorted((a.zone, a.month.month, a.basis, a.kwh) for a in covered) == [
            ("DE", 2, "residual_mix", pytest.approx(14.0, rel=EXACT)),
            ("FR", 1, "residual_mix", pytest.approx(12.0, rel=EXACT)),
            ("FR", 2, "instrument", pytest.approx(12.0, rel=EXACT)),
            ("FR", 4, "residual_mix", pytest.approx(12.0, rel=EXACT)),
        ]
        assert all(unchanged(r) for r in (*computed, berlin))  # location-based stays


def test_the_data_page_shows_a_recalculations_progress(
    tenant, computed, django_capture_on_commit_callbacks
):
    paris = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
    api_call(
        tenant.client_for("admin"),
        django_capture_on_commit_callbacks,
        "patch",
        f"/api/v1/facilities/{paris.pk}/",
        {"pue": 1.3, "pue_source": "metered"},
    )
    page = tenant.client_for("auditor").get("/data/").content.decode()
    assert "PUE of lab-paris is now 1.3" in page
    assert "3 / 3" in page
    assert 'value="1.0000"' in page


class TestMappingRules:
    """The billing / CodeCarbon team mapping rules over the API (the manage scope writes them)."""

    @pytest.fixture
    def manager(self, tenant):
        return tenant.manage_client()

    RULE = {"source": "aws", "key": "account", "value": "123456789012", "team": "research"}

    def team_for(self, tenant, account: str) -> str | None:
        principal = principal_for_membership(tenant.members["admin"])
        rule = match_rule(mapping_rules(principal=principal, source="aws"), {"account": account})
        return rule.team.slug if rule else None

    def test_a_rule_added_changed_and_deleted_over_the_api_decides_the_team(self, tenant, manager):
        created = manager.post("/api/v1/mapping-rules/", self.RULE, format="json")
        assert created.status_code == 201, created.content
        body = created.json()
        assert (body["team"], body["priority"], body["phase"]) == ("research", 100, "")
        assert self.team_for(tenant, "123456789012") == "research"
        # A catch-all of lower priority number wins over it once changed to priority 10.
        catch_all = manager.post(
            "/api/v1/mapping-rules/", {**self.RULE, "value": "*", "team": "serving"}
        ).json()
        assert self.team_for(tenant, "123456789012") == "research"  # same priority: older wins
        changed = manager.patch(
            f"/api/v1/mapping-rules/{catch_all['id']}/", {"priority": 10}, format="json"
        )
        assert (changed.status_code, changed.json()["value"]) == (200, "*")
        assert self.team_for(tenant, "123456789012") == "serving"
        assert manager.delete(f"/api/v1/mapping-rules/{catch_all['id']}/").status_code == 204
        assert self.team_for(tenant, "123456789012") == "research"
        actions = [e.action for e in audit_event_list(organisation=tenant.organisation)]
        assert actions[:4] == [
            "mapping_rule.delete",
            "mapping_rule.update",
            "mapping_rule.create",
            "mapping_rule.create",
        ]
        update = audit_event_list(organisation=tenant.organisation, action="mapping_rule.update")
        assert (update.get().details["before"]["priority"], update.get().details["priority"]) == (
            100,
            10,
        )

    @pytest.mark.parametrize(
        "change",
        [{"team": "nope"}, {"source": "oracle"}, {"key": ""}, {"value": "  "}, {"phase": "x"}],
    )
    def test_bad_rules_are_refused(self, tenant, manager, change):
        response = manager.post("/api/v1/mapping-rules/", {**self.RULE, **change}, format="json")
        assert response.status_code == 400, change
        assert not TeamMappingRule.objects.exists()

    def test_members_read_rules_and_only_manage_writes_them(self, tenant, manager):
        manager.post("/api/v1/mapping-rules/", self.RULE, format="json")
        listed = tenant.client_for("auditor").get("/api/v1/mapping-rules/").json()
        assert [r["value"] for r in listed] == ["123456789012"]
        # The engineer is limited to "serving": research's rule is not theirs to read.
        assert tenant.client_for("engineer").get("/api/v1/mapping-rules/").json() == []
        refused = tenant.client_for("esg_officer").post("/api/v1/mapping-rules/", self.RULE)
        assert refused.status_code == 403
        assert TeamMappingRule.objects.count() == 1

    def test_another_organisations_rules_and_teams_are_not_found(self, tenant, outsider, manager):
        theirs = TeamMappingRule.objects.create(
            organisation=outsider.organisation,
            source="aws",
            key="account",
            value="999",
            team=outsider.teams["research"],
        )
        url = f"/api/v1/mapping-rules/{theirs.pk}/"
        assert manager.get(url).status_code == 404
        assert manager.patch(url, {"priority": 1}, format="json").status_code == 404
        assert manager.delete(url).status_code == 404
        theirs.refresh_from_db()
        assert theirs.priority == 100
        assert manager.get("/api/v1/mapping-rules/").json() == []


class TestManageScopeReachesTheSettings:
    def test_a_manage_token_adds_a_facility_an_instrument_and_an_override(self, tenant):
        client = tenant.manage_client(scopes=["manage"])
        facility = {"code": "dc-2", "kind": "owned", "zone": "FR", "pue": 1.3, "pue_source": "m"}
        for path, body in (
            ("/api/v1/facilities/", facility),
            ("/api/v1/instruments/", INSTRUMENT),
            ("/api/v1/factor-overrides/", OVERRIDE),
        ):
            response = client.post(path, body, format="json")
            assert response.status_code == 201, (path, response.content)
        actions = {e.action for e in audit_event_list(organisation=tenant.organisation)}
        assert {"facility.create", "instrument.create", "override.create"} <= actions
        # manage writes; reading is the read scope's
        assert client.get("/api/v1/facilities/").status_code == 403
