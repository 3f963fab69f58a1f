"""OTLP bodies → LLM usage rows, with spans made by the real OpenTelemetry SDK."""

import gzip
import json

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from inventory.otlp.decoding import (
    JSON,
    PROTOBUF,
    OtlpBodyError,
    OtlpBodyTooLarge,
    OtlpUnsupported,
    export_response,
    inflate,
    read_request,
    status_body,
    usage_rows,
)
from tests.inventory.otlp.spans import SpanRecorder, chat_attributes

LIMIT = 1024 * 1024


def rows_of(recorder: SpanRecorder, *, default_team: str | None = None):
    body = recorder.request().SerializeToString()
    request = read_request(body, content_type=PROTOBUF, content_encoding=None, limit=LIMIT)
    return usage_rows(request, default_team=default_team)


def test_it_turns_a_chat_span_into_one_usage_row():
    recorder = SpanRecorder({"greenai.team": "research"})
    span = recorder.span("chat gpt-4o-mini", chat_attributes(), duration_ns=2_500_000_000)
    usage = rows_of(recorder)
    context = span.get_span_context()
    assert usage.ignored == 0 and usage.rejected_count == 0
    assert usage.rows == [
        {
            "external_id": f"{context.trace_id:032x}:{context.span_id:016x}",
            "provider": "openai",
            # The response model (the snapshot that answered) before the requested alias.
            "model": "gpt-4o-mini-2024-07-18",
            "input_tokens": 1200,
            "output_tokens": 350,
            "requests": 1,
            "latency_s": 2.5,  # 2,500,000,000 ns
            "started_at": "2026-03-02T09:00:00.000000Z",
            "ended_at": "2026-03-02T09:00:02.500000Z",
            "team": "research",
            "application": "support-bot",
        }
    ]
    assert len(usage.rows[0]["external_id"]) == 32 + 1 + 16


def test_it_reads_the_older_attribute_names():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span(
        "chat",
        {
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-3-5-haiku-latest",
            "gen_ai.usage.prompt_tokens": 80,
            "gen_ai.usage.completion_tokens": 20,
        },
    )
    [row] = rows_of(recorder).rows
    assert (row["provider"], row["model"]) == ("anthropic", "claude-3-5-haiku-latest")
    assert (row["input_tokens"], row["output_tokens"]) == (80, 20)


def test_it_ignores_and_counts_spans_that_are_not_llm_calls():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("GET /answer", {"http.request.method": "GET"})
    recorder.span("SELECT faq", {"db.system.name": "postgresql"})
    # An agent span carries the tokens of the model calls under it: counting it would count
    # them twice.
    recorder.span(
        "invoke_agent helper",
        chat_attributes(**{"gen_ai.operation.name": "invoke_agent"}),
    )
    recorder.span("chat", chat_attributes())
    usage = rows_of(recorder)
    assert (len(usage.rows), usage.ignored, usage.rejected_count) == (1, 3, 0)


def test_it_rejects_llm_calls_it_cannot_record_and_says_why():
    recorder = SpanRecorder()
    recorder.span(
        "no model", chat_attributes(**{"gen_ai.request.model": None, "gen_ai.response.model": None})
    )
    recorder.span("no output", chat_attributes(**{"gen_ai.usage.output_tokens": None}))
    recorder.span("negative", chat_attributes(**{"gen_ai.usage.input_tokens": -5}))
    recorder.span("text count", chat_attributes(**{"gen_ai.usage.output_tokens": "350"}))
    recorder.span("instant", chat_attributes(), duration_ns=0)
    recorder.span("no team", chat_attributes())
    usage = rows_of(recorder)  # no greenai.team and no token team: only the team span fails
    assert usage.rows == []
    assert usage.rejected_count == 6
    assert set(usage.rejected) == {
        "no gen_ai.response.model or gen_ai.request.model",
        "no gen_ai.usage.output_tokens (the estimate needs the tokens generated)",
        "gen_ai.usage.input_tokens is not a whole number >= 0",
        "gen_ai.usage.output_tokens is not a whole number >= 0",
        "no start time, or the span does not end after it starts",
        "no team: set the resource (or span) attribute greenai.team to a team slug, "
        "or send with a team's token",
    }
    # Every one lacks a team too, but the first problem met is the one named.
    assert (
        usage.rejected[
            "no team: set the resource (or span) attribute greenai.team to a "
            "team slug, or send with a team's token"
        ]
        == 1
    )


