"""LLM API usage through the bulk endpoint and the service OTLP ingestion calls."""

import pytest

from accounts.models import AuditEvent
from accounts.principal import principal_for_token
from accounts.services import api_token_create
from greenai_portal.errors import ApplicationError
from inventory.llm.services import llm_usage_ingest
from inventory.models import AiModel, CustomLlm, IngestBatch, LlmUsageRecord

URL = "/api/v1/llm-usage/"


def usage(**overrides) -> dict:
    record = {
        "external_id": "chat-1",
        "team": "serving",
        "application": "support-chatbot",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1200,
        "output_tokens": 1000,
        "requests": 2,
        "latency_s": 2.0,
        "started_at": "2026-03-02T09:00:00Z",
        "ended_at": "2026-03-02T10:00:00Z",
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def post(client, body, **kwargs):
    return client.post(URL, body, format="json", **kwargs)


def declare_gpt_99_ultra(organisation) -> None:
    """A model EcoLogits does not know, declared by `organisation`."""
    CustomLlm.objects.create(
        organisation=organisation,
        provider="openai",
        name="gpt-99-ultra",
        active_parameters_b=20,
        total_parameters_b=120,
        source_note="vendor model card",
    )


@pytest.mark.django_db
class TestLlmUsageIngest:
    def test_it_stores_an_aggregated_record_pending_its_estimate(self, tenant):
        response = post(tenant.token_client(), usage(ai_model="helpdesk-assistant"))
        assert response.status_code == 201, response.json()
        record = LlmUsageRecord.objects.get()
        assert record.organisation == tenant.organisation
        assert record.team == tenant.teams["serving"]
        assert (record.provider, record.model, record.application) == (
            "openai",
            "gpt-4o-mini",
            "support-chatbot",
        )
        assert (record.input_tokens, record.output_tokens, record.requests) == (1200, 1000, 2)
        assert record.latency_s == 2.0
        assert record.activity_date.isoformat() == "2026-03-02"
        assert record.ai_model == AiModel.objects.get(name="helpdesk-assistant")
        assert record.batch.source == IngestBatch.Source.API

    def test_it_stores_csv_with_defaults_for_one_request(self, tenant):
        body = (
            "external_id,team,provider,model,output_tokens,started_at,ended_at\n"
            "r-1,research,anthropic,claude-haiku-4-5,350,"
            "2026-03-02T09:00:00Z,2026-03-02T09:00:04Z\n"
        )
        response = tenant.token_client().post(URL, body, content_type="text/csv")
        assert response.status_code == 201, response.json()
        record = LlmUsageRecord.objects.get()
        assert (record.requests, record.input_tokens, record.latency_s) == (1, 0, None)

    def test_it_counts_a_resent_record_as_a_duplicate(self, tenant):
        client = tenant.token_client()
        post(client, usage())
        again = post(client, [usage(), usage(external_id="chat-2")])
        assert again.status_code == 201
        assert (again.json()["created"], again.json()["duplicates"]) == (1, 1)
        assert LlmUsageRecord.objects.count() == 2

    def test_it_refuses_a_resent_id_with_other_content_with_a_conflict(self, tenant):
        client = tenant.token_client()
        post(client, usage())
        response = post(client, usage(output_tokens=2000))
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "external_id"
        assert LlmUsageRecord.objects.get().output_tokens == 1000

    def test_it_names_every_problem_of_every_row_and_stores_nothing(self, tenant):
        body = [
            usage(external_id="ok"),
            usage(external_id="bad", requests=0, ended_at="2026-03-02T08:00:00Z"),
            usage(external_id="who", team="nobody", model="gpt-99-ultra"),
        ]
        response = post(tenant.token_client(), body)
        assert response.status_code == 400
        found = {(e["row"], e["field"]) for e in response.json()["errors"]}
        assert found == {(1, "requests"), (1, "ended_at"), (2, "team"), (2, "model")}
        assert LlmUsageRecord.objects.count() == 0

    def test_it_says_how_to_declare_a_model_ecologits_does_not_know(self, tenant):
        response = post(tenant.token_client(), usage(model="gpt-99-ultra"))
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["field"] == "model"
        assert (
            "EcoLogits 0.11.3 does not know model 'gpt-99-ultra' of provider 'openai'"
            in (error["message"])
        )
        assert "POST /api/v1/llm-models/" in error["message"]
        assert "active_parameters_b" in error["message"]

    def test_it_accepts_a_model_the_organisation_declared(self, tenant):
        declare_gpt_99_ultra(tenant.organisation)
        assert post(tenant.token_client(), usage(model="gpt-99-ultra")).status_code == 201

    def test_it_does_not_accept_another_organisations_declaration(self, tenant, outsider):
        declare_gpt_99_ultra(outsider.organisation)
        assert post(tenant.token_client(), usage(model="gpt-99-ultra")).status_code == 400

    def test_a_team_limited_token_sends_only_for_its_team(self, tenant):
        client = tenant.token_client(team="serving")
        assert post(client, usage()).status_code == 201
        response = post(client, usage(external_id="other", team="research"))
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "team"

    def test_it_needs_the_ingest_scope(self, tenant):
        assert post(tenant.token_client(scopes=("read",)), usage()).status_code == 403

    def test_it_keeps_external_ids_per_organisation(self, tenant, outsider):
        post(tenant.token_client(), usage())
        response = post(outsider.token_client(), usage(output_tokens=9))
        assert response.status_code == 201
        assert LlmUsageRecord.objects.filter(organisation=outsider.organisation).count() == 1

    def test_it_stores_rows_through_the_service_with_every_problem_named(self, tenant):
        token, _ = api_token_create(
            organisation=tenant.organisation, name="otlp", scopes=("ingest",)
        )
        principal = principal_for_token(token)
        rows = [usage(external_id="trace-1:span-1"), usage(external_id="x", team="nobody")]
        with pytest.raises(ApplicationError) as refused:
            llm_usage_ingest(principal=principal, rows=rows, source=IngestBatch.Source.OTLP)
        assert refused.value.errors == [
            {"row": 1, "field": "team", "message": refused.value.errors[0]["message"]}
        ]
        result = llm_usage_ingest(
            principal=principal, rows=rows[:1], source=IngestBatch.Source.OTLP
        )
        assert (result.created, result.duplicates) == (1, 0)
        assert LlmUsageRecord.objects.get().batch.source == "otlp"
        assert not AuditEvent.objects.filter(action__startswith="custom_llm").exists()
