"""The Prometheus sources over the API: members read them, admins (and manage tokens) write.
The bearer token is write-only: answers say whether one is set, never what it is."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from greenai_portal.errors import validated_input, validated_patch
from inventory.meters.selectors import prometheus_source_list
from inventory.meters.sources import (
    prometheus_source_create,
    prometheus_source_delete,
    prometheus_source_update,
)
from inventory.models import PrometheusSource


class PrometheusSourceSerializer(serializers.ModelSerializer):
    location = serializers.SlugRelatedField(slug_field="code", read_only=True)
    has_bearer_token = serializers.SerializerMethodField()

    class Meta:
        model = PrometheusSource
        fields = (
            "id",
            "name",
            "url",
            "has_bearer_token",
            "location",
            "hardware_by_gpu_model",
            "enabled",
            "pulled_until",
            "last_error",
            "created_at",
        )

    def get_has_bearer_token(self, source: PrometheusSource) -> bool:
        return bool(source.bearer_token)


class PrometheusSourceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    url = serializers.URLField(
        max_length=500, help_text="Prometheus's base URL, e.g. https://prometheus.example:9090"
    )
    bearer_token = serializers.CharField(
        max_length=500,
        allow_blank=True,
        required=False,
        write_only=True,
        help_text="sent as Authorization: Bearer; left out: kept; empty: removed",
    )
    location = serializers.CharField(max_length=80, help_text="the facility's code")
    hardware_by_gpu_model = serializers.DictField(
        child=serializers.CharField(max_length=60),
        default=dict,
        help_text='DCGM modelName label → hardware code, e.g. {"NVIDIA H100 80GB HBM3": '
        '"nvidia-h100-sxm"}',
    )
    enabled = serializers.BooleanField(default=True)


class _SourceApi(ReadOrManageApi, APIView):
    def owned(self, pk: int) -> PrometheusSource:
        """The organisation's source, or 404 (another organisation's do not exist here)."""
        source = prometheus_source_list(principal=self.request.principal).filter(pk=pk).first()
        if source is None:
            raise Http404
        return source


class PrometheusSourceListApi(_SourceApi):
    """The Prometheus servers whose GPU energy counters (DCGM, Kepler) are pulled every hour;
    series get their team, model and phase from the mapping rules of source `prometheus`
    (keys `label:<name>`)."""

    @extend_schema(responses=PrometheusSourceSerializer(many=True))
    def get(self, request):
        sources = prometheus_source_list(principal=request.principal).order_by("name")
        return Response(PrometheusSourceSerializer(sources, many=True).data)

    @extend_schema(
        request=PrometheusSourceInputSerializer, responses={201: PrometheusSourceSerializer}
    )
    def post(self, request):
        data = validated_input(PrometheusSourceInputSerializer, request.data)
        source = prometheus_source_create(
            organisation=request.principal.organisation, actor=request.user, **data
        )
        return Response(PrometheusSourceSerializer(source).data, status=status.HTTP_201_CREATED)


class PrometheusSourceDetailApi(_SourceApi):
    """A Prometheus source; admins change it (PATCH: the fields given) or delete it (the
    records it stored stay)."""

    @extend_schema(responses=PrometheusSourceSerializer)
    def get(self, request, pk: int):
        return Response(PrometheusSourceSerializer(self.owned(pk)).data)

    @extend_schema(
        request=PrometheusSourceInputSerializer(partial=True),
        responses=PrometheusSourceSerializer,
    )
    def patch(self, request, pk: int):
        source = self.owned(pk)
        current = {
            **PrometheusSourceSerializer(source).data,
            "location": source.location.code,
        }
        data = validated_patch(PrometheusSourceInputSerializer, current, request.data)
        source = prometheus_source_update(source=source, actor=request.user, **data)
        return Response(PrometheusSourceSerializer(source).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        prometheus_source_delete(source=self.owned(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
