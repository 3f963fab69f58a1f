"""OTLP/HTTP trace bodies → LLM usage rows: pure functions, no Django.

The body is an `ExportTraceServiceRequest` (opentelemetry-proto), as binary protobuf or OTLP
JSON (the proto3 JSON mapping with hex trace and span ids), optionally gzipped. A span is an
LLM call when it names its provider (`gen_ai.provider.name`, or the older `gen_ai.system`) and
its operation, if named, is a model call (chat, text_completion, generate_content,
embeddings): agent, tool, workflow and retrieval spans wrap model calls that have spans of
their own, so counting them too would count tokens twice. Every other span is ignored and
counted. A model call that cannot be a usage record (no model, no token counts, bad values)
is rejected with its reason. Specification: https://opentelemetry.io/docs/specs/otlp/ and
https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/.
"""

import base64
import json
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MEDIA_TYPES = (PROTOBUF, JSON)

PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system")
# Semantic-convention provider names whose models EcoLogits lists under another name: the
# same company serving its own models (Azure OpenAI serves OpenAI's; Vertex AI and the Gemini
# API serve Google's). Others (aws.bedrock, groq, ...) pass as sent: their models are
# estimated only once declared. Semconv: gen_ai.provider.name's well-known values.
PROVIDER_ALIASES = {
    "azure.ai.openai": "openai",
    "az.ai.openai": "openai",
    "gcp.gemini": "google_genai",
    "gcp.gen_ai": "google_genai",
    "gcp.vertex_ai": "google_genai",
    "gemini": "google_genai",
    "vertex_ai": "google_genai",
    "mistral_ai": "mistralai",
}
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model")
# The current names first, then the ones instrumentations sent before semconv 1.27.0
# renamed them (open-telemetry/semantic-conventions#1200).
INPUT_TOKEN_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKEN_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
OPERATION_KEY = "gen_ai.operation.name"
MODEL_CALLS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
# The portal's own attribute: the team a span's usage belongs to (span, else resource).
TEAM_KEY = "greenai.team"
APPLICATION_KEY = "service.name"
MAX_APPLICATION = 200  # service.name is cut to what the record keeps
MAX_REASONS = 10  # the rejection message names this many reasons, with their counts


class OtlpBodyError(ValueError):
    """The body cannot be read as an ExportTraceServiceRequest (400); the message says why."""


class OtlpBodyTooLarge(ValueError):
    """The body, or what it decompresses to, is over the limit (413)."""


class OtlpUnsupported(ValueError):
    """A content type or content encoding OTLP/HTTP does not define (415)."""


@dataclass
class SpanUsage:
    """What a request's spans came to: usage rows (the LLM-usage row contract), the spans
    ignored (not LLM calls) and the reasons LLM-call spans were rejected, counted."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    ignored: int = 0
    rejected: Counter = field(default_factory=Counter)

    @property
    def rejected_count(self) -> int:
        return sum(self.rejected.values())


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower case, without parameters."""
    return (content_type or "").split(";")[0].strip().lower()


