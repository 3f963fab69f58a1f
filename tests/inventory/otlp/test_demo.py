"""The demo organisation has OTLP-sourced LLM usage, through the endpoint's own service."""

import pytest
from django.core.management import call_command

from inventory.models import IngestBatch, LlmUsageRecord


@pytest.mark.django_db
def test_the_demo_seeds_a_week_of_traced_llm_calls_once(factors, capsys):
    call_command("seed_demo")
    traced = LlmUsageRecord.objects.filter(batch__source=IngestBatch.Source.OTLP)
    count = traced.count()
    # 7 days x 10 working hours x 1 to 4 calls an hour.
    assert 70 <= count <= 280
    assert set(traced.values_list("team__slug", "application", "provider", "model")) == {
        ("platform", "docs-assistant", "openai", "gpt-4o-mini")  # the requested model
    }
    ids = traced.values_list("external_id", flat=True)
    assert all(len(external_id) == 32 + 1 + 16 for external_id in ids)  # trace:span, in hex
    assert f"{count} LLM calls from OpenTelemetry traces created" in capsys.readouterr().out
    call_command("seed_demo")
    assert traced.count() == count
    assert f"{count} already there" in capsys.readouterr().out
