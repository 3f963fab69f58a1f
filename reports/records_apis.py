"""Record browser API: the records behind a figure (keyset pages), one record with its
lineage, a batch. GET only; an engineer limited to teams reads those teams' records only."""

import re
from dataclasses import replace

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from greenai_portal.errors import validated_input
from greenai_portal.openapi import error_responses
from inventory.llm.selectors import record_range
from inventory.models import ComputeStatus, EmissionScope, EnergyTier, Phase
from reports.apis import LlmApiSerializer, RangeSerializer
from reports.records_selectors import (
    ALL_STATUSES,
    LLM_KIND,
    NO_MODEL,
    RECORD_MODELS,
    Cursor,
    RecordFilters,
    batch_summary,
    record_detail,
    record_page,
    record_totals,
)

STATUSES = [*ComputeStatus.values, ALL_STATUSES]
LOCKED_VERSION = re.compile(r"^([0-9]{4})-Q([1-4])-v([1-9][0-9]{0,3})$")  # 2026-Q1-v1


class RecordFilterSerializer(serializers.Serializer):
    """The record browser's filters: the same names as the dashboards' query strings."""

    start = serializers.DateField(required=False, help_text="first day, inclusive")
    end = serializers.DateField(required=False, help_text="last day, exclusive")
    team = serializers.IntegerField(min_value=1, required=False)
    model = serializers.RegexField(
        r"^([1-9][0-9]{0,17}|none)$",
        required=False,
        help_text="a model id, or 'none' for records naming no model",
    )
    location = serializers.IntegerField(min_value=1, required=False)
    scope = serializers.ChoiceField(choices=EmissionScope.values, required=False)
    tier = serializers.ChoiceField(choices=EnergyTier.values, required=False)
    phase = serializers.ChoiceField(choices=Phase.values, required=False)
    status = serializers.ChoiceField(choices=STATUSES, default=ComputeStatus.COMPUTED)
    batch = serializers.IntegerField(min_value=1, required=False)
    locked = serializers.RegexField(
        LOCKED_VERSION,
        required=False,
        help_text="e.g. 2026-Q1-v1: only the records that locked report version holds",
    )
    llm = serializers.RegexField(
        r"^[a-z_]{1,60}(/.{1,160})?$",
        required=False,
        help_text="LLM usage: the LLM called, as provider or provider/model",
    )
    before = serializers.CharField(
        required=False, help_text="the cursor of the previous page (next_cursor)"
    )

    def validate_before(self, value: str) -> Cursor:
        try:
            return Cursor.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError("Not a cursor from this API") from exc

    def validate_locked(self, value: str) -> tuple[int, int, int]:
        year, quarter, version = LOCKED_VERSION.match(value).groups()
        return int(year), int(quarter), int(version)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "Must be after start"})
        return attrs


def record_filters(query, *, kind: str, **fixed) -> tuple[RecordFilters, Cursor | None]:
    """Filters and cursor from a query string (ApplicationError naming bad values)."""
    values = validated_input(RecordFilterSerializer, query)
    model = values.get("model")
    filters = RecordFilters(
        kind=kind,
        start=values.get("start"),
        end=values.get("end"),
        team_id=values.get("team"),
        model=model if model in (None, NO_MODEL) else int(model),
        location_id=values.get("location"),
        scope=values.get("scope"),
        energy_tier=values.get("tier"),
        phase=values.get("phase"),
        status=values["status"],
        batch_id=values.get("batch"),
        locked=values.get("locked"),
        llm=values.get("llm"),
    )
    return replace(filters, **fixed), values.get("before")


def _kind_or_404(kind: str) -> str:
    if kind not in RECORD_MODELS:
        raise Http404("No such record kind")
    return kind


class RecordRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    batch_id = serializers.IntegerField()
    status = serializers.CharField()
    activity_date = serializers.DateField()
    team = serializers.CharField(source="team.name")
    model = serializers.CharField(source="ai_model.name", allow_null=True, default=None)
    location = serializers.CharField(source="location.code")
    zone = serializers.CharField(source="location.zone")
    scope = serializers.CharField()
    energy_tier = serializers.CharField()
    it_kwh = serializers.FloatField(allow_null=True)
    pue_used = serializers.FloatField(allow_null=True)
    facility_kwh = serializers.FloatField(allow_null=True)
    location_kg_per_kwh = serializers.FloatField(allow_null=True)
    location_kg = serializers.FloatField(allow_null=True)
    grid_factor_id = serializers.IntegerField(allow_null=True)
    factor_override_id = serializers.IntegerField(allow_null=True)
    methodology_version = serializers.CharField()


class TotalsSerializer(serializers.Serializer):
    record_count = serializers.IntegerField()
    it_kwh = serializers.FloatField()
    facility_kwh = serializers.FloatField()
    location_kg = serializers.FloatField()


