"""Energy cost per currency and SCI per model over the API (declared in the OpenAPI schema)."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from greenai_portal.errors import validated_input
from inventory.calculation.sci import FunctionalUnit
from inventory.selectors import visible_model_or_404
from reports.cost_sci_selectors import COST_GROUPINGS, cost_lines, model_sci, period_rollups
from reports.period_input import PERIOD_PARAMETERS, PeriodSerializer


class CostLineSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="team or model id when grouped")
    label = serializers.CharField()
    currency = serializers.CharField(help_text="ISO 4217; amounts are never converted")
    cost = serializers.FloatField(help_text="own or billed cost, else facility kWh × tariff")
    location_kg = serializers.FloatField(help_text="location-based kg CO2e of the same rows")
    inferences = serializers.IntegerField()
    tokens = serializers.IntegerField()
    cost_per_1k_inferences = serializers.FloatField(allow_null=True)
    cost_per_1m_tokens = serializers.FloatField(allow_null=True)
    kg_per_currency_unit = serializers.FloatField(allow_null=True)


class CostListApi(APIView):
    """Energy cost per currency (never added across currencies), optionally per team or
    model, with cost per 1k inferences, per 1M tokens and kg CO2e per unit of currency.
    Records without a cost (no own or billed cost, no facility tariff) are left out."""

    class FilterSerializer(PeriodSerializer):
        group_by = serializers.ChoiceField(choices=sorted(COST_GROUPINGS), required=False)

    class CostListSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        lines = CostLineSerializer(many=True)

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("group_by", str, enum=sorted(COST_GROUPINGS)),
        ],
        responses=CostListSerializer,
    )
    def get(self, request):
        filters = validated_input(self.FilterSerializer, request.query_params)
        rows = period_rollups(
            principal=request.principal, start=filters["start"], end=filters["end"]
        )
        lines = cost_lines(rows=rows, group_by=filters.get("group_by"))
        body = {"start": filters["start"], "end": filters["end"], "lines": map(asdict, lines)}
        return Response(self.CostListSerializer(body).data)


class SciSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=[u.value for u in FunctionalUnit])
    energy_kwh = serializers.FloatField(help_text="E: facility kWh")
    intensity_kg_per_kwh = serializers.FloatField(
        allow_null=True, help_text="I: location-based kg CO2e per kWh (market-based excluded)"
    )
    operational_kg = serializers.FloatField(help_text="E × I")
    embodied_kg = serializers.FloatField(
        allow_null=True, help_text="M: amortised embodied kg CO2e; null when not available"
    )
    functional_units = serializers.FloatField(help_text="R, in the unit")
    kg_per_unit = serializers.FloatField(
        allow_null=True, help_text="SCI = (E × I + M) / R; null without M or R"
    )


class ModelSciApi(APIView):
    """Software Carbon Intensity of a model (GSF SCI, ISO/IEC 21031:2024) per 1k inferences,
    per 1M tokens and per training run, with its parts E, I, M and R."""

    class ModelSciSerializer(serializers.Serializer):
        model = serializers.CharField()
        start = serializers.DateField()
        end = serializers.DateField()
        sci = SciSerializer(many=True)

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=ModelSciSerializer)
    def get(self, request, model_id: int):
        principal = request.principal
        period = validated_input(PeriodSerializer, request.query_params)
        model = visible_model_or_404(principal=principal, model_id=model_id)
        scores = model_sci(principal=principal, model=model, **period)
        body = {"model": model.name, **period, "sci": [asdict(s) for s in scores]}
        return Response(self.ModelSciSerializer(body).data)
