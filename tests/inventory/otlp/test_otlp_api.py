"""The OTLP/HTTP traces endpoint, fed by the real OpenTelemetry SDK's OTLP HTTP exporter
(1.45.2) against a live server, and by hand-made bodies for the answers the spec defines."""

import gzip
import json

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from rest_framework.test import APIClient

from accounts.services import api_token_create
from inventory.models import IngestBatch, LlmUsageRecord
from tests.inventory.otlp.spans import START_NS, SpanRecorder, chat_attributes
from tests.inventory.otlp.test_decoding import OTLP_JSON

PATH = "/api/v1/otlp/v1/traces"


def token_key(tenant, *, scopes=("ingest",), team: str | None = None) -> str:
    _, key = api_token_create(
        organisation=tenant.organisation,
        name="otel",
        scopes=list(scopes),
        team=tenant.teams[team] if team else None,
    )
    return key


def bearer_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def post(client: APIClient, body: bytes, content_type: str = "application/x-protobuf", **extra):
    return client.generic("POST", PATH, body, content_type=content_type, **extra)


def app_spans(resource=None) -> SpanRecorder:
    """Two chat calls and the HTTP request around them, as an instrumented app makes them."""
    recorder = SpanRecorder(resource if resource is not None else {"greenai.team": "research"})
    recorder.span("POST /answer", {"http.request.method": "POST"}, duration_ns=4_000_000_000)
    recorder.span("chat gpt-4o-mini", chat_attributes(), duration_ns=1_500_000_000)
    recorder.span(
        "chat gpt-4o",
        chat_attributes(**{
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 3000,
            "gen_ai.usage.output_tokens": 800,
        }),
        start_ns=START_NS + 2_000_000_000,
        duration_ns=6_250_000_000,
    )  # fmt: skip
    return recorder


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_sdk_exporter_stores_its_llm_calls_once(tenant, live_server, compression):
    key = token_key(tenant)
    recorder = app_spans()
    exporter = OTLPSpanExporter(
        endpoint=f"{live_server.url}{PATH}",
        headers={"Authorization": f"Bearer {key}"},
        compression=compression,
    )
    spans = recorder.memory.get_finished_spans()
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    records = {r.model: r for r in LlmUsageRecord.objects.filter(organisation=tenant.organisation)}
    assert set(records) == {"gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06"}  # the HTTP span: none
    mini, big = records["gpt-4o-mini-2024-07-18"], records["gpt-4o-2024-08-06"]
    assert (mini.provider, mini.input_tokens, mini.output_tokens, mini.requests) == (
        "openai",
        1200,
        350,
        1,
    )
    assert mini.latency_s == 1.5  # 1,500,000,000 ns
    assert (big.input_tokens, big.output_tokens, big.latency_s) == (3000, 800, 6.25)
    assert big.started_at.isoformat() == "2026-03-02T09:00:02+00:00"  # START_NS + 2 s
    assert big.ended_at.isoformat() == "2026-03-02T09:00:08.250000+00:00"  # + 6.25 s
    assert mini.team.slug == "research" and mini.application == "support-bot"
    context = spans[1].get_span_context()
    assert mini.external_id == f"{context.trace_id:032x}:{context.span_id:016x}"
    assert IngestBatch.objects.get(pk=mini.batch_id).source == IngestBatch.Source.OTLP

    # The exporter retries what it believes lost: the same spans again store nothing new.
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    assert LlmUsageRecord.objects.filter(organisation=tenant.organisation).count() == 2
    exporter.shutdown()


@pytest.mark.django_db(transaction=True)
def test_the_sdk_exporter_with_a_bad_token_fails(tenant, live_server):
    exporter = OTLPSpanExporter(
        endpoint=f"{live_server.url}{PATH}", headers={"Authorization": "Bearer gai_not_a_key"}
    )
    assert exporter.export(app_spans().memory.get_finished_spans()) == SpanExportResult.FAILURE
    assert not LlmUsageRecord.objects.exists()
    exporter.shutdown()


