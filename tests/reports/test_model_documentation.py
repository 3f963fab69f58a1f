"""A model's training documentation for the EU AI Act (Annex XI 1.2(d)–(e)), worked by hand."""

import pytest

from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override, posted_and_computed
from tests.reports.test_audit_pdf import pdf_text

# H100 SXM in the shipped catalogue: idle 79.1 W, max 700 W.
RECORDS = [
    # research, training: 8 GPUs × 10 h, 40 kWh measured, 3e21 FLOP counted by the job.
    workload(
        external_id="a", started_at="2026-01-10T00:00:00Z", ended_at="2026-01-10T10:00:00Z",
        energy_kwh=40.0, flops=3e21,
    ),
    # research, training: 4 GPUs × 5 h at a metered 500 W: 500 × 4 × 5 = 10 kWh.
    workload(
        external_id="b", started_at="2026-01-11T00:00:00Z", ended_at="2026-01-11T05:00:00Z",
        device_count=4, avg_power_w=500.0,
    ),
    # research, fine-tuning: 2 GPUs × 2 h modelled at utilisation 0.5:
    # (79.1 + 0.5 × (700 − 79.1)) W × 2 × 2 h = 389.55 × 4 Wh = 1.5582 kWh.
    workload(
        external_id="c", phase="fine_tuning", started_at="2026-01-13T00:00:00Z",
        ended_at="2026-01-13T02:00:00Z", device_count=2, utilization=0.5,
    ),
    # research, inference: not training documentation.
    workload(external_id="d", phase="inference", energy_kwh=99.0),
    # serving, training: 1 GPU × 2 h, 6 kWh measured.
    workload(
        external_id="e", team="serving", started_at="2026-01-12T00:00:00Z",
        ended_at="2026-01-12T02:00:00Z", device_count=1, energy_kwh=6.0,
    ),
    # research only: a model the serving engineer may not see.
    workload(external_id="f", model="secret-13b", energy_kwh=1.0),
]  # fmt: skip


@pytest.fixture
def model_id(tenant):
    fr_override(tenant.organisation)  # FR at 0.05 kg/kWh
    posted_and_computed(tenant, RECORDS)
    return tenant.organisation.ai_models.get(name="atlas-7b").id


def documentation(client, model_id):
    return client.get(f"/api/v1/models/{model_id}/documentation/")


@pytest.mark.django_db
class TestModelDocumentation:
    def test_training_time_compute_and_known_energy_of_all_teams(self, tenant, model_id):
        body = documentation(tenant.client_for("esg_officer"), model_id).json()
        assert body["whole_organisation"] is True
        training, _ = body["phases"]
        assert training["phase"] == "training"
        assert (training["records"], training["records_computed"]) == (3, 3)
        # 10 Jan 00:00 to 12 Jan 02:00; jobs of 10 + 5 + 2 h on 80 + 20 + 2 device-hours.
        assert training["wall_clock_hours"] == pytest.approx(50.0)
        assert training["job_hours"] == pytest.approx(17.0)
        assert training["device_hours"] == pytest.approx(102.0)
        assert training["hardware"] == [
            {"code": "nvidia-h100-sxm", "name": "NVIDIA H100 SXM", "device_hours": 102.0}
        ]
        assert (training["flops"], training["flops_records"]) == (3e21, 1)
        # 40 + 10 + 6 = 56 kWh IT; × PUE 1.2 = 67.2 kWh; × 0.05 = 3.36 kg.
        assert training["it_kwh"] == pytest.approx(56.0)
        assert training["facility_kwh"] == pytest.approx(67.2)
        assert training["location_kg"] == pytest.approx(3.36)
        assert training["energy_basis"] == "known"
        assert {t["tier"]: t["it_kwh"] for t in training["energy_by_tier"]} == pytest.approx(
            {"measured": 46.0, "metered": 10.0}
        )

    def test_modelled_energy_is_estimated_from_the_computational_resources(self, tenant, model_id):
        fine_tuning = documentation(tenant.client_for("admin"), model_id).json()["phases"][1]
        assert fine_tuning["phase"] == "fine_tuning"
        assert fine_tuning["it_kwh"] == pytest.approx(1.5582)
        assert fine_tuning["energy_basis"] == "estimated"
        assert fine_tuning["estimated_share"] == pytest.approx(1.0)
        assert fine_tuning["flops"] is None  # not available, not zero

    def test_an_engineer_documents_their_teams_records_only(self, tenant, model_id):
        engineer = tenant.client_for("engineer")  # serving only
        body = documentation(engineer, model_id).json()
        assert body["whole_organisation"] is False
        [training] = body["phases"]
        assert (training["records"], training["it_kwh"]) == (1, pytest.approx(6.0))
        secret = tenant.organisation.ai_models.get(name="secret-13b").id
        assert documentation(engineer, secret).status_code == 404

    def test_records_not_computed_yet_have_no_energy(self, tenant, factors):
        tenant.token_client().post("/api/v1/workloads/", [RECORDS[0]], format="json")
        model = tenant.organisation.ai_models.get(name="atlas-7b")
        [training] = documentation(tenant.client_for("admin"), model.id).json()["phases"]
        assert (training["records_computed"], training["it_kwh"]) == (0, None)
        assert training["energy_basis"] is None

    def test_other_organisations_models_are_not_found(self, tenant, outsider, model_id):
        assert documentation(outsider.client_for("admin"), model_id).status_code == 404
        assert outsider.client_for("admin").get(f"/models/{model_id}/ai-act.pdf").status_code == 404

    def test_flops_must_be_a_count(self, tenant):
        response = tenant.token_client().post(
            "/api/v1/workloads/", [workload(flops=-1.0)], format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "flops"

    def test_the_pdf_says_what_the_api_says(self, tenant, model_id):
        response = tenant.client_for("auditor").get(f"/models/{model_id}/ai-act.pdf")
        assert response.status_code == 200
        text = pdf_text(response.content)
        assert "Annex XI" in text
        assert "3.000e+21 FLOP, from 1 of 3 records" in text
        assert "56.0 kWh" in text
        assert "102.0 device-hours" in text
        assert "Estimated from the computational resources used" in text
        assert "None" not in text
