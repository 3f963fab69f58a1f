"""Facilities and PUE, contractual instruments, factor overrides, the factor library and the
data page: admins manage, other roles read, other organisations' rows are 404."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import ContractualInstrument, FactorOverride, Location
from inventory.views import FacilityForm, TariffForm, WueForm
from tests.reports.test_footprint_api import seed


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


INSTRUMENT = {
    "kind": "eac",
    "reference": "GO-2026-0042",
    "supplier": "Hydro du Rhône",
    "zone": "FR",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "mwh": "120",
    "kg_per_kwh": "0",
}
OVERRIDE = {
    "zone": "DE",
    "kind": "grid_average",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "kg_per_kwh": "0.31",
    "source": "Supplier disclosure 2026",
}


@pytest.mark.django_db
class TestFacilities:
    def test_an_admin_adds_a_facility_and_sets_its_pue(self, tenant):
        client = tenant.client_for("admin")
        response = client.post(
            "/settings/facilities/create/",
            {
                "code": "berlin-colo",
                "name": "Berlin colo",
                "kind": "colocation",
                "zone": "DE",
                "pue": "1.4",
                "pue_source": "provider report 2025",
            },
            follow=True,
        )
        assert "Facility berlin-colo added" in messages_of(response)
        facility = Location.objects.get(organisation=tenant.organisation, code="berlin-colo")
        assert (facility.zone, facility.pue) == ("DE", 1.4)
        client.post(
            f"/settings/facilities/{facility.pk}/pue/", {"pue": "1.3", "pue_source": "metered"}
        )
        facility.refresh_from_db()
        assert (facility.pue, facility.pue_source) == (1.3, "metered")

    def test_bad_facilities_are_refused_with_a_reason(self, tenant):
        client = tenant.client_for("admin")
        base = {"code": "x", "name": "X", "kind": "owned", "zone": "FR"}
        response = client.post("/settings/facilities/create/", {**base, "pue": "1.2"}, follow=True)
        assert any("Say where the PUE comes from" in m for m in messages_of(response))
        response = client.post(
            "/settings/facilities/create/", {**base, "code": "lab-paris"}, follow=True
        )
        assert any("already exists" in m for m in messages_of(response))
        response = client.post("/settings/facilities/create/", {**base, "zone": "XX"}, follow=True)
        assert any("Grid zone" in m for m in messages_of(response))
        lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        response = client.post(
            f"/settings/facilities/{lab.pk}/pue/", {"pue": "0.8", "pue_source": "x"}, follow=True
        )
        assert any("PUE" in m for m in messages_of(response))

    def test_other_roles_read_only_and_other_tenants_get_404(self, tenant, outsider):
        lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        for role in ("esg_officer", "auditor", "engineer"):
            client = tenant.client_for(role)
            html = client.get("/settings/facilities/").content.decode()
            assert "lab-paris" in html and "/pue/" not in html
            assert (
                client.post(f"/settings/facilities/{lab.pk}/pue/", {"pue": "2"}).status_code == 403
            )
        theirs = Location.objects.get(organisation=outsider.organisation, code="lab-paris")
        client = tenant.client_for("admin")
        assert (
            client.post(f"/settings/facilities/{theirs.pk}/pue/", {"pue": "2"}).status_code == 404
        )
        assert (
            f"/settings/facilities/{theirs.pk}/"
            not in client.get("/settings/facilities/").content.decode()
        )

    def test_the_zone_select_is_djangos_select_kept_per_value(self, tenant):
        kept = FacilityForm()
        plain = FacilityForm()
        plain.fields["zone"].widget = forms.Select(choices=plain.fields["zone"].choices)
        assert str(kept["zone"]) == str(plain["zone"])
        assert '<option value="FR">FR — ' in str(kept["zone"])
        # A form sent back shows its own zone chosen, not a select kept from another.
        chosen = '<option value="DE" selected>'
        assert chosen in str(FacilityForm({"zone": "DE"})["zone"])
        assert chosen not in str(FacilityForm()["zone"])

    def test_the_wue_form_offers_the_organisations_facilities_read_once(self, tenant, outsider):
        Location.objects.create(
            organisation=outsider.organisation, code="globex-dc", name="DC", kind="owned", zone="DE"
        )
        form = WueForm(organisation=tenant.organisation)
        with CaptureQueriesContext(connection) as queries:
            html = str(form["facility"]) + str(form["facility"])
        assert len(queries) == 0  # read once, when the form was made
        assert 'value="lab-paris"' in html and "globex-dc" not in html
        wue = {
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "wue_l_per_kwh": "1.2",
            "source": "metered site water 2026",
        }
        theirs = WueForm({**wue, "facility": "globex-dc"}, organisation=tenant.organisation)
        assert not theirs.is_valid() and "facility" in theirs.errors
        ours = WueForm({**wue, "facility": "lab-paris"}, organisation=tenant.organisation)
        assert ours.is_valid()
        assert ours.cleaned_data["facility"].organisation == tenant.organisation
        # The tariff form names a facility by id, after a blank choice: the same options.
        lab = Location.objects.get(organisation=tenant.organisation, code="lab-paris")
        tariff = str(TariffForm(organisation=tenant.organisation)["location"])
        assert (
            'required id="id_location">\n  <option value="" selected>---------</option>' in tariff
        )
        assert f'<option value="{lab.pk}">lab-paris</option>' in tariff


@pytest.mark.django_db
class TestInstrumentsAndOverrides:
    def test_an_admin_adds_and_deletes_an_instrument(self, tenant):
        client = tenant.client_for("admin")
        response = client.post("/settings/instruments/create/", INSTRUMENT, follow=True)
        assert "Instrument GO-2026-0042 added" in messages_of(response)
        instrument = ContractualInstrument.objects.get(organisation=tenant.organisation)
        assert (instrument.mwh, instrument.kg_per_kwh, instrument.zone) == (120.0, 0.0, "FR")
        assert "GO-2026-0042" in client.get("/settings/instruments/").content.decode()
        client.post(f"/settings/instruments/{instrument.pk}/delete/")
        assert not ContractualInstrument.objects.exists()

    def test_an_esg_officer_keeps_the_instruments_but_not_other_settings(self, tenant, outsider):
        client = tenant.client_for("esg_officer")
        html = client.get("/settings/instruments/").content.decode()
        assert 'action="/settings/instruments/create/"' in html
        response = client.post("/settings/instruments/create/", INSTRUMENT, follow=True)
        assert "Instrument GO-2026-0042 added" in messages_of(response)
        instrument = ContractualInstrument.objects.get(organisation=tenant.organisation)
        assert instrument.created_by == tenant.members["esg_officer"].user
        # The same MWh through the API: 120 MWh of certificates, as on the page.
        api = client.post(
            "/api/v1/instruments/", {**INSTRUMENT, "reference": "GO-2"}, format="json"
        )
        assert api.status_code == 201, api.content
        assert api.json()["mwh"] == 120.0
        theirs = outsider.client_for("esg_officer")
        assert theirs.post(f"/settings/instruments/{instrument.pk}/delete/").status_code == 404
        client.post(f"/settings/instruments/{instrument.pk}/delete/")
        assert list(ContractualInstrument.objects.values_list("reference", flat=True)) == ["GO-2"]
        # Facilities, overrides, tokens and members stay the admin's.
        assert (
            'action="/settings/facilities/create/"'
            not in client.get("/settings/facilities/").content.decode()
        )
        assert client.post("/settings/overrides/create/", OVERRIDE).status_code == 403
        assert client.get("/settings/tokens/").status_code == 403

    def test_engineers_and_auditors_cannot_add_instruments(self, tenant):
        for role in ("engineer", "auditor"):
            client = tenant.client_for(role)
            assert "create/" not in client.get("/settings/instruments/").content.decode()
            assert client.post("/settings/instruments/create/", INSTRUMENT).status_code == 403
            api = client.post("/api/v1/instruments/", INSTRUMENT, format="json")
            assert api.status_code == 403
        assert not ContractualInstrument.objects.exists()

    def test_an_instrument_must_end_after_it_starts(self, tenant):
        response = tenant.client_for("admin").post(
            "/settings/instruments/create/", {**INSTRUMENT, "valid_to": "2025-12-31"}, follow=True
        )
        assert "The period must end on or after its first day" in messages_of(response)
        assert not ContractualInstrument.objects.exists()

    def test_an_override_needs_a_source_and_only_admins_add_one(self, tenant, outsider):
        client = tenant.client_for("admin")
        response = client.post(
            "/settings/overrides/create/", {**OVERRIDE, "source": " "}, follow=True
        )
        assert not FactorOverride.objects.filter(zone="DE").exists()
        response = client.post("/settings/overrides/create/", OVERRIDE, follow=True)
        assert "Override for DE added" in messages_of(response)
        override = FactorOverride.objects.get(organisation=tenant.organisation, zone="DE")
        assert (
            tenant.client_for("esg_officer")
            .post("/settings/overrides/create/", OVERRIDE)
            .status_code
            == 403
        )
        assert (
            outsider.client_for("admin")
            .post(f"/settings/overrides/{override.pk}/delete/")
            .status_code
            == 404
        )
        assert (
            "Supplier disclosure 2026"
            not in outsider.client_for("admin").get("/settings/overrides/").content.decode()
        )

    def test_an_override_that_computed_records_use_stays(self, tenant):
        seed(tenant)  # computes with the FR override
        override = FactorOverride.objects.get(organisation=tenant.organisation, zone="FR")
        response = tenant.client_for("admin").post(
            f"/settings/overrides/{override.pk}/delete/", follow=True
        )
        assert any("stays for the audit trail" in m for m in messages_of(response))
        assert FactorOverride.objects.filter(pk=override.pk).exists()


@pytest.mark.django_db
class TestFactorLibraryAndData:
    def test_the_factor_library_shows_factors_with_their_sources(self, tenant):
        client = tenant.client_for("auditor")
        html = client.get("/factors/").content.decode()
        assert "greenai-factors" in html and "active" in html
        html = client.get("/factors/?q=FR&kind=grid_average").content.decode()
        assert '<th scope="row">FR' in html
        assert "Licence" in html and "NVIDIA H100" in html

    def test_the_data_page_shows_batches_tiers_and_waiting_records(self, tenant):
        seed(tenant)
        html = (
            tenant.client_for("admin")
            .get("/data/?start=2026-01-01&end=2026-04-01")
            .content.decode()
        )
        assert 'data-kpi="pending">0<' in html
        assert 'data-kpi="computed">6<' in html
        assert 'data-tier="metered"' in html
        assert "#" in html and "REST API" in html

    def test_an_engineer_sees_only_batches_with_their_teams_records(self, tenant, outsider):
        seed(tenant)
        outsider_html = outsider.client_for("admin").get("/data/").content.decode()
        assert "Nothing received yet" in outsider_html
        engineer = tenant.client_for("engineer").get("/data/").content.decode()
        assert "REST API" in engineer  # the seed batch holds serving records


@pytest.mark.django_db
class TestMappingRules:
    def test_an_admin_maps_a_billing_tag_to_a_team(self, tenant, outsider):
        from inventory.models import TeamMappingRule

        client = tenant.client_for("admin")
        response = client.post(
            "/settings/mapping-rules/create/",
            {
                "source": "aws",
                "key": "tag:team",
                "value": "ml-research",
                "team": tenant.teams["research"].id,
                "priority": 10,
            },
            follow=True,
        )
        assert "Rule tag:team=ml-research → Research added" in messages_of(response)
        rule = TeamMappingRule.objects.get(organisation=tenant.organisation)
        assert (rule.source, rule.team, rule.priority) == ("aws", tenant.teams["research"], 10)
        assert (
            "ml-research"
            in tenant.client_for("auditor").get("/settings/mapping-rules/").content.decode()
        )
        # Another organisation's team cannot be chosen, nor its rules touched.
        response = client.post(
            "/settings/mapping-rules/create/",
            {
                "source": "aws",
                "key": "account",
                "value": "1",
                "team": outsider.teams["research"].id,
                "priority": 1,
            },
            follow=True,
        )
        assert TeamMappingRule.objects.count() == 1
        assert (
            outsider.client_for("admin")
            .post(f"/settings/mapping-rules/{rule.pk}/delete/")
            .status_code
            == 404
        )
        assert (
            tenant.client_for("engineer")
            .post(f"/settings/mapping-rules/{rule.pk}/delete/")
            .status_code
            == 403
        )
        client.post(f"/settings/mapping-rules/{rule.pk}/delete/")
        assert not TeamMappingRule.objects.exists()


@pytest.mark.django_db
def test_the_factor_library_names_a_bad_filter(tenant):
    response = tenant.client_for("auditor").get("/factors/?kind=greenest&year=last")
    assert messages_of(response) == [
        "The kind 'greenest' is not one of the choices; showing every kind.",
        "The year 'last' is not a year; showing every year.",
    ]
