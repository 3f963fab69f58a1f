"""A period asked of the reports APIs: start (inclusive) and end (exclusive), validated and
declared in the OpenAPI schema once."""

from datetime import date

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="exclusive")

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "Must be after start"})
        return attrs


PERIOD_PARAMETERS = [
    OpenApiParameter("start", date, required=True, description="first day, inclusive"),
    OpenApiParameter("end", date, required=True, description="last day, exclusive"),
]
