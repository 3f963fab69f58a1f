"""Declaring a model a variant of another, through the API and the model settings."""

import pytest

from accounts.models import AuditEvent
from tests.conftest import workload
from tests.inventory.test_pipeline import posted_and_computed


@pytest.fixture
def models(tenant):
    records = [
        workload(external_id="base", model="chat-7b", energy_kwh=1.0),
        workload(external_id="int8", model="chat-7b-int8", energy_kwh=1.0),
        workload(external_id="other", team="serving", model="serving-bot", energy_kwh=1.0),
    ]
    posted_and_computed(tenant, records)
    return {m.name: m for m in tenant.organisation.ai_models.all()}


def put(client, model, **body):
    return client.put(f"/api/v1/models/{model.id}/variant/", body, format="json")


@pytest.mark.django_db
class TestVariantApi:
    def test_an_admin_token_declares_a_quantised_variant(self, tenant, models):
        response = put(
            tenant.manage_client(), models["chat-7b-int8"], base_model=models["chat-7b"].id,
            technique="quantisation", precision="int8", note="GPTQ, same serving stack",
        )  # fmt: skip
        assert response.status_code == 200, response.json()
        assert response.json() == {
            "id": models["chat-7b-int8"].id,
            "name": "chat-7b-int8",
            "base_model": models["chat-7b"].id,
            "technique": "quantisation",
            "precision": "int8",
            "variant_note": "GPTQ, same serving stack",
        }
        event = AuditEvent.objects.get(action="model.variant_set")
        assert event.details["after"]["base_model_id"] == models["chat-7b"].id

    def test_a_quantised_variant_names_its_precision(self, tenant, models):
        response = put(
            tenant.manage_client(), models["chat-7b-int8"], base_model=models["chat-7b"].id,
            technique="quantisation",
        )  # fmt: skip
        assert response.status_code == 400
        assert "precision" in response.json()["message"]

    def test_a_model_cannot_derive_from_itself_or_its_variants(self, tenant, models):
        client = tenant.manage_client()
        base, variant = models["chat-7b"], models["chat-7b-int8"]
        assert put(client, variant, base_model=base.id, technique="pruning").status_code == 200
        response = put(client, base, base_model=variant.id, technique="distillation")
        assert response.status_code == 400
        assert put(client, base, base_model=base.id, technique="pruning").status_code == 400

    def test_no_longer_a_variant(self, tenant, models):
        client = tenant.manage_client()
        variant = models["chat-7b-int8"]
        put(client, variant, base_model=models["chat-7b"].id, technique="pruning")
        body = put(client, variant, base_model=None).json()
        assert (body["base_model"], body["technique"]) == (None, "")

    def test_readers_cannot_declare_and_other_organisations_cannot_see(
        self, tenant, outsider, models
    ):
        variant, base = models["chat-7b-int8"], models["chat-7b"]
        body = {"base_model": base.id, "technique": "pruning"}
        assert put(tenant.token_client(("read",)), variant, **body).status_code == 403
        assert put(outsider.manage_client(), variant, **body).status_code == 404
        # Another organisation's model is no base either.
        foreign = put(outsider.manage_client(), variant, base_model=None)
        assert foreign.status_code == 404

    def test_a_team_limited_reader_lists_their_teams_models_only(self, tenant, models):
        names = [m["name"] for m in tenant.client_for("engineer").get("/api/v1/models/").json()]
        assert names == ["serving-bot"]


@pytest.mark.django_db
def test_the_models_settings_page_declares_a_variant(tenant, models):
    admin = tenant.client_for("admin")
    variant, base = models["chat-7b-int8"], models["chat-7b"]
    prefix = f"m{variant.id}"
    response = admin.post(
        f"/settings/models/{variant.id}/variant/",
        {
            f"{prefix}-base_model": base.id,
            f"{prefix}-technique": "quantisation",
            f"{prefix}-precision": "fp8",
            f"{prefix}-note": "",
        },
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.base_model_id, variant.precision) == (base.id, "fp8")
    html = admin.get("/settings/models/").content.decode()
    assert "Quantisation (fp8)" in html
