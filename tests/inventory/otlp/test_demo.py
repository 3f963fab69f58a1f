"""The demo organisation has OTLP-sourced LLM usage, through the endpoint's own service."""

from inventory.models import IngestBatch, LlmUsageRecord


def test_the_demo_seeds_a_week_of_traced_llm_calls(demo):
    # Seeding it again adds none of them twice: tests/reports/test_seed_demo.py.
    traced = LlmUsageRecord.objects.filter(batch__source=IngestBatch.Source.OTLP)
    count = traced.count()
    # 7 days x 10 working hours x 1 to 4 calls an hour.
    assert 70 <= count <= 280
    assert set(traced.values_list("team__slug", "application", "provider", "model")) == {
        ("platform", "docs-assistant", "openai", "gpt-4o-mini")  # the requested model
    }
    ids = traced.values_list("external_id", flat=True)
    assert all(len(external_id) == 32 + 1 + 16 for external_id in ids)  # trace:span, in hex
    assert f"{count} LLM calls from OpenTelemetry traces created" in demo.output
