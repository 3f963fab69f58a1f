from dataclasses import asdict
from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from greenai_portal.errors import ApplicationError, flatten_validation_errors
from reports.selectors import GROUPINGS, footprint_summary


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    record_count = serializers.IntegerField()
    it_kwh = serializers.FloatField()
    facility_kwh = serializers.FloatField()
    location_kg = serializers.FloatField()


class FootprintApi(APIView):
    """Energy and location-based emissions of computed records, summed by a grouping."""

    class FilterSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField(help_text="exclusive")
        group_by = serializers.ChoiceField(choices=sorted(GROUPINGS), default="team")

        def validate(self, attrs):
            if attrs["end"] <= attrs["start"]:
                raise serializers.ValidationError({"end": "Must be after start"})
            return attrs

    class OutputSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        group_by = serializers.CharField()
        totals = GroupSerializer()
        groups = GroupSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("start", date, required=True, description="first day, inclusive"),
            OpenApiParameter("end", date, required=True, description="last day, exclusive"),
            OpenApiParameter("group_by", str, enum=sorted(GROUPINGS), default="team"),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ApplicationError(
                "Invalid filters", errors=flatten_validation_errors(filters.errors)
            )
        total, groups = footprint_summary(principal=request.principal, **filters.validated_data)
        body = {
            **filters.validated_data,
            "totals": asdict(total),
            "groups": [asdict(g) for g in groups],
        }
        return Response(self.OutputSerializer(body).data)
