"""A model's lifecycle: training and fine-tuning amortised over its inferences."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from greenai_portal.openapi import error_responses
from inventory.selectors import visible_model_or_404
from reports.lifecycle import model_lifecycle


class LifecyclePhaseSerializer(serializers.Serializer):
    phase = serializers.CharField()
    label = serializers.CharField()
    facility_kwh = serializers.FloatField()
    location_kg = serializers.FloatField()
    scope2_kg = serializers.FloatField()
    scope3_cat1_kg = serializers.FloatField(help_text="public cloud")


class LifecycleMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    training_kg = serializers.FloatField()
    fine_tuning_kg = serializers.FloatField()
    inference_kg = serializers.FloatField()


class ModelLifecycleApi(APIView):
    """A model's footprint by phase over its whole history, location-based, own facilities and
    public cloud together (a product footprint, not a Scope 2 figure): training and
    fine-tuning amortised over the inferences served to date, and the day cumulative
    inference overtook them."""

    class ModelLifecycleSerializer(serializers.Serializer):
        model_id = serializers.IntegerField()
        model_name = serializers.CharField()
        whole_organisation = serializers.BooleanField(
            help_text="false when the figures cover only the reader's teams"
        )
        first_day = serializers.DateField(allow_null=True)
        last_day = serializers.DateField(allow_null=True)
        phases = LifecyclePhaseSerializer(many=True)
        inferences = serializers.IntegerField()
        building_g_per_1k_inferences = serializers.FloatField(
            allow_null=True,
            help_text="training + fine-tuning g CO2e per 1k inferences served to date",
        )
        inference_g_per_1k_inferences = serializers.FloatField(allow_null=True)
        inference_overtook_on = serializers.DateField(
            allow_null=True, help_text="null while inference is still below training"
        )
        inference_share_of_building = serializers.FloatField(allow_null=True)
        months = LifecycleMonthSerializer(many=True)

    @extend_schema(responses={200: ModelLifecycleSerializer, **error_responses(404)})
    def get(self, request, model_id: int):
        model = visible_model_or_404(principal=request.principal, model_id=model_id)
        lifecycle = model_lifecycle(principal=request.principal, model=model)
        return Response(self.ModelLifecycleSerializer(asdict(lifecycle)).data)