@pytest.mark.django_db
def test_the_answer_counts_ignored_spans_and_duplicates_store_nothing(tenant):
    client = bearer_client(token_key(tenant))
    body = app_spans().request().SerializeToString()
    first = post(client, body)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(first.content)
    # Nothing rejected; the HTTP span is ignored, which the answer says as a warning.
    assert answer.partial_success.rejected_spans == 0
    assert answer.partial_success.error_message.startswith("1 span(s) ignored: not an LLM call")
    again = post(client, gzip.compress(body), HTTP_CONTENT_ENCODING="gzip")
    assert again.status_code == 200
    assert LlmUsageRecord.objects.count() == 2


@pytest.mark.django_db
def test_it_reads_otlp_json_and_answers_in_json(tenant):
    response = post(bearer_client(token_key(tenant)), json.dumps(OTLP_JSON).encode(),
                    "application/json")  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["partialSuccess"] == {
        "errorMessage": "1 span(s) ignored: not an LLM call (no gen_ai.provider.name or "
        "gen_ai.system, or an agent/tool/workflow span)"
    }  # rejectedSpans 0 is proto3's default, left out of JSON
    record = LlmUsageRecord.objects.get()
    assert record.external_id == "5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    assert (record.model, record.input_tokens, record.output_tokens) == ("gpt-4o-mini", 900, 120)


@pytest.mark.django_db
def test_spans_the_record_schema_refuses_are_rejected_and_the_rest_stored(tenant):
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("chat", chat_attributes())
    recorder.span("unknown team", chat_attributes(**{"greenai.team": "marketing"}))
    recorder.span("unknown model", chat_attributes(**{"gen_ai.response.model": "gpt-99"}))
    response = post(bearer_client(token_key(tenant)), recorder.request().SerializeToString())
    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 2
    message = answer.partial_success.error_message
    assert "team: Unknown team 'marketing'" in message
    assert "does not know model 'gpt-99'" in message and "/api/v1/llm-models/" in message
    assert list(LlmUsageRecord.objects.values_list("model", flat=True)) == [
        "gpt-4o-mini-2024-07-18"
    ]


@pytest.mark.django_db
def test_a_team_token_records_for_its_team_and_no_other(tenant):
    client = bearer_client(token_key(tenant, team="serving"))
    recorder = SpanRecorder({})  # no greenai.team: the token's team
    recorder.span("chat", chat_attributes())
    recorder.span("other team", chat_attributes(**{"greenai.team": "research"}))
    answer = ExportTraceServiceResponse.FromString(
        post(client, recorder.request().SerializeToString()).content
    )
    assert answer.partial_success.rejected_spans == 1
    assert list(LlmUsageRecord.objects.values_list("team__slug", flat=True)) == ["serving"]


@pytest.mark.django_db
def test_another_organisations_token_cannot_write_into_this_one(tenant, outsider):
    # The outsider has teams named like the tenant's: its spans land in its own organisation.
    client = bearer_client(token_key(outsider))
    post(client, app_spans().request().SerializeToString())
    assert not LlmUsageRecord.objects.filter(organisation=tenant.organisation).exists()
    assert LlmUsageRecord.objects.filter(organisation=outsider.organisation).count() == 2
    assert {r.team.organisation_id for r in LlmUsageRecord.objects.all()} == {
        outsider.organisation.id
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"HTTP_AUTHORIZATION": "Bearer gai_not_a_key"}, 401),
        ({"HTTP_AUTHORIZATION": "Bearer"}, 401),
    ],
)
def test_it_answers_401_with_a_status_body_without_a_valid_token(tenant, headers, status):
    response = APIClient().generic(
        "POST", PATH, app_spans().request().SerializeToString(),
        content_type="application/x-protobuf", **headers,
    )  # fmt: skip
    assert response.status_code == status
    assert response["WWW-Authenticate"] == "Bearer"
    assert status_pb2.Status.FromString(response.content).code == 16  # UNAUTHENTICATED


@pytest.mark.django_db
def test_a_token_without_the_ingest_scope_is_refused(tenant):
    response = post(bearer_client(token_key(tenant, scopes=("read",))), b"")
    assert response.status_code == 403


