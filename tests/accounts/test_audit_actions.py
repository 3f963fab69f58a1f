"""Every administrative action enters the organisation's audit trail, whichever door it comes
through (settings pages, REST API, Django admin), with who did it and what changed; never a key."""

import pytest

from accounts.models import ApiToken, AuditEvent, Membership
from accounts.templatetags.audit_format import action_label, object_label
from accounts.views import NEW_KEY_SESSION
from inventory.models import ContractualInstrument, FactorOverride, Location, TeamMappingRule
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import seed_quarter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def only_event(tenant, action: str) -> AuditEvent:
    return AuditEvent.objects.get(organisation=tenant.organisation, action=action)


def test_token_creation_and_revocation_are_recorded_without_the_key(tenant):
    admin = tenant.client_for("admin")
    admin.post("/settings/tokens/create/", {"name": "ci runner", "scopes": ["ingest"]})
    token = ApiToken.objects.get(organisation=tenant.organisation, name="ci runner")
    key = admin.session[NEW_KEY_SESSION]["key"]
    admin.post(f"/settings/tokens/{token.pk}/revoke/")

    created, revoked = only_event(tenant, "token.create"), only_event(tenant, "token.revoke")
    assert (created.actor_label, created.target_type, created.target_id) == (
        "acme-admin",
        "ApiToken",
        str(token.pk),
    )
    assert created.details == {
        "name": "ci runner",
        "prefix": token.prefix,
        "scopes": ["ingest"],
        "team": None,
    }
    assert revoked.actor_label == "acme-admin"
    trail = str(list(AuditEvent.objects.values()))
    assert key not in trail and token.key_hash not in trail


def test_team_and_member_changes_are_recorded_with_before_and_after(tenant):
    admin = tenant.client_for("admin")
    admin.post("/settings/teams/create/", {"name": "Vision"})
    admin.post(
        "/settings/members/add/",
        {"username": "new-engineer", "password": "a-long-passphrase-9", "role": "engineer",
         "teams": [tenant.teams["research"].pk]},
    )  # fmt: skip
    membership = Membership.objects.get(user__username="new-engineer@acme")
    admin.post(f"/settings/members/{membership.pk}/", {"role": "auditor"})
    admin.post(f"/settings/members/{membership.pk}/remove/")

    assert only_event(tenant, "team.create").details == {"name": "Vision", "slug": "vision"}
    assert only_event(tenant, "member.create").details == {
        "username": "new-engineer@acme",
        "role": "engineer",
        "teams": ["research"],
    }
    assert only_event(tenant, "member.update").details == {
        "username": "new-engineer@acme",
        "before": {"role": "engineer", "teams": ["research"]},
        "after": {"role": "auditor", "teams": []},
    }
    removed = only_event(tenant, "member.remove")
    assert (removed.target_id, removed.details["role"]) == (str(membership.pk), "auditor")


def test_facility_instrument_override_and_mapping_rule_changes_are_recorded(tenant):
    admin = tenant.client_for("admin")
    admin.post(
        "/settings/facilities/create/",
        {"code": "berlin-colo", "name": "Berlin", "kind": "colocation", "zone": "DE",
         "pue": "1.4", "pue_source": "provider report"},
    )  # fmt: skip
    admin.post(
        "/settings/instruments/create/",
        {"kind": "ppa", "reference": "PPA-7", "zone": "DE", "valid_from": "2026-01-01",
         "valid_to": "2026-12-31", "mwh": "50", "kg_per_kwh": "0"},
    )  # fmt: skip
    admin.post(
        "/settings/overrides/create/",
        {"zone": "DE", "kind": "grid_average", "valid_from": "2026-01-01",
         "valid_to": "2026-12-31", "kg_per_kwh": "0.31", "source": "Supplier 2026"},
    )  # fmt: skip
    admin.post(
        "/settings/mapping-rules/create/",
        {"source": "aws", "key": "tag:team", "value": "vision",
         "team": tenant.teams["research"].pk, "priority": "10"},
    )  # fmt: skip
    instrument = ContractualInstrument.objects.get(reference="PPA-7")
    override = FactorOverride.objects.get(source="Supplier 2026")
    rule = TeamMappingRule.objects.get(value="vision")
    admin.post(f"/settings/instruments/{instrument.pk}/delete/")
    admin.post(f"/settings/overrides/{override.pk}/delete/")
    admin.post(f"/settings/mapping-rules/{rule.pk}/delete/")

    facility = Location.objects.get(code="berlin-colo")
    assert only_event(tenant, "facility.create").details == {
        "code": "berlin-colo",
        "kind": "colocation",
        "zone": "DE",
        "pue": 1.4,
    }
    assert only_event(tenant, "facility.create").target_id == str(facility.pk)
    for action in ("instrument.create", "instrument.delete"):
        event = only_event(tenant, action)
        assert (event.target_id, event.details["reference"], event.details["mwh"]) == (
            str(instrument.pk),
            "PPA-7",
            50.0,
        )
    for action in ("override.create", "override.delete"):
        event = only_event(tenant, action)
        assert (event.target_id, event.details["kg_per_kwh"]) == (str(override.pk), 0.31)
    assert only_event(tenant, "mapping_rule.delete").details["match"] == "tag:team=vision"
    # Each instrument and override change queued the recalculation it implies, also recorded.
    assert AuditEvent.objects.filter(action="recalculation.start").count() == 4
    assert all(e.actor_label == "acme-admin" for e in AuditEvent.objects.all())


