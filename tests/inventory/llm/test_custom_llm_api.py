"""Declaring models EcoLogits does not know: manage scope, audited, per organisation."""

import pytest

from accounts.models import AuditEvent, Role
from inventory.llm.estimation import llm_usage_estimate
from inventory.models import CustomLlm, LlmUsageRecord
from tests.inventory.llm.test_llm_usage_ingest import post, usage

URL = "/api/v1/llm-models/"


def declare(client, **overrides):
    body = {
        "provider": "openai",
        "name": "gpt-99-ultra",
        "active_parameters_b": 20,
        "total_parameters_b": 120,
        "source_note": "vendor model card, 2026-11",
        **overrides,
    }
    return client.post(URL, body, format="json")


@pytest.mark.django_db
class TestCustomLlmApi:
    def test_a_manage_token_declares_a_model_and_the_trail_says_who(self, tenant):
        response = declare(tenant.manage_client())
        assert response.status_code == 201, response.json()
        declared = CustomLlm.objects.get()
        assert (declared.organisation, declared.active_parameters_b) == (tenant.organisation, 20)
        event = AuditEvent.objects.get(action="custom_llm.create")
        assert event.actor_label.startswith("token test")
        assert event.details["total_parameters_b"] == 120

    def test_records_refused_before_are_accepted_once_declared(self, tenant):
        ingest = tenant.token_client()
        assert post(ingest, usage(model="gpt-99-ultra")).status_code == 400
        declare(tenant.client_for(Role.ADMIN))
        assert post(ingest, usage(model="gpt-99-ultra")).status_code == 201

    def test_members_read_but_only_manage_writes(self, tenant):
        declare(tenant.manage_client())
        engineer = tenant.client_for(Role.ENGINEER)
        assert [m["name"] for m in engineer.get(URL).json()] == ["gpt-99-ultra"]
        assert declare(engineer, name="other").status_code == 403
        assert declare(tenant.token_client(scopes=("ingest", "read")), name="x").status_code == 403

    def test_it_refuses_bad_declarations_naming_each_field(self, tenant):
        admin = tenant.client_for(Role.ADMIN)
        response = declare(admin, provider="acme-cloud", active_parameters_b=-1)
        assert response.status_code == 400
        assert {e["field"] for e in response.json()["errors"]} == {
            "provider",
            "active_parameters_b",
        }
        response = declare(admin, active_parameters_b=200)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "active_parameters_b"
        assert declare(admin, name="gpt-4o-mini").status_code == 400  # EcoLogits knows it
        declare(admin)
        assert declare(admin).status_code == 400  # declared already
        assert CustomLlm.objects.count() == 1

    def test_changing_the_counts_estimates_its_records_again(
        self, tenant, eager_celery, django_capture_on_commit_callbacks
    ):
        admin = tenant.client_for(Role.ADMIN)
        pk = declare(admin).json()["id"]
        post(tenant.token_client(), usage(model="gpt-99-ultra"))
        llm_usage_estimate()
        before = LlmUsageRecord.objects.get().energy_kwh_max
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.patch(f"{URL}{pk}/", {"active_parameters_b": 60}, format="json")
        assert response.status_code == 200, response.json()
        record = LlmUsageRecord.objects.get()
        assert record.status == "computed"
        assert record.energy_kwh_max > before  # 3x the active parameters
        assert AuditEvent.objects.filter(action="custom_llm.update").count() == 1

    def test_another_organisations_declaration_is_404(self, tenant, outsider):
        pk = declare(outsider.client_for(Role.ADMIN)).json()["id"]
        admin = tenant.client_for(Role.ADMIN)
        assert admin.get(f"{URL}{pk}/").status_code == 404
        assert admin.delete(f"{URL}{pk}/").status_code == 404
        assert admin.get(URL).json() == []
        assert CustomLlm.objects.filter(pk=pk).exists()

    def test_deleting_is_audited(self, tenant):
        admin = tenant.client_for(Role.ADMIN)
        pk = declare(admin).json()["id"]
        assert admin.delete(f"{URL}{pk}/").status_code == 204
        assert not CustomLlm.objects.exists()
        assert AuditEvent.objects.filter(action="custom_llm.delete").count() == 1