@pytest.mark.django_db
def test_it_answers_415_to_other_content_types_and_encodings(tenant):
    client = bearer_client(token_key(tenant))
    wrong_type = post(client, b"a,b\n", "text/csv")
    assert wrong_type.status_code == 415
    assert "application/x-protobuf" in wrong_type.json()["message"]
    body = app_spans().request().SerializeToString()
    wrong_encoding = post(client, body, HTTP_CONTENT_ENCODING="br")
    assert wrong_encoding.status_code == 415
    assert "Content-Encoding 'br'" in status_pb2.Status.FromString(wrong_encoding.content).message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "extra"),
    [
        (b"\x0a\xff\xff\xff", "application/x-protobuf", {}),
        (b"{not json", "application/json", {}),
        (b"\x1f\x8b garbage", "application/x-protobuf", {"HTTP_CONTENT_ENCODING": "gzip"}),
    ],
)
def test_it_answers_400_to_a_malformed_body(tenant, body, content_type, extra):
    response = post(bearer_client(token_key(tenant)), body, content_type, **extra)
    assert response.status_code == 400
    assert not LlmUsageRecord.objects.exists()


@pytest.mark.django_db
def test_it_answers_413_past_the_body_limit_even_compressed(tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    bomb = gzip.compress(b"\x00" * 10_001)  # a few dozen bytes inflating past the limit
    response = post(bearer_client(token_key(tenant)), bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413


@pytest.mark.django_db
def test_an_empty_export_is_a_success(tenant):
    response = post(bearer_client(token_key(tenant)), b"")
    assert response.status_code == 200
    assert response.content == b""  # an ExportTraceServiceResponse with nothing set


@pytest.mark.django_db(transaction=True)
def test_an_exporter_configured_by_the_environment_alone_works(tenant, live_server, monkeypatch):
    """What docs/otlp.md tells users to set, read by the SDK itself."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{live_server.url}{PATH}")
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS", f"Authorization=Bearer%20{token_key(tenant)}"
    )
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=docs-bot,greenai.team=serving")
    provider = TracerProvider()  # its resource from OTEL_RESOURCE_ATTRIBUTES
    exporter = OTLPSpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("docs").start_span("chat", attributes=chat_attributes())
    span.end()  # exported as it ends
    record = LlmUsageRecord.objects.get()
    assert (record.team.slug, record.application) == ("serving", "docs-bot")
    provider.shutdown()


@pytest.mark.django_db
def test_past_the_token_rate_it_answers_429_with_retry_after_which_exporters_honour(
    tenant, settings
):
    settings.GREENAI_THROTTLE_RATES = {**settings.GREENAI_THROTTLE_RATES, "otlp": "2/min"}
    client = bearer_client(token_key(tenant))
    codes = [post(client, b"").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    throttled = post(client, b"")
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert status_pb2.Status.FromString(throttled.content).code == 8  # RESOURCE_EXHAUSTED


@pytest.mark.django_db
def test_a_span_stored_before_with_other_content_is_rejected_and_the_rest_stored(tenant):
    client = bearer_client(token_key(tenant))
    recorder = SpanRecorder({"greenai.team": "research"})
    recorder.span("chat", chat_attributes())
    post(client, recorder.request().SerializeToString())
    [stored] = recorder.memory.get_finished_spans()
    changed = encode_spans([stored]).resource_spans[0]
    changed.scope_spans[0].spans[0].attributes[-2].value.int_value = 999  # other output tokens
    request = SpanRecorder({"greenai.team": "research"})
    request.span("unknown team", chat_attributes(**{"greenai.team": "nobody"}))
    request.span("new", chat_attributes())
    body = request.request()
    body.resource_spans.append(changed)
    answer = ExportTraceServiceResponse.FromString(post(client, body.SerializeToString()).content)
    # Pass 1 rejects the unknown team, pass 2 the conflict; the new span is stored.
    assert answer.partial_success.rejected_spans == 2
    assert "was already sent with other content" in answer.partial_success.error_message
    assert LlmUsageRecord.objects.count() == 2
    assert LlmUsageRecord.objects.get(external_id=stored_id(stored)).output_tokens == 350


def stored_id(span) -> str:
    context = span.get_span_context()
    return f"{context.trace_id:032x}:{context.span_id:016x}"
