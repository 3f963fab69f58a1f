import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Access
from greenai_portal.errors import ApplicationError, flatten_validation_errors
from inventory.models import Hardware, Phase
from inventory.services import workload_batch_ingest


class FiniteFloatField(serializers.FloatField):
    """A float that refuses NaN and ±Infinity, which JSON parsers let through."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number, not NaN or Infinity")
        return value


class WorkloadIngestApi(APIView):
    """Send workload records: one JSON object or an array of them."""

    required_access = Access.INGEST

    class InputSerializer(serializers.Serializer):
        external_id = serializers.CharField(max_length=200)
        team = serializers.SlugField(max_length=60)
        model = serializers.CharField(max_length=160, required=False, allow_blank=False)
        phase = serializers.ChoiceField(choices=Phase.choices)
        started_at = serializers.DateTimeField()
        ended_at = serializers.DateTimeField()
        location = serializers.CharField(max_length=80)
        hardware = serializers.CharField(max_length=60, required=False)
        device_count = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
        energy_kwh = FiniteFloatField(min_value=0, required=False)
        avg_power_w = FiniteFloatField(min_value=0, max_value=100_000, required=False)
        utilization = FiniteFloatField(min_value=0, max_value=1, required=False)
        pue = FiniteFloatField(min_value=1, max_value=5, required=False)
        energy_includes_pue = serializers.BooleanField(default=False)
        inferences = serializers.IntegerField(min_value=0, required=False)
        tokens = serializers.IntegerField(min_value=0, required=False)
        tags = serializers.DictField(child=serializers.CharField(max_length=200), required=False)

        def validate(self, attrs):
            if attrs["ended_at"] <= attrs["started_at"]:
                raise serializers.ValidationError(
                    {"ended_at": "Must be after started_at (durations must be positive)"}
                )
            horizon = timezone.now() + timedelta(days=settings.GREENAI_MAX_FUTURE_DAYS)
            if attrs["ended_at"] > horizon:
                raise serializers.ValidationError({"ended_at": "Is in the future"})
            energy_given = "energy_kwh" in attrs or "avg_power_w" in attrs
            if not energy_given and "hardware" not in attrs:
                raise serializers.ValidationError(
                    {"hardware": "Give energy_kwh, avg_power_w or a hardware code to model from"}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        batch_id = serializers.IntegerField()
        received = serializers.IntegerField()
        created = serializers.IntegerField()
        duplicates = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer(many=True),
        responses={201: OutputSerializer, 200: OutputSerializer},
        examples=[
            OpenApiExample(
                "A training job on 8 H100s",
                value=[
                    {
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
                    }
                ],
                request_only=True,
            )
        ],
    )
    def post(self, request):
        payload = request.data
        records = payload if isinstance(payload, list) else [payload]
        if not records:
            raise ApplicationError("Send at least one record")
        limit = settings.GREENAI_MAX_BATCH_RECORDS
        if len(records) > limit:
            raise ApplicationError(
                f"A batch holds at most {limit} records; got {len(records)}", status_code=413
            )
        serializer = self.InputSerializer(data=records, many=True)
        if not serializer.is_valid():
            raise ApplicationError(
                "Validation failed", errors=flatten_validation_errors(serializer.errors)
            )
        result = workload_batch_ingest(
            principal=request.principal,
            records=serializer.validated_data,
            user=request.user if getattr(request.user, "pk", None) else None,
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self.OutputSerializer(result).data, status=code)


class HardwareListApi(APIView):
    """The hardware catalogue: power figures and their sources."""

    @extend_schema(
        responses=inline_serializer(
            "Hardware",
            {
                "code": serializers.CharField(),
                "name": serializers.CharField(),
                "kind": serializers.CharField(),
                "idle_w": serializers.FloatField(),
                "max_w": serializers.FloatField(),
                "source": serializers.CharField(),
            },
            many=True,
        )
    )
    def get(self, request):
        rows = Hardware.objects.order_by("kind", "code").values(
            "code", "name", "kind", "unit", "idle_w", "max_w", "source", "source_url", "licence"
        )
        return Response(list(rows))