_FILTER_PARAMETERS = [
    OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=sorted(RECORD_MODELS)),
    OpenApiParameter("start", str, description="first day (YYYY-MM-DD), inclusive"),
    OpenApiParameter("end", str, description="last day, exclusive"),
    OpenApiParameter("team", int),
    OpenApiParameter("model", str, description="a model id, or 'none'"),
    OpenApiParameter("location", int),
    OpenApiParameter("scope", str, enum=EmissionScope.values),
    OpenApiParameter("tier", str, enum=EnergyTier.values),
    OpenApiParameter("phase", str, enum=Phase.values),
    OpenApiParameter("status", str, enum=STATUSES, default=ComputeStatus.COMPUTED),
    OpenApiParameter("batch", int),
    OpenApiParameter("locked", str, description="a locked report version, e.g. 2026-Q1-v1"),
    OpenApiParameter("llm", str, description="LLM usage: provider, or provider/model called"),
    OpenApiParameter("before", str, description="next_cursor of the previous page"),
]


@extend_schema_field(RangeSerializer(allow_null=True))
class EstimateField(serializers.Field):
    """An LLM usage record's EcoLogits range of one figure; null until it is estimated."""

    def __init__(self, figure: str, **kwargs) -> None:
        self.figure = figure
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record) -> dict | None:
        found = record_range(record, self.figure)
        return None if found is None else {"min": found.min, "max": found.max}


class LlmRecordRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    batch_id = serializers.IntegerField()
    status = serializers.CharField()
    activity_date = serializers.DateField()
    team = serializers.CharField(source="team.name")
    model = serializers.CharField(
        source="ai_model.name",
        allow_null=True,
        default=None,
        help_text="the organisation's AI model these requests serve",
    )
    application = serializers.CharField()
    provider = serializers.CharField()
    llm = serializers.CharField(source="model", help_text="the model called")
    requests = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    latency_s = serializers.FloatField(allow_null=True)
    energy_kwh = EstimateField("energy_kwh", help_text="kWh, PUE included")
    gwp_usage_kg = EstimateField("gwp_usage_kg", help_text="kg CO2e of the electricity")
    gwp_embodied_kg = EstimateField("gwp_embodied_kg", help_text="kg CO2e of the hardware")
    water_l = EstimateField("water_l", help_text="litres, on- and off-site")
    ecologits_version = serializers.CharField()


class RecordPageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    totals = TotalsSerializer(allow_null=True)
    results = RecordRowSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class LlmRecordPageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    totals = LlmApiSerializer(help_text="EcoLogits ranges of the estimated records listed")
    results = LlmRecordRowSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _by_kind(name: str, of_computing, of_llm) -> tuple[dict, PolymorphicProxySerializer]:
    """{kind: serializer} and its OpenAPI description (told apart by `kind`)."""
    serializers_of = {kind: of_computing for kind in RECORD_MODELS} | {LLM_KIND: of_llm}
    schema = PolymorphicProxySerializer(
        component_name=name,
        serializers={kind: serializer() for kind, serializer in serializers_of.items()},
        resource_type_field_name="kind",
    )
    return serializers_of, schema


PAGE_SERIALIZERS, _PAGE_SCHEMA = _by_kind(
    "RecordPageOfKind", RecordPageSerializer, LlmRecordPageSerializer
)


class RecordListApi(APIView):
    """A page of 100 records, newest first, and the figure of the filter (computed records
    only: what the dashboards and reports show for the same filter; LLM usage: its EcoLogits
    ranges)."""

    @extend_schema(
        operation_id="records_list",
        parameters=_FILTER_PARAMETERS,
        responses={200: _PAGE_SCHEMA, **error_responses(400, 404)},
    )
    def get(self, request, kind: str):
        filters, before = record_filters(request.query_params, kind=_kind_or_404(kind))
        page = record_page(principal=request.principal, filters=filters, before=before)
        body = {
            "kind": kind,
            "totals": record_totals(principal=request.principal, filters=filters),
            "results": page.records,
            "next_cursor": str(page.next_cursor) if page.next_cursor else None,
        }
        return Response(PAGE_SERIALIZERS[kind](body).data)


class SourceSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    label = serializers.CharField()
    source = serializers.CharField()
    source_url = serializers.CharField()
    licence = serializers.CharField()
    row = serializers.CharField()


class StepSerializer(serializers.Serializer):
    label = serializers.CharField()
    formula = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    unit = serializers.CharField()


