from functools import partial

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from accounts.principal import Access
from greenai_portal.errors import ApplicationError, flatten_validation_errors
from greenai_portal.memory import collector_paused
from greenai_portal.openapi import error_responses
from greenai_portal.parsers import SafeJSONParser, too_large
from inventory.imports.services import import_job_create
from inventory.ingestion.authentication import CodeCarbonKeyAuthentication
from inventory.ingestion.codecarbon import (
    EMISSION_CREATE,
    EMISSIONS_DATA,
    RUN_CREATE,
    codecarbon_emission_ingest,
    codecarbon_output_ingest,
    codecarbon_run_create,
)
from inventory.ingestion.fields import RecordSchema, ReferenceCheck
from inventory.ingestion.parsers import MEDIA_TYPES, RECORD_PARSERS, RawRows
from inventory.ingestion.schemas import CLOUD_USAGE, WORKLOAD, batch_context
from inventory.ingestion.services import IngestResult, References, record_batch_ingest
from inventory.ingestion.throttling import TokenRateThrottle
from inventory.llm.schemas import LLM_USAGE
from inventory.llm.services import LlmReferences, llm_usage_batch_ingest
from inventory.models import Hardware, ImportFormat
from inventory.selectors import import_job_get


def raw_rows(request) -> RawRows:
    """The request's rows, or the right 4xx: 413 over the size limit, 415 for other types."""
    declared = request.META.get("CONTENT_LENGTH")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared))
    try:
        data = request.data
    except UnsupportedMediaType:
        raise ApplicationError(
            f"Unsupported content type {request.content_type or '(none)'!r}; send "
            + ", ".join(MEDIA_TYPES),
            status_code=415,
        ) from None
    if isinstance(data, RawRows):
        return data
    if request.content_type.split(";")[0].strip() in MEDIA_TYPES:
        return RawRows([])  # an empty body: DRF does not call the parser
    raise ApplicationError("Send records as " + ", ".join(MEDIA_TYPES), status_code=415)


def validated_records(
    request, schema: RecordSchema, references: type[ReferenceCheck] | None = None
) -> list[dict]:
    """Parse and check every row of the body; 4xx naming every problem of every row otherwise
    (references to unknown teams, locations and hardware included: `references`, given the
    principal and the rows, names them; the workload kinds' References by default)."""
    raw = raw_rows(request)
    if not raw.rows:
        raise ApplicationError("Send at least one record")
    limit = settings.GREENAI_MAX_BATCH_RECORDS
    if len(raw.rows) > limit:
        raise ApplicationError(
            f"A batch holds at most {limit} records (GREENAI_MAX_BATCH_RECORDS); got "
            f"{len(raw.rows)}",
            status_code=413,
        )
    records, errors = schema.validate(
        raw.rows,
        batch_context(),
        lines=raw.lines,
        one_pass=raw.one_pass,
        references=partial(references or References, request.principal),
    )
    if errors:
        raise errors.error("Validation failed")
    return records


class IngestOutputSerializer(serializers.Serializer):
    batch_id = serializers.IntegerField()
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(
        help_text="records whose external_id was already stored (or repeated) with this content"
    )


