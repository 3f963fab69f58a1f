"""Declared LLMs over the API: members read them, admins and manage tokens write (audited)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from greenai_portal.errors import validated_input, validated_patch
from inventory.calculation.llm import ECOLOGITS_PROVIDERS
from inventory.llm.selectors import custom_llm_list
from inventory.llm.services import custom_llm_create, custom_llm_delete, custom_llm_update
from inventory.models import CustomLlm

# Far above the largest published models (a few trillion parameters).
MAX_PARAMETERS_B = 100_000


class CustomLlmSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomLlm
        fields = (
            "id",
            "provider",
            "name",
            "active_parameters_b",
            "total_parameters_b",
            "source_note",
            "created_at",
            "updated_at",
        )


class CustomLlmUpdateSerializer(serializers.Serializer):
    active_parameters_b = serializers.FloatField(
        min_value=0.001, max_value=MAX_PARAMETERS_B, help_text="billions; all of a dense model's"
    )
    total_parameters_b = serializers.FloatField(
        min_value=0.001, max_value=MAX_PARAMETERS_B, help_text="billions"
    )
    source_note = serializers.CharField(
        max_length=500, help_text="where the counts come from (model card, paper, vendor)"
    )


class CustomLlmInputSerializer(CustomLlmUpdateSerializer):
    provider = serializers.ChoiceField(
        choices=ECOLOGITS_PROVIDERS,
        help_text="whose data centres serve it (EcoLogits' PUE, WUE and electricity mix)",
    )
    name = serializers.CharField(max_length=160, help_text="the model name requests send")


class _CustomLlmApi(ReadOrManageApi, APIView):
    def owned(self, pk: int) -> CustomLlm:
        """The organisation's declaration, or 404 (another organisation's do not exist here)."""
        declaration = custom_llm_list(principal=self.request.principal).filter(pk=pk).first()
        if declaration is None:
            raise Http404
        return declaration


class CustomLlmListApi(_CustomLlmApi):
    """Models EcoLogits' repository does not know, declared with their parameter counts so
    that their LLM usage records can be estimated (with EcoLogits' impact function)."""

    @extend_schema(responses=CustomLlmSerializer(many=True))
    def get(self, request):
        declared = custom_llm_list(principal=request.principal)
        return Response(CustomLlmSerializer(declared, many=True).data)

    @extend_schema(
        request=CustomLlmInputSerializer,
        responses={201: CustomLlmSerializer},
        examples=[
            OpenApiExample(
                "A fine-tuned model served by Mistral AI",
                value={
                    "provider": "mistralai",
                    "name": "ft:our-support-model",
                    "active_parameters_b": 24,
                    "total_parameters_b": 24,
                    "source_note": "dense 24B base model, per its model card",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = validated_input(CustomLlmInputSerializer, request.data)
        declaration = custom_llm_create(
            organisation=request.principal.organisation, actor=request.user, **data
        )
        return Response(CustomLlmSerializer(declaration).data, status=status.HTTP_201_CREATED)


class CustomLlmDetailApi(_CustomLlmApi):
    """A declared model; PATCH its parameter counts or source (its records are estimated
    again), or DELETE it (its records keep their estimate; new ones are refused)."""

    @extend_schema(responses=CustomLlmSerializer)
    def get(self, request, pk: int):
        return Response(CustomLlmSerializer(self.owned(pk)).data)

    @extend_schema(
        request=CustomLlmUpdateSerializer(partial=True),
        responses=CustomLlmSerializer,
        examples=[
            OpenApiExample("New counts", value={"active_parameters_b": 22}, request_only=True)
        ],
    )
    def patch(self, request, pk: int):
        declaration = self.owned(pk)
        current = CustomLlmSerializer(declaration).data
        data = validated_patch(CustomLlmUpdateSerializer, current, request.data)
        declaration = custom_llm_update(declaration=declaration, actor=request.user, **data)
        return Response(CustomLlmSerializer(declaration).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        custom_llm_delete(declaration=self.owned(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
