"""What-if: a team's or a model's workloads of a period re-priced at other locations."""

from dataclasses import asdict
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Principal
from accounts.selectors import team_list, visible_team_or_404
from accounts.views import settings_context, settings_page
from greenai_portal.errors import validated_input
from greenai_portal.openapi import error_responses
from inventory.selectors import visible_model_or_404
from reports.period_input import PERIOD_PARAMETERS, PeriodSerializer
from reports.what_if import what_if


class WhatIfInputSerializer(PeriodSerializer):
    team = serializers.SlugField(required=False)
    model = serializers.IntegerField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("team" in attrs) == ("model" in attrs):
            raise serializers.ValidationError("Give a team or a model (one of them)")
        return attrs


class CandidateSerializer(serializers.Serializer):
    location_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    zone = serializers.CharField()
    scope = serializers.CharField()
    pue = serializers.FloatField()
    pue_source = serializers.CharField()
    facility_kwh = serializers.FloatField()
    location_kg = serializers.FloatField(allow_null=True)
    market_kg = serializers.FloatField(allow_null=True, help_text="null: not applicable (cloud)")
    water_l = serializers.FloatField(allow_null=True, help_text="on-site water; null: no WUE")
    cost = serializers.FloatField(
        allow_null=True, help_text="energy cost in `currency`; null: cloud or no tariff"
    )
    currency = serializers.CharField()
    change_location_kg = serializers.FloatField(allow_null=True)
    change_market_kg = serializers.FloatField(allow_null=True)
    is_current = serializers.BooleanField()


class WhatIfSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    team_id = serializers.IntegerField(allow_null=True)
    model_id = serializers.IntegerField(allow_null=True)
    it_kwh = serializers.FloatField()
    current_facility_kwh = serializers.FloatField()
    current_location_kg = serializers.FloatField()
    current_market_kg = serializers.FloatField(allow_null=True)
    current_water_l = serializers.FloatField(allow_null=True)
    candidates = CandidateSerializer(many=True, help_text="ranked by location-based kg")


def _what_if(principal: Principal, data: dict):
    team_id = model_id = None
    if "team" in data:
        team_id = visible_team_or_404(principal=principal, slug=data["team"]).id
    else:
        model_id = visible_model_or_404(principal=principal, model_id=data["model"]).id
    return what_if(
        principal=principal, start=data["start"], end=data["end"], team_id=team_id,
        model_id=model_id,
    )  # fmt: skip


class WhatIfApi(APIView):
    """Re-price a team's or a model's computed workloads of a period as if run in each of the
    organisation's facilities and the cloud regions its records use: the same IT energy at the
    candidate's PUE, its zone's grid factor (location-based) and residual mix (market-based,
    no instruments). Never changes stored figures."""

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("team", str, description="a team's slug (or give model)"),
            OpenApiParameter("model", int, description="a model's id (or give team)"),
        ],
        responses={200: WhatIfSerializer, **error_responses(400, 404)},
    )
    def get(self, request):
        data = validated_input(WhatIfInputSerializer, request.query_params)
        return Response(WhatIfSerializer(asdict(_what_if(request.principal, data))).data)


@settings_page()
def what_if_page(request: HttpRequest, principal: Principal) -> HttpResponse:
    end = date.today()
    query = {"start": (end - timedelta(days=90)).isoformat(), "end": end.isoformat()}
    query.update(request.GET.dict())
    form = WhatIfInputSerializer(data=query)
    result = _what_if(principal, form.validated_data) if form.is_valid() else None
    return render(
        request,
        "dashboard/what_if.html",
        settings_context(
            principal, "what-if", query=query, result=result,
            problems=form.errors if not form.is_valid() else None,
            teams=team_list(principal=principal).order_by("name"),
        ),
    )  # fmt: skip
