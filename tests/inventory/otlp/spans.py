"""Spans made by the real OpenTelemetry SDK (1.45.2), encoded by its OTLP exporter's encoder."""

from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# 2026-03-02T09:00:00Z in nanoseconds since the epoch.
START_NS = 1_772_442_000_000_000_000


def chat_attributes(**overrides: Any) -> dict[str, Any]:
    """A chat call as the OpenAI instrumentation records it (GenAI semconv)."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 350,
        "server.address": "api.openai.com",
    }
    attributes.update(overrides)
    return {key: value for key, value in attributes.items() if value is not None}


class SpanRecorder:
    """A TracerProvider whose finished spans are kept, to encode or to export."""

    def __init__(self, resource: dict[str, Any] | None = None) -> None:
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": "support-bot", **(resource or {})})
        )
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        self.tracer = self.provider.get_tracer("tests.otlp")

    def span(
        self,
        name: str,
        attributes: dict[str, Any],
        *,
        start_ns: int = START_NS,
        duration_ns: int = 2_500_000_000,
    ):
        span = self.tracer.start_span(name, attributes=attributes, start_time=start_ns)
        span.end(end_time=start_ns + duration_ns)
        return span

    def request(self):
        """The finished spans as one ExportTraceServiceRequest."""
        return encode_spans(self.memory.get_finished_spans())
