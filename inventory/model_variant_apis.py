"""The organisation's AI models, and which is a variant of which (read: members; write:
manage)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOrManageApi
from greenai_portal.errors import validated_input
from greenai_portal.openapi import error_responses
from inventory.model_variants import model_variant_set
from inventory.models import AiModel, OptimisationTechnique
from inventory.selectors import visible_model_or_404, visible_models


class AiModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = AiModel
        fields = ("id", "name", "base_model", "technique", "precision", "variant_note")


class AiModelListApi(ReadOrManageApi, APIView):
    """The models the reader sees (a team-limited member: those their teams' records use),
    with the base model each variant derives from."""

    @extend_schema(responses=AiModelSerializer(many=True))
    def get(self, request):
        return Response(
            AiModelSerializer(visible_models(principal=request.principal), many=True).data
        )


class AiModelVariantApi(ReadOrManageApi, APIView):
    """Declare a model a variant of another (quantisation with its precision, pruning,
    distillation, mixture of experts, a batching or serving change, a hardware change), or
    not a variant (base_model null). Audited."""

    class VariantInputSerializer(serializers.Serializer):
        base_model = serializers.IntegerField(allow_null=True, help_text="the base model's id")
        technique = serializers.ChoiceField(
            choices=OptimisationTechnique.choices, required=False, default=""
        )
        precision = serializers.CharField(max_length=20, required=False, default="")
        note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

    @extend_schema(responses={200: AiModelSerializer, **error_responses(404)})
    def get(self, request, model_id: int):
        return Response(AiModelSerializer(self._model(model_id)).data)

    @extend_schema(
        request=VariantInputSerializer,
        responses={200: AiModelSerializer, **error_responses(400, 404)},
    )
    def put(self, request, model_id: int):
        model = self._model(model_id)
        data = validated_input(self.VariantInputSerializer, request.data)
        base_id = data.pop("base_model")
        base = None if base_id is None else self._model(base_id)
        model_variant_set(model=model, base_model=base, actor=request.user, **data)
        return Response(AiModelSerializer(model).data)

    def _model(self, model_id: int) -> AiModel:
        return visible_model_or_404(principal=self.request.principal, model_id=model_id)
