"""The worker's EcoLogits estimate of LLM usage records, compared with ecologits' own output."""

import pytest
from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.impacts.llm import compute_llm_impacts
from ecologits.tracers.utils import PROVIDER_CONFIG_MAP, llm_impacts

from greenai_portal.celery import app
from inventory.llm.estimation import llm_usage_estimate
from inventory.llm.services import custom_llm_create, custom_llm_delete
from inventory.models import CustomLlm, LlmUsageRecord
from tests.inventory.llm.test_llm_usage_ingest import post, usage
from tests.inventory.test_celery_worker import tail, wait_for


def ranges(record: LlmUsageRecord) -> dict[str, tuple[float, float]]:
    return {
        "energy": (record.energy_kwh_min, record.energy_kwh_max),
        "gwp_usage": (record.gwp_usage_kg_min, record.gwp_usage_kg_max),
        "gwp_embodied": (record.gwp_embodied_kg_min, record.gwp_embodied_kg_max),
        "water": (record.water_l_min, record.water_l_max),
    }


def ecologits_ranges(result, requests: int) -> dict[str, tuple[float, float]]:
    """`requests` × ecologits' own per-request figures (a value that is no range: min = max)."""

    def bounds(value):
        low, high = (value.min, value.max) if hasattr(value, "min") else (value, value)
        return (requests * low, requests * high)

    return {
        "energy": bounds(result.usage.energy.value),
        "gwp_usage": bounds(result.usage.gwp.value),
        "gwp_embodied": bounds(result.embodied.gwp.value),
        "water": bounds(result.usage.wcf.value),
    }


def ecologits_request(provider, active, total, output_tokens, latency_s, deployment=None):
    """EcoLogits' own impacts of one request, through `compute_llm_impacts` with the provider's
    data-centre defaults and electricity mix (and, for a model of its repository, the
    deployment's tokens per second and time to first token)."""
    config = PROVIDER_CONFIG_MAP[provider]
    mix = electricity_mixes.find_electricity_mix(zone=config.datacenter_location)
    return compute_llm_impacts(
        model_active_parameter_count=active,
        model_total_parameter_count=total,
        output_token_count=output_tokens,
        request_latency=latency_s,
        if_electricity_mix_adpe=mix.adpe,
        if_electricity_mix_pe=mix.pe,
        if_electricity_mix_gwp=mix.gwp,
        if_electricity_mix_wue=mix.wue,
        datacenter_pue=config.datacenter_pue,
        datacenter_wue=config.datacenter_wue,
        tps=deployment.tps if deployment else None,
        ttft=deployment.ttft if deployment else None,
    )


