"""A model's EU AI Act training documentation (Annex XI 1.2(d)–(e)): JSON and a PDF page."""

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principal import Principal
from accounts.views import settings_page
from greenai_portal.openapi import error_responses
from inventory.selectors import visible_model_or_404
from reports.model_documentation import ModelDocumentation, model_documentation


class HardwareUseSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    device_hours = serializers.FloatField()


class TierEnergySerializer(serializers.Serializer):
    tier = serializers.CharField()
    label = serializers.CharField()
    method = serializers.CharField()
    records = serializers.IntegerField()
    it_kwh = serializers.FloatField()
    facility_kwh = serializers.FloatField()


class ModelPhaseSerializer(serializers.Serializer):
    phase = serializers.CharField()
    label = serializers.CharField()
    records = serializers.IntegerField()
    records_computed = serializers.IntegerField()
    first_start = serializers.DateTimeField()
    last_end = serializers.DateTimeField()
    wall_clock_hours = serializers.FloatField(help_text="first job's start to last job's end")
    job_hours = serializers.FloatField(help_text="sum of the jobs' durations")
    device_hours = serializers.FloatField()
    hardware = HardwareUseSerializer(many=True)
    flops = serializers.FloatField(
        allow_null=True, help_text="sum over the records that carry it; null when none does"
    )
    flops_records = serializers.IntegerField(help_text="records that carry their FLOPs")
    it_kwh = serializers.FloatField(allow_null=True, help_text="null until computed")
    facility_kwh = serializers.FloatField(allow_null=True)
    location_kg = serializers.FloatField(allow_null=True)
    energy_by_tier = TierEnergySerializer(many=True)
    energy_basis = serializers.ChoiceField(
        choices=["known", "estimated", "partly estimated"], allow_null=True
    )
    estimated_share = serializers.FloatField(
        allow_null=True, help_text="share of IT energy estimated from computational resources"
    )


class ModelDocumentationApi(APIView):
    """A model's training documentation for the EU AI Act (Regulation (EU) 2024/1689, Annex XI,
    Section 1, 2(d)–(e)): training time, computational resources (device-hours, hardware,
    FLOPs where the records carry them) and known or estimated training energy, with the
    method and data-quality tier, per phase (training, fine-tuning)."""

    class ModelDocumentationSerializer(serializers.Serializer):
        model_id = serializers.IntegerField()
        model_name = serializers.CharField()
        organisation = serializers.CharField()
        whole_organisation = serializers.BooleanField(
            help_text="false when the figures cover only the reader's teams"
        )
        generated_at = serializers.DateTimeField()
        phases = ModelPhaseSerializer(many=True)

    @extend_schema(responses={200: ModelDocumentationSerializer, **error_responses(404)})
    def get(self, request, model_id: int):
        model = visible_model_or_404(principal=request.principal, model_id=model_id)
        document = model_documentation(principal=request.principal, model=model)
        return Response(self.ModelDocumentationSerializer(asdict(document)).data)


def render_model_documentation_pdf(document: ModelDocumentation) -> bytes:
    from weasyprint import HTML

    html = render_to_string("reports/pdf/model_documentation.html", {"doc": document})
    return HTML(string=html).write_pdf()


@settings_page()
def model_documentation_pdf(
    request: HttpRequest, principal: Principal, model_id: int
) -> HttpResponse:
    """The same documentation as a PDF page, for the model's technical documentation."""
    model = visible_model_or_404(principal=principal, model_id=model_id)
    pdf = render_model_documentation_pdf(model_documentation(principal=principal, model=model))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="model-{model.id}-ai-act.pdf"'
    return response