def test_locks_restatements_and_exports_through_the_api_are_recorded(tenant):
    esg = seed_quarter(tenant)
    quarter = {"year": 2026, "quarter": 1}
    assert close_quarter(esg).status_code == 201  # prepared by esg, approved by the admin
    # The first restatement redoes the market-based allocation with the pipeline.
    response = esg.post(
        "/api/v1/reports/scope2/restatements/",
        {**quarter, "reason": "pipeline allocation"},
        format="json",
    )
    assert response.status_code == 201
    esg.post("/api/v1/reports/scope2/exports/", {**quarter, "version": 2}, format="json")

    lock, restate = only_event(tenant, "report.lock"), only_event(tenant, "report.restate")
    assert (lock.actor_label, lock.details["period"], lock.details["version"]) == (
        "acme-admin",
        "2026 Q1",
        1,
    )
    assert (restate.details["version"], restate.details["reason"]) == (2, "pipeline allocation")
    assert only_event(tenant, "report.export").details == {"period": "2026 Q1", "version": 2}


def test_django_admin_writes_are_recorded(tenant, admin_client):
    team = tenant.teams["serving"]
    response = admin_client.post(
        f"/admin/accounts/team/{team.pk}/change/",
        {"organisation": tenant.organisation.pk, "name": "Serving & Inference", "slug": "serving"},
    )
    assert response.status_code == 302
    event = only_event(tenant, "admin.team.change")
    assert (event.actor_label, event.details["fields"]) == ("admin", ["name"])


def test_no_one_can_change_the_trail_through_the_admin(tenant, admin_client):
    tenant.client_for("admin").post("/settings/teams/create/", {"name": "Vision"})
    event = only_event(tenant, "team.create")
    assert admin_client.get(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "forged"})
    assert AuditEvent.objects.get(pk=event.pk).action == "team.create"


def test_other_organisations_never_see_the_events(tenant, outsider):
    tenant.client_for("admin").post("/settings/teams/create/", {"name": "Vision"})
    assert not AuditEvent.objects.filter(organisation=outsider.organisation).exists()


def test_admins_auditors_and_esg_officers_read_the_trail_on_its_page_and_api_filtered(
    tenant, outsider
):
    admin = tenant.client_for("admin")
    admin.post("/settings/teams/create/", {"name": "Vision"})
    admin.post("/settings/tokens/create/", {"name": "ci runner", "scopes": ["ingest"]})

    for role in ("auditor", "esg_officer"):
        page = tenant.client_for(role).get("/settings/audit/?action=token.create")
        html = page.content.decode()
        assert 'data-action="token.create"' in html and 'data-action="team.create"' not in html
    assert tenant.client_for("engineer").get("/settings/audit/").status_code == 403
    assert tenant.client_for("esg_officer").get("/api/v1/audit-events/").json()["count"] == 2

    body = tenant.client_for("auditor").get("/api/v1/audit-events/?action=team").json()
    assert body["count"] == 1
    assert body["results"][0]["details"] == {"name": "Vision", "slug": "vision"}
    assert outsider.client_for("admin").get("/api/v1/audit-events/").json()["count"] == 0
    reader = tenant.token_client(scopes=("read",))
    assert reader.get("/api/v1/audit-events/").status_code == 403
    bad = tenant.client_for("admin").get("/api/v1/audit-events/?date_from=yesterday")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "date_from"


def test_the_trail_page_reads_as_sentences_not_python_values(tenant):
    admin = tenant.client_for("admin")
    admin.post("/settings/tokens/create/", {"name": "ci runner", "scopes": ["ingest", "read"]})
    admin.post(
        "/settings/members/add/",
        {"username": "dana", "password": "long-enough-1", "role": "esg_officer"},
    )
    html = admin.get("/settings/audit/").content.decode()
    assert "<strong>scopes</strong>: ingest, read" in html
    assert "<strong>team</strong>: —" in html
    assert "<strong>role</strong>: ESG officer" in html
    assert "[&#x27;ingest&#x27;" not in html and "None" not in html and "esg_officer<" not in html
    # Actions and objects read as words; the code stays in the title for searching.
    assert '<th scope="row" title="token.create">Token added</th><td>Api token ' in html
    assert '<th scope="row" title="member.create">Member added</th>' in html


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("instrument.create", "Instrument added"),
        ("facility.pue_update", "Facility PUE changed"),
        ("organisation.time_zone", "Organisation time zone set"),
        ("report.lock", "Report locked"),
        ("mapping_rule.delete", "Mapping rule deleted"),
        ("report.close.send_back", "Report close sent back"),
        ("prometheus_source.poke", "Prometheus source poke"),  # an unknown verb: its words
    ],
)
def test_an_action_reads_as_what_happened(action, words):
    assert action_label(action) == words


def test_an_object_type_reads_as_words():
    assert object_label("ContractualInstrument") == "Contractual instrument"
    assert object_label("Team") == "Team"
    assert object_label("") == ""


def test_a_bad_audit_filter_is_named_not_ignored(tenant):
    response = tenant.client_for("admin").get("/settings/audit/?date_from=yesterday")
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["From: Enter a valid date."]