def test_an_embedding_call_generates_no_tokens():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span(
        "embeddings",
        chat_attributes(
            **{
                "gen_ai.operation.name": "embeddings",
                "gen_ai.response.model": "text-embedding-3-small",
                "gen_ai.usage.output_tokens": None,
            }
        ),
    )
    [row] = rows_of(recorder).rows
    assert (row["input_tokens"], row["output_tokens"]) == (1200, 0)


def test_the_span_team_wins_over_the_resource_team_which_wins_over_the_token_team():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("span team", chat_attributes(**{"greenai.team": "serving"}))
    recorder.span("resource team", chat_attributes())
    assert [row["team"] for row in rows_of(recorder, default_team="ops").rows] == [
        "serving",
        "research",
    ]
    bare = SpanRecorder()
    bare.span("token team", chat_attributes())
    assert [row["team"] for row in rows_of(bare, default_team="ops").rows] == ["ops"]


# The OTLP specification's JSON example shape (opentelemetry-proto examples/trace.json):
# hex ids, int64 as strings, enum as integer, camelCase; plus a field this version does not
# know, which receivers must skip.
OTLP_JSON = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": "support-bot"}},
                    {"key": "greenai.team", "value": {"stringValue": "research"}},
                ]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                    "spans": [
                        {
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "parentSpanId": "EEE19B7EC3C1B173",
                            "name": "chat gpt-4o-mini",
                            "kind": 3,
                            "startTimeUnixNano": "1772442000000000000",
                            "endTimeUnixNano": "1772442001250000000",
                            "attributes": [
                                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                                {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                                {
                                    "key": "gen_ai.request.model",
                                    "value": {"stringValue": "gpt-4o-mini"},
                                },
                                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "900"}},
                                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 120}},
                            ],
                            "status": {"code": 1},
                            "someFutureField": {"x": 1},
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b173",
                            "name": "POST /answer",
                            "kind": 2,
                            "startTimeUnixNano": "1772442000000000000",
                            "endTimeUnixNano": "1772442002000000000",
                        },
                    ],
                }
            ],
        }
    ]
}


def test_it_reads_otlp_json_with_hex_ids_and_string_int64s():
    body = json.dumps(OTLP_JSON).encode()
    request = read_request(
        body, content_type="application/json", content_encoding=None, limit=LIMIT
    )
    usage = usage_rows(request, default_team=None)
    assert usage.ignored == 1
    [row] = usage.rows
    assert row["external_id"] == "5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    assert (row["model"], row["input_tokens"], row["output_tokens"]) == ("gpt-4o-mini", 900, 120)
    assert row["latency_s"] == 1.25  # 1,250,000,000 ns
    assert row["team"] == "research"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Not JSON"),
        (b"[]", "one ExportTraceServiceRequest object"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "not hex"),
        (b'{"resourceSpans": "many"}', "Not an OTLP JSON ExportTraceServiceRequest"),
    ],
)
def test_it_refuses_json_that_is_not_a_trace_export(body, message):
    with pytest.raises(OtlpBodyError, match=message):
        read_request(body, content_type=JSON, content_encoding=None, limit=LIMIT)


def test_it_refuses_protobuf_that_is_not_a_trace_export():
    with pytest.raises(OtlpBodyError, match="Not an ExportTraceServiceRequest"):
        read_request(b"\x0a\xff\xff\xff", content_type=PROTOBUF, content_encoding=None, limit=LIMIT)


def test_it_reads_gzip_and_refuses_what_inflates_past_the_limit():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("chat", chat_attributes())
    body = recorder.request().SerializeToString()
    request = read_request(
        gzip.compress(body), content_type=PROTOBUF, content_encoding="gzip", limit=LIMIT
    )
    assert len(usage_rows(request, default_team=None).rows) == 1
    bomb = gzip.compress(b"\x00" * (LIMIT + 1))  # about 1 kB that inflates to 1 MiB + 1 byte
    with pytest.raises(OtlpBodyTooLarge):
        inflate(bomb, content_encoding="gzip", limit=LIMIT)
    exactly_the_limit = b"a" * LIMIT
    assert inflate(gzip.compress(exactly_the_limit), content_encoding="gzip", limit=LIMIT) == (
        exactly_the_limit
    )