def _ingest_schema(schema: RecordSchema, *, example: dict, csv_example: str):
    """OpenAPI for a bulk endpoint: the record schema in every accepted format."""
    record = schema.openapi()
    return extend_schema(
        request={
            "application/json": {"oneOf": [record, {"type": "array", "items": record}]},
            "application/x-ndjson": {"type": "string", "description": "one JSON record a line"},
            "text/csv": {
                "type": "string",
                "description": "a header of field names (tags as `tag:<key>` columns or a "
                "`tags` column holding a JSON object), one record a row",
            },
        },
        responses={
            201: OpenApiResponse(IngestOutputSerializer, description="Some records were new"),
            200: OpenApiResponse(IngestOutputSerializer, description="Every record was known"),
            **error_responses(400, 401, 403, 409, 413, 415, 429),
        },
        examples=[
            OpenApiExample("One record", value=example, request_only=True),
            OpenApiExample(
                "CSV",
                value=csv_example,
                request_only=True,
                media_type="text/csv",
            ),
            OpenApiExample(
                "Accepted",
                value={"batch_id": 42, "received": 1, "created": 1, "duplicates": 0},
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Bad rows",
                value={
                    "message": "Validation failed",
                    "errors": [
                        {"row": 3, "field": "ended_at", "message": "Must be after started_at"}
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )


class _RecordIngestApi(APIView):
    """Bulk ingestion of one record kind in JSON, NDJSON or CSV; all or nothing."""

    required_access = Access.INGEST
    parser_classes = RECORD_PARSERS
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "ingest"
    record_schema: RecordSchema
    references: type[ReferenceCheck] | None = None  # the workload kinds' References

    def store(self, **kwargs) -> IngestResult:
        return record_batch_ingest(kind=self.record_schema.name, **kwargs)

    def post(self, request):
        with collector_paused():
            records = validated_records(request, self.record_schema, self.references)
            result = self.store(
                principal=request.principal,
                records=records,
                user=request.user if getattr(request.user, "pk", None) else None,
            )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(IngestOutputSerializer(result).data, status=code)


class WorkloadIngestApi(_RecordIngestApi):
    """Send workload records (AI jobs, serving periods): one JSON object, an array, NDJSON or
    CSV. Idempotent by external_id; a batch with any bad row stores nothing."""

    record_schema = WORKLOAD

    @_ingest_schema(
        WORKLOAD,
        example={
            "external_id": "job-2026-10-01-0001",
            "team": "research",
            "model": "llama-3-8b-ft",
            "phase": "fine_tuning",
            "started_at": "2026-10-01T08:00:00Z",
            "ended_at": "2026-10-01T20:00:00Z",
            "location": "aws:us-east-1",
            "hardware": "nvidia-h100-sxm",
            "device_count": 8,
            "utilization": 0.8,
            "tags": {"cluster": "p5-east"},
        },
        csv_example=(
            "external_id,team,model,phase,started_at,ended_at,location,hardware,device_count,"
            "energy_kwh,tag:cluster\n"
            "job-1,research,atlas-7b,training,2026-10-01T08:00:00Z,2026-10-01T20:00:00Z,"
            "lab-paris,nvidia-h100-sxm,8,,a\n"
        ),
    )
    def post(self, request):
        return super().post(request)


class CloudUsageIngestApi(_RecordIngestApi):
    """Send cloud usage records (billing lines estimated CCF-style: vCPU-hours, GPU-hours,
    memory GB-hours, storage TB-hours, network GB): JSON, NDJSON or CSV."""

    record_schema = CLOUD_USAGE

    @_ingest_schema(
        CLOUD_USAGE,
        example={
            "external_id": "cur-2026-10-01-i-0abc-vcpu",
            "team": "serving",
            "model": "atlas-7b-chat",
            "location": "aws:us-east-1",
            "service": "AmazonEC2",
            "usage_kind": "compute",
            "quantity": 96.0,
            "hardware": "intel-skylake",
            "utilization": 0.5,
            "usage_start": "2026-10-01T00:00:00Z",
            "usage_end": "2026-10-02T00:00:00Z",
            "cost": 12.3,
            "currency": "USD",
            "tags": {"team": "serving"},
        },
        csv_example=(
            "external_id,team,location,service,usage_kind,quantity,usage_start,usage_end,"
            "tag:env\n"
            "gcs-1,research,gcp:europe-west4,Cloud Storage,storage_hdd,720,"
            "2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,prod\n"
        ),
    )
    def post(self, request):
        return super().post(request)


class LlmUsageIngestApi(_RecordIngestApi):
    """Send third-party LLM API usage: one request per record, or a window's requests
    aggregated (e.g. per hour: tokens summed, latency the average seconds per request). JSON,
    NDJSON or CSV; idempotent by external_id. The worker estimates energy, GWP (usage and
    embodied) and water with EcoLogits, as min-max ranges (Scope 3 category 1). A model
    EcoLogits does not know must be declared first (POST /api/v1/llm-models/)."""

    record_schema = LLM_USAGE
    references = LlmReferences

    def store(self, **kwargs) -> IngestResult:
        return llm_usage_batch_ingest(**kwargs)

    @_ingest_schema(
        LLM_USAGE,
        example={
            "external_id": "chat-2026-10-01T09",
            "team": "serving",
            "application": "support-chatbot",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 182000,
            "output_tokens": 61000,
            "requests": 240,
            "latency_s": 3.1,
            "started_at": "2026-10-01T09:00:00Z",
            "ended_at": "2026-10-01T10:00:00Z",
        },
        csv_example=(
            "external_id,team,application,provider,model,input_tokens,output_tokens,requests,"
            "latency_s,started_at,ended_at\n"
            "chat-1,serving,support-chatbot,openai,gpt-4o-mini,1200,500,2,2.0,"
            "2026-10-01T09:00:00Z,2026-10-01T10:00:00Z\n"
        ),
    )
    def post(self, request):
        return super().post(request)


class HardwareListApi(APIView):
    """The hardware catalogue of the active factor dataset: power figures and their sources."""

    @extend_schema(
        responses=inline_serializer(
            "Hardware",
            {
                "code": serializers.CharField(),
                "name": serializers.CharField(),
                "kind": serializers.CharField(),
                "unit": serializers.CharField(),
                "idle_w": serializers.FloatField(),
                "max_w": serializers.FloatField(),
                "source": serializers.CharField(),
                "source_url": serializers.CharField(),
                "licence": serializers.CharField(),
            },
            many=True,
        ),
        examples=[
            OpenApiExample(
                "An H100",
                value=[
                    {
                        "code": "nvidia-h100-sxm",
                        "name": "NVIDIA H100 SXM",
                        "kind": "gpu",
                        "unit": "device",
                        "idle_w": 60.0,
                        "max_w": 700.0,
                        "source": "NVIDIA H100 datasheet",
                        "source_url": "https://www.nvidia.com/",
                        "licence": "cited figure",
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        rows = (
            Hardware.objects.filter(dataset__is_active=True)
            .order_by("kind", "code")
            .values(
                "code", "name", "kind", "unit", "idle_w", "max_w", "source", "source_url", "licence"
            )
        )
        return Response(list(rows))


class _CodeCarbonApi(APIView):
    required_access = Access.INGEST
    authentication_classes = [CodeCarbonKeyAuthentication, ApiTokenAuthentication]
    parser_classes = [SafeJSONParser]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "codecarbon"


CODECARBON_RESULT = inline_serializer(
    "CodeCarbonResult",
    {
        "run_id": serializers.CharField(),
        "id": serializers.CharField(help_text="external_id of the workload record"),
        "created": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "energy_kwh": serializers.FloatField(help_text="energy new in this post"),
        "time_zone": serializers.CharField(
            allow_null=True,
            help_text="the organisation's time zone, when the timestamp had no offset and was "
            "read in it (CodeCarbon writes local time); null when it had one",
        ),
    },
)


def _codecarbon_response(result) -> Response:
    return Response(
        {
            "run_id": result.run_id,
            "id": result.external_id,
            "created": result.created,
            "duplicates": result.duplicates,
            "energy_kwh": result.energy_kwh,
            "time_zone": result.time_zone,
        },
        # CodeCarbon's clients expect 201 and log anything else as a failure; a re-send is
        # answered 201 too, with duplicates=1, and stored once.
        status=status.HTTP_201_CREATED,
    )


EMISSIONS_DATA_EXAMPLE = {
    "timestamp": "2026-10-01T12:00:00",
    "project_name": "atlas-7b",
    "run_id": "0f0e6a51-6b43-4c4e-a4a4-1f0c1d1b8c2e",
    "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
    "duration": 3600.0,
    "emissions": 0.05,
    "energy_consumed": 1.2,
    "country_iso_code": "FRA",
    "cloud_provider": "",
    "cloud_region": "",
    "pue": 1.0,
}


_OUTPUT_SCHEMA = {
    "request": {"application/json": EMISSIONS_DATA.openapi()},
    "responses": {201: CODECARBON_RESULT, **error_responses(400, 401, 403, 409, 429)},
    "examples": [OpenApiExample("EmissionsData", value=EMISSIONS_DATA_EXAMPLE, request_only=True)],
}


class CodeCarbonOutputApi(_CodeCarbonApi):
    """CodeCarbon's HTTP output: set `emissions_endpoint` to
    `https://<portal>/api/v1/codecarbon/emissions/<your API token>/`. Each post (at stop and
    flush) carries the run's running totals; the portal stores what is new since the last."""

    @extend_schema(operation_id="codecarbon_output_create", **_OUTPUT_SCHEMA)
    def post(self, request, key: str | None = None):
        result = codecarbon_output_ingest(principal=request.principal, payload=request.data)
        return _codecarbon_response(result)


class CodeCarbonOutputQueryApi(CodeCarbonOutputApi):
    """CodeCarbon's HTTP output with the token in the query:
    `emissions_endpoint=https://<portal>/api/v1/codecarbon/emissions/?key=<your API token>`."""

    @extend_schema(operation_id="codecarbon_output_query_create", **_OUTPUT_SCHEMA)
    def post(self, request, key: str | None = None):
        return super().post(request, key)


class CodeCarbonRunCreateApi(_CodeCarbonApi):
    """CodeCarbon API client, `POST {api_endpoint}/runs`: set `api_endpoint` to
    `https://<portal>/api/v1/codecarbon` and `api_key` to a portal API token."""

    @extend_schema(
        operation_id="codecarbon_runs_create",
        request={"application/json": RUN_CREATE.openapi()},
        responses={
            201: inline_serializer(
                "CodeCarbonRun",
                {"id": serializers.CharField(), "experiment_id": serializers.CharField()},
            ),
            **error_responses(400, 401, 403, 429),
        },
        examples=[
            OpenApiExample(
                "RunCreate",
                value={
                    "timestamp": "2026-10-01T12:00:00+00:00",
                    "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
                    "os": "Linux",
                    "python_version": "3.11.7",
                    "codecarbon_version": "3.3.2",
                    "cpu_count": 2,
                    "cpu_model": "AMD EPYC",
                    "gpu_count": 0,
                    "gpu_model": None,
                    "longitude": None,
                    "latitude": None,
                    "region": None,
                    "provider": None,
                    "ram_total_size": 24.0,
                    "tracking_mode": "machine",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        run = codecarbon_run_create(principal=request.principal, payload=request.data)
        return Response(
            {"id": run.run_id, "experiment_id": run.experiment_id}, status=status.HTTP_201_CREATED
        )


class CodeCarbonEmissionCreateApi(_CodeCarbonApi):
    """CodeCarbon API client, `POST {api_endpoint}/emissions`: one delta of a run (every
    api_call_interval measures and at stop). An EmissionsData body (HTTP output) is taken too."""

    @extend_schema(
        operation_id="codecarbon_emissions_create",
        request={"application/json": EMISSION_CREATE.openapi()},
        responses={
            201: CODECARBON_RESULT,
            **error_responses(400, 401, 403, 404, 409, 429, m404="Unknown run: register it first"),
        },
        examples=[
            OpenApiExample(
                "EmissionCreate",
                value={
                    "timestamp": "2026-10-01T12:02:00.123456+00:00",
                    "run_id": "0f0e6a51-6b43-4c4e-a4a4-1f0c1d1b8c2e",
                    "duration": 120,
                    "emissions_sum": 0.0004,
                    "emissions_rate": 3.3e-6,
                    "cpu_power": 42.5,
                    "gpu_power": 0.0,
                    "ram_power": 10.0,
                    "cpu_energy": 0.0014,
                    "gpu_energy": 0.0,
                    "ram_energy": 0.0003,
                    "energy_consumed": 0.0017,
                    "wue": 0,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        payload = request.data
        if (
            isinstance(payload, dict)
            and "emissions_sum" not in payload
            and "project_name" in (payload)
        ):
            result = codecarbon_output_ingest(principal=request.principal, payload=payload)
        else:
            result = codecarbon_emission_ingest(principal=request.principal, payload=payload)
        return _codecarbon_response(result)


class ImportRunSerializer(serializers.Serializer):
    """One run of a CodeCarbon emissions.csv and what became of it."""

    file_run_id = serializers.CharField(help_text="run_id as the file writes it (None: API mode)")
    lines = serializers.CharField(help_text="the file's lines of the run, e.g. 2-3")
    rows = serializers.IntegerField()
    outcome = serializers.ChoiceField(
        choices=["stored", "already_counted", "completed_api_run", "posted_already", "refused"],
        help_text="stored: new records; already_counted: its posts or an earlier import had "
        "it all; completed_api_run: the file added what the API posts lost; posted_already: the "
        "API posts had it all; refused: see message",
    )
    run_id = serializers.CharField(required=False, help_text="the portal's run id")
    records_created = serializers.IntegerField(required=False)
    rows_already_counted = serializers.IntegerField(required=False)
    energy_kwh = serializers.FloatField(required=False, help_text="energy new in this import")
    message = serializers.CharField(required=False, help_text="why the run was refused")


class ImportJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    format = serializers.CharField()
    original_name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    status = serializers.CharField(help_text="queued, validating, importing, completed, failed")
    progress = serializers.FloatField(help_text="0 to 1: checking is the first half")
    bytes_processed = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True, help_text="known once checked")
    rows_processed = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_duplicates = serializers.IntegerField()
    rows_skipped = serializers.IntegerField()
    skipped_reasons = serializers.DictField(child=serializers.IntegerField())
    error_count = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="first 1000")
    runs = ImportRunSerializer(
        many=True, help_text="CodeCarbon emissions.csv: each run's outcome (first 1000)"
    )
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def import_job_data(job) -> dict:
    return ImportJobOutputSerializer({**vars(job), "progress": job.progress}).data


IMPORT_JOB_EXAMPLE = {
    "id": 7,
    "format": "aws_cur",
    "original_name": "cur-2026-10.csv.gz",
    "size_bytes": 52428800,
    "status": "importing",
    "progress": 0.75,
    "bytes_processed": 52428800,
    "rows_total": 400000,
    "rows_processed": 200000,
    "rows_created": 200000,
    "rows_duplicates": 0,
    "rows_skipped": 1200,
    "skipped_reasons": {"line item type Tax": 1200},
    "error_count": 0,
    "errors": [],
    "runs": [],
    "message": "",
    "created_at": "2026-11-02T09:00:00Z",
    "finished_at": None,
}


class ImportJobCreateApi(APIView):
    """Upload a file to import in the background: the portal's CSVs, CodeCarbon's
    emissions.csv, an AWS CUR, a GCP billing export or Azure usage details (CSV, or .csv.gz).
    The header must be one of the chosen format's (400 saying what the file looks like
    otherwise); with no format given, the header tells it. Answers 202 with the job; poll
    GET /api/v1/imports/<id>/ for progress."""

    required_access = Access.INGEST
    parser_classes = [MultiPartParser]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "imports"

    @extend_schema_serializer(component_name="ImportJobUpload")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        format = serializers.ChoiceField(
            choices=ImportFormat.choices,
            required=False,
            allow_blank=True,
            help_text="checked against the file's header; when left out, told by it",
        )

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            202: ImportJobOutputSerializer,
            **error_responses(400, 401, 403, 413, 415, 429),
        },
        examples=[
            OpenApiExample(
                "Queued",
                value={**IMPORT_JOB_EXAMPLE, "status": "queued", "progress": 0.0},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            raise ApplicationError(
                "Validation failed", errors=flatten_validation_errors(serializer.errors)
            )
        job = import_job_create(
            principal=request.principal,
            upload=serializer.validated_data["file"],
            file_format=serializer.validated_data.get("format"),
            user=request.user if getattr(request.user, "pk", None) else None,
        )
        job.refresh_from_db()
        return Response(import_job_data(job), status=status.HTTP_202_ACCEPTED)


class ImportJobDetailApi(APIView):
    """An import's status, progress, counts and the errors by row and line. A token with the
    ingest scope alone reads the imports it uploaded itself (others are 404)."""

    required_access = (Access.READ, Access.INGEST)

    @extend_schema(
        responses={200: ImportJobOutputSerializer, **error_responses(401, 403, 404)},
        examples=[OpenApiExample("In progress", value=IMPORT_JOB_EXAMPLE, response_only=True)],
    )
    def get(self, request, job_id: int):
        job = import_job_get(principal=request.principal, job_id=job_id)
        if job is None:
            raise Http404("No such import")
        return Response(import_job_data(job))
