"""Factor overrides over the API (inventory.managed_row_apis says who reads and writes)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory.managed_row_apis import RowApi, RowsApi, rows_schema
from inventory.models import FactorKind, FactorOverride, RecalculationJob
from inventory.override_services import factor_override_create, factor_override_delete


class FactorOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = FactorOverride
        fields = ("id", "zone", "kind", "valid_from", "valid_to", "kg_per_kwh", "source")


@extend_schema_serializer(component_name="FactorOverrideInput")
class FactorOverrideInputSerializer(serializers.Serializer):
    zone = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=FactorKind.choices)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="inclusive")
    kg_per_kwh = serializers.FloatField(min_value=0.0, max_value=2.0)
    source = serializers.CharField(
        max_length=300, help_text="the cited source (publisher, document, year)"
    )


@rows_schema(FactorOverrideSerializer, FactorOverrideInputSerializer, "FactorOverrideCreated")
class OverrideListApi(RowsApi):
    """The organisation's own factors for a zone and period (never another organisation's);
    admins add one, which recomputes the open periods it covers."""

    model = FactorOverride
    serializer_class = FactorOverrideSerializer
    input_serializer = FactorOverrideInputSerializer
    ordering = ("zone", "valid_from", "id")

    def create(self, request, data: dict) -> tuple[FactorOverride, RecalculationJob]:
        organisation = request.principal.organisation
        return factor_override_create(organisation=organisation, created_by=request.user, **data)


class OverrideDetailApi(RowApi):
    """An override; admins delete one that no computed figure has used yet."""

    model = FactorOverride
    serializer_class = FactorOverrideSerializer

    def remove(self, row, actor) -> RecalculationJob:
        return factor_override_delete(override=row, actor=actor)