def test_it_refuses_damaged_or_cut_gzip_and_other_encodings_and_types():
    whole = gzip.compress(b"x" * 1000)
    with pytest.raises(OtlpBodyError, match="damaged"):
        inflate(b"\x1f\x8b" + b"garbage" * 5, content_encoding="gzip", limit=LIMIT)
    with pytest.raises(OtlpBodyError, match="cut short"):
        inflate(whole[: len(whole) // 2], content_encoding="gzip", limit=LIMIT)
    with pytest.raises(OtlpUnsupported, match="Content-Encoding 'br'"):
        inflate(whole, content_encoding="br", limit=LIMIT)
    with pytest.raises(OtlpUnsupported, match="text/plain"):
        read_request(whole, content_type="text/plain", content_encoding="gzip", limit=LIMIT)


def test_the_answer_reports_rejected_and_ignored_spans_in_partial_success():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("chat", chat_attributes())
    recorder.span(
        "no model", chat_attributes(**{"gen_ai.request.model": None, "gen_ai.response.model": None})
    )
    recorder.span("GET /", {"http.request.method": "GET"})
    usage = rows_of(recorder)
    answer = ExportTraceServiceResponse.FromString(export_response(usage, content_type=PROTOBUF))
    assert answer.partial_success.rejected_spans == 1
    assert answer.partial_success.error_message == (
        "1 span(s) rejected: no gen_ai.response.model or gen_ai.request.model; "
        "1 span(s) ignored: not an LLM call (no gen_ai.provider.name or gen_ai.system, or an "
        "agent/tool/workflow span)"
    )
    as_json = json.loads(export_response(usage, content_type=JSON))
    # proto3 JSON: camelCase, int64 as a string.
    assert as_json["partialSuccess"]["rejectedSpans"] == "1"


def test_a_full_success_leaves_partial_success_unset():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("chat", chat_attributes())
    answer = ExportTraceServiceResponse.FromString(
        export_response(rows_of(recorder), content_type=PROTOBUF)
    )
    assert not answer.HasField("partial_success")
    assert export_response(rows_of(recorder), content_type=JSON) == b"{}"


def test_an_error_body_is_a_google_rpc_status():
    body = status_body("Not JSON", http_status=400, content_type=PROTOBUF)
    # googleapis-common-protos (installed with the exporter) reads what was written by hand.
    assert status_pb2.Status.FromString(body) == status_pb2.Status(code=3, message="Not JSON")
    long_message = "é" * 300  # a length past one varint byte, in UTF-8
    status = status_pb2.Status.FromString(
        status_body(long_message, http_status=401, content_type=PROTOBUF)
    )
    assert (status.code, status.message) == (16, long_message)
    assert json.loads(status_body("x", http_status=415, content_type=JSON)) == {
        "code": 3,
        "message": "x",
    }


def test_it_names_providers_as_ecologits_does():
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("azure", chat_attributes(**{"gen_ai.provider.name": "azure.ai.openai"}))
    recorder.span("mistral", chat_attributes(**{"gen_ai.provider.name": "mistral_ai"}))
    recorder.span("gemini", chat_attributes(**{"gen_ai.provider.name": "gcp.gemini"}))
    recorder.span("bedrock", chat_attributes(**{"gen_ai.provider.name": "aws.bedrock"}))
    assert [row["provider"] for row in rows_of(recorder).rows] == [
        "openai",
        "mistralai",
        "google_genai",
        "aws.bedrock",  # serves many companies' models: kept as sent
    ]


def test_what_the_span_view_skips_does_not_change_what_it_reads():
    """Events, links, status, arrays and booleans are skipped as unknown by the span view;
    a boolean where a token count belongs is still refused."""
    recorder = SpanRecorder({"greenai.team": "research", "deployment.regions": ("eu", "us")})
    span = recorder.tracer.start_span(
        "chat",
        attributes=chat_attributes(**{"gen_ai.response.finish_reasons": ("stop", "length")}),
        start_time=10**18 * 2,
        links=[],
    )
    span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "hello"}, timestamp=10**18 * 2)
    span.set_attribute("gen_ai.request.stream", True)
    span.end(end_time=10**18 * 2 + 10**9)
    recorder.span("bool count", chat_attributes(**{"gen_ai.usage.output_tokens": True}))
    usage = rows_of(recorder)
    [row] = usage.rows
    assert (row["model"], row["input_tokens"], row["output_tokens"]) == (
        "gpt-4o-mini-2024-07-18",
        1200,
        350,
    )
    assert row["started_at"] == "2033-05-18T03:33:20.000000Z"  # 2e18 ns after the epoch
    assert dict(usage.rejected) == {"gen_ai.usage.output_tokens is not a whole number >= 0": 1}