@extend_schema_serializer(component_name="RecordDetail")
class RecordDetailSerializer(serializers.Serializer):
    kind = serializers.CharField()
    record = RecordRowSerializer()
    inputs = serializers.DictField()
    energy_rule = serializers.CharField()
    pue = SourceSerializer()
    factor = SourceSerializer(allow_null=True)
    power_model = SourceSerializer(allow_null=True)
    coefficient = SourceSerializer(allow_null=True)
    steps = StepSerializer(many=True)
    compute_error = serializers.CharField(source="record.compute_error")
    batch_url = serializers.CharField()


def _bounds(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, help_text=help_text
    )


class ModelParametersSerializer(serializers.Serializer):
    architecture = serializers.CharField(help_text="dense or moe")
    active_b = _bounds("[min, max] active parameters, billions")
    total_b = _bounds("[min, max] total parameters, billions")
    warnings = serializers.ListField(child=serializers.CharField())


class ProviderDatacentreSerializer(serializers.Serializer):
    zone = serializers.CharField(help_text="the electricity mix's zone (ISO 3166-1 alpha-3)")
    pue = _bounds("[min, max]")
    wue_l_per_kwh = _bounds("[min, max] on-site water, L/kWh")
    mix_gwp_kg_per_kwh = serializers.FloatField(allow_null=True)
    mix_wue_l_per_kwh = serializers.FloatField(
        allow_null=True, help_text="off-site water of the electricity's generation, L/kWh"
    )


class LlmEstimateLineageSerializer(serializers.Serializer):
    ecologits_version = serializers.CharField(help_text="the version that estimated the record")
    installed_version = serializers.CharField()
    methodology_url = serializers.CharField()
    licence = serializers.CharField()
    parameters = ModelParametersSerializer(allow_null=True)
    parameters_source = serializers.CharField()
    datacentre = ProviderDatacentreSerializer(allow_null=True)
    output_tokens_per_request = serializers.FloatField()


class RangeStepSerializer(serializers.Serializer):
    label = serializers.CharField()
    per_request = RangeSerializer(allow_null=True)
    value = RangeSerializer(allow_null=True, help_text="the record's: per request × requests")
    unit = serializers.CharField()


@extend_schema_serializer(component_name="LlmUsageRecordDetail")
class LlmRecordDetailSerializer(serializers.Serializer):
    kind = serializers.CharField()
    record = LlmRecordRowSerializer()
    inputs = serializers.DictField()
    trace_id = serializers.CharField(allow_null=True, help_text="OTLP: the span's trace")
    span_id = serializers.CharField(allow_null=True)
    estimate_rule = serializers.CharField()
    lineage = LlmEstimateLineageSerializer()
    steps = RangeStepSerializer(many=True)
    scope = serializers.CharField()
    estimate_error = serializers.CharField(source="record.estimate_error")
    batch_url = serializers.CharField()


DETAIL_SERIALIZERS, _DETAIL_SCHEMA = _by_kind(
    "RecordDetailOfKind", RecordDetailSerializer, LlmRecordDetailSerializer
)


class RecordDetailApi(APIView):
    """One record: what was sent, the energy rule, the PUE and factor rows used (with their
    sources), each intermediate figure and the result; for LLM usage, the EcoLogits version,
    parameter counts, data-centre defaults and electricity mix it was estimated with, and
    each figure's range. Another team's or organisation's record is 404."""

    @extend_schema(
        operation_id="record_retrieve", responses={200: _DETAIL_SCHEMA, **error_responses(404)}
    )
    def get(self, request, kind: str, pk: int):
        detail = record_detail(principal=request.principal, kind=kind, record_id=pk)
        if detail is None:
            raise Http404("No such record")
        body = {
            **detail.__dict__,
            "batch_url": reverse("record-batch-api", args=[detail.record.batch_id]),
        }
        return Response(DETAIL_SERIALIZERS[kind](body).data)


class RecordBatchApi(APIView):
    """A batch: when it arrived, how (source, token name, user), what it held; its records
    are `GET records/<kind>/?batch=<id>&status=all`."""

    @extend_schema_serializer(component_name="RecordBatch")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="batch.id")
        source = serializers.CharField(source="batch.source")
        received_at = serializers.DateTimeField(source="batch.created_at")
        token_name = serializers.CharField(help_text="empty when no token sent it")
        sent_by = serializers.CharField(help_text="the signed-in user who sent it, if any")
        received = serializers.IntegerField(source="batch.received")
        created = serializers.IntegerField(source="batch.created")
        duplicates = serializers.IntegerField(source="batch.duplicates")
        visible_records = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(
        operation_id="record_batch_retrieve",
        responses={200: OutputSerializer, **error_responses(404)},
    )
    def get(self, request, pk: int):
        summary = batch_summary(principal=request.principal, batch_id=pk)
        if summary is None:
            raise Http404("No such batch")
        return Response(self.OutputSerializer(summary).data)
