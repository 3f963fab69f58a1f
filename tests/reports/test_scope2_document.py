"""The Scope 2 document is typed: the API serves every declared field, reads versions locked
before a field existed as null, and the OpenAPI schema declares every field."""

import json

import msgspec
import pytest
from django.db import connection

from accounts.principal import principal_for_membership
from inventory.figures import FIGURES
from reports.models import ReportVersion
from reports.scope2_document import document_json, typed_document
from reports.scope2_selectors import scope2_document
from tests.reports.closing import close_quarter
from tests.reports.scope2_data import scope2, seed_quarter


@pytest.mark.django_db
class TestTypedDocument:
    def test_it_declares_every_field_of_a_draft_and_keeps_every_value(self, tenant):
        client = seed_quarter(tenant)
        draft = scope2(client).json()
        # Nothing the selectors build is dropped by the typed structures, and no value moves.
        principal = principal_for_membership(tenant.members["esg_officer"])
        raw = json.loads(json.dumps(scope2_document(principal=principal, year=2026, quarter=1)))
        # Equal: every key the selectors build is declared (an undeclared one would be lost).
        assert json.loads(document_json(raw)) == draft
        # 48 + 48 + 120 kWh of Scope 2 facility energy = 0.216 MWh (tests/reports/scope2_data.py)
        assert draft["scope2"]["mwh"] == pytest.approx(0.216)
        assert draft["breakdowns"]["location"][0]["zone"] == "FR"
        assert "zone" not in draft["breakdowns"]["team"][0]  # location lines only

    def test_it_reads_fields_a_version_locked_before_them_lacks_as_not_computed(self, tenant):
        client = seed_quarter(tenant)
        assert close_quarter(client, year=2026, quarter=1).status_code == 201
        version = ReportVersion.objects.get()
        old = dict(version.report)
        # As a version locked before IT energy and period coverage were reported.
        old["scope2"] = {k: v for k, v in old["scope2"].items() if k != "it_mwh"}
        old["periods"] = {
            name: {k: v for k, v in period.items() if k not in ("coverage", "coverage_note")}
            for name, period in old["periods"].items()
        }
        with connection.cursor() as cursor:  # locked versions refuse ORM writes
            cursor.execute(
                "UPDATE reports_reportversion SET report = %s WHERE id = %s",
                [json.dumps(old), version.id],
            )
        body = scope2(client).json()
        assert body["status"] == "locked"
        assert body["scope2"]["it_mwh"] is None  # not computed when locked, never 0
        assert body["periods"]["quarter"]["coverage"] is None
        assert body["scope2"]["mwh"] == pytest.approx(0.216)
        assert body["scope3_cat1"]["it_mwh"] == pytest.approx(0.04)

    def test_it_refuses_a_document_of_the_wrong_shape(self):
        with pytest.raises(msgspec.ValidationError):
            typed_document({"scope2": {"mwh": "a lot"}})


@pytest.mark.django_db
def test_the_openapi_schema_declares_every_field_of_the_document(tenant):
    response = tenant.client_for("esg_officer").get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    components = schema["components"]["schemas"]
    answer = schema["paths"]["/api/v1/reports/scope2/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Scope2Document"
    }
    document = components["Scope2Document"]["properties"]
    for name in ("scope2", "scope3_cat1", "market", "breakdowns", "intensity", "trend", "lock"):
        assert name in document
    totals = components["Scope2ScopeTotals"]["properties"]
    shown = [f.key for f in FIGURES if f.in_totals]
    assert [k for k in totals if k in shown] == shown
    assert totals["market_t"]["nullable"] is True
    assert "Scope2LocationLine" in components
