"""A base model beside its variants: API and page."""

from dataclasses import asdict
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Principal
from accounts.views import settings_context, settings_page
from greenai_portal.errors import validated_input
from greenai_portal.openapi import error_responses
from inventory.selectors import visible_model_or_404
from reports.period_input import PERIOD_PARAMETERS, PeriodSerializer
from reports.variants import variant_comparison


class PerUnitSerializer(serializers.Serializer):
    kwh = serializers.FloatField(allow_null=True, help_text="facility kWh")
    g_co2e = serializers.FloatField(allow_null=True, help_text="location-based")
    too_little_data = serializers.CharField(help_text="why there is no figure, if there is none")
    water_l = serializers.FloatField(allow_null=True, help_text="on-site water, litres")
    cost = serializers.FloatField(allow_null=True, help_text="energy cost, in `currency`")
    currency = serializers.CharField()
    not_available = serializers.CharField(help_text="why water or cost is not given")


class ModelSideSerializer(serializers.Serializer):
    model_id = serializers.IntegerField()
    name = serializers.CharField()
    technique = serializers.CharField()
    precision = serializers.CharField()
    note = serializers.CharField()
    records = serializers.IntegerField()
    inferences = serializers.IntegerField()
    tokens = serializers.IntegerField()
    facility_kwh = serializers.FloatField()
    location_kg = serializers.FloatField()
    tiers = serializers.DictField(
        child=serializers.FloatField(), help_text="share of facility kWh per data-quality tier"
    )
    per_1k_inferences = PerUnitSerializer()
    per_1m_tokens = PerUnitSerializer()
    change_per_inference_pct = serializers.FloatField(allow_null=True)
    change_per_token_pct = serializers.FloatField(allow_null=True)
    yearly_saving_kwh = serializers.FloatField(allow_null=True)
    yearly_saving_kg = serializers.FloatField(allow_null=True)


class VariantComparisonApi(APIView):
    """A base model and its variants over a period, inference records only, per 1k inferences
    and per 1M tokens: facility energy and location-based CO2e, the change against the base,
    and the yearly saving at the variant's inference volume. A side with too little data
    in the period gets no figure, and its `too_little_data` says why."""

    class VariantComparisonSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        base = ModelSideSerializer()
        variants = ModelSideSerializer(many=True)

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={200: VariantComparisonSerializer, **error_responses(400, 404)},
    )
    def get(self, request, model_id: int):
        period = validated_input(PeriodSerializer, request.query_params)
        base = visible_model_or_404(principal=request.principal, model_id=model_id)
        comparison = variant_comparison(principal=request.principal, base=base, **period)
        return Response(self.VariantComparisonSerializer(asdict(comparison)).data)


@settings_page()
def variant_comparison_page(
    request: HttpRequest, principal: Principal, model_id: int
) -> HttpResponse:
    base = visible_model_or_404(principal=principal, model_id=model_id)
    form = PeriodSerializer(data=request.GET)
    if form.is_valid():
        period = form.validated_data
    else:
        end = date.today()
        period = {"start": end - timedelta(days=90), "end": end}
    comparison = variant_comparison(principal=principal, base=base, **period)
    return render(
        request,
        "dashboard/variants.html",
        settings_context(principal, "models", model=base, comparison=comparison),
    )
