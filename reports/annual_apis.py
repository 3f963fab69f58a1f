"""The annual report of a fiscal year: JSON, XLSX and PDF (reports.annual)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from greenai_portal import periods
from greenai_portal.errors import validated_input
from reports.annual import COST_SCOPES, DRAFT, FIGURE_KEYS, FINAL, TEAM_VIEW, annual_report
from reports.annual_exports import annual_filename, annual_pdf, annual_xlsx
from reports.apis import XLSX, DownloadApi, DownloadRenderer, XlsxRenderer

_COVERAGE = [periods.COMPLETE, periods.PARTIAL, periods.NO_DATA]
_FIGURE_HELP = {
    "scope2_location_t": "t CO2e",
    "scope2_market_t": "t CO2e; null while part of the electricity has no market-based figure",
    "scope3_cat1_t": "public cloud, t CO2e (location-based; no market-based figure)",
    "total_location_t": "Scope 2 location-based + Scope 3 category 1, t CO2e",
    "total_market_t": "Scope 2 market-based + Scope 3 category 1, t CO2e",
    "energy_mwh": "energy consumed in the organisation's facilities (Scope 2), MWh",
    "renewable_mwh": "allocated to renewable contractual instruments, MWh",
    "non_renewable_mwh": "energy_mwh - renewable_mwh",
    "cloud_mwh": "public cloud energy (the provider's consumption), MWh",
}


def _figures_serializer(
    name: str, help_suffix: str = "", **extra: serializers.Field
) -> type[serializers.Serializer]:
    fields = {
        **extra,
        **{
            key: serializers.FloatField(allow_null=True, help_text=_FIGURE_HELP[key] + help_suffix)
            for key in FIGURE_KEYS
        },
    }
    return type(name, (serializers.Serializer,), fields)


AnnualFiguresSerializer = _figures_serializer(
    "AnnualFigures", record_count=serializers.IntegerField()
)
AnnualChangeSerializer = _figures_serializer(
    "AnnualChange", "; change in percent, null when not comparable"
)


class AnnualCostSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=[scope for scope, _ in COST_SCOPES])
    currency = serializers.CharField(help_text="ISO 4217; amounts are never converted")
    amount = serializers.FloatField(help_text="own or billed cost, else facility kWh × tariff")


def _costs_field() -> AnnualCostSerializer:
    return AnnualCostSerializer(
        many=True,
        allow_null=True,
        help_text="energy cost per scope and currency (never added across currencies); "
        "null: a quarter was locked before energy cost was reported (not computed)",
    )


class AnnualQuarterSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1-4 within the fiscal year")
    label = serializers.CharField()
    calendar_quarter = serializers.CharField(help_text="the locked calendar quarter it is")
    year = serializers.IntegerField()
    quarter = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="exclusive")
    status = serializers.ChoiceField(choices=["locked", "draft", "team_view"])
    version = serializers.IntegerField(allow_null=True, help_text="locked version shown")
    coverage = serializers.ChoiceField(choices=_COVERAGE)
    coverage_note = serializers.CharField(allow_blank=True)
    figures = AnnualFiguresSerializer()
    costs = _costs_field()


class FiscalYearSerializer(serializers.Serializer):
    start_year = serializers.IntegerField()
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="exclusive")


class AnnualComparisonSerializer(FiscalYearSerializer):
    coverage = serializers.ChoiceField(choices=_COVERAGE)
    coverage_note = serializers.CharField(allow_blank=True)
    figures = AnnualFiguresSerializer()
    costs = _costs_field()
    change_note = serializers.CharField(
        allow_blank=True, help_text="why the years are not compared; empty when they are"
    )
    change_pct = AnnualChangeSerializer()


class AnnualBaseYearSerializer(AnnualComparisonSerializer):
    is_this_year = serializers.BooleanField()


class AnnualYearSerializer(serializers.Serializer):
    coverage = serializers.ChoiceField(choices=_COVERAGE)
    coverage_note = serializers.CharField(allow_blank=True)
    figures = AnnualFiguresSerializer()
    costs = _costs_field()


class AnnualOrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class AnnualFiscalYearSerializer(FiscalYearSerializer):
    start_month = serializers.IntegerField(min_value=1, max_value=12)


class AnnualReportSerializer(serializers.Serializer):
    organisation = AnnualOrganisationSerializer()
    fiscal_year = AnnualFiscalYearSerializer()
    status = serializers.ChoiceField(
        choices=[FINAL, DRAFT, TEAM_VIEW],
        help_text="final once all four quarters are locked; team_view for a team-limited reader",
    )
    open_quarters = serializers.ListField(child=serializers.CharField())
    teams_limited = serializers.BooleanField()
    quarters = AnnualQuarterSerializer(many=True)
    year = AnnualYearSerializer()
    previous_year = AnnualComparisonSerializer()
    base_year = AnnualBaseYearSerializer(allow_null=True, help_text="null: no base year chosen")


class FiscalYearQuerySerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(
        min_value=periods.FIRST_YEAR,
        max_value=periods.LAST_YEAR,
        help_text="the calendar year the fiscal year starts in",
    )


_PARAMETERS = [
    OpenApiParameter(
        "fiscal_year",
        {"type": "integer", "minimum": periods.FIRST_YEAR, "maximum": periods.LAST_YEAR},
        required=True,
        description="the calendar year the fiscal year starts in",
    )
]


def _report_for(request) -> dict:
    query = validated_input(FiscalYearQuerySerializer, request.query_params)
    return annual_report(principal=request.principal, start_year=query["fiscal_year"])


class AnnualReportApi(APIView):
    """The annual report of a fiscal year (organisation settings: start month, base year): its
    four quarters as their Scope 2 reports give them (locked versions' figures for locked
    quarters), the year, and the change from the previous fiscal year and the base year;
    ESRS E1-6 style (Scope 2 location- and market-based, public cloud Scope 3 category 1
    beside them, totals with each) and E1-5 energy. Final once every quarter is locked."""

    @extend_schema(parameters=_PARAMETERS, responses=AnnualReportSerializer)
    def get(self, request):
        return Response(AnnualReportSerializer(_report_for(request)).data)


class AnnualXlsxApi(DownloadApi):
    """The annual report as an Excel workbook."""

    renderer_classes = [JSONRenderer, XlsxRenderer]

    @extend_schema(parameters=_PARAMETERS, responses={(200, XLSX): OpenApiTypes.BINARY})
    def get(self, request):
        report = _report_for(request)
        response = HttpResponse(annual_xlsx(report), content_type=XLSX)
        name = annual_filename(report, "xlsx")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class PdfRenderer(DownloadRenderer):
    media_type = "application/pdf"
    format = "pdf"


class AnnualPdfApi(DownloadApi):
    """The annual report as a PDF (a few pages of tables, rendered on request)."""

    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        parameters=_PARAMETERS, responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request):
        report = _report_for(request)
        response = HttpResponse(annual_pdf(report), content_type="application/pdf")
        name = annual_filename(report, "pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
