"""Team mapping rules over the API (inventory.managed_row_apis says who reads and writes)."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.selectors import teams_by_slug
from greenai_portal.errors import validated_input, validated_patch
from inventory.managed_row_apis import ManagedApi
from inventory.mapping_rule_services import (
    mapping_rule_create,
    mapping_rule_delete,
    mapping_rule_update,
)
from inventory.models import MappingSource, Phase, TeamMappingRule
from inventory.selectors import mapping_rule_list


class MappingRuleSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = TeamMappingRule
        fields = (
            "id",
            "source",
            "key",
            "value",
            "team",
            "model_name",
            "location_code",
            "phase",
            "priority",
            "created_at",
        )


@extend_schema_serializer(component_name="MappingRuleInput")
class MappingRuleInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=MappingSource.choices, default=MappingSource.ANY)
    key = serializers.CharField(
        max_length=80,
        help_text="what is matched: tag:<name>, label:<name>, account, project, subscription, "
        "resource_group, project_name, experiment_id",
    )
    value = serializers.CharField(max_length=200, help_text="matched exactly; * matches anything")
    team = serializers.SlugField(max_length=60, help_text="the team's slug")
    model_name = serializers.CharField(max_length=160, allow_blank=True, default="")
    location_code = serializers.CharField(
        max_length=80, allow_blank=True, default="", help_text="CodeCarbon runs: where they run"
    )
    phase = serializers.ChoiceField(choices=Phase.choices, allow_blank=True, default="")
    priority = serializers.IntegerField(default=100, help_text="lower wins")


def _rule_fields(organisation, data: dict) -> dict:
    """The input with its team slug turned into the organisation's team."""
    (team,) = teams_by_slug(organisation=organisation, slugs=[data["team"]])
    return {**data, "team": team}


class _MappingRuleApi(ManagedApi):
    model = TeamMappingRule
    serializer_class = MappingRuleSerializer

    def rows(self):
        return mapping_rule_list(principal=self.request.principal)


class MappingRuleListApi(_MappingRuleApi):
    """The rules that give records naming no team (billing lines, CodeCarbon runs) a team, the
    first match by (priority, id) winning; admins add one. A rule applies to records that
    arrive from then on. A member limited to teams reads its teams' rules."""

    @extend_schema(responses=MappingRuleSerializer(many=True))
    def get(self, request):
        return Response(MappingRuleSerializer(self.rows(), many=True).data)

    @extend_schema(request=MappingRuleInputSerializer, responses={201: MappingRuleSerializer})
    def post(self, request):
        organisation = request.principal.organisation
        data = validated_input(MappingRuleInputSerializer, request.data)
        rule = mapping_rule_create(
            organisation=organisation, actor=request.user, **_rule_fields(organisation, data)
        )
        return Response(MappingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class MappingRuleDetailApi(_MappingRuleApi):
    """A mapping rule; admins change it (PATCH: the fields given) or delete it."""

    @extend_schema(responses=MappingRuleSerializer)
    def get(self, request, pk: int):
        return Response(MappingRuleSerializer(self.owned(pk)).data)

    @extend_schema(
        request=MappingRuleInputSerializer(partial=True), responses=MappingRuleSerializer
    )
    def patch(self, request, pk: int):
        rule = self.owned(pk)
        current = {**MappingRuleInputSerializer(rule).data, "team": rule.team.slug}
        data = validated_patch(MappingRuleInputSerializer, current, request.data)
        organisation = request.principal.organisation
        rule = mapping_rule_update(
            rule=rule, actor=request.user, **_rule_fields(organisation, data)
        )
        return Response(MappingRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        mapping_rule_delete(rule=self.owned(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
