"""A base model beside its quantised variant, per 1k inferences and per 1M tokens, by hand."""

from datetime import date

import pytest

from inventory.model_variants import model_variant_set
from inventory.models import ElectricityTariff, FacilityWue
from inventory.pipeline import workload_records_compute
from tests.conftest import workload
from tests.inventory.test_pipeline import fr_override, posted_and_computed

PERIOD = "start=2026-01-01&end=2026-04-01"  # 90 days


def serving(model, day, kwh, team="research", inferences=100_000, tokens=50_000_000):
    return workload(
        external_id=f"{model}-{day}", team=team, model=model, phase="inference",
        started_at=f"2026-02-{day:02d}T00:00:00Z", ended_at=f"2026-02-{day:02d}T23:00:00Z",
        energy_kwh=kwh, inferences=inferences, tokens=tokens,
    )  # fmt: skip


@pytest.fixture
def base(tenant):
    """10 days of each, same hardware and site (lab-paris: PUE 1.2, FR at 0.05 kg/kWh):
    the base at 10 kWh a day, the int8 variant at 6 kWh, each 100k inferences and 50M tokens
    a day; one day of a distilled variant (too little data)."""
    fr_override(tenant.organisation)
    paris = tenant.organisation.facilities.get(code="lab-paris")
    year = {"valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31)}
    FacilityWue.objects.create(
        organisation=tenant.organisation, location=paris, wue_l_per_kwh=1.8, source="meter", **year
    )
    ElectricityTariff.objects.create(
        organisation=tenant.organisation, location=paris, price_per_kwh=0.20, currency="EUR",
        source="supply contract", **year,
    )  # fmt: skip
    records = [serving("chat", d, 10.0) for d in range(1, 11)]
    records += [serving("chat-int8", d, 6.0) for d in range(1, 11)]
    records += [serving("chat-small", 1, 2.0)]
    posted_and_computed(tenant, records)
    models = {m.name: m for m in tenant.organisation.ai_models.all()}
    model_variant_set(
        model=models["chat-int8"], base_model=models["chat"], technique="quantisation",
        precision="int8",
    )  # fmt: skip
    model_variant_set(
        model=models["chat-small"], base_model=models["chat"], technique="distillation"
    )
    return models["chat"]


@pytest.mark.django_db
class TestVariantComparison:
    def test_per_1k_inferences_and_per_1m_tokens_against_the_base(self, tenant, base):
        body = (
            tenant.client_for("esg_officer")
            .get(f"/api/v1/models/{base.id}/variants/comparison/?{PERIOD}")
            .json()
        )
        # Base: 100 kWh IT → 120 kWh facility → 6 kg for 1M inferences and 500M tokens:
        # 0.12 kWh and 6 g per 1k inferences; 12 g per 1M tokens.
        chat = body["base"]
        assert (chat["records"], chat["inferences"]) == (10, 1_000_000)
        assert chat["per_1k_inferences"]["kwh"] == pytest.approx(0.12)
        assert chat["per_1k_inferences"]["g_co2e"] == pytest.approx(6.0)
        assert chat["per_1k_inferences"]["too_little_data"] == ""
        assert chat["per_1m_tokens"]["g_co2e"] == pytest.approx(12.0)
        # Water: 100 kWh IT × 1.8 L = 180 L; cost: 120 kWh × 0.20 EUR = 24 EUR; per 1k of 1M
        # inferences: 0.18 L and 0.024 EUR; per 1M of 500M tokens: 0.36 L and 0.048 EUR.
        assert chat["per_1k_inferences"]["water_l"] == pytest.approx(0.18)
        assert chat["per_1k_inferences"]["cost"] == pytest.approx(0.024)
        assert chat["per_1k_inferences"]["currency"] == "EUR"
        assert chat["per_1m_tokens"]["water_l"] == pytest.approx(0.36)
        assert chat["per_1m_tokens"]["cost"] == pytest.approx(0.048)
        assert chat["tiers"] == {"measured": 1.0, "metered": 0.0, "modelled": 0.0}
        int8, small = body["variants"]
        assert (int8["name"], int8["technique"], int8["precision"]) == (
            "chat-int8", "Quantisation", "int8",
        )  # fmt: skip
        # Variant: 60 kWh → 72 kWh → 3.6 kg: 0.072 kWh and 3.6 g per 1k; 7.2 g per 1M tokens.
        assert int8["per_1k_inferences"]["kwh"] == pytest.approx(0.072)
        assert int8["per_1k_inferences"]["g_co2e"] == pytest.approx(3.6)
        assert int8["change_per_inference_pct"] == pytest.approx(-40.0)
        # 60 kWh × 1.8 = 108 L; 72 kWh × 0.20 = 14.4 EUR, per 1k of 1M inferences.
        assert int8["per_1k_inferences"]["water_l"] == pytest.approx(0.108)
        assert int8["per_1k_inferences"]["cost"] == pytest.approx(0.0144)
        assert int8["change_per_token_pct"] == pytest.approx(-40.0)
        # 1M inferences in 90 days = 4,055.56 thousand a year; × (6 − 3.6) g = 9.733 kg,
        # × (0.12 − 0.072) kWh = 194.67 kWh.
        assert int8["yearly_saving_kg"] == pytest.approx(1_000 * 365 / 90 * 2.4 / 1000)
        assert int8["yearly_saving_kwh"] == pytest.approx(1_000 * 365 / 90 * 0.048)
        # One record of the distilled model: no figure, and why.
        assert small["per_1k_inferences"]["kwh"] is None
        assert small["per_1k_inferences"]["too_little_data"] == (
            "too little data: 1 inference record"
        )
        assert (small["change_per_inference_pct"], small["yearly_saving_kg"]) == (None, None)

    def test_only_inference_records_are_compared(self, tenant, base):
        training = workload(external_id="train", model="chat", phase="training", energy_kwh=500.0)
        tenant.token_client().post("/api/v1/workloads/", [training], format="json")
        workload_records_compute()
        chat = (
            tenant.client_for("admin")
            .get(f"/api/v1/models/{base.id}/variants/comparison/?{PERIOD}")
            .json()["base"]
        )
        assert chat["facility_kwh"] == pytest.approx(120.0)

    def test_a_period_must_end_after_it_starts(self, tenant, base):
        response = tenant.client_for("admin").get(
            f"/api/v1/models/{base.id}/variants/comparison/?start=2026-04-01&end=2026-01-01"
        )
        assert response.status_code == 400

    def test_other_organisations_see_nothing(self, outsider, base):
        url = f"/api/v1/models/{base.id}/variants/comparison/?{PERIOD}"
        assert outsider.client_for("admin").get(url).status_code == 404

    def test_the_page_shows_the_figures(self, tenant, base):
        html = tenant.client_for("admin").get(f"/models/{base.id}/variants/?{PERIOD}").content
        html = html.decode()
        assert 'data-figure="g-per-1k">3.60</span>' in html
        assert 'data-figure="change-per-1k">-40.0 %</span>' in html
        assert "too little data: 1 inference record" in html
