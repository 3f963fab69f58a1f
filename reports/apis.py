from dataclasses import asdict

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Access
from greenai_portal import periods
from greenai_portal.errors import ApplicationError, validated_input
from greenai_portal.openapi import error_responses
from inventory.figures import BOTH_SCOPES, FIGURES, Figure, Summing
from reports.audit_selectors import line_traces
from reports.exports import report_csv, report_xlsx
from reports.footprint_selectors import (
    GROUPINGS,
    MARKET_COMPLETE,
    MARKET_PARTIAL,
    NOT_APPLICABLE,
    footprint_summary,
)
from reports.lineage_selectors import quarter_factor_lines
from reports.models import QuarterClose, ReportExport, ReportVersion
from reports.period_input import PERIOD_PARAMETERS, PeriodSerializer
from reports.scope2_document import document_json, schema_components
from reports.scope2_selectors import scope2_document
from reports.services import (
    report_close_approve,
    report_close_prepare,
    report_close_send_back,
    report_export_request,
    report_restate,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCOPE2_DOCUMENT_SCHEMA, _ = schema_components()


def _stored_figure_field(figure: Figure) -> serializers.Field:
    """A figure in its stored unit; null where the scope does not report it, it is not yet
    allocated, or it is not available."""
    may_be_null = figure.nullable or figure.scopes != BOTH_SCOPES
    help_text = figure.label if figure.is_count else f"{figure.label}, {figure.stored_unit}"
    if may_be_null:
        help_text += (
            "; null when not applicable or not yet allocated"
            if figure.summing is Summing.MARKET
            else "; null when not applicable or not available"
        )
    field = serializers.IntegerField if figure.is_count else serializers.FloatField
    return field(allow_null=may_be_null, help_text=help_text)


ScopeFootprintSerializer = type(
    "ScopeFootprintSerializer",
    (serializers.Serializer,),
    {
        **{f.column: _stored_figure_field(f) for f in FIGURES if f.in_totals},
        "market_status": serializers.ChoiceField(
            choices=[MARKET_COMPLETE, MARKET_PARTIAL, NOT_APPLICABLE]
        ),
        "__module__": __name__,
        "__doc__": "A scope's figures in stored units (inventory.figures, in_totals).",
    },
)


class RangeSerializer(serializers.Serializer):
    min = serializers.FloatField()
    max = serializers.FloatField()


def _range(help_text: str) -> RangeSerializer:
    return RangeSerializer(allow_null=True, help_text=f"{help_text}; null: none estimated yet")


class LlmApiSerializer(serializers.Serializer):
    record_count = serializers.IntegerField()
    estimated_count = serializers.IntegerField(help_text="records the worker has estimated")
    requests = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    energy_kwh = _range("kWh at the provider's data centre (PUE included)")
    gwp_usage_kg = _range("kg CO2e of the electricity used")
    gwp_embodied_kg = _range("kg CO2e of the hardware's manufacture, the requests' share")
    gwp_kg = _range("kg CO2e, usage + embodied")
    water_l = _range("litres, EcoLogits' water consumption footprint (on- and off-site)")


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    scope2 = ScopeFootprintSerializer()
    scope3_cat1 = ScopeFootprintSerializer(help_text="public cloud, never added to Scope 2")
    llm_api = LlmApiSerializer(
        allow_null=True,
        help_text="third-party LLM API usage (Scope 3 category 1), EcoLogits min-max "
        "estimates; never added to scope2 or scope3_cat1. By location: in the totals only. "
        "null: no LLM usage in the group",
    )


class FootprintApi(APIView):
    """Energy and emissions of computed records summed by a grouping, each scope apart:
    Scope 2 location- and market-based, public cloud (Scope 3 category 1) beside it, and
    third-party LLM API usage (EcoLogits ranges) beside both."""

    class FilterSerializer(PeriodSerializer):
        group_by = serializers.ChoiceField(choices=sorted(GROUPINGS), default="team")

    class OutputSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        group_by = serializers.CharField()
        totals = GroupSerializer()
        groups = GroupSerializer(many=True)

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("group_by", str, enum=sorted(GROUPINGS), default="team"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        filters = validated_input(self.FilterSerializer, request.query_params)
        total, groups = footprint_summary(principal=request.principal, **filters)
        body = {
            **filters,
            "totals": asdict(total),
            "groups": [asdict(g) for g in groups],
        }
        return Response(self.OutputSerializer(body).data)


# --- Scope 2 report, locks, restatements, downloads and PDF exports ------------------------


def _user(request):
    user = getattr(request, "user", None)
    return user if getattr(user, "pk", None) is not None else None


class QuarterSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=periods.FIRST_YEAR, max_value=periods.LAST_YEAR)
    quarter = serializers.IntegerField(min_value=1, max_value=4)


class ReportQuerySerializer(QuarterSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="a locked version; the latest when omitted"
    )


# The quarter's parameters as the serializers check them (years 2000-2100, quarters 1-4).
_QUARTER_PARAMETERS = [
    OpenApiParameter(
        "year",
        {"type": "integer", "minimum": periods.FIRST_YEAR, "maximum": periods.LAST_YEAR},
        required=True,
    ),
    OpenApiParameter("quarter", {"type": "integer", "minimum": 1, "maximum": 4}, required=True),
]
_REPORT_PARAMETERS = [
    *_QUARTER_PARAMETERS,
    OpenApiParameter(
        "version",
        {"type": "integer", "minimum": 1},
        description="locked version; the latest when omitted",
    ),
]


def report_document_for(request) -> dict:
    query = validated_input(ReportQuerySerializer, request.query_params)
    try:
        return scope2_document(principal=request.principal, **query)
    except ReportVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from exc


def _filename(document: dict, extension: str) -> str:
    version = f"v{document['version']}" if document["version"] else "draft"
    slug = document["organisation"]["slug"]
    return f"{slug}-scope2-{document['year']}-Q{document['quarter']}-{version}.{extension}"


class Scope2ReportApi(APIView):
    """Scope 2 report of a quarter: location- and market-based side by side, breakdowns,
    instruments, intensity, YTD / year and comparisons. A locked quarter returns its locked
    version (figures frozen) and how many records arrived after the lock."""

    @extend_schema(
        parameters=_REPORT_PARAMETERS,
        responses=OpenApiResponse(
            response=SCOPE2_DOCUMENT_SCHEMA,
            description="The report document; in a version locked before a field existed, "
            "that field is null (not computed when locked)",
        ),
    )
    def get(self, request):
        body = document_json(report_document_for(request))
        return HttpResponse(body, content_type="application/json")


class Scope2FactorsApi(APIView):
    """The factor rows behind a quarter's figures: per location line of the Scope 2 report, the
    rows its computed records used (grid factor, override, hardware power, cloud coefficient),
    their dataset and methodology versions; per zone and month, the market allocation's rows;
    and every row with its value, source and licence. For a locked quarter the rows are those
    stored at the lock (`locked_version`)."""

    @extend_schema(
        parameters=_QUARTER_PARAMETERS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        query = validated_input(QuarterSerializer, request.query_params)
        return Response(quarter_factor_lines(principal=request.principal, **query))


class Scope2TraceApi(APIView):
    """The calculation trace of each location line of the report (the audit PDF's Annex A):
    IT MWh × PUE (value, source) = facility MWh × factor (row, source) = t location-based, one
    step per PUE and factor row with its share of the line's energy; for Scope 2, per month,
    the line's share of its zone's allocation (instruments, residual mix) = t market-based.
    `agrees` says whether the sums equal the report line (`line`) of the same version."""

    @extend_schema(parameters=_REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        document = report_document_for(request)
        return Response(
            {
                "year": document["year"],
                "quarter": document["quarter"],
                "version": document["version"],
                "status": document["status"],
                "lines": line_traces(principal=request.principal, document=document),
            }
        )


class DownloadRenderer(BaseRenderer):
    """Lets a client that asks for the file's type (Accept or ?format=) get it."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class DownloadApi(APIView):
    """A file download whose errors still answer as JSON, whatever file type was asked for."""

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class CsvRenderer(DownloadRenderer):
    media_type = "text/csv"
    format = "csv"


class XlsxRenderer(DownloadRenderer):
    media_type = XLSX
    format = "xlsx"


class Scope2CsvApi(DownloadApi):
    """The report's figures as CSV (one row per total, period, coverage category and line)."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(parameters=_REPORT_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        document = report_document_for(request)
        response = HttpResponse(report_csv(document), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_filename(document, "csv")}"'
        return response


class Scope2XlsxApi(DownloadApi):
    """The report's figures as an Excel workbook."""

    renderer_classes = [JSONRenderer, XlsxRenderer]

    @extend_schema(parameters=_REPORT_PARAMETERS, responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request):
        document = report_document_for(request)
        response = HttpResponse(report_xlsx(document), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{_filename(document, "xlsx")}"'
        return response


class VersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportVersion
        fields = (
            "id",
            "year",
            "quarter",
            "version",
            "reason",
            "locked_by_name",
            "locked_by_role",
            "locked_at",
            "methodology_versions",
            "factor_datasets",
            "record_count",
            "content_hash",
        )


class VersionDetailSerializer(VersionOutputSerializer):
    class Meta(VersionOutputSerializer.Meta):
        fields = (
            *VersionOutputSerializer.Meta.fields,
            "report",
            "factors",
            "lineage",
            "differences",
        )


class ReportRestateApi(APIView):
    """Restate a locked quarter: a new version from today's data, with the reason and the
    differences; earlier versions stay readable."""

    required_access = Access.LOCK

    class RestatementInputSerializer(QuarterSerializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=RestatementInputSerializer, responses={201: VersionDetailSerializer})
    def post(self, request):
        data = validated_input(self.RestatementInputSerializer, request.data)
        version = report_restate(principal=request.principal, user=_user(request), **data)
        return Response(VersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)


def _versions(principal) -> QuerySet[ReportVersion]:
    # A principal limited to some teams sees no organisation-wide locked version.
    return principal.visible(ReportVersion.objects.all(), team=None)


class ReportVersionListApi(APIView):
    """Locked versions of a quarter, oldest first."""

    @extend_schema(parameters=_REPORT_PARAMETERS[:2], responses=VersionOutputSerializer(many=True))
    def get(self, request):
        data = validated_input(QuarterSerializer, request.query_params)
        versions = _versions(request.principal).filter(**data).order_by("version")
        return Response(VersionOutputSerializer(versions, many=True).data)


class ReportVersionDetailApi(APIView):
    """One locked version, as stored. Read-only: PUT, PATCH and DELETE answer 405."""

    @extend_schema(responses=VersionDetailSerializer)
    def get(self, request, pk: int):
        version = get_object_or_404(_versions(request.principal), pk=pk)
        return Response(VersionDetailSerializer(version).data)


class CloseOutputSerializer(serializers.ModelSerializer):
    prepared_by_name = serializers.CharField(source="prepared_by.username")
    decided_by_name = serializers.CharField(source="decided_by.username", allow_null=True)
    version = serializers.IntegerField(source="version.version", allow_null=True)

    class Meta:
        model = QuarterClose
        fields = (
            "id",
            "year",
            "quarter",
            "status",
            "note",
            "reason",
            "prepared_by_name",
            "prepared_by_role",
            "prepared_at",
            "record_count",
            "content_hash",
            "totals",
            "decided_by_name",
            "decided_by_role",
            "decided_at",
            "comment",
            "figures_changed",
            "version",
        )


def _closes(principal) -> QuerySet[QuarterClose]:
    # Closing covers the whole organisation: a principal limited to teams sees none.
    return principal.visible(QuarterClose.objects.all(), team=None).select_related(
        "prepared_by", "decided_by", "version"
    )


class QuarterCloseListApi(APIView):
    """A quarter's closes, oldest first: the one waiting for approval, those sent back and the
    approved one, each with who prepared and decided it, when, and their notes."""

    @extend_schema(parameters=_REPORT_PARAMETERS[:2], responses=CloseOutputSerializer(many=True))
    def get(self, request):
        data = validated_input(QuarterSerializer, request.query_params)
        closes = _closes(request.principal).filter(**data).order_by("prepared_at", "id")
        return Response(CloseOutputSerializer(closes, many=True).data)


class QuarterClosePrepareApi(APIView):
    """Prepare a quarter's close (esg_officer or admin) with a note for the approver: records
    the figures it would freeze; nothing is locked until a second person approves. 400 for a
    quarter that has not ended unless a reason is given; 409 if locked, already waiting, or
    not ready to lock."""

    required_access = Access.LOCK

    class PrepareInputSerializer(QuarterSerializer):
        note = serializers.CharField(max_length=2000, help_text="for the approver")
        reason = serializers.CharField(
            max_length=2000,
            required=False,
            default="",
            allow_blank=True,
            help_text="why a quarter that has not ended is closed now (required then)",
        )

    @extend_schema(
        request=PrepareInputSerializer,
        responses={
            201: CloseOutputSerializer,
            **error_responses(409, m409="Locked, already waiting, or not ready to lock"),
        },
    )
    def post(self, request):
        data = validated_input(self.PrepareInputSerializer, request.data)
        close = report_close_prepare(principal=request.principal, user=_user(request), **data)
        return Response(CloseOutputSerializer(close).data, status=status.HTTP_201_CREATED)


class QuarterCloseApproveApi(APIView):
    """Approve a prepared close: locks the quarter (version 1). 403 for the preparer; 409 if
    nothing waits, or the figures changed since preparation and `accept_changed_figures` is
    not set."""

    required_access = Access.LOCK

    class ApproveInputSerializer(QuarterSerializer):
        comment = serializers.CharField(
            max_length=2000, required=False, default="", allow_blank=True
        )
        accept_changed_figures = serializers.BooleanField(
            required=False,
            default=False,
            help_text="lock even though the inputs changed since preparation",
        )

    @extend_schema(
        request=ApproveInputSerializer,
        responses={
            200: CloseOutputSerializer,
            **error_responses(409, m409="Nothing waits, or the figures changed since"),
        },
    )
    def post(self, request):
        data = validated_input(self.ApproveInputSerializer, request.data)
        close = report_close_approve(principal=request.principal, user=_user(request), **data)
        return Response(CloseOutputSerializer(close).data)


class QuarterCloseSendBackApi(APIView):
    """Send a prepared close back with comments: nothing is locked. 403 for the preparer."""

    required_access = Access.LOCK

    class SendBackInputSerializer(QuarterSerializer):
        comment = serializers.CharField(max_length=2000)

    @extend_schema(
        request=SendBackInputSerializer,
        responses={
            200: CloseOutputSerializer,
            **error_responses(409, m409="Nothing waits for approval"),
        },
    )
    def post(self, request):
        data = validated_input(self.SendBackInputSerializer, request.data)
        close = report_close_send_back(principal=request.principal, user=_user(request), **data)
        return Response(CloseOutputSerializer(close).data)


class ExportOutputSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="report_version.version", allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportExport
        fields = (
            "id",
            "year",
            "quarter",
            "version",
            "status",
            "progress",
            "step",
            "error",
            "pdf_sha256",
            "pdf_bytes",
            "created_at",
            "finished_at",
            "download_url",
        )

    def get_download_url(self, export) -> str | None:
        if export.status != ReportExport.Status.DONE:
            return None
        return reverse("report-export-pdf", kwargs={"pk": export.pk})


def _exports(principal) -> QuerySet[ReportExport]:
    return principal.visible(ReportExport.objects.all(), team=None).select_related(
        "report_version", "organisation"
    )


class ReportExportCreateApi(APIView):
    """Queue the audit PDF of a quarter (its locked version, or the draft); poll the export."""

    @extend_schema(
        request=ReportQuerySerializer,
        responses={
            202: ExportOutputSerializer,
            **error_responses(
                404,
                429,
                m404="No such locked version of the quarter",
                m429="Too many exports of the organisation in flight or in the last hour; "
                "see Retry-After",
            ),
        },
    )
    def post(self, request):
        data = validated_input(ReportQuerySerializer, request.data)
        export = report_export_request(principal=request.principal, user=_user(request), **data)
        export = _exports(request.principal).get(pk=export.pk)
        return Response(ExportOutputSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ReportExportDetailApi(APIView):
    """An export's status and progress."""

    @extend_schema(responses=ExportOutputSerializer)
    def get(self, request, pk: int):
        export = get_object_or_404(_exports(request.principal).defer("pdf"), pk=pk)
        return Response(ExportOutputSerializer(export).data)


class PdfRenderer(DownloadRenderer):
    media_type = "application/pdf"
    format = "pdf"


class ReportExportPdfApi(DownloadApi):
    """The finished PDF (409 while it is still being built)."""

    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            **error_responses(409, m409="The PDF is still being built: poll the export"),
        }
    )
    def get(self, request, pk: int):
        export = get_object_or_404(_exports(request.principal), pk=pk)
        return pdf_response(export)


def pdf_response(export: ReportExport) -> HttpResponse:
    if export.status != ReportExport.Status.DONE:
        raise ApplicationError(
            f"The PDF is not ready: {export.status}, {export.progress} %", status_code=409
        )
    response = HttpResponse(bytes(export.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
