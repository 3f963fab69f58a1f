"""Recalculations over the API: start one (admins), follow its progress (any member)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Access
from greenai_portal.errors import validated_input
from inventory.models import RecalculationJob, RecalculationTrigger
from inventory.pipeline.recalculation import RecalculationScope, recalculation_start


class RecalculationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    scope = serializers.JSONField()
    locked_periods = serializers.JSONField(help_text="[start, end) periods left untouched")
    total_records = serializers.IntegerField()
    processed_records = serializers.IntegerField()
    progress = serializers.FloatField(help_text="0 to 1")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def _jobs(request):
    return RecalculationJob.objects.filter(organisation=request.principal.organisation)


class RecalculationListApi(APIView):
    """Recent recalculations of the organisation; admins start one for a period or zone."""

    def get_permissions(self):
        self.required_access = Access.MANAGE if self.request.method == "POST" else Access.READ
        return super().get_permissions()

    @extend_schema_serializer(component_name="RecalculationInput")
    class InputSerializer(serializers.Serializer):
        zone = serializers.CharField(max_length=40, required=False)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        reason = serializers.CharField(max_length=200, required=False, default="")

        def validate(self, attrs):
            start, end = attrs.get("date_from"), attrs.get("date_to")
            if start and end and end < start:
                raise serializers.ValidationError({"date_to": "Must not be before date_from"})
            return attrs

    @extend_schema(responses=RecalculationOutputSerializer(many=True))
    def get(self, request):
        jobs = _jobs(request).order_by("-created_at", "-id")[:50]
        return Response(RecalculationOutputSerializer(jobs, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: RecalculationOutputSerializer})
    def post(self, request):
        data = validated_input(self.InputSerializer, request.data)
        scope = RecalculationScope(
            zone=data.get("zone"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            market=True,
        )
        what = ", ".join(f"{key} {value}" for key, value in scope.as_json().items() if key in data)
        job = recalculation_start(
            organisation=request.principal.organisation,
            trigger=RecalculationTrigger.MANUAL,
            description=data["reason"] or f"Requested recalculation ({what or 'all open periods'})",
            scope=scope,
            user=request.user,
        )
        job.refresh_from_db()
        return Response(RecalculationOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class RecalculationDetailApi(APIView):
    """A recalculation's status and progress."""

    @extend_schema(responses=RecalculationOutputSerializer)
    def get(self, request, job_id: int):
        job = _jobs(request).filter(pk=job_id).first()
        if job is None:
            raise Http404
        return Response(RecalculationOutputSerializer(job).data)
