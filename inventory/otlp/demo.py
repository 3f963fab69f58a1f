"""The demo organisation's OpenTelemetry traces: a week of an instrumented assistant's chat
calls (GenAI semantic conventions) and the HTTP requests around them, as one OTLP export.
Synthetic activity (tokens, latency), not factors: EcoLogits estimates the impacts."""

import hashlib
import random
from datetime import datetime, timedelta

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

DEMO_DAYS = 7
APPLICATION = "docs-assistant"
TEAM = "platform"


def _attribute(key: str, value: str | int) -> KeyValue:
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    return KeyValue(key=key, value=AnyValue(int_value=value))


def _id(text: str, size: int) -> bytes:
    # Derived from the call's hour and number, so seeding again sends the same spans.
    return hashlib.sha256(text.encode()).digest()[:size]


def demo_trace_export(today: datetime) -> bytes:
    """A protobuf ExportTraceServiceRequest of the DEMO_DAYS before `today` (UTC midnight):
    in working hours, a few questions an hour, each an HTTP server span around a chat call."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        [_attribute("service.name", APPLICATION), _attribute("greenai.team", TEAM)]
    )
    spans = resource_spans.scope_spans.add().spans
    first = today - timedelta(days=DEMO_DAYS)
    for offset in range(DEMO_DAYS * 24):
        hour = first + timedelta(hours=offset)
        if not 8 <= hour.hour < 18:
            continue
        rng = random.Random(int(hour.timestamp()))
        for number in range(rng.randint(1, 4)):
            start = int(hour.timestamp()) * 10**9 + rng.randint(0, 3000) * 10**9
            latency = rng.randint(600, 4000) * 10**6
            trace_id = _id(f"demo-otlp-{hour.isoformat()}-{number}", 16)
            server = spans.add(
                trace_id=trace_id,
                span_id=_id(f"server-{trace_id.hex()}", 8),
                name="POST /ask",
                kind=2,
                start_time_unix_nano=start,
                end_time_unix_nano=start + latency + 40 * 10**6,
            )
            server.attributes.append(_attribute("http.request.method", "POST"))
            chat = spans.add(
                trace_id=trace_id,
                span_id=_id(f"chat-{trace_id.hex()}", 8),
                parent_span_id=server.span_id,
                name="chat gpt-4o-mini",
                kind=3,
                start_time_unix_nano=start + 20 * 10**6,
                end_time_unix_nano=start + 20 * 10**6 + latency,
            )
            chat.attributes.extend(
                [
                    _attribute("gen_ai.operation.name", "chat"),
                    _attribute("gen_ai.provider.name", "openai"),
                    _attribute("gen_ai.request.model", "gpt-4o-mini"),
                    _attribute("gen_ai.usage.input_tokens", rng.randint(800, 6000)),
                    _attribute("gen_ai.usage.output_tokens", rng.randint(80, 700)),
                ]
            )
    return request.SerializeToString()