def inflate(body: bytes, *, content_encoding: str | None, limit: int) -> bytes:
    """The body with its Content-Encoding undone; gzip is read up to `limit` bytes and
    refused past it, so a small bomb cannot fill the memory."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise OtlpUnsupported(f"Unsupported Content-Encoding {encoding!r}; send gzip or none")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise OtlpBodyError(f"The gzip body is damaged ({error})") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise OtlpBodyTooLarge(f"The body decompresses to more than {limit} bytes")
    if not inflater.eof:
        raise OtlpBodyError("The gzip body is cut short")
    return plain


def read_request(
    body: bytes, *, content_type: str, content_encoding: str | None, limit: int
) -> Message:
    """The spans of a body as sent (binary protobuf or OTLP JSON, gzipped or not), read as
    SPAN_VIEW. The content type is checked first, so a body of another kind is not inflated."""
    kind = media_type(content_type)
    if kind not in MEDIA_TYPES:
        raise OtlpUnsupported(
            f"Unsupported content type {content_type or '(none)'!r}; send {PROTOBUF} or {JSON}"
        )
    body = inflate(body, content_encoding=content_encoding, limit=limit)
    if kind == JSON:
        body = _decode_json(body).SerializeToString()
    try:
        return SPAN_VIEW.FromString(body)
    except DecodeError as error:
        raise OtlpBodyError(f"Not an ExportTraceServiceRequest in protobuf ({error})") from None


def _span_view() -> type[Message]:
    """ExportTraceServiceRequest as this module reads it: only the fields it uses, with
    attributes as map<string, AnyValue>. A repeated KeyValue (key = 1, value = 2) is on the
    wire what a map is, so the protobuf runtime indexes the attributes in C and a span's few
    GenAI ones are looked up, not found among all of them in Python (5 times as fast over
    real spans; bench/otlp.py). Numbers and types come from opentelemetry-proto's own
    descriptors; other fields are skipped as unknown."""
    file = descriptor_pb2.FileDescriptorProto(
        name="greenai/otlp_span_view.proto", package="greenai.otlp", syntax="proto3"
    )

    def message(source, *names: str, types: dict[str, str] | None = None):
        proto = file.message_type.add(name=source.DESCRIPTOR.name)
        for name in names:
            field = source.DESCRIPTOR.fields_by_name[name]
            added = proto.field.add(name=name, number=field.number, type=field.type)
            added.label = added.LABEL_REPEATED if field.is_repeated else added.LABEL_OPTIONAL
            if field.message_type is not None:
                type_name = (types or {}).get(name, field.message_type.name)
                added.type_name = f".greenai.otlp.{type_name}"
        return proto

    any_value = message(AnyValue, "string_value", "int_value", "double_value")
    any_value.oneof_decl.add(name="value")
    for value_field in any_value.field:
        value_field.oneof_index = 0
    entry = message(KeyValue, "key", "value")
    entry.name = "Attributes"
    entry.options.map_entry = True
    attributes = {"attributes": "Attributes"}
    message(Span, "trace_id", "span_id", "start_time_unix_nano", "end_time_unix_nano",
            "attributes", types=attributes)  # fmt: skip
    message(ScopeSpans, "spans")
    message(Resource, "attributes", types=attributes)
    message(ResourceSpans, "resource", "scope_spans")
    message(ExportTraceServiceRequest, "resource_spans")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("greenai.otlp.ExportTraceServiceRequest")
    )


SPAN_VIEW = _span_view()


def _decode_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        payload = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise OtlpBodyError(f"Not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise OtlpBodyError("OTLP JSON is one ExportTraceServiceRequest object")
    for resource in _objects(payload.get("resourceSpans")):
        for scope in _objects(resource.get("scopeSpans")):
            for span in _objects(scope.get("spans")):
                _ids_to_base64(span)
                for link in _objects(span.get("links")):
                    _ids_to_base64(link)
    request = ExportTraceServiceRequest()
    try:
        # Unknown fields are skipped, as OTLP/JSON receivers must.
        json_format.ParseDict(payload, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError) as error:
        raise OtlpBodyError(f"Not an OTLP JSON ExportTraceServiceRequest ({error})") from None
    return request


def _objects(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _ids_to_base64(message: dict) -> None:
    """OTLP JSON writes trace and span ids in hex where the proto3 mapping (which
    json_format reads) has base64."""
    for key in ("traceId", "spanId", "parentSpanId"):
        value = message.get(key)
        if not isinstance(value, str):
            continue
        try:
            message[key] = base64.b64encode(bytes.fromhex(value)).decode()
        except ValueError:
            raise OtlpBodyError(f"{key} {value[:40]!r} is not hex") from None


def usage_rows(request: Message, *, default_team: str | None) -> SpanUsage:
    """The LLM-usage rows of every model-call span of a request read by `read_request`;
    `default_team` (the token's team) stands in when neither the span nor its resource says
    `greenai.team`."""
    usage = SpanUsage()
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource.attributes
        application = _text(resource.get(APPLICATION_KEY))
        resource_team = _text(resource.get(TEAM_KEY)) or default_team
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                attributes = span.attributes
                provider = _first_text(attributes, PROVIDER_KEYS)
                operation = _text(attributes.get(OPERATION_KEY))
                if provider is None or (operation is not None and operation not in MODEL_CALLS):
                    usage.ignored += 1
                    continue
                team = _text(attributes.get(TEAM_KEY)) or resource_team
                row_or_reason = _row(
                    span,
                    attributes,
                    provider=provider,
                    operation=operation,
                    team=team,
                    application=application,
                )
                if isinstance(row_or_reason, str):
                    usage.rejected[row_or_reason] += 1
                else:
                    usage.rows.append(row_or_reason)
    return usage


def _row(
    span,
    attributes: Mapping[str, Any],
    *,
    provider: str,
    operation: str | None,
    team: str | None,
    application: str | None,
) -> dict[str, Any] | str:
    """The usage row of one model-call span, or the reason it cannot be one. Names and
    counts are checked again, with every other row's, by the LLM-usage record schema."""
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        return "a span's trace_id is not 16 bytes or its span_id not 8"
    model = _first_text(attributes, MODEL_KEYS)
    if model is None:
        return "no gen_ai.response.model or gen_ai.request.model"
    try:
        input_tokens = _first_count(attributes, INPUT_TOKEN_KEYS)
        output_tokens = _first_count(attributes, OUTPUT_TOKEN_KEYS)
    except ValueError as error:
        return str(error)
    if output_tokens is None and operation == "embeddings":
        output_tokens = 0  # an embedding call generates no tokens: a fact, not a guess
    if output_tokens is None:
        return "no gen_ai.usage.output_tokens (the estimate needs the tokens generated)"
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not start or end <= start:
        return "no start time, or the span does not end after it starts"
    if team is None:
        return (
            f"no team: set the resource (or span) attribute {TEAM_KEY} to a team slug, "
            "or send with a team's token"
        )
    row = {
        "external_id": f"{span.trace_id.hex()}:{span.span_id.hex()}",
        "provider": PROVIDER_ALIASES.get(provider, provider),
        "model": model,
        "output_tokens": output_tokens,
        "requests": 1,
        "latency_s": (end - start) / 1e9,
        "started_at": _iso(start),
        "ended_at": _iso(end),
        "team": team,
    }
    if input_tokens is not None:  # not sent: the record schema's default
        row["input_tokens"] = input_tokens
    if application:  # no service.name: unknown, not ""
        row["application"] = application[:MAX_APPLICATION]
    return row


def _iso(unix_nano: int) -> str:
    """ISO 8601 in UTC to the microsecond, as the record schema reads timestamps."""
    seconds, nanoseconds = divmod(unix_nano, 1_000_000_000)
    return f"{_iso_second(seconds)}.{nanoseconds // 1000:06d}Z"


@lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    # A batch's spans share a few seconds: formatting each second once is 5 times as fast
    # as a datetime per timestamp (bench/otlp.py).
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _text(value) -> str | None:
    if value is None or value.WhichOneof("value") != "string_value":
        return None
    return value.string_value.strip() or None


def _first_text(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = _text(attributes.get(key))
        if text is not None:
            return text
    return None


def _first_count(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """A token count: an int attribute (or a whole double, as some SDKs send numbers) >= 0;
    None when absent; ValueError when present but not a count."""
    for key in keys:
        value = attributes.get(key)
        if value is None:
            continue
        kind = value.WhichOneof("value")
        if kind == "int_value" and value.int_value >= 0:
            return value.int_value
        if kind == "double_value" and value.double_value >= 0 and value.double_value.is_integer():
            return int(value.double_value)
        raise ValueError(f"{key} is not a whole number >= 0")
    return None


def rejection_message(usage: SpanUsage) -> str:
    """partial_success.error_message: why spans were rejected (each reason with its count),
    and how many spans were ignored as not LLM calls, so a sender sees both."""
    parts = [
        f"{count} span(s) rejected: {reason}"
        for reason, count in usage.rejected.most_common(MAX_REASONS)
    ]
    if usage.ignored:
        parts.append(
            f"{usage.ignored} span(s) ignored: not an LLM call (no gen_ai.provider.name or "
            "gen_ai.system, or an agent/tool/workflow span)"
        )
    return "; ".join(parts)


def export_response(usage: SpanUsage, *, content_type: str) -> bytes:
    """ExportTraceServiceResponse in the request's encoding; partial_success is set only when
    spans were rejected or ignored (with 0 rejected it is a warning, as the spec allows)."""
    response = ExportTraceServiceResponse()
    message = rejection_message(usage)
    if message:
        response.partial_success.rejected_spans = usage.rejected_count
        response.partial_success.error_message = message
    if media_type(content_type) == PROTOBUF:
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()


# google.rpc.Code for the HTTP statuses this endpoint answers (the spec leaves code optional;
# clients may log it): INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED,
# RESOURCE_EXHAUSTED, UNAVAILABLE; anything else INTERNAL.
_RPC_CODES = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14}


def status_body(message: str, *, http_status: int, content_type: str) -> bytes:
    """A google.rpc.Status (the body of every OTLP/HTTP 4xx/5xx) in the request's encoding.
    Written by hand (field 1 code, field 2 message): two scalar fields do not need
    googleapis-common-protos as a dependency."""
    code = _RPC_CODES.get(http_status, 13)
    if media_type(content_type) != PROTOBUF:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
