"""A model's lifecycle: training and fine-tuning amortised over its inferences, worked by hand."""

import pytest

from inventory.pipeline import workload_records_compute
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override, posted_and_computed


def job(external_id, phase, day, kwh, team="research", inferences=None):
    return workload(
        external_id=external_id, team=team, phase=phase, energy_kwh=kwh,
        started_at=f"{day}T00:00:00Z", ended_at=f"{day}T10:00:00Z", inferences=inferences,
    )  # fmt: skip


# lab-paris: PUE 1.2, FR at 0.05 kg/kWh, so every measured kWh is 1.2 × 0.05 = 0.06 kg.
RECORDS = [
    job("train", "training", "2026-01-10", 100.0),  # 6.0 kg
    job("tune", "fine_tuning", "2026-01-20", 20.0),  # 1.2 kg: 7.2 kg to build the model
    job("serve-feb", "inference", "2026-02-01", 50.0, inferences=1_000_000),  # 3.0 kg
    job("serve-mar", "inference", "2026-03-01", 50.0, inferences=1_000_000),  # 6.0 kg so far
    # 9.0 kg ≥ 7.2 kg: inference overtakes training and fine-tuning on 1 April.
    job("serve-apr", "inference", "2026-04-01", 50.0, team="serving", inferences=1_000_000),
]


@pytest.fixture
def model_id(tenant):
    fr_override(tenant.organisation)
    posted_and_computed(tenant, RECORDS)
    return tenant.organisation.ai_models.get(name="atlas-7b").id


def lifecycle(client, model_id):
    return client.get(f"/api/v1/models/{model_id}/lifecycle/")


@pytest.mark.django_db
class TestModelLifecycle:
    def test_training_is_amortised_over_the_inferences_served(self, tenant, model_id):
        body = lifecycle(tenant.client_for("esg_officer"), model_id).json()
        kg = {p["phase"]: p["location_kg"] for p in body["phases"]}
        assert kg == pytest.approx({"training": 6.0, "fine_tuning": 1.2, "inference": 9.0})
        assert body["inferences"] == 3_000_000
        # 7.2 kg = 7,200 g over 3,000 thousand inferences; inference 9,000 g likewise.
        assert body["building_g_per_1k_inferences"] == pytest.approx(2.4)
        assert body["inference_g_per_1k_inferences"] == pytest.approx(3.0)
        assert body["inference_overtook_on"] == "2026-04-01"
        assert body["inference_share_of_building"] == pytest.approx(1.25)
        assert (body["first_day"], body["last_day"]) == ("2026-01-10", "2026-04-01")

    def test_the_split_by_month(self, tenant, model_id):
        months = lifecycle(tenant.client_for("admin"), model_id).json()["months"]
        assert [m["month"] for m in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
        assert months[0] == pytest.approx(
            {"month": "2026-01", "training_kg": 6.0, "fine_tuning_kg": 1.2, "inference_kg": 0.0}
        )
        assert [m["inference_kg"] for m in months[1:]] == pytest.approx([3.0, 3.0, 3.0])

    def test_the_scopes_are_shown_apart(self, tenant, model_id):
        phases = lifecycle(tenant.client_for("admin"), model_id).json()["phases"]
        assert all(p["scope2_kg"] == pytest.approx(p["location_kg"]) for p in phases)
        assert all(p["scope3_cat1_kg"] == 0.0 for p in phases)

    def test_an_engineer_sees_their_teams_records_only(self, tenant, model_id):
        body = lifecycle(tenant.client_for("engineer"), model_id).json()  # serving only
        assert body["whole_organisation"] is False
        assert [p["phase"] for p in body["phases"]] == ["inference"]
        # No training among their records: nothing to amortise or overtake (not zero).
        assert body["building_g_per_1k_inferences"] is None
        assert (body["inference_overtook_on"], body["inference_share_of_building"]) == (None, None)

    def test_before_any_inference_the_amortisation_is_not_available(self, tenant, factors):
        fr_override(tenant.organisation)
        tenant.token_client().post("/api/v1/workloads/", RECORDS[:2], format="json")
        workload_records_compute()
        model = tenant.organisation.ai_models.get(name="atlas-7b")
        body = lifecycle(tenant.client_for("admin"), model.id).json()
        assert (body["inferences"], body["building_g_per_1k_inferences"]) == (0, None)
        assert body["inference_overtook_on"] is None
        assert body["inference_share_of_building"] == 0.0

    def test_other_organisations_models_are_not_found(self, outsider, model_id):
        assert lifecycle(outsider.client_for("admin"), model_id).status_code == 404

    def test_the_model_page_shows_the_lifecycle(self, tenant, model_id):
        html = tenant.client_for("admin").get(f"/models/{model_id}/").content.decode()
        assert 'data-figure="lifecycle-building-per-1k">2.40 g CO2e' in html
        assert 'data-figure="lifecycle-overtook">on 1 Apr 2026' in html