@pytest.mark.django_db
class TestLlmUsageEstimate:
    def test_the_queued_task_estimates_two_requests_as_twice_ecologits_one(
        self, tenant, eager_celery, django_capture_on_commit_callbacks
    ):
        # 2 requests × 500 output tokens, 2 s each, gpt-4o-mini (8–28 B parameters: a range)
        with django_capture_on_commit_callbacks(execute=True):
            response = post(tenant.token_client(), usage(output_tokens=1000, requests=2))
        assert response.status_code == 201
        record = LlmUsageRecord.objects.get()
        assert record.status == "computed", record.estimate_error
        one = llm_impacts("openai", "gpt-4o-mini", 500, 2.0)
        assert ranges(record) == ecologits_ranges(one, 2)
        assert record.energy_kwh_min < record.energy_kwh_max  # a range, kept
        assert (record.ecologits_version, record.electricity_mix_zone) == ("0.11.3", "USA")

    def test_a_single_request_is_ecologits_figure_itself(self, tenant):
        post(tenant.token_client(), usage(output_tokens=500, requests=1))
        assert llm_usage_estimate().estimated == 1
        record = LlmUsageRecord.objects.get()
        assert ranges(record) == ecologits_ranges(llm_impacts("openai", "gpt-4o-mini", 500, 2.0), 1)

    def test_an_aggregate_is_its_average_request_times_its_requests(self, tenant):
        # 7 requests, 2,100 output tokens: 300 tokens each on average, 1.5 s each
        post(
            tenant.token_client(),
            usage(
                model="claude-haiku-4-5",
                provider="anthropic",
                output_tokens=2100,
                requests=7,
                latency_s=1.5,
            ),
        )
        llm_usage_estimate()
        record = LlmUsageRecord.objects.get()
        one = llm_impacts("anthropic", "claude-haiku-4-5", 300, 1.5)
        assert ranges(record) == ecologits_ranges(one, 7)

    def test_without_latency_ecologits_models_the_generation_time(self, tenant):
        post(tenant.token_client(), usage(latency_s=None, output_tokens=500, requests=1))
        llm_usage_estimate()
        one = llm_impacts("openai", "gpt-4o-mini", 500, None)
        assert ranges(LlmUsageRecord.objects.get()) == ecologits_ranges(one, 1)

    def test_a_declared_model_is_estimated_with_ecologits_impact_function(self, tenant):
        custom_llm_create(
            organisation=tenant.organisation,
            provider="mistralai",
            name="our-fine-tune",
            active_parameters_b=12,
            total_parameters_b=40,
            source_note="vendor's model card",
        )
        post(
            tenant.token_client(),
            usage(provider="mistralai", model="our-fine-tune", output_tokens=1000, requests=2),
        )
        llm_usage_estimate()
        record = LlmUsageRecord.objects.get()
        # Mistral AI's data centres: EcoLogits' SWE mix.
        one = ecologits_request("mistralai", 12, 40, 500, 2.0)
        assert ranges(record) == ecologits_ranges(one, 2)
        assert record.custom_llm == CustomLlm.objects.get()
        assert record.electricity_mix_zone == "SWE"

    def test_a_record_whose_declaration_was_deleted_fails_saying_how_to_declare(self, tenant):
        declaration = custom_llm_create(
            organisation=tenant.organisation,
            provider="openai",
            name="gpt-99-ultra",
            active_parameters_b=20,
            total_parameters_b=120,
            source_note="vendor",
        )
        post(tenant.token_client(), usage(model="gpt-99-ultra"))
        custom_llm_delete(declaration=declaration)
        assert llm_usage_estimate().failed == 1
        record = LlmUsageRecord.objects.get()
        assert record.status == "failed"
        assert record.energy_kwh_min is None  # no figure, not zero
        assert "POST /api/v1/llm-models/" in record.estimate_error

    def test_it_estimates_ten_thousand_records_set_based(
        self, tenant, django_assert_max_num_queries
    ):
        rows = [
            usage(external_id=f"h-{i}", output_tokens=1000 + i % 50, requests=2 + i % 3)
            for i in range(10_000)
        ]
        for start in range(0, len(rows), 5000):
            post(tenant.token_client(), rows[start : start + 5000])
        # one read, a declarations lookup at most, one UPDATE (and savepoint) per 2,000
        with django_assert_max_num_queries(20):
            assert llm_usage_estimate().estimated == 10_000
        assert not LlmUsageRecord.objects.exclude(status="computed").exists()


def test_the_worker_has_the_estimate_task():
    app.loader.import_default_modules()
    assert "inventory.tasks.compute_batch" in app.tasks
    assert "inventory.tasks.estimate_llm_usage" in app.tasks


@pytest.mark.services
def test_a_real_worker_estimates_posted_llm_usage(worker, tenant):
    # 2 requests × 500 output tokens, 2 s each: the worker's figures are 2 × ecologits' own
    response = post(tenant.token_client(), usage(output_tokens=1000, requests=2))
    assert response.status_code == 201
    estimated = LlmUsageRecord.objects.filter(status="computed")
    assert wait_for(estimated.exists), tail(worker)
    one = llm_impacts("openai", "gpt-4o-mini", 500, 2.0)
    assert ranges(estimated.get()) == ecologits_ranges(one, 2)
