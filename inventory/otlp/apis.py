"""The OTLP/HTTP traces endpoint: what an OpenTelemetry exporter sends, answered as the OTLP
specification says (https://opentelemetry.io/docs/specs/otlp/#otlphttp)."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication, BearerTokenAuthentication
from accounts.principal import Access
from greenai_portal.memory import collector_paused
from greenai_portal.parsers import too_large
from inventory.ingestion.parsers import read_limited
from inventory.ingestion.throttling import TokenRateThrottle
from inventory.otlp.decoding import JSON, PROTOBUF, export_response, media_type, status_body
from inventory.otlp.services import otlp_traces_ingest


def _answer_type(request) -> str:
    """Answers use the request's encoding; JSON when the request's is not one OTLP knows."""
    return PROTOBUF if media_type(request.META.get("CONTENT_TYPE")) == PROTOBUF else JSON


class OtlpTraceExportApi(APIView):
    """OTLP/HTTP traces (`ExportTraceServiceRequest`, protobuf or JSON, gzip or not): spans
    of LLM calls (GenAI semantic conventions) become LLM usage records, idempotent by trace
    and span id; other spans are ignored and counted in `partial_success`."""

    required_access = Access.INGEST
    authentication_classes = [BearerTokenAuthentication, ApiTokenAuthentication]
    parser_classes: list = []  # the body is read once, as bytes, by the decoder
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "otlp"

    @extend_schema(
        operation_id="otlp_traces_export",
        request={
            PROTOBUF: {"type": "string", "format": "binary"},
            JSON: {"type": "object", "description": "OTLP JSON: hex trace and span ids"},
        },
        responses={
            200: OpenApiResponse(
                description="ExportTraceServiceResponse in the request's encoding; "
                "partial_success names rejected spans (rejected_spans > 0) and spans ignored "
                "as not LLM calls (a warning with rejected_spans 0)"
            ),
            **{
                code: OpenApiResponse(
                    description=f"{meaning}: a google.rpc.Status in the request's encoding"
                )
                for code, meaning in (
                    (400, "Not an ExportTraceServiceRequest (or damaged gzip)"),
                    (401, "No or an invalid API token"),
                    (403, "The token has no ingest scope"),
                    (413, "Body, or what it decompresses to, over GREENAI_MAX_BODY_BYTES"),
                    (415, "Not application/x-protobuf or application/json, or not gzip"),
                    (429, "Over the token's request rate; see Retry-After"),
                )
            },
        },
    )
    def post(self, request):
        declared = request.META.get("CONTENT_LENGTH")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(int(declared))
        with collector_paused():
            export = otlp_traces_ingest(
                principal=request.principal,
                body=read_limited(request.stream),
                content_type=request.META.get("CONTENT_TYPE", ""),
                content_encoding=request.META.get("HTTP_CONTENT_ENCODING"),
                limit=limit,
                user=request.user if getattr(request.user, "pk", None) else None,
            )
        answer = _answer_type(request)
        return HttpResponse(export_response(export.usage, content_type=answer), content_type=answer)

    def handle_exception(self, exc):
        """Every error as a google.rpc.Status, keeping the status and its headers
        (WWW-Authenticate, Retry-After) that the API's handler chose."""
        response = super().handle_exception(exc)
        data = getattr(response, "data", None)
        message = data.get("message", "") if isinstance(data, dict) else ""
        answer = _answer_type(self.request)
        body = status_body(message, http_status=response.status_code, content_type=answer)
        status = HttpResponse(body, status=response.status_code, content_type=answer)
        for header in ("WWW-Authenticate", "Retry-After"):
            if header in response:
                status[header] = response[header]
        return status
